/// How this process was started: alone, or as one rank of an MPI job. Launchers say so in the
/// environment (Open MPI's `mpirun`: OMPI_COMM_WORLD_SIZE; Slurm and MPICH/PMI: PMI_SIZE).
public enum Launch {
    /// The job's rank count the launcher announced (nil: not started by an MPI launcher).
    public static var announcedRanks: Int? { integer(["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"], atLeast: 1) }

    /// This process's rank as the launcher announced it (nil: not started by an MPI launcher): known
    /// before MPI starts, so that only rank 0 prints even an error that comes first.
    public static var announcedRank: Int? { integer(["OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"], atLeast: 0) }

    /// Ranks on this machine (Open MPI says; else all of them are taken to be here).
    public static var ranksOnThisNode: Int { integer(["OMPI_COMM_WORLD_LOCAL_SIZE"], atLeast: 1) ?? announcedRanks ?? 1 }

    /// Threads per rank by default: this machine's cores shared among its ranks.
    public static var threadsPerRank: Int { max(1, defaultThreadCount() / ranksOnThisNode) }

    /// Whether this process prints: a plain run, or rank 0 of an MPI job.
    public static var prints: Bool { (announcedRank ?? 0) == 0 }

    /// The first of `names` set to a whole number ≥ `minimum`: the environment is untrusted, and a
    /// size of 0 would divide the cores by zero.
    private static func integer(_ names: [String], atLeast minimum: Int) -> Int? {
        for name in names {
            if let value = getenv(name).map({ String(cString: $0) }), let number = Int(value), number >= minimum { return number }
        }
        return nil
    }

    /// Whether this build can join an MPI job (built with `--traits MPI`).
    public static var supportsMPI: Bool {
        #if MPI
        true
        #else
        false
        #endif
    }

    /// The collective of this process: MPI's ranks when an MPI launcher started it and this build
    /// has the trait. A launcher announcing several ranks to a build without
    /// the trait is refused: each copy would train alone on all the data and write the same files.
    /// nil: a plain run (no launcher, or a launcher's single rank in a build without the trait).
    public static func collective() throws -> (any Collective)? {
        let ranks = announcedRanks ?? 1
        #if MPI
        if announcedRanks != nil { return MeasuredCollective(MPICollective()) }
        #endif
        if ranks > 1 {
            throw UsageError("started as one of \(ranks) MPI ranks, but this upweight was built without MPI; build it with `swift build --traits MPI` (docs/DISTRIBUTED.md)")
        }
        return nil
    }
}
