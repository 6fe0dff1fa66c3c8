import Foundation

/// How a wrapped command ended.
public enum ChildExit: Sendable, Equatable {
    case exited(Int32)
    case signaled(Int32)

    /// The exit code a shell would report: the code, or 128 + the signal.
    public var code: Int32 {
        switch self {
        case .exited(let code): code
        case .signaled(let signal): 128 + signal
        }
    }

    public var succeeded: Bool { self == .exited(0) }
}

/// Runs the user's command as a transparent child: it inherits standard input, output and error, the
/// terminal and the process group.
///
/// Signals: Ctrl-C at a terminal reaches the child directly (same process group), so Pedigree ignores
/// SIGINT itself and records how the child ended. SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 sent to
/// Pedigree (by a scheduler, `kill`, a container runtime) are forwarded to the child. The child starts with
/// default signal dispositions and an empty mask, whatever Pedigree's own are.
public enum ChildProcess {
    public enum Failure: Error, CustomStringConvertible {
        case cannotStart(String, String)
        public var description: String {
            switch self {
            case .cannotStart(let command, let reason): "cannot run \(command): \(reason)"
            }
        }
    }

    static let forwarded: [Int32] = [SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2]

    /// Runs `command` in the current directory and waits for it.
    public static func run(_ command: [String], environment: [String: String]) throws -> ChildExit {
        guard let executable = command.first else { throw Failure.cannotStart("", "no command given after --") }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigfillset(&defaults)
        sigdelset(&defaults, SIGKILL)
        sigdelset(&defaults, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }

        let argv = command.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        // Dispositions are set before the child exists, so no signal can kill Pedigree and orphan it; the
        // child gets default dispositions back (SETSIGDEF above).
        let child = ChildPID()
        signal(SIGINT, SIG_IGN)
        let sources = forwarded.map { number -> any DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { if let pid = child.value { kill(pid, number) } }
            source.resume()
            return source
        }
        var pid: pid_t = 0
        let resolved = executable.contains("/") ? executable : (CommandOutput.resolve(executable, path: environment["PATH"]) ?? executable)
        let status = posix_spawn(&pid, resolved, &actions, &attributes, argv, envp)
        guard status == 0 else {
            sources.forEach { $0.cancel() }
            throw Failure.cannotStart(executable, String(cString: strerror(status)))
        }
        child.value = pid
        defer {
            sources.forEach { $0.cancel() }
            signal(SIGINT, SIG_DFL)
            forwarded.forEach { signal($0, SIG_DFL) }
        }

        var waitStatus: Int32 = 0
        while waitpid(pid, &waitStatus, 0) < 0 {
            guard errno == EINTR else { throw Failure.cannotStart(executable, "waitpid: \(String(cString: strerror(errno)))") }
        }
        let signalNumber = waitStatus & 0x7F
        if signalNumber == 0 { return .exited((waitStatus >> 8) & 0xFF) }
        return .signaled(signalNumber)
    }
}

/// The child's pid, set once it exists, read by the signal handlers.
private final class ChildPID: @unchecked Sendable {
    private let lock = NSLock()
    private var pid: pid_t?
    var value: pid_t? {
        get { lock.withLock { pid } }
        set { lock.withLock { pid = newValue } }
    }
}
