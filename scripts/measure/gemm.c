// The GEMM alone at a training step's shapes, on one core: how close the products come to the peak
// (scripts/measure/peak.c) outside the step around them. Each step draws a new batch of rows from a
// dataset too large for the caches, as training does, and runs:
//   forward:         Z = X·W₁ for one thread's half of the columns (the split the MLP uses),
//                    X read where it lies (upweight_sgemm_rows), or gathered first (copy not timed);
//   weight gradient: G = Xᵀ·dZ for one thread's half of the rows of G.
// Prints GFLOP/s per product, the median and the best of the steps, for each kernel the CPU can run.
//
// `series SECONDS` instead prints, every half second, the median rate of a 256³ product whose data
// stay in L2 beside that of an FMA-only loop (peak.c's, in 1 ms pieces): on a shared machine it shows
// when something outside the process slows the kernel's loads while the FMA units stay free.
//
//   clang -O2 -I Sources/CKernels/include scripts/measure/gemm.c Sources/CKernels/kernels.c \
//       Sources/CKernels/cpu.c -o /tmp/gemm
//   taskset -c 1 /tmp/gemm [D [H [batch [dataset rows]]]]     or     taskset -c 1 /tmp/gemm series 20
//
// Defaults: D = 1024, H = 256, batch = 256 pairs (512 rows), 100,000 dataset rows (case 3 of the
// bench). docs/PROFILE.md has what it measured.
#include "CKernels.h"
#include "fma-chains.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int ascending(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *name, double *rates, int count) {
    qsort(rates, count, sizeof *rates, ascending);
    printf("%-34s median %6.1f GFLOP/s, best %6.1f\n", name, rates[count / 2], rates[count - 1]);
}

static float *random_floats(long count, unsigned *seed) {
    float *values = aligned_alloc(64, (size_t)count * sizeof(float));
    if (!values) { perror("aligned_alloc"); exit(70); }
    for (long i = 0; i < count; i++) values[i] = (float)(rand_r(seed) % 65536) / 65536.0f - 0.5f;
    return values;
}

static int series(int seconds) {
    const UpweightInstructionSet set = upweight_cpu_instruction_set();
    if (set == UPWEIGHT_BASELINE) { puts("no AVX2 or AVX-512 with FMA: not measured"); return 0; }
    enum { size = 256, most = 400 };
    unsigned seed = 1;
    float *a = random_floats(size * size, &seed), *b = random_floats(size * size, &seed), *c = random_floats(size * size, &seed);
    const double flops = 2.0 * size * size * size, fmaFlops = fma_loop_flops(set == UPWEIGHT_AVX512, 20000);
    float sink = 0;
    const double start = now();
    for (int window = 0; window < 2 * seconds; window++) {
        double gemm[most], fma[most];
        int count = 0;
        while (count < most && (count == 0 || now() < start + 0.5 * (window + 1))) {
            double t = now();
            upweight_sgemm(false, false, size, size, size, a, size, b, size, c, size, false);
            gemm[count] = flops / (now() - t) * 1e-9;
            t = now();
            sink += set == UPWEIGHT_AVX512 ? fma_loop_avx512(20000) : fma_loop_avx2(20000);
            fma[count++] = fmaFlops / (now() - t) * 1e-9;
        }
        qsort(gemm, count, sizeof *gemm, ascending);
        qsort(fma, count, sizeof *fma, ascending);
        printf("%5.1f s: 256³ product in L2 %6.1f GFLOP/s, FMA only %6.1f\n", 0.5 * window, gemm[count / 2], fma[count / 2]);
    }
    return sink == 12345 ? 1 : 0;  // keeps the FMA loop from being optimised away
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "series") == 0) return series(argc > 2 ? atoi(argv[2]) : 20);
    const long d = argc > 1 ? atol(argv[1]) : 1024, h = argc > 2 ? atol(argv[2]) : 256;
    const long rows = 2 * (argc > 3 ? atol(argv[3]) : 256), datasetRows = argc > 4 ? atol(argv[4]) : 100000;
    if (d <= 0 || h < 2 || rows <= 0 || datasetRows < rows) { fprintf(stderr, "bad sizes\n"); return 64; }
    enum { steps = 60 };
    unsigned seed = 1;
    float *dataset = random_floats(datasetRows * d, &seed), *w = random_floats(d * h, &seed);
    float *dz = random_floats(rows * h, &seed), *gathered = random_floats(rows * d, &seed);
    float *z = random_floats(rows * h, &seed), *g = random_floats(d * h, &seed);
    const float **pointers = malloc((size_t)rows * sizeof *pointers);
    double inPlace[steps], copied[steps], gradient[steps];
    const long half = h / 2, halfRows = d / 2;
    printf("D %ld, H %ld, %ld rows per step of %ld; one core, one thread's share\n", d, h, rows, datasetRows);
    // Every kernel this CPU can run, narrowest first, so that one run compares them.
    for (int set = UPWEIGHT_BASELINE; set <= (int)upweight_cpu_instruction_set(); set++) {
        upweight_limit_instruction_set((UpweightInstructionSet)set);
        printf("kernel %s\n", upweight_gemm_kernel_name());
        for (int step = 0; step < steps; step++) {
            for (long r = 0; r < rows; r++) pointers[r] = dataset + (long)(rand_r(&seed) % datasetRows) * d;
            double start = now();
            upweight_sgemm_rows(false, false, rows, half, d, pointers, 0, w, h, z, h, false);
            inPlace[step] = 2.0 * rows * half * d / (now() - start) * 1e-9;

            // G rows 0..<D/2 (the row split of Xᵀ·dZ): A's stored rows are the batch rows, read from column 0.
            start = now();
            upweight_sgemm_rows(true, false, halfRows, h, rows, pointers, 0, dz, h, g, h, false);
            gradient[step] = 2.0 * halfRows * h * rows / (now() - start) * 1e-9;

            for (long r = 0; r < rows; r++) memcpy(gathered + r * d, pointers[r], (size_t)d * sizeof(float));
            start = now();
            upweight_sgemm(false, false, rows, half, d, gathered, d, w, h, z, h, false);
            copied[step] = 2.0 * rows * half * d / (now() - start) * 1e-9;
        }
        report("  forward, rows where they lie", inPlace, steps);
        report("  forward, rows gathered (untimed)", copied, steps);
        report("  weight gradient, rows where they lie", gradient, steps);
    }
    return 0;
}
