// Run-time choice of instruction set (cpu.h).
#include "cpu.h"

#include <stdatomic.h>

// Both values are read by every thread that multiplies, so they are atomics (relaxed: each holds one
// idempotent answer; ThreadSanitizer found the plain cache racing when two threads asked first).
static atomic_int cap = UPWEIGHT_AVX512;

void upweight_limit_instruction_set(UpweightInstructionSet widest) {
    atomic_store_explicit(&cap, (int)widest, memory_order_relaxed);
}

UpweightInstructionSet upweight_cpu_instruction_set(void) {
#ifdef UPWEIGHT_X86
    static atomic_int cached = -1;
    int answer = atomic_load_explicit(&cached, memory_order_relaxed);
    if (answer < 0) {
        __builtin_cpu_init();
        // Every path past the baseline uses FMA; Intel and AMD CPUs with AVX2 have had it since 2013-15.
        const bool fma = __builtin_cpu_supports("fma");
        answer = fma && __builtin_cpu_supports("avx512f") ? UPWEIGHT_AVX512
               : fma && __builtin_cpu_supports("avx2")   ? UPWEIGHT_AVX2
                                                          : UPWEIGHT_BASELINE;
        atomic_store_explicit(&cached, answer, memory_order_relaxed);
    }
    return (UpweightInstructionSet)answer;
#else
    return UPWEIGHT_BASELINE;
#endif
}

UpweightInstructionSet upweight_instruction_set(void) {
    const UpweightInstructionSet cpu = upweight_cpu_instruction_set();
    const int widest = atomic_load_explicit(&cap, memory_order_relaxed);
    return (int)cpu < widest ? cpu : (UpweightInstructionSet)widest;
}
