import ArgumentParser
import Foundation
import PedigreeCapture

struct CaptureBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Hashing throughput against openssl and sha256sum, re-runs on unchanged data, and the wrapper's overhead.",
        discussion: ".build/release/pedigree-bench capture --files 1000 --file-size 1048576")

    @Option(help: "Number of files in the data set.")
    var files = 1000
    @Option(help: "Bytes per file.")
    var fileSize = 1 << 20
    @Option(help: "Repetitions of each timing (the median is reported).")
    var repeats = 5

    func run() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pedigree-capture-bench-\(getpid())")
        let data = dir.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var block = [UInt8](repeating: 0, count: fileSize)
        var rng = SystemRandomNumberGenerator()
        var paths: [String] = []
        for i in 0..<files {
            for j in stride(from: 0, to: block.count, by: 8) {
                withUnsafeBytes(of: rng.next()) { for (k, b) in $0.enumerated() where j + k < block.count { block[j + k] = b } }
            }
            let path = data.appendingPathComponent(String(format: "part-%05d.bin", i)).path
            FileManager.default.createFile(atPath: path, contents: Data(block))
            paths.append(path)
        }
        let total = Double(files * fileSize)
        print(String(format: "data: %d files, %.2f GB, in the page cache (warm: read once before timing)", files, total / 1e9))
        _ = try timeCommand(["/usr/bin/cat"] + paths, discardOutput: true)

        let openssl = try median { try timeCommand(["/usr/bin/openssl", "dgst", "-sha256"] + paths, discardOutput: true) }
        let sha256sum = try median { try timeCommand(["/usr/bin/sha256sum"] + paths, discardOutput: true) }
        let oneCore = try median { try time { _ = try Fingerprinter(cache: nil, showProgress: false, workers: 1).fingerprint([data.path]) } }
        let allCores = try median { try time { _ = try Fingerprinter(cache: nil, showProgress: false).fingerprint([data.path]) } }
        let cache = CaptureCache(directory: dir.appendingPathComponent("cache"))
        _ = try Fingerprinter(cache: cache, showProgress: false).fingerprint([data.path])
        let unchanged = try median { try time { _ = try Fingerprinter(cache: cache, showProgress: false).fingerprint([data.path]) } }

        func row(_ name: String, _ seconds: Double) -> String {
            name.padding(toLength: 44, withPad: " ", startingAt: 0)
                + String(format: "%8.3f s %8.0f MB/s   %.2f× openssl", seconds, total / seconds / 1e6, openssl / seconds)
        }
        print(row("openssl dgst -sha256 (1 process)", openssl))
        print(row("sha256sum (1 process)", sha256sum))
        print(row("pedigree fingerprint, 1 worker", oneCore))
        print(row("pedigree fingerprint, \(ProcessInfo.processInfo.activeProcessorCount) workers", allCores))
        print(
            "pedigree fingerprint, unchanged (stat cache)".padding(toLength: 44, withPad: " ", startingAt: 0) + String(format: "%8.3f s", unchanged))

        // The wrapper: `pedigree run -- true` against bare `true`, on an empty store, no inputs.
        let pedigree = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("pedigree").path
        let store = dir.appendingPathComponent("store.db").path
        let env = ["PEDIGREE_STORE": store, "PEDIGREE_HOME": dir.appendingPathComponent("home").path]
        _ = try timeCommand([pedigree, "run", "--", "/bin/true"], environment: env, discardOutput: true)  // warm caches
        let bare = try median(of: 21) { try timeCommand(["/bin/true"], discardOutput: true) }
        let wrapped = try median(of: 21) { try timeCommand([pedigree, "run", "--", "/bin/true"], environment: env, discardOutput: true) }
        print(
            String(
                format: "bare `true`: %.1f ms; `pedigree run -- true`: %.1f ms; overhead %.1f ms (medians of 21)", bare * 1000, wrapped * 1000,
                (wrapped - bare) * 1000))
    }

    func median(of count: Int? = nil, _ body: () throws -> Double) throws -> Double {
        var samples = try (0..<(count ?? repeats)).map { _ in try body() }
        samples.sort()
        return samples[samples.count / 2]
    }

    func time(_ body: () throws -> Void) throws -> Double {
        let start = Date()
        try body()
        return Date().timeIntervalSince(start)
    }

    func timeCommand(_ command: [String], environment: [String: String] = [:], discardOutput: Bool) throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        if discardOutput {
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
        }
        let start = Date()
        try process.run()
        process.waitUntilExit()
        return Date().timeIntervalSince(start)
    }
}
