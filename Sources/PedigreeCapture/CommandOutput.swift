import Foundation

/// Runs a helper program (git, python, nvidia-smi) to completion and returns what it printed.
/// Capture must never hang the user's training: every call has a time limit, and a program that is
/// missing, fails or times out yields nil.
///
/// Uses posix_spawn and waitpid directly: Foundation's Process notices a child's exit through a shared
/// monitor, which under concurrent launches added up to a second per call.
public enum CommandOutput {
    private static let spawnLock = NSLock()

    static func run(_ executable: String, _ arguments: [String], timeout: TimeInterval = 10) -> String? {
        guard let path = resolve(executable) else { return nil }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        // Helpers run concurrently, and one must not inherit another's pipe (its reader would then wait for
        // a process that is not even its own): pipes are close-on-exec, made and spawned under one lock.
        var pipe: [Int32] = [0, 0]
        var pid: pid_t = 0
        let status: Int32 = spawnLock.withLock {
            guard Glibc.pipe(&pipe) == 0 else { return errno }
            _ = fcntl(pipe[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(pipe[1], F_SETFD, FD_CLOEXEC)
            posix_spawn_file_actions_adddup2(&actions, pipe[1], 1)
            return posix_spawn(&pid, path, &actions, nil, argv, environ)
        }
        guard pipe[1] != 0 else { return nil }
        close(pipe[1])
        defer { close(pipe[0]) }
        guard status == 0 else { return nil }

        // Read until end of file or the deadline; a helper that outlives it (or leaves a daemon holding the
        // pipe) is killed, and only then reaped, so no other process can ever receive the kill.
        let deadline = Date().addingTimeInterval(timeout)
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var timedOut = false
        while true {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 {
                timedOut = true
                break
            }
            var descriptor = pollfd(fd: pipe[0], events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(min(remaining, 1) * 1000) + 1)
            if ready < 0 && errno != EINTR { break }
            if ready <= 0 { continue }
            let count = read(pipe[0], &buffer, buffer.count)
            if count > 0 {
                output.append(contentsOf: buffer[0..<count])
            } else if count == 0 || errno != EINTR {
                break
            }
        }
        if timedOut { kill(pid, SIGKILL) }
        var waitStatus: Int32 = 0
        while waitpid(pid, &waitStatus, 0) < 0 && errno == EINTR {}
        guard !timedOut, waitStatus == 0 else { return nil }  // a non-zero exit, a signal, or the timeout
        return String(decoding: output, as: UTF8.self)
    }

    /// The full path of a program: as given when it contains '/', else found on PATH.
    public static func resolve(_ executable: String, path: String? = ProcessInfo.processInfo.environment["PATH"]) -> String? {
        if executable.contains("/") { return FileManager.default.isExecutableFile(atPath: executable) ? executable : nil }
        for directory in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(executable)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
