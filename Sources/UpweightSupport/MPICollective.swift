#if MPI
private import CMPI

/// The ranks of an MPI job (`mpirun -n K`, `srun`): MPI_COMM_WORLD, initialized once with
/// MPI_THREAD_FUNNELED (collectives come from the main thread; worker threads only compute).
/// MPI's default error handler aborts the whole job on a failed call, so these calls return nothing
/// to check; a rank that dies makes `mpirun` end the others.
public final class MPICollective: Collective {
    public let rank: Int
    public let size: Int

    /// Initializes MPI (finalized when the process exits).
    public init() {
        var provided: Int32 = 0
        MPI_Init_thread(nil, nil, upweight_mpi_thread_funneled(), &provided)
        atexit { MPI_Finalize() }
        var rank: Int32 = 0
        var size: Int32 = 0
        MPI_Comm_rank(upweight_mpi_comm_world(), &rank)
        MPI_Comm_size(upweight_mpi_comm_world(), &size)
        (self.rank, self.size) = (Int(rank), Int(size))
    }

    public func allreduceSum(_ values: inout [Double]) {
        for range in Self.chunks(values.count) {
            values[range].withUnsafeMutableBytes { buffer in
                _ = MPI_Allreduce(upweight_mpi_in_place(), buffer.baseAddress, Int32(range.count), upweight_mpi_double(),
                                  upweight_mpi_sum(), upweight_mpi_comm_world())
            }
        }
    }

    public func allreduceSum(_ values: inout [Int64]) {
        for range in Self.chunks(values.count) {
            values[range].withUnsafeMutableBytes { buffer in
                _ = MPI_Allreduce(upweight_mpi_in_place(), buffer.baseAddress, Int32(range.count), upweight_mpi_int64(),
                                  upweight_mpi_sum(), upweight_mpi_comm_world())
            }
        }
    }

    public func allgather(_ bytes: [UInt8]) -> [[UInt8]] {
        precondition(bytes.count < Int(Int32.max), "allgather of more than 2 GiB from one rank")
        var counts = [Int32](repeating: 0, count: size)
        var own = Int32(bytes.count)
        counts.withUnsafeMutableBytes { counts in
            _ = MPI_Allgather(&own, 1, upweight_mpi_int32(), counts.baseAddress, 1, upweight_mpi_int32(), upweight_mpi_comm_world())
        }
        var offsets = [Int32](repeating: 0, count: size)
        for index in 1..<max(1, size) { offsets[index] = offsets[index - 1] + counts[index - 1] }
        var gathered = [UInt8](repeating: 0, count: Int(counts.reduce(0, +)))
        bytes.withUnsafeBytes { sent in
            gathered.withUnsafeMutableBytes { received in
                _ = MPI_Allgatherv(sent.baseAddress, own, upweight_mpi_byte(), received.baseAddress, counts, offsets,
                                   upweight_mpi_byte(), upweight_mpi_comm_world())
            }
        }
        return (0..<size).map { Array(gathered[Int(offsets[$0])..<Int(offsets[$0] + counts[$0])]) }
    }

    public func broadcast(_ bytes: [UInt8], from root: Int) -> [UInt8] {
        var count = Int64(bytes.count)
        MPI_Bcast(&count, 1, upweight_mpi_int64(), Int32(root), upweight_mpi_comm_world())
        var result = rank == root ? bytes : [UInt8](repeating: 0, count: Int(count))
        for range in Self.chunks(result.count) {
            result[range].withUnsafeMutableBytes { buffer in
                _ = MPI_Bcast(buffer.baseAddress, Int32(range.count), upweight_mpi_byte(), Int32(root), upweight_mpi_comm_world())
            }
        }
        return result
    }

    public func broadcast(_ values: inout [Double], from root: Int) {
        for range in Self.chunks(values.count) {
            values[range].withUnsafeMutableBytes { buffer in
                _ = MPI_Bcast(buffer.baseAddress, Int32(range.count), upweight_mpi_double(), Int32(root), upweight_mpi_comm_world())
            }
        }
    }

    public func barrier() {
        MPI_Barrier(upweight_mpi_comm_world())
    }

    public func send(_ values: [Double], to rank: Int) {
        for range in Self.chunks(values.count) {
            values[range].withUnsafeBytes { buffer in
                _ = MPI_Send(buffer.baseAddress, Int32(range.count), upweight_mpi_double(), Int32(rank), 0, upweight_mpi_comm_world())
            }
        }
    }

    public func receive(count: Int, from rank: Int) -> [Double] {
        var values = [Double](repeating: 0, count: count)
        for range in Self.chunks(count) {
            values[range].withUnsafeMutableBytes { buffer in
                _ = MPI_Recv(buffer.baseAddress, Int32(range.count), upweight_mpi_double(), Int32(rank), 0, upweight_mpi_comm_world(),
                             upweight_mpi_status_ignore())
            }
        }
        return values
    }

    /// MPI counts are Int32: longer buffers go in pieces of at most 2^30 elements.
    private static func chunks(_ count: Int) -> [Range<Int>] {
        stride(from: 0, to: count, by: 1 << 30).map { $0..<min(count, $0 + (1 << 30)) }
    }
}
#endif
