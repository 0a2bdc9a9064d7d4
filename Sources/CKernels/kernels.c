// Float32 GEMM and sparse kernels for the MLP reward model (see include/CKernels.h).
//
// The GEMM follows the GotoBLAS/BLIS scheme: op(B) is packed into KC×NR column panels (the packing
// absorbs B's transpose), then an MR×NR micro-kernel keeps its block of C in registers while it
// streams a panel of B and 8 rows of op(A): 16 AVX-512 accumulators, 2 loads of B and 8 broadcasts
// of A per 16 FMAs (on AVX2, four 4×16 tiles of 8 accumulators). A is given row by row (a pointer
// per stored row), so a batch's rows can be read where they lie in the dataset, with no gather. An A
// stored as it is used is read in place, 8 rows at a time; a transposed A is copied block by block
// into panels of 8 contiguous values per k; a last, partial panel of rows is copied with zeros after it.
#include "CKernels.h"
#include "cpu.h"

#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MR = 8, NR = 32, KC = 256, MC = 128, NC = 2048 };

// A micro-panel of op(A) is read where it lies: element (r, k) at a[r][k·aK]. A packed panel has
// a[r] = panel + r and aK = 8 (8 contiguous values per k); an A stored as it is used has a[r] = its
// row r and aK = 1 (8 rows, each read along k). Reading A in place saves copying it for every
// product: packing took a fifth of the products' time in a training step (docs/PROFILE.md).
typedef void (*MicroKernel)(long kc, const float *const *a, long aK, const float *b, float *c, long ldc,
                            int rows, int columns, bool accumulate);

// MARK: - Micro-kernels: C[0..<rows, 0..<columns] (+)= Σ_k a[k][0..<MR] ⊗ b[k][0..<NR]

// The portable kernel, written so that compilers vectorize it for whatever target they inline it into.
static inline __attribute__((always_inline)) void micro_kernel_body(long kc, const float *const *a, long aK, const float *b,
                                                                      float *c, long ldc, int rows, int columns, bool accumulate) {
    float sums[MR][NR];
    memset(sums, 0, sizeof sums);
    for (long k = 0; k < kc; k++, b += NR) {
        for (int r = 0; r < MR; r++) {
            const float scale = a[r][k * aK];
            for (int j = 0; j < NR; j++) sums[r][j] += scale * b[j];
        }
    }
    for (int r = 0; r < rows; r++) {
        float *row = c + r * ldc;
        for (int j = 0; j < columns; j++) row[j] = accumulate ? row[j] + sums[r][j] : sums[r][j];
    }
}

static void micro_kernel_portable(long kc, const float *const *a, long aK, const float *b, float *c, long ldc,
                                  int rows, int columns, bool accumulate) {
    micro_kernel_body(kc, a, aK, b, c, ldc, rows, columns, accumulate);
}

#ifdef UPWEIGHT_X86
// 16 accumulators (8 rows × 2 vectors of 16), 2 loads of B and 8 broadcasts of A per 16 FMAs.
static inline __attribute__((always_inline, target("avx512f,fma"))) void micro_kernel_avx512_body(
    long kc, const float *const *a, long aK, const float *b, float *c, long ldc, int rows, int columns, bool accumulate) {
    __m512 left[MR], right[MR];
    const float *row[MR];
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++) { left[r] = _mm512_setzero_ps(); right[r] = _mm512_setzero_ps(); row[r] = a[r]; }
    for (long k = 0; k < kc; k++, b += NR) {
        const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma clang loop unroll(full)
        for (int r = 0; r < MR; r++) {
            const __m512 scale = _mm512_set1_ps(row[r][k * aK]);
            left[r] = _mm512_fmadd_ps(scale, b0, left[r]);
            right[r] = _mm512_fmadd_ps(scale, b1, right[r]);
        }
    }
    // Masked stores handle a partial block at the right edge; rows past `rows` are not stored.
    const __mmask16 leftMask = columns >= 16 ? 0xFFFF : (__mmask16)((1u << columns) - 1);
    const __mmask16 rightMask = columns >= 32 ? 0xFFFF : columns > 16 ? (__mmask16)((1u << (columns - 16)) - 1) : 0;
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++) {
        if (r < rows) {
            float *target = c + r * ldc;
            if (accumulate) {
                left[r] = _mm512_add_ps(left[r], _mm512_maskz_loadu_ps(leftMask, target));
                right[r] = _mm512_add_ps(right[r], _mm512_maskz_loadu_ps(rightMask, target + 16));
            }
            _mm512_mask_storeu_ps(target, leftMask, left[r]);
            _mm512_mask_storeu_ps(target + 16, rightMask, right[r]);
        }
    }
}

// Two specialisations, so that the compiler sees the constant step: 8 contiguous values per k
// (packed), or 8 rows read along k (an A used as stored).
__attribute__((target("avx512f,fma")))
static void micro_kernel_avx512(long kc, const float *const *a, long aK, const float *b, float *c, long ldc,
                                int rows, int columns, bool accumulate) {
    if (aK == MR) micro_kernel_avx512_body(kc, a, MR, b, c, ldc, rows, columns, accumulate);
    else micro_kernel_avx512_body(kc, a, 1, b, c, ldc, rows, columns, accumulate);
}

// AVX2 has 16 vector registers of 8 lanes, too few to hold an 8×32 block (32 accumulators). The block
// is computed as 4×16 tiles, each in 8 accumulators with 2 loads of B and 4 broadcasts of A per 8
// FMAs. The driver gives this kernel one 16-column slice of the B panel per call (Kernel.sliceColumns),
// so a call is two tiles over the same slice, the second finding it in L1. Each element is still one
// chain of FMAs over k from 0, added to C at the end: the same operations in the same order as the
// AVX-512 kernel, so the two give the same bits.
static inline __attribute__((always_inline, target("avx2,fma"))) void micro_tile_avx2(
    long kc, const float *const *a, long aK, const float *b, int firstRow,
    float *c, long ldc, int rows, int columns, bool accumulate) {
    enum { tileRows = 4, tileVectors = 2 };
    __m256 sums[tileRows][tileVectors];
    const float *row[tileRows];
#pragma clang loop unroll(full)
    for (int r = 0; r < tileRows; r++) {
        row[r] = a[firstRow + r];
#pragma clang loop unroll(full)
        for (int v = 0; v < tileVectors; v++) sums[r][v] = _mm256_setzero_ps();
    }
    for (long k = 0; k < kc; k++, b += NR) {
        __m256 right[tileVectors];
#pragma clang loop unroll(full)
        for (int v = 0; v < tileVectors; v++) right[v] = _mm256_load_ps(b + 8 * v);
#pragma clang loop unroll(full)
        for (int r = 0; r < tileRows; r++) {
            const __m256 scale = _mm256_broadcast_ss(row[r] + k * aK);
#pragma clang loop unroll(full)
            for (int v = 0; v < tileVectors; v++) sums[r][v] = _mm256_fmadd_ps(scale, right[v], sums[r][v]);
        }
    }
    // A lane is stored when its column is < `columns`; rows past `rows` are not stored.
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i masks[tileVectors];
#pragma clang loop unroll(full)
    for (int v = 0; v < tileVectors; v++) masks[v] = _mm256_cmpgt_epi32(_mm256_set1_epi32(columns - 8 * v), lane);
    // Whole tiles use plain moves; the masked ones, slower, only serve the right edge of C.
    const bool whole = columns >= 8 * tileVectors;
#pragma clang loop unroll(full)
    for (int r = 0; r < tileRows; r++) {
        if (firstRow + r < rows) {
            float *target = c + (firstRow + r) * ldc;
#pragma clang loop unroll(full)
            for (int v = 0; v < tileVectors; v++) {
                __m256 value = sums[r][v];
                if (whole) {
                    if (accumulate) value = _mm256_add_ps(value, _mm256_loadu_ps(target + 8 * v));
                    _mm256_storeu_ps(target + 8 * v, value);
                } else {
                    if (accumulate) value = _mm256_add_ps(value, _mm256_maskload_ps(target + 8 * v, masks[v]));
                    _mm256_maskstore_ps(target + 8 * v, masks[v], value);
                }
            }
        }
    }
}

// One slice of at most 16 columns: the rows' two tiles.
static inline __attribute__((always_inline, target("avx2,fma"))) void micro_kernel_avx2_body(
    long kc, const float *const *a, long aK, const float *b, float *c, long ldc, int rows, int columns, bool accumulate) {
    for (int firstRow = 0; firstRow < rows; firstRow += 4)
        micro_tile_avx2(kc, a, aK, b, firstRow, c, ldc, rows, columns, accumulate);
}

__attribute__((target("avx2,fma")))
static void micro_kernel_avx2(long kc, const float *const *a, long aK, const float *b, float *c, long ldc,
                              int rows, int columns, bool accumulate) {
    if (aK == MR) micro_kernel_avx2_body(kc, a, MR, b, c, ldc, rows, columns, accumulate);
    else micro_kernel_avx2_body(kc, a, 1, b, c, ldc, rows, columns, accumulate);
}
#endif

// A kernel, and how many columns of a B panel it is given per call. The driver runs every row panel
// of A against one slice before the next, so the slice of B stays in L1: a whole 32-column panel
// (KC·NR·4 = 32 KiB) is all of Zen 3's L1, while a 16-column slice leaves half of it to A.
typedef struct {
    MicroKernel run;
    int sliceColumns;
    const char *name;
} Kernel;

static Kernel select_kernel(void) {
#ifdef UPWEIGHT_X86
    switch (upweight_instruction_set()) {
    case UPWEIGHT_AVX512: return (Kernel){micro_kernel_avx512, NR, "avx512"};
    case UPWEIGHT_AVX2: return (Kernel){micro_kernel_avx2, 16, "avx2"};  // its calls take at most 16 columns
    case UPWEIGHT_BASELINE: break;
    }
#endif
    return (Kernel){micro_kernel_portable, NR, "portable"};
}

const char *upweight_gemm_kernel_name(void) { return select_kernel().name; }

// MARK: - Packing (zero-padded to whole panels, so the micro-kernel never branches on edges)

// Stored row r of A is A[r][column …]: op(A)[i][k] is A[i][column + k], or A[k][column + i] when transposed.

// packed[k][r] = op(A)[i0 + r][k0 + k] for r < rows, 0 after: the last, partial panel of rows
// (read in place, it would run past the matrix).
static void pack_a_panel(bool transposeA, const float *const *A, long column, long i0, long k0, long rows, long kc, float *packed) {
    for (long k = 0; k < kc; k++, packed += MR) {
        for (long r = 0; r < rows; r++) {
            const long i = i0 + r;
            packed[r] = transposeA ? A[k0 + k][column + i] : A[i][column + k0 + k];
        }
        for (long r = rows; r < MR; r++) packed[r] = 0;
    }
}

// packed[panel][k][r] = A[k0 + k][i0 + panel·MR + r] for whole panels of a transposed A (mc a
// multiple of MR): read in place, its rows of 8 lie a row of A apart, and at the usual power-of-two
// widths every one of them falls in the same L1 set (2 KiB apart: 2 sets; 4 KiB: 1).
static void pack_a_transposed(const float *const *A, long column, long i0, long k0, long mc, long kc, float *packed) {
    for (long k = 0; k < kc; k++) {
        const float *row = A[k0 + k] + column + i0;
        for (long panel = 0; panel < mc / MR; panel++) {
            float *target = packed + (panel * kc + k) * MR;
            for (long r = 0; r < MR; r++) target[r] = row[panel * MR + r];
        }
    }
}

// packed[panel][k][j] = op(B)[k0 + k][j0 + panel·NR + j]
static void pack_b(bool transposeB, const float *B, long ldb, long k0, long j0, long kc, long nc, float *packed) {
    for (long panel = 0; panel < nc; panel += NR) {
        const long columns = nc - panel < NR ? nc - panel : NR;
        if (!transposeB) {
            for (long k = 0; k < kc; k++, packed += NR) {
                memcpy(packed, B + (k0 + k) * ldb + j0 + panel, (size_t)columns * sizeof(float));
                for (long j = columns; j < NR; j++) packed[j] = 0;
            }
        } else {
            for (long j = 0; j < NR; j++) {
                if (j < columns) {
                    const float *source = B + (j0 + panel + j) * ldb + k0;
                    for (long k = 0; k < kc; k++) packed[k * NR + j] = source[k];
                } else {
                    for (long k = 0; k < kc; k++) packed[k * NR + j] = 0;
                }
            }
            packed += kc * NR;
        }
    }
}

// The products' buffers are a few hundred KB at most (the input sizes are checked before training),
// so running out of memory here is the machine's state, not the input's: say so and stop, as Swift's
// own allocations do, rather than write through a null pointer.
static void *allocate_or_stop(size_t alignment, size_t bytes) {
    void *memory = alignment > 0 ? aligned_alloc(alignment, bytes) : malloc(bytes);
    if (memory == NULL) {
        fprintf(stderr, "upweight: out of memory for a matrix product's buffer (%zu bytes)\n", bytes);
        abort();
    }
    return memory;
}

static float *allocate_floats(long count) {
    return allocate_or_stop(64, ((size_t)count * sizeof(float) + 63) / 64 * 64);
}

void upweight_sgemm(bool transposeA, bool transposeB, long M, long N, long K,
                    const float *A, long lda, const float *B, long ldb,
                    float *C, long ldc, bool accumulate) {
    if (M <= 0 || N <= 0) return;
    const long storedRows = transposeA ? K : M;
    const float **rows = allocate_or_stop(0, (size_t)(storedRows > 0 ? storedRows : 1) * sizeof *rows);
    for (long r = 0; r < storedRows; r++) rows[r] = A + r * lda;
    upweight_sgemm_rows(transposeA, transposeB, M, N, K, rows, 0, B, ldb, C, ldc, accumulate);
    free(rows);
}

void upweight_sgemm_rows(bool transposeA, bool transposeB, long M, long N, long K,
                         const float *const *A, long column, const float *B, long ldb,
                         float *C, long ldc, bool accumulate) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        if (!accumulate) for (long i = 0; i < M; i++) memset(C + i * ldc, 0, (size_t)N * sizeof(float));
        return;
    }
    const Kernel kernel = select_kernel();
    const long ncMax = (N < NC ? N : NC) + NR;
    float *packedB = allocate_floats(KC * ncMax);
    float *edgeA = allocate_floats(KC * MR);
    float *packedA = transposeA ? allocate_floats(KC * MC) : NULL;
    const long wholeRows = M / MR * MR;
    const float *panel[MR];  // the micro-kernel's 8 rows of op(A)
    for (long jc = 0; jc < N; jc += NC) {
        const long nc = N - jc < NC ? N - jc : NC;
        for (long pc = 0; pc < K; pc += KC) {
            const long kc = K - pc < KC ? K - pc : KC;
            const bool addToC = accumulate || pc > 0;
            pack_b(transposeB, B, ldb, pc, jc, kc, nc, packedB);
            if (wholeRows < M) pack_a_panel(transposeA, A, column, wholeRows, pc, M - wholeRows, kc, edgeA);
            for (long ic = 0; ic < M; ic += MC) {
                const long mc = M - ic < MC ? M - ic : MC;
                const long wholeInBlock = ic + mc <= wholeRows ? mc : wholeRows - ic;
                if (transposeA && wholeInBlock > 0) pack_a_transposed(A, column, ic, pc, wholeInBlock, kc, packedA);
                for (long jr = 0; jr < nc; jr += NR) {
                    const int columns = (int)(nc - jr < NR ? nc - jr : NR);
                    for (int slice = 0; slice < columns; slice += kernel.sliceColumns) {
                        const int sliceColumns = columns - slice < kernel.sliceColumns ? columns - slice : kernel.sliceColumns;
                        for (long ir = 0; ir < mc; ir += MR) {
                            const long i = ic + ir;
                            float *c = C + i * ldc + jc + jr + slice;
                            const bool inPlace = i < wholeRows && !transposeA;
                            const float *packed = i >= wholeRows ? edgeA : transposeA ? packedA + ir * kc : NULL;
                            for (int r = 0; r < MR; r++) panel[r] = inPlace ? A[i + r] + column + pc : packed + r;
                            kernel.run(kc, panel, inPlace ? 1 : MR, packedB + jr * kc + slice, c, ldc,
                                       i < wholeRows ? MR : (int)(M - i), sliceColumns, addToC);
                        }
                    }
                }
            }
        }
    }
    free(packedA);
    free(edgeA);
    free(packedB);
}

// MARK: - Sparse rows × dense matrix, and its transpose (memory-bound: vector width, not FMA, matters)

static inline __attribute__((always_inline)) void sparse_times_dense_body(
    long rows, const long *rowStarts, const int32_t *indices, const float *values,
    const float *W, long columns, long c0, long c1, float *out) {
    for (long r = 0; r < rows; r++) {
        float *target = out + r * columns;
        for (long c = c0; c < c1; c++) target[c] = 0;
        for (long e = rowStarts[r]; e < rowStarts[r + 1]; e++) {
            const float value = values[e];
            const float *source = W + (long)indices[e] * columns;
            for (long c = c0; c < c1; c++) target[c] += value * source[c];
        }
    }
}

static inline __attribute__((always_inline)) void sparse_transpose_times_dense_body(
    long rows, const long *rowStarts, const int32_t *indices, const float *values,
    const float *dOut, long columns, long c0, long c1, float *G) {
    for (long r = 0; r < rows; r++) {
        const float *source = dOut + r * columns;
        for (long e = rowStarts[r]; e < rowStarts[r + 1]; e++) {
            const float value = values[e];
            float *target = G + (long)indices[e] * columns;
            for (long c = c0; c < c1; c++) target[c] += value * source[c];
        }
    }
}

#ifdef UPWEIGHT_X86
// The same loops compiled for wider vectors; both targets fuse `+= value·source` into one FMA, so
// the two give the same bits.
#define SPARSE_PATHS(suffix, instructions)                                                                      \
    __attribute__((target(instructions))) static void sparse_times_dense_##suffix(                             \
        long rows, const long *rowStarts, const int32_t *indices, const float *values, const float *W,         \
        long columns, long c0, long c1, float *out) {                                                           \
        sparse_times_dense_body(rows, rowStarts, indices, values, W, columns, c0, c1, out);                     \
    }                                                                                                           \
    __attribute__((target(instructions))) static void sparse_transpose_times_dense_##suffix(                   \
        long rows, const long *rowStarts, const int32_t *indices, const float *values, const float *dOut,      \
        long columns, long c0, long c1, float *G) {                                                             \
        sparse_transpose_times_dense_body(rows, rowStarts, indices, values, dOut, columns, c0, c1, G);          \
    }
SPARSE_PATHS(avx512, "avx512f,fma")
SPARSE_PATHS(avx2, "avx2,fma")
#endif

void upweight_sparse_times_dense(long rows, const long *rowStarts, const int32_t *indices, const float *values,
                                 const float *W, long columns, long c0, long c1, float *out) {
#ifdef UPWEIGHT_X86
    switch (upweight_instruction_set()) {
    case UPWEIGHT_AVX512: return sparse_times_dense_avx512(rows, rowStarts, indices, values, W, columns, c0, c1, out);
    case UPWEIGHT_AVX2: return sparse_times_dense_avx2(rows, rowStarts, indices, values, W, columns, c0, c1, out);
    case UPWEIGHT_BASELINE: break;
    }
#endif
    sparse_times_dense_body(rows, rowStarts, indices, values, W, columns, c0, c1, out);
}

void upweight_sparse_transpose_times_dense(long rows, const long *rowStarts, const int32_t *indices, const float *values,
                                           const float *dOut, long columns, long c0, long c1, float *G) {
#ifdef UPWEIGHT_X86
    switch (upweight_instruction_set()) {
    case UPWEIGHT_AVX512:
        return sparse_transpose_times_dense_avx512(rows, rowStarts, indices, values, dOut, columns, c0, c1, G);
    case UPWEIGHT_AVX2:
        return sparse_transpose_times_dense_avx2(rows, rowStarts, indices, values, dOut, columns, c0, c1, G);
    case UPWEIGHT_BASELINE: break;
    }
#endif
    sparse_transpose_times_dense_body(rows, rowStarts, indices, values, dOut, columns, c0, c1, G);
}
