// What one exchange costs between MPI ranks, for the scaling model in docs/DISTRIBUTED.md:
// MPI_Allreduce (sum of doubles) and Upweight's ordered sum (a running total passed rank to rank,
// then broadcast from the last rank: Collective.orderedSum) for buffers of 1 KB and 4 MB.
//
//     mpicc -O2 -o allreduce scripts/measure/allreduce.c && mpirun -n 2 ./allreduce
//
// Prints one JSON line per (operation, size) from rank 0: the median over repetitions of the
// slowest rank's time per call, in microseconds, and the bytes of the buffer per second.
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void ordered_sum(double *total, long count, int rank, int size) {
    // Rank r receives the total of ranks < r, adds its own part (here: ones), passes it on.
    if (rank > 0) MPI_Recv(total, (int)count, MPI_DOUBLE, rank - 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    else memset(total, 0, (size_t)count * sizeof(double));
    for (long i = 0; i < count; i++) total[i] += 1.0;
    if (rank < size - 1) MPI_Send(total, (int)count, MPI_DOUBLE, rank + 1, 0, MPI_COMM_WORLD);
    MPI_Bcast(total, (int)count, MPI_DOUBLE, size - 1, MPI_COMM_WORLD);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const long sizes[] = {1024, 4L << 20};
    const char *operations[] = {"allreduce", "ordered_sum"};
    for (int op = 0; op < 2; op++) {
        for (int s = 0; s < 2; s++) {
            long count = sizes[s] / (long)sizeof(double);
            double *buffer = calloc((size_t)count, sizeof(double));
            int repetitions = sizes[s] < 65536 ? 2000 : 50;
            double *times = malloc((size_t)repetitions * sizeof(double));
            for (int warm = 0; warm < 10; warm++) MPI_Allreduce(MPI_IN_PLACE, buffer, (int)count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
            for (int r = 0; r < repetitions; r++) {
                MPI_Barrier(MPI_COMM_WORLD);
                double start = MPI_Wtime();
                if (op == 0) MPI_Allreduce(MPI_IN_PLACE, buffer, (int)count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
                else ordered_sum(buffer, count, rank, size);
                double elapsed = MPI_Wtime() - start, slowest;
                MPI_Reduce(&elapsed, &slowest, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
                times[r] = slowest;
            }
            if (rank == 0) {
                qsort(times, (size_t)repetitions, sizeof(double), compare);
                double median = times[repetitions / 2];
                printf("{\"operation\": \"%s\", \"ranks\": %d, \"bytes\": %ld, \"median_us\": %.2f, \"bytes_per_s\": %.4g}\n",
                       operations[op], size, sizes[s], median * 1e6, (double)sizes[s] / median);
            }
            free(times);
            free(buffer);
        }
    }
    MPI_Finalize();
    return 0;
}
