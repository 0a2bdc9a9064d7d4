// The fp32 fused-multiply-add peak of one core: the independent FMA chains of fma-chains.h; the best
// of 5 runs is printed. The instruction set is chosen at run time, as the MLP's kernels choose theirs
// (Sources/CKernels), so no compiler flags are needed. Build with clang -O2:
// gcc -O2 does not unroll the chains into registers and measures memory instead.
#include "fma-chains.h"

#include <stdio.h>
#include <time.h>

static const long iterations = 50000000;

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
        sink += wide ? fma_loop_avx512(iterations) : fma_loop_avx2(iterations);
        clock_gettime(CLOCK_MONOTONIC, &end);
        double seconds = (end.tv_sec - start.tv_sec) + 1e-9 * (end.tv_nsec - start.tv_nsec);
        double rate = fma_loop_flops(wide, iterations) / seconds / 1e9;
        if (rate > best) best = rate;
    }
    printf("%.1f GFLOP/s (%s, best of 5; checksum %g)\n", best, wide ? "AVX-512" : "AVX2", sink);
}
