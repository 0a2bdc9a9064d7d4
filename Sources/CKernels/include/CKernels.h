#ifndef UPWEIGHT_CKERNELS_H
#define UPWEIGHT_CKERNELS_H
#include <stdbool.h>
#include <stdint.h>

// Single-threaded Float32 kernels for the MLP reward model. Swift splits the work across threads
// (Kernels/Matrix.swift); each call here owns a disjoint block of its output.
//
// The AVX-512 paths are compiled with __attribute__((target)) and chosen at run time, so the package
// needs no compiler flags and its binaries still run on CPUs without AVX-512 (portable C path).

/// C (M×N, row stride ldc) = op(A)·op(B), or C += op(A)·op(B) when `accumulate`.
/// op(A) is M×K: A is M×K row-major (stride lda), or K×M row-major when `transposeA`.
/// op(B) is K×N: B is K×N row-major (stride ldb), or N×K row-major when `transposeB`.
/// Every element of C is summed over k in the same order whatever the block of C a call covers,
/// so splitting C across threads never changes a bit of the result.
void upweight_sgemm(bool transposeA, bool transposeB, long M, long N, long K,
                    const float *A, long lda, const float *B, long ldb,
                    float *C, long ldc, bool accumulate);

/// out[r, c0..<c1] = Σ_e values[e]·W[indices[e], c0..<c1] over row r's entries e (CSR rows
/// rowStarts[r]..<rowStarts[r+1], r in 0..<rows); W has `columns` columns (row stride).
void upweight_sparse_times_dense(long rows, const long *rowStarts, const int32_t *indices, const float *values,
                                 const float *W, long columns, long c0, long c1, float *out);

/// G[indices[e], c0..<c1] += values[e]·dOut[r, c0..<c1] for every entry e of every row r: the
/// gradient of `upweight_sparse_times_dense` with respect to W, touching only the rows of W that appear.
void upweight_sparse_transpose_times_dense(long rows, const long *rowStarts, const int32_t *indices, const float *values,
                                           const float *dOut, long columns, long c0, long c1, float *G);

/// The name of the GEMM micro-kernel in use: "avx512" or "portable".
const char *upweight_gemm_kernel_name(void);

/// Forces the portable kernel (true) or restores run-time selection (false); for tests.
void upweight_gemm_force_portable(bool force);
#endif
