// The fp32 fused-multiply-add peak of one core: independent chains of vector FMAs, so that no FMA
// waits for another's result, and few enough to stay in registers: 24 of 16 lanes with AVX-512 (32
// registers), 12 of 8 lanes with AVX2 (16 registers; 24 spilled to memory and read half the peak on
// Zen 3). flops = chains × lanes × 2 × iterations; the best of 5 runs is printed. The instruction set is chosen at run time, as the MLP's
// kernels choose theirs (Sources/CKernels), so no compiler flags are needed. Build with clang -O2:
// gcc -O2 does not unroll the chains into registers and measures memory instead.
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

enum { wideChains = 24, narrowChains = 12 };
static const long iterations = 50000000;

__attribute__((target("avx512f,fma"))) static float avx512(void) {
    __m512 a[wideChains], b = _mm512_set1_ps(1.0000001f), c = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < wideChains; i++) a[i] = _mm512_set1_ps((float)i);
    for (long n = 0; n < iterations; n++)
        for (int i = 0; i < wideChains; i++) a[i] = _mm512_fmadd_ps(a[i], b, c);
    __m512 sum = a[0];
    for (int i = 1; i < wideChains; i++) sum = _mm512_add_ps(sum, a[i]);
    return _mm512_reduce_add_ps(sum);
}

__attribute__((target("avx2,fma"))) static float avx2(void) {
    __m256 a[narrowChains], b = _mm256_set1_ps(1.0000001f), c = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < narrowChains; i++) a[i] = _mm256_set1_ps((float)i);
    for (long n = 0; n < iterations; n++)
        for (int i = 0; i < narrowChains; i++) a[i] = _mm256_fmadd_ps(a[i], b, c);
    float lanes[8], total = 0;
    for (int i = 0; i < narrowChains; i++) {
        _mm256_storeu_ps(lanes, a[i]);
        for (int j = 0; j < 8; j++) total += lanes[j];
    }
    return total;
}

int main(void) {
    __builtin_cpu_init();
    int wide = __builtin_cpu_supports("avx512f");
    if (!wide && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) {
        puts("no AVX2+FMA: not measured");
        return 0;
    }
    double best = 0;
    float sink = 0;
    for (int run = 0; run < 5; run++) {
        struct timespec start, end;
        clock_gettime(CLOCK_MONOTONIC, &start);
        sink += wide ? avx512() : avx2();
        clock_gettime(CLOCK_MONOTONIC, &end);
        double seconds = (end.tv_sec - start.tv_sec) + 1e-9 * (end.tv_nsec - start.tv_nsec);
        double rate = (wide ? wideChains * 16.0 : narrowChains * 8.0) * 2 * iterations / seconds / 1e9;
        if (rate > best) best = rate;
    }
    printf("%.1f GFLOP/s (%s, best of 5; checksum %g)\n", best, wide ? "AVX-512" : "AVX2", sink);
}
