import ArgumentParser
import Foundation
import PedigreeCore
import PedigreeStore

@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pedigree-bench",
        abstract: "Pedigree's benchmarks. Run in release mode: swift build -c release && .build/release/pedigree-bench spine",
        subcommands: [Spine.self, CaptureBench.self, ServeBench.self, UIBench.self, ExportBench.self])
}

struct Spine: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Batched ingest and graph-query latency of the stores on synthetic lineage graphs.",
        discussion: """
            .build/release/pedigree-bench spine --nodes 100000,1000000 --postgres postgres://USER@HOST/DATABASE

            With --postgres, each size runs on SQLite and on PostgreSQL in the same run; the benchmark creates (and \
            drops) its own database per size on that server.
            """)

    @Option(help: "Graph sizes in nodes, comma-separated.")
    var nodes: String = "10000,100000"
    @Option(help: "Samples per query.")
    var samples: Int = 1000
    @Option(help: "Events per append transaction.")
    var batch: Int = 10_000
    @Option(help: "Directory for the SQLite files (default: a temporary directory).")
    var directory: String?
    @Option(help: "A PostgreSQL server to run the same benchmark on (a user who may create databases).")
    var postgres: String?

    func run() async throws {
        let sizes = nodes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let dir =
            directory.map { URL(fileURLWithPath: $0) } ?? FileManager.default.temporaryDirectory.appendingPathComponent("pedigree-bench-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.physicalMemory / 1_073_741_824) GiB")
        for size in sizes {
            let generator = SyntheticLineage()
            let projects = generator.projects(forNodes: size)
            let lines = (0..<projects).flatMap { generator.events(project: $0) }
            var backends: [any BenchBackend] = [SQLiteBench(path: dir.appendingPathComponent("spine-\(size).db").path, batch: batch)]
            if let postgres { backends.append(try PostgresBench(server: postgres, database: "pedigree_bench_\(size)", batch: batch)) }
            for backend in backends {
                try await benchmark(backend, lines: lines, projects: projects, generator: generator)
            }
        }
        try? FileManager.default.removeItem(at: dir)
    }

    func benchmark(_ backend: any BenchBackend, lines: [String], projects: Int, generator: SyntheticLineage) async throws {
        let store = try await backend.freshStore()

        // Ingest: parse + validate + normalise + hash on both cores, pipelined with append + project of the
        // previous batch, as `pedigree record` does for large files.
        let clock = ContinuousClock()
        let batches = stride(from: 0, to: lines.count, by: batch).map { lines[$0..<min($0 + batch, lines.count)].map { Substring($0) } }
        let t0 = clock.now
        var pending = try await EventDocument.decodeLines(batches[0])
        for next in batches.dropFirst() + [[]] {
            async let decoded = next.isEmpty ? [] : EventDocument.decodeLines(next)
            _ = try await store.append(pending, recordedBy: "bench")
            pending = try await decoded
        }
        let ingest = clock.now - t0
        let statistics = try await store.statistics()
        let baseline = try await backend.baselineIngest(lines: lines)

        print("\n== \(backend.name): \(statistics.nodes) nodes, \(statistics.edges) edges, \(lines.count) events (\(projects) projects) ==")
        let eventsPerSecond = Double(lines.count) / ingest.seconds
        let recordsPerSecond = Double(statistics.nodes + statistics.edges) / ingest.seconds
        print(
            String(
                format: "ingest: %.0f events/s, %.0f graph records/s (nodes + edges), %.2f s",
                eventsPerSecond, recordsPerSecond, ingest.seconds))
        print(
            String(
                format:
                    "baseline (hash + insert the same event bytes into one plain table, same batches): %.0f events/s; Pedigree runs at %.2f× that",
                baseline, eventsPerSecond / baseline))

        var rng = SystemRandomNumberGenerator()
        func pick() -> Int { Int.random(in: 0..<projects, using: &rng) }
        func ns(_ p: Int) -> String { "team-\(p % 200)" }
        let tip = { (p: Int) in Reference.artifact(ArtifactRef(kind: "model", namespace: ns(p), name: "ft-\(p)", version: "\(generator.fineTunes)")) }

        var results: [(String, Latency)] = []
        results.append(
            ("upstream depth 50", try await measure(samples) { _ = try await store.lineage(tip(pick()), direction: .upstream, depth: 50, asOf: nil) })
        )
        results.append(
            (
                "upstream unbounded",
                try await measure(samples) { _ = try await store.lineage(tip(pick()), direction: .upstream, depth: nil, asOf: nil) }
            ))
        results.append(
            (
                "trained-on (all versions)",
                try await measure(samples) {
                    _ = try await store.modelsTrainedOn(ArtifactRef(kind: "dataset", namespace: "warehouse", name: "raw-\(pick())"), asOf: nil)
                }
            ))
        results.append(
            (
                "impact (raw dataset v1)",
                try await measure(samples) {
                    _ = try await store.impact(
                        .artifact(ArtifactRef(kind: "dataset", namespace: "warehouse", name: "raw-\(pick())", version: "1")), asOf: nil)
                }
            ))
        results.append(
            (
                "diff (two model versions)",
                try await measure(samples) {
                    let p = pick()
                    let a = try await store.pedigree(
                        .artifact(ArtifactRef(kind: "model", namespace: ns(p), name: "model-\(p)", version: "4")), depth: nil, asOf: nil)
                    let b = try await store.pedigree(
                        .artifact(ArtifactRef(kind: "model", namespace: ns(p), name: "model-\(p)", version: "5")), depth: nil, asOf: nil)
                    _ = LineageDiff(a, b)
                }
            ))
        let incidentTime = Timestamp("2026-08-02T14:00:00Z")!
        results.append(
            (
                "incident (canary endpoint)",
                try await measure(samples) {
                    let p = pick()
                    _ = try await store.incident(
                        namespace: ns(p), endpoint: "api-\(p)", at: incidentTime, baseline: .previous, asOf: nil, mayRead: { _ in true })
                }
            ))
        // What answering it took before: history, both versions' pedigrees for the diff, and impact for each
        // changed dataset, as separate calls.
        results.append(
            (
                "baseline: history + diff + impact calls",
                try await measure(samples) {
                    let p = pick()
                    _ = try await store.deploymentHistory(namespace: ns(p), endpoint: "api-\(p)", asOf: nil)
                    let a = try await store.pedigree(tip(p), depth: nil, asOf: nil)
                    let b = try await store.pedigree(
                        .artifact(ArtifactRef(kind: "model", namespace: ns(p), name: "model-\(p)", version: "\(generator.versions)")), depth: nil,
                        asOf: nil)
                    for dataset in IncidentReport.changedDatasets(in: LineageDiff(a, b)) { _ = try await store.impact(.artifact(dataset), asOf: nil) }
                }
            ))
        results.append(
            ("baseline: recursive CTE, depth 50", try await measure(samples) { try await backend.recursiveCTE(from: tip(pick()).description) }))
        results.append(
            (
                "audit (one model version)",
                try await measure(min(samples, 200)) {
                    let p = pick()
                    _ = try await store.audit(
                        ArtifactRef(kind: "model", namespace: ns(p), name: "model-\(p)", version: "\(generator.versions)"), trustedKey: nil,
                        asOf: nil,
                        mayRead: { _ in true })
                }
            ))
        print("query                               p50 ms   p99 ms   mean ms")
        for (name, latency) in results {
            print(
                name.padding(toLength: 34, withPad: " ", startingAt: 0) + String(format: "%8.3f %8.3f %8.3f", latency.p50, latency.p99, latency.mean))
        }
        let walk = results[0].1.p50, cte = results[7].1.p50
        print(String(format: "depth-50 walk vs recursive-CTE baseline (p50): %.2f×", walk / cte))
        print(String(format: "incident vs the separate calls it replaces (p99): %.2f×", results[5].1.p99 / results[6].1.p99))

        // The inventory (`pedigree audit --all`): every model line's latest version scored, with owner, risk tier,
        // live endpoints and last checkpoint, in one read transaction; against the baseline of listing the
        // model lines and asking for each latest version's pedigree as separate calls.
        var inventoryTimes: [Double] = [], baselineTimes: [Double] = []
        var lines = 0
        for _ in 0..<3 {
            let t0 = clock.now
            lines = try await store.inventory(trustedKey: nil, asOf: nil, mayRead: { _ in true }).count
            inventoryTimes.append((clock.now - t0).seconds)
            let t1 = clock.now
            var offset = 0
            while true {
                let page = try await store.artifacts(matching: ArtifactFilter(kind: "model"), limit: 1000, offset: offset, asOf: nil)
                for model in page {
                    _ = try await store.pedigree(
                        .artifact(ArtifactRef(kind: "model", namespace: model.namespace, name: model.name, version: model.version)), depth: nil,
                        asOf: nil)
                }
                if page.count < 1000 { break }
                offset += 1000
            }
            baselineTimes.append((clock.now - t1).seconds)
        }
        let inventory = inventoryTimes.sorted()[1], separate = baselineTimes.sorted()[1]
        print(
            String(
                format: "inventory (audit --all): %d model lines in %.2f s (median of 3); baseline, a pedigree call per line: %.2f s; %.2f×", lines,
                inventory, separate, inventory / separate))
        try await backend.dispose(store)
    }

    struct Latency {
        let p50: Double, p99: Double, mean: Double
    }

    func measure(_ samples: Int, _ body: () async throws -> Void) async throws -> Latency {
        let clock = ContinuousClock()
        for _ in 0..<min(50, samples) { try await body() }  // warm caches and statements
        var times: [Double] = []
        for _ in 0..<samples {
            let t0 = clock.now
            try await body()
            times.append((clock.now - t0).seconds * 1000)
        }
        times.sort()
        return Latency(
            p50: times[times.count / 2], p99: times[min(times.count - 1, times.count * 99 / 100)], mean: times.reduce(0, +) / Double(times.count))
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
