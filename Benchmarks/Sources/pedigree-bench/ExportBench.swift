import ArgumentParser
import Foundation
import PedigreeCore

#if canImport(Glibc)
import Glibc
#endif

struct ExportBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "`pedigree export --all` of the spine store in every format: seconds, MB/s and peak memory, against the backup export.",
        discussion: """
            .build/release/pedigree-bench export --nodes 1000000   (runs the release `pedigree` beside it)

            Each export is a separate `pedigree` process, timed from spawn to exit; its peak resident memory is the \
            kernel's (wait4's ru_maxrss). The baseline, in the same run on the same store, is `--format backup`, the \
            export that streams the event log as it is stored.
            """)

    @Option(help: "Nodes in the store.")
    var nodes = 1_000_000
    @Option(help: "Formats, comma-separated (default: backup and every graph format).")
    var formats = "backup,prov-json,openlineage,cypher,csv,datahub,graphml,dot,mermaid"

    func run() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pedigree-export-bench-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = dir.appendingPathComponent("store.db").path
        try await SyntheticLineage().makeStore(at: store, nodes: nodes)
        let pedigree = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("pedigree").path
        print("\n| format | seconds | output MB | MB/s | peak RSS MB | time ÷ backup |")
        print("|---|---|---|---|---|---|")
        var baseline: Double?
        for format in formats.split(separator: ",").map(String.init) {
            let output = dir.appendingPathComponent("out-\(format)")
            let measured = try Self.spawn(
                pedigree, ["export", "--all", "--format", format, "-o", output.path, "--store", store],
                environment: ["PEDIGREE_HOME=\(dir.path)", "PEDIGREE_LOG_LEVEL=warning"])
            guard measured.status == 0 else {
                throw ArgumentParser.ValidationError("pedigree export --format \(format) exited with \(measured.status)")
            }
            let megabytes = Double(try Self.bytes(output)) / 1_000_000
            if format == "backup" { baseline = measured.seconds }
            let ratio = baseline.map { String(format: "%.2f×", measured.seconds / $0) } ?? "—"
            print(
                "| \(format) | \(String(format: "%.2f", measured.seconds)) | \(String(format: "%.1f", megabytes)) | "
                    + "\(String(format: "%.1f", megabytes / measured.seconds)) | \(measured.maxRSSKiB / 1024) | \(ratio) |")
            try? FileManager.default.removeItem(at: output)
        }
    }

    /// Runs a program to completion and reports its wall time and the kernel's account of its peak memory.
    static func spawn(_ path: String, _ arguments: [String], environment: [String]) throws -> (status: Int32, seconds: Double, maxRSSKiB: Int) {
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = (environment + (ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" })).map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let start = ContinuousClock.now
        guard posix_spawn(&pid, path, nil, nil, argv, envp) == 0 else { throw ArgumentParser.ValidationError("cannot start \(path)") }
        var status: Int32 = 0
        var usage = rusage()
        _ = wait4(pid, &status, 0, &usage)
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return ((status >> 8) & 0xFF, seconds, usage.ru_maxrss)
    }

    /// The size of a file, or of every file in a directory.
    static func bytes(_ url: URL) throws -> Int {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { return 0 }
        guard isDirectory.boolValue else { return (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0 }
        return try FileManager.default.contentsOfDirectory(atPath: url.path).reduce(0) { $0 + (try bytes(url.appendingPathComponent($1))) }
    }
}
