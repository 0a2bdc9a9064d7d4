#ifndef UPWEIGHT_CSYSTEM_SHIM_H
#define UPWEIGHT_CSYSTEM_SHIM_H
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

// renameat2(RENAME_EXCHANGE) swaps two entries of one directory atomically (Linux 3.15+), so a
// model directory is replaced without a moment where it is missing. glibc's wrapper is hidden
// behind _GNU_SOURCE, which Swift's Glibc module does not define: call the system call directly.
static inline int upweight_exchange_at(int directory, const char *first, const char *second) {
#ifdef SYS_renameat2
    return (int)syscall(SYS_renameat2, directory, first, directory, second, 2 /* RENAME_EXCHANGE */);
#else
    (void)directory; (void)first; (void)second;
    errno = ENOSYS;
    return -1;
#endif
}

// Whether `signal` still has its default action (SIG_DFL is a cast Swift cannot import).
static inline int upweight_signal_is_default(int signal) {
    struct sigaction current;
    return sigaction(signal, NULL, &current) == 0 && current.sa_handler == SIG_DFL;
}

// Installs `handler` for `signal` (plain signal() semantics, restarting interrupted calls).
static inline int upweight_set_signal_handler(int signal, void (*handler)(int)) {
    struct sigaction action;
    action.sa_handler = handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    return sigaction(signal, &action, NULL);
}
#endif
