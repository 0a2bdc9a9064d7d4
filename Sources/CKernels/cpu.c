// Run-time choice of instruction set (cpu.h).
#include "cpu.h"
#include "CKernels.h"

#include <stdatomic.h>

// Both flags are read by every thread that multiplies, so they are atomics (relaxed: each holds one
// idempotent answer; ThreadSanitizer found the plain cache racing when two threads asked first).
static atomic_bool forcePortable = false;

void upweight_force_portable(bool force) { atomic_store_explicit(&forcePortable, force, memory_order_relaxed); }

bool upweight_cpu_has_avx512(void) {
#ifdef UPWEIGHT_X86
    static atomic_int cached = -1;
    int answer = atomic_load_explicit(&cached, memory_order_relaxed);
    if (answer < 0) {
        __builtin_cpu_init();
        answer = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma") ? 1 : 0;
        atomic_store_explicit(&cached, answer, memory_order_relaxed);
    }
    return answer == 1;
#else
    return false;
#endif
}

bool upweight_avx512_enabled(void) {
    return !atomic_load_explicit(&forcePortable, memory_order_relaxed) && upweight_cpu_has_avx512();
}
