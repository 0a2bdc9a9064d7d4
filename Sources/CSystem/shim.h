#ifndef UPWEIGHT_CSYSTEM_SHIM_H
#define UPWEIGHT_CSYSTEM_SHIM_H
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

// renameat2(RENAME_EXCHANGE) swaps two paths atomically (Linux 3.15+), so a model directory is
// replaced without a moment where it is missing. glibc's wrapper is hidden behind _GNU_SOURCE,
// which Swift's Glibc module does not define: call the system call directly.
static inline int upweight_exchange_paths(const char *first, const char *second) {
#ifdef SYS_renameat2
    return (int)syscall(SYS_renameat2, AT_FDCWD, first, AT_FDCWD, second, 2 /* RENAME_EXCHANGE */);
#else
    (void)first; (void)second;
    return -1;
#endif
}
#endif
