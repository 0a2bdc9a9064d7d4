#ifndef UPWEIGHT_CKERNELS_H
#define UPWEIGHT_CKERNELS_H
#include <stdbool.h>
#include <stdint.h>

// Single-threaded Float32 kernels for the MLP reward model. Swift splits the work across threads
// (Kernels/Matrix.swift); each call here owns a disjoint block of its output.
//
// The AVX-512 and AVX2 paths are compiled with __attribute__((target)) and chosen at run time, so the
// package needs no compiler flags and its binaries still run on CPUs with neither (portable C path).

/// C (M×N, row stride ldc) = op(A)·op(B), or C += op(A)·op(B) when `accumulate`.
/// op(A) is M×K: A is M×K row-major (stride lda), or K×M row-major when `transposeA`.
/// op(B) is K×N: B is K×N row-major (stride ldb), or N×K row-major when `transposeB`.
/// Every element of C is summed over k in the same order whatever the block of C a call covers,
/// so splitting C across threads never changes a bit of the result.
void upweight_sgemm(bool transposeA, bool transposeB, long M, long N, long K,
                    const float *A, long lda, const float *B, long ldb,
                    float *C, long ldc, bool accumulate);

/// `upweight_sgemm` with A given row by row: stored row r of A is A[r][column ..< column + width], for
/// the M rows of an A stored (M, K), or the K rows of an A stored (K, M) when `transposeA`. The rows
/// may lie anywhere (a batch's rows where they are in the dataset); the sums are as `upweight_sgemm`'s.
void upweight_sgemm_rows(bool transposeA, bool transposeB, long M, long N, long K,
                         const float *const *A, long column, const float *B, long ldb,
                         float *C, long ldc, bool accumulate);

/// out[r, c0..<c1] = Σ_e values[e]·W[indices[e], c0..<c1] over row r's entries e (CSR rows
/// rowStarts[r]..<rowStarts[r+1], r in 0..<rows); W has `columns` columns (row stride).
void upweight_sparse_times_dense(long rows, const long *rowStarts, const int32_t *indices, const float *values,
                                 const float *W, long columns, long c0, long c1, float *out);

/// G[indices[e], c0..<c1] += values[e]·dOut[r, c0..<c1] for every entry e of every row r: the
/// gradient of `upweight_sparse_times_dense` with respect to W, touching only the rows of W that appear.
void upweight_sparse_transpose_times_dense(long rows, const long *rowStarts, const int32_t *indices, const float *values,
                                           const float *dOut, long columns, long c0, long c1, float *G);

/// The name of the GEMM micro-kernel in use: "avx512", "avx2" or "portable".
const char *upweight_gemm_kernel_name(void);

/// The instruction sets the kernels have paths for, narrowest first.
typedef enum { UPWEIGHT_BASELINE = 0, UPWEIGHT_AVX2 = 1, UPWEIGHT_AVX512 = 2 } UpweightInstructionSet;

/// The widest of them this CPU has: AVX-512F with FMA, AVX2 with FMA, or the baseline.
UpweightInstructionSet upweight_cpu_instruction_set(void);

/// Caps the instruction set the kernels use, so that tests can run every path this CPU has;
/// UPWEIGHT_AVX512 lifts the cap (the default).
void upweight_limit_instruction_set(UpweightInstructionSet widest);

/// One AdamW step's constants: the learning rate, β₁, β₂, ε, the decoupled weight decay, and the
/// bias corrections 1/(1−β₁ᵗ) and 1/(1−β₂ᵗ).
typedef struct {
    float rate, beta1, beta2, epsilon, decay, inverseCorrection1, inverseCorrection2;
} UpweightAdamWStep;

/// AdamW on `count` Float32 parameters θ in place, with their moments m and v, from the gradient g:
///   m ← β₁·m + (1−β₁)·g,   v ← β₂·v + (1−β₂)·g·g,
///   θ ← θ − rate·((m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε) + decay·θ).
/// Each value is rounded after every operation, in this order, with no fused multiply-add, on every
/// path: the result does not depend on the CPU or on how a caller splits the positions.
/// Returns whether every θ it wrote is finite.
bool upweight_adamw(const UpweightAdamWStep *step, long count, float *theta, float *m, float *v, const float *g);
#endif
