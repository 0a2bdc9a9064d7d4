// Which kernel the installed OpenBLAS picks for this CPU, and its one-thread SGEMM rate at an MLP
// shape (512 rows = 2 × a batch of 256 responses, through a 1024 → 256 layer), best of 7. Run it
// with and without OPENBLAS_CORETYPE=SkylakeX to see what a misdetected CPU costs.
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

char *openblas_get_corename(void);

int main(void) {
    const int m = 512, n = 256, k = 1024, calls = 20;
    float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * k * n), *c = malloc(sizeof(float) * m * n);
    for (long i = 0; i < (long)m * k; i++) a[i] = (float)(i % 7) * 0.1f;
    for (long i = 0; i < (long)k * n; i++) b[i] = (float)(i % 5) * 0.1f;
    double best = 1e30;
    for (int run = 0; run < 7; run++) {
        struct timespec start, end;
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (int i = 0; i < calls; i++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1, a, k, b, n, 0, c, n);
        clock_gettime(CLOCK_MONOTONIC, &end);
        double seconds = ((end.tv_sec - start.tv_sec) + 1e-9 * (end.tv_nsec - start.tv_nsec)) / calls;
        if (seconds < best) best = seconds;
    }
    printf("core %s: %.1f GFLOP/s\n", openblas_get_corename(), 2.0 * m * n * k / best / 1e9);
    free(a), free(b), free(c);
}
