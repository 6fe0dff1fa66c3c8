import Foundation
import GRDB
import PedigreeCore
import PedigreeStore
import PedigreeTestSupport
import Testing

@Suite("Verification", .dropsTestDatabases)
struct VerifyTests {
    /// A random but valid history: datasets, runs over them, models, deployments, in several namespaces.
    static func randomEvents(seed: UInt64, count: Int) throws -> [LineageEvent] {
        var rng = SplitMix64(seed: seed)
        let namespaces = ["alpha", "beta", "s3://gamma"]
        var events: [LineageEvent] = []
        var models: [String] = []
        for i in 0..<count {
            let namespace = namespaces[Int(rng.next() % 3)]
            switch rng.next() % 4 {
            case 0:
                events.append(try artifactEvent(namespace, "data\(rng.next() % 5)", version: "v\(i)", digest: digest("data \(i)")))
            case 1, 2:
                var parents: [String] = []
                if let parent = models.randomElement(using: &rng), rng.next() % 2 == 0 { parents.append(parent) }
                let name = "model\(rng.next() % 4)"
                events.append(
                    try runEvent(
                        namespace, id: "run-\(seed)-\(i)",
                        inputs: [(dataset("data\(rng.next() % 5)", namespace: namespace), "train")],
                        outputs: [(model(name, namespace: namespace, version: "\(i)", digest: digest("model \(i)")), "model")],
                        parents: parents, extra: ["hyperparameters": ["lr": .double(Double(rng.next() % 1000) / 1e4), "unicode": "größe ✓"]]))
                models.append(ArtifactRef(kind: "model", namespace: namespace, name: name, version: "\(i)").description)
            default:
                guard let served = models.randomElement(using: &rng) else { continue }
                let namespace = try artifactRef(served).namespace
                events.append(
                    try deploymentEvent(namespace, endpoint: "ep\(rng.next() % 2)", model: served, validFrom: "2026-01-\(10 + i % 18)T00:00:00Z"))
            }
        }
        return events
    }

    @Test("random valid histories verify", arguments: StoreKind.allCases, [1, 2, 3, 4, 5] as [UInt64])
    func randomHistoriesVerify(kind: StoreKind, seed: UInt64) async throws {
        let store = try await makeStore(kind)
        let events = try Self.randomEvents(seed: seed, count: 60)
        // Appended in several batches, as separate clients would.
        for batch in stride(from: 0, to: events.count, by: 7) {
            try await store.append(Array(events[batch..<min(batch + 7, events.count)]), recordedBy: "writer-\(batch % 3)")
        }
        let report = try await store.verify()
        #expect(report.ok, "\(report.problems)")
        #expect(report.eventCount == Int64(Set(events.map { "\($0.namespace) \($0.digest)" }).count))
    }

    @Test("any single changed byte in stored history fails verification", arguments: StoreKind.allCases, [11, 12, 13] as [UInt64])
    func anyChangedByteIsDetected(kind: StoreKind, seed: UInt64) async throws {
        let store = try await makeStore(kind)
        try await store.append(try Self.randomEvents(seed: seed, count: 30), recordedBy: "writer")
        #expect(try await store.verify().ok)
        let rows = try await rawRows(store, "SELECT * FROM events ORDER BY seq")
        var rng = SplitMix64(seed: seed)
        // Every column of a random sample of events: flip one byte (or bump one number) and expect a failure.
        let columns = ["namespace", "ns_seq", "type", "subject", "digest", "body", "recorded_at", "recorded_by", "prev_hash", "chain_hash"]
        for _ in 0..<4 {
            let row = rows[Int(rng.next() % UInt64(rows.count))]
            let seq = try #require(row["seq"])
            for column in columns {
                let original = try #require(row[column])
                let altered: DatabaseValue
                switch original.storage {
                case .int64(let n): altered = (n ^ 0x10_0000).databaseValue  // one flipped bit, clear of the unique indexes
                case .string(let s):
                    var bytes = Array(s.utf8)
                    let i = Int(rng.next() % UInt64(bytes.count))
                    bytes[i] = bytes[i] == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
                    altered = String(decoding: bytes, as: UTF8.self).databaseValue
                default: continue
                }
                try await tamper(store, "UPDATE events SET \(column) = ? WHERE seq = ?", [altered, seq])
                let report = try await store.verify()
                #expect(!report.ok, "changing \(column) of event \(seq) went unnoticed")
                try await tamper(store, "UPDATE events SET \(column) = ? WHERE seq = ?", [original, seq])
            }
        }
        #expect(try await store.verify().ok, "restoring the bytes restores the chain")
    }

    @Test("the first broken link is named: namespace, sequence, what differs", arguments: StoreKind.allCases)
    func firstBrokenLink(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        try await store.append((1...5).map { try! artifactEvent("ns", "d", version: "\($0)") }, recordedBy: "w")
        try await tamper(store, "UPDATE events SET body = replace(body, '\"3\"', '\"33\"') WHERE ns_seq = 3")
        let report = try await store.verify()
        let problem = try #require(report.problems.first)
        #expect(problem.namespace == "ns")
        #expect(problem.sequence == 3)
        #expect(problem.message.contains("altered"))
    }

    @Test("removed events are detected, at the end of a chain as well as in the middle", arguments: StoreKind.allCases)
    func truncation(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        try await store.append((1...4).map { try! artifactEvent("ns", "d", version: "\($0)") }, recordedBy: "w")
        try await tamper(store, "DELETE FROM events WHERE ns_seq = 4")
        let report = try await store.verify()
        #expect(report.problems.contains { $0.namespace == "ns" && $0.message.contains("removed") })
        try await tamper(store, "DELETE FROM events WHERE ns_seq = 2")
        #expect(try await store.verify().problems.contains { $0.namespace == "ns" && $0.sequence == 2 })
    }

    @Test("projections that disagree with the log are reported", arguments: StoreKind.allCases)
    func projections(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        try await store.append(try ExampleGraph.events(), recordedBy: "w")
        try await tamper(store, "UPDATE nodes SET digest = NULL WHERE ref = 'model:team/m@1'")
        let report = try await store.verify()
        #expect(report.problems.contains { $0.namespace == nil && $0.message.contains("nodes") })
    }
}

/// A small deterministic generator, so a failing case can be replayed from its seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
