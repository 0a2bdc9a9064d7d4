// Independent chains of vector FMAs, so that no FMA waits for another's result, and few enough to stay
// in registers: 24 of 16 lanes with AVX-512 (32 registers), 12 of 8 lanes with AVX2 (16 registers; 24
// spilled to memory and read half the peak on Zen 3). Each returns a sum of its chains, which the
// caller keeps, so that the loop is not optimised away. flops = chains × lanes × 2 × iterations.
// Shared by peak.c (the core's peak) and gemm.c (the FMA-only loop beside the product in `series`).
#include <immintrin.h>

enum { fma_chains_avx512 = 24, fma_chains_avx2 = 12 };

__attribute__((target("avx512f,fma"))) static float fma_loop_avx512(long iterations) {
    __m512 a[fma_chains_avx512], b = _mm512_set1_ps(1.0000001f), c = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < fma_chains_avx512; i++) a[i] = _mm512_set1_ps((float)i);
    for (long n = 0; n < iterations; n++)
        for (int i = 0; i < fma_chains_avx512; i++) a[i] = _mm512_fmadd_ps(a[i], b, c);
    __m512 sum = a[0];
    for (int i = 1; i < fma_chains_avx512; i++) sum = _mm512_add_ps(sum, a[i]);
    return _mm512_reduce_add_ps(sum);
}

__attribute__((target("avx2,fma"))) static float fma_loop_avx2(long iterations) {
    __m256 a[fma_chains_avx2], b = _mm256_set1_ps(1.0000001f), c = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < fma_chains_avx2; i++) a[i] = _mm256_set1_ps((float)i);
    for (long n = 0; n < iterations; n++)
        for (int i = 0; i < fma_chains_avx2; i++) a[i] = _mm256_fmadd_ps(a[i], b, c);
    float lanes[8], total = 0;
    for (int i = 0; i < fma_chains_avx2; i++) {
        _mm256_storeu_ps(lanes, a[i]);
        for (int j = 0; j < 8; j++) total += lanes[j];
    }
    return total;
}

// The flops of one call with `iterations`.
static double fma_loop_flops(int wide, long iterations) {
    return (wide ? fma_chains_avx512 * 16.0 : fma_chains_avx2 * 8.0) * 2 * iterations;
}
