import Foundation

/// Runs a helper program (git, python, nvidia-smi) to completion and returns what it printed.
/// Capture must never hang the user's training: every call has a time limit, and a program that is
/// missing, fails or times out yields nil.
///
/// Uses posix_spawn and waitpid directly: Foundation's Process notices a child's exit through a shared
/// monitor, which under concurrent launches added up to a second per call.
enum CommandOutput {
    static func run(_ executable: String, _ arguments: [String], timeout: TimeInterval = 10) -> String? {
        guard let path = resolve(executable) else { return nil }
        var pipe: [Int32] = [0, 0]
        guard Glibc.pipe(&pipe) == 0 else { return nil }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipe[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addclose(&actions, pipe[0])
        posix_spawn_file_actions_addclose(&actions, pipe[1])

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, path, &actions, nil, argv, environ)
        close(pipe[1])
        guard status == 0 else {
            close(pipe[0])
            return nil
        }
        let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)

        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(pipe[0], &buffer, buffer.count)
            if count > 0 { output.append(contentsOf: buffer[0..<count]) } else if count == 0 || errno != EINTR { break }
        }
        close(pipe[0])
        var waitStatus: Int32 = 0
        while waitpid(pid, &waitStatus, 0) < 0 && errno == EINTR {}
        watchdog.cancel()
        guard waitStatus == 0 else { return nil }  // a non-zero exit, or killed by a signal (the timeout)
        return String(decoding: output, as: UTF8.self)
    }

    /// The full path of a program: as given when it contains '/', else found on PATH.
    static func resolve(_ executable: String, path: String? = ProcessInfo.processInfo.environment["PATH"]) -> String? {
        if executable.contains("/") { return FileManager.default.isExecutableFile(atPath: executable) ? executable : nil }
        for directory in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(executable)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
