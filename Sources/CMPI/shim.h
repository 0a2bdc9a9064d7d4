#include <mpi.h>

// Open MPI's handles are macros over global structs (MPI_COMM_WORLD is &ompi_mpi_comm_world), which
// Swift does not import: each one the collective uses is returned by a function of its own.
static inline MPI_Comm upweight_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype upweight_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype upweight_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype upweight_mpi_int32(void) { return MPI_INT32_T; }
static inline MPI_Datatype upweight_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Op upweight_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op upweight_mpi_max(void) { return MPI_MAX; }
static inline void *upweight_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Status *upweight_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline int upweight_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
static inline int upweight_mpi_success(void) { return MPI_SUCCESS; }
