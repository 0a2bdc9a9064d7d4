import Foundation

/// A child process started and waited for by the calling thread alone: posix_spawn(3), its output
/// drained with poll(2), waitpid(2). Foundation's `Process` reaps children on a thread of its own
/// and hands the status over through a run loop; the test process then shares state with that
/// thread, which ThreadSanitizer can see as a race. Here no other thread is involved.
struct Subprocess {
    /// Where a child's standard output or error goes.
    enum Destination {
        case capture
        case discard
        /// Appended to the file (created if missing).
        case file(String)
    }

    let pid: pid_t
    private let outputs: [(stream: Int32, readEnd: Int32)]  // the captured streams (1, 2)

    /// Starts `executable` with `arguments`, this process's environment plus `environment` (or
    /// `environment` alone when `replacingEnvironment`), standard input from /dev/null.
    init(_ executable: String, _ arguments: [String], environment: [String: String] = [:], replacingEnvironment: Bool = false,
         stdout: Destination = .capture, stderr: Destination = .capture) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        var readEnds: [(stream: Int32, readEnd: Int32)] = []
        var writeEnds: [Int32] = []
        for (descriptor, destination) in [(Int32(1), stdout), (Int32(2), stderr)] {
            switch destination {
            case .capture:
                var ends: [Int32] = [0, 0]
                guard pipe(&ends) == 0 else { throw TestSupport.Failure("pipe: \(String(cString: strerror(errno)))") }
                ends.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }  // not inherited by this or later children
                posix_spawn_file_actions_adddup2(&actions, ends[1], descriptor)  // dup2 clears O_CLOEXEC on the copy
                readEnds.append((descriptor, ends[0]))
                writeEnds.append(ends[1])
            case .discard:
                posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", O_WRONLY, 0)
            case .file(let path):
                posix_spawn_file_actions_addopen(&actions, descriptor, path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            }
        }
        var variables = ProcessInfo.processInfo.environment
        if replacingEnvironment { variables = [:] }
        variables.merge(environment) { $1 }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        // As Foundation does: the child starts with no signal blocked and every signal's default
        // action, whatever this process (the test runner, its dispatch queues) blocks or ignores.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        var all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let failed = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        writeEnds.forEach { close($0) }
        guard failed == 0 else {
            readEnds.forEach { close($0.readEnd) }
            throw TestSupport.Failure("cannot start \(executable): \(String(cString: strerror(failed)))")
        }
        self.pid = pid
        outputs = readEnds
    }

    /// Reads the captured streams to their end, then waits for the child: its exit status (or, as
    /// Foundation gives it, the number of the signal that ended it) and what it wrote.
    func finish() -> (status: Int32, stdout: String, stderr: String) {
        var collected = outputs.map { _ in [UInt8]() }
        var open = outputs.map { pollfd(fd: $0.readEnd, events: Int16(POLLIN), revents: 0) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while open.contains(where: { $0.fd >= 0 }) {
            guard poll(&open, nfds_t(open.count), -1) >= 0 || errno == EINTR else { break }
            for index in open.indices where open[index].fd >= 0 && open[index].revents != 0 {
                let count = read(open[index].fd, &buffer, buffer.count)
                if count > 0 {
                    collected[index] += buffer[0..<count]
                } else if count == 0 || errno != EINTR {
                    close(open[index].fd)
                    open[index].fd = -1
                }
            }
        }
        let status = wait()
        func text(_ stream: Int32) -> String {
            outputs.firstIndex { $0.stream == stream }.map { String(decoding: collected[$0], as: UTF8.self) } ?? ""
        }
        return (status, text(1), text(2))
    }

    /// Waits for the child (nothing captured may be left unread: it could block on a full pipe).
    func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return Self.decoded(status)
    }

    /// The child's status if it has ended (then reaped: call neither this nor `wait` again), else nil.
    func ended() -> Int32? {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == pid ? Self.decoded(status) : nil
    }

    /// The exit code, or the signal's number for a child a signal ended (WIFEXITED, WTERMSIG).
    private static func decoded(_ status: Int32) -> Int32 {
        status & 0x7f == 0 ? (status >> 8) & 0xff : status & 0x7f
    }
}
