// Which instruction set the kernels use, chosen at run time (internal to CKernels).
#ifndef UPWEIGHT_CPU_H
#define UPWEIGHT_CPU_H
#include <stdbool.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define UPWEIGHT_X86 1
#endif

/// Whether this CPU has AVX-512F and FMA.
bool upweight_cpu_has_avx512(void);

/// Whether the GEMM and AdamW kernels take their AVX-512 paths: the CPU has it and the tests have not
/// forced the portable ones (`upweight_force_portable`).
bool upweight_avx512_enabled(void);
#endif
