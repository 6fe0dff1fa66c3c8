import ArgumentParser
import Foundation
import GRDB
import PedigreeCore
import PedigreeStore

@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pedigree-bench",
        abstract: "Pedigree's benchmarks. Run in release mode: swift build -c release && .build/release/pedigree-bench spine",
        subcommands: [Spine.self, CaptureBench.self, ServeBench.self])
}

struct Spine: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Batched ingest and graph-query latency of the SQLite store on synthetic lineage graphs.",
        discussion: ".build/release/pedigree-bench spine --nodes 10000,100000,1000000")

    @Option(help: "Graph sizes in nodes, comma-separated.")
    var nodes: String = "10000,100000"
    @Option(help: "Samples per query.")
    var samples: Int = 1000
    @Option(help: "Events per append transaction.")
    var batch: Int = 10_000
    @Option(help: "Directory for the store files (default: a temporary directory).")
    var directory: String?

    func run() async throws {
        let sizes = nodes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let dir = directory.map { URL(fileURLWithPath: $0) } ?? FileManager.default.temporaryDirectory.appendingPathComponent("pedigree-bench-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.physicalMemory / 1_073_741_824) GiB")
        for size in sizes {
            try await benchmark(size: size, in: dir)
        }
        try? FileManager.default.removeItem(at: dir)
    }

    func benchmark(size: Int, in dir: URL) async throws {
        let generator = SyntheticLineage()
        let projects = generator.projects(forNodes: size)
        let lines = (0..<projects).flatMap { generator.events(project: $0) }
        let path = dir.appendingPathComponent("spine-\(size).db").path
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        let store = try SQLiteStore(path: path)

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
        let (nodeCount, edgeCount) = try await counts(path)
        let baseline = try baselineIngest(lines: lines, path: dir.appendingPathComponent("baseline-\(size).db").path)

        print("\n== \(nodeCount) nodes, \(edgeCount) edges, \(lines.count) events (\(projects) projects) ==")
        let eventsPerSecond = Double(lines.count) / ingest.seconds
        let recordsPerSecond = Double(nodeCount + edgeCount) / ingest.seconds
        print(String(format: "ingest: %.0f events/s, %.0f graph records/s (nodes + edges), %.2f s",
                     eventsPerSecond, recordsPerSecond, ingest.seconds))
        print(String(format: "baseline (hash + insert the same event bytes into one plain table): %.0f events/s; Pedigree runs at %.2f× that",
                     baseline, eventsPerSecond / baseline))

        var rng = SystemRandomNumberGenerator()
        func pick() -> Int { Int.random(in: 0..<projects, using: &rng) }
        func ns(_ p: Int) -> String { "team-\(p % 200)" }
        let tip = { (p: Int) in Reference.artifact(ArtifactRef(kind: "model", namespace: ns(p), name: "ft-\(p)", version: "\(generator.fineTunes)")) }

        var results: [(String, Latency)] = []
        results.append(("upstream depth 50", try await measure(samples) { _ = try await store.lineage(tip(pick()), direction: .upstream, depth: 50, asOf: nil) }))
        results.append(("upstream unbounded", try await measure(samples) { _ = try await store.lineage(tip(pick()), direction: .upstream, depth: nil, asOf: nil) }))
        results.append(("trained-on (all versions)", try await measure(samples) {
            _ = try await store.modelsTrainedOn(ArtifactRef(kind: "dataset", namespace: "warehouse", name: "raw-\(pick())"), asOf: nil)
        }))
        results.append(("impact (raw dataset v1)", try await measure(samples) {
            _ = try await store.impact(.artifact(ArtifactRef(kind: "dataset", namespace: "warehouse", name: "raw-\(pick())", version: "1")), asOf: nil)
        }))
        results.append(("diff (two model versions)", try await measure(samples) {
            let p = pick()
            let a = try await store.modelPedigree(ArtifactRef(kind: "model", namespace: ns(p), name: "model-\(p)", version: "4"), asOf: nil)
            let b = try await store.modelPedigree(ArtifactRef(kind: "model", namespace: ns(p), name: "model-\(p)", version: "5"), asOf: nil)
            _ = LineageDiff(a, b)
        }))
        let pool = try DatabasePool(path: path)
        results.append(("baseline: recursive CTE, depth 50", try await measure(samples) {
            let ref = tip(pick()).description
            _ = try await pool.read { db in
                try Row.fetchAll(db, sql: """
                    WITH RECURSIVE walk(id, depth) AS (
                        SELECT id, 0 FROM nodes WHERE ref = ?
                        UNION SELECT e.src, w.depth + 1 FROM walk w JOIN edges e ON e.dst = w.id WHERE w.depth < 50)
                    SELECT n.ref, min(w.depth) FROM walk w JOIN nodes n ON n.id = w.id GROUP BY w.id
                    """, arguments: [ref])
            }
        }))
        print("query                               p50 ms   p99 ms   mean ms")
        for (name, latency) in results {
            print(name.padding(toLength: 34, withPad: " ", startingAt: 0) + String(format: "%8.3f %8.3f %8.3f", latency.p50, latency.p99, latency.mean))
        }
        let walk = results[0].1.p50, cte = results[5].1.p50
        print(String(format: "depth-50 walk vs recursive-CTE baseline (p50): %.2f×", walk / cte))
        try? FileManager.default.removeItem(atPath: path)
    }

    func counts(_ path: String) async throws -> (Int, Int) {
        let queue = try DatabaseQueue(path: path)
        return try await queue.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM nodes") ?? 0, try Int.fetchOne(db, sql: "SELECT count(*) FROM edges") ?? 0)
        }
    }

    /// The floor: hash each event's bytes and insert them, with the same durability settings, in the same batches.
    func baselineIngest(lines: [String], path: String) throws -> Double {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        let pool = try DatabasePool(path: path, configuration: configuration)
        try pool.write { try $0.execute(sql: "CREATE TABLE events (seq INTEGER PRIMARY KEY, digest TEXT NOT NULL UNIQUE, body TEXT NOT NULL)") }
        let clock = ContinuousClock()
        let t0 = clock.now
        for start in stride(from: 0, to: lines.count, by: batch) {
            try pool.write { db in
                let statement = try db.cachedStatement(sql: "INSERT INTO events(digest, body) VALUES (?, ?)")
                for line in lines[start..<min(start + batch, lines.count)] {
                    try statement.execute(arguments: [ContentDigest(hashing: Array(line.utf8)).hex, line])
                }
            }
        }
        let elapsed = (clock.now - t0).seconds
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        return Double(lines.count) / elapsed
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
        return Latency(p50: times[times.count / 2], p99: times[min(times.count - 1, times.count * 99 / 100)], mean: times.reduce(0, +) / Double(times.count))
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
