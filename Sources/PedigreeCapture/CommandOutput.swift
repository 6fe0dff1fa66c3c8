import Foundation

/// Runs a helper program (git, python, nvidia-smi) to completion and returns what it printed.
/// Capture must never hang the user's training: every call has a time limit, and a program that is
/// missing, fails or times out yields nil.
enum CommandOutput {
    static func run(_ executable: String, _ arguments: [String], in directory: URL? = nil, timeout: TimeInterval = 10) -> String? {
        guard let path = resolve(executable) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        // Read concurrently so a large output cannot fill the pipe and stall the child.
        let box = DataBox()
        let reading = DispatchGroup()
        reading.enter()
        DispatchQueue.global().async {
            box.data = output.fileHandleForReading.readDataToEndOfFile()
            reading.leave()
        }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(2_000) }
        if process.isRunning {
            process.terminate()
            return nil
        }
        process.waitUntilExit()
        reading.wait()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: box.data, as: UTF8.self)
    }

    private final class DataBox: @unchecked Sendable { var data = Data() }

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
