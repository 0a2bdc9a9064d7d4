// Which instruction set the kernels use, chosen at run time (internal to CKernels).
#ifndef UPWEIGHT_CPU_H
#define UPWEIGHT_CPU_H
#include "CKernels.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define UPWEIGHT_X86 1
#endif

/// The instruction set the kernels take: the CPU's widest, unless a test has capped it
/// (`upweight_limit_instruction_set`).
UpweightInstructionSet upweight_instruction_set(void);
#endif
