import Foundation
import GRDB
import PedigreeCore
import PedigreeStore
import PedigreeTestSupport
import Testing

/// The promise of a second backend: the same log gives the same answers, history moves between stores
/// intact, and several writers (server replicas) sharing one PostgreSQL keep every chain verifiable.
@Suite("Backend parity and replicas", .dropsTestDatabases)
struct BackendParityTests {
    static let needsPostgres = ConditionTrait.enabled(if: TestPostgres.serverURL != nil, "needs PEDIGREE_TEST_POSTGRES_URL (see PostgreSQL setup)")

    /// A history exercising every kind of event: random runs, models and deployments in three namespaces,
    /// the example graph, a cycle, and a corrected run.
    static func history() throws -> [LineageEvent] {
        let wrong = try runEvent(id: "fixme", inputs: [(dataset("d", version: "1"), "train")], outputs: [(model("fixed"), "model")])
        var corrected = try #require(wrong.body.objectValue)
        var run = try #require(corrected["run"]?.objectValue)
        run["inputs"] = [["ref": "dataset:team/raw@2", "role": "train"]]
        corrected["run"] = .object(run)
        corrected["supersedes"] = .string(wrong.digest.description)
        return try VerifyTests.randomEvents(seed: 42, count: 160) + ExampleGraph.events() + [
            try runEvent(id: "cyc-a", inputs: [(dataset("x", version: "1"), "input")], outputs: [(dataset("y", version: "1"), "output")]),
            try runEvent(id: "cyc-b", inputs: [(dataset("y", version: "1"), "input")], outputs: [(dataset("x", version: "1"), "output")]),
            wrong, try LineageEvent(json: .object(corrected)),
        ]
    }

    /// Copies every event, as recorded, from one store into another.
    static func move(from source: any LineageStore, to target: any LineageStore) async throws {
        var after: Int64 = 0
        while case let page = try await source.events(afterSequence: after, limit: 97), let last = page.last {
            try await target.restore(page)
            after = last.sequence
        }
    }

    @Test("a history moved from SQLite into PostgreSQL verifies and answers every query identically, as of any time", Self.needsPostgres)
    func identicalAnswers() async throws {
        let sqlite = try await makeStore(.sqlite)
        let events = try Self.history()
        for start in stride(from: 0, to: events.count, by: 9) {
            _ = try await sqlite.append(Array(events[start..<min(start + 9, events.count)]), recordedBy: "writer-\(start % 4)")
        }
        let postgres = try await makeStore(.postgres)
        try await Self.move(from: sqlite, to: postgres)
        let report = try await postgres.verify()
        #expect(report.ok, "\(report.problems)")
        #expect(report.chains == (try await sqlite.verify()).chains, "the same chain heads")
        #expect(try await postgres.events(afterSequence: 0, limit: 10_000) == (try await sqlite.events(afterSequence: 0, limit: 10_000)))

        let stored = try await sqlite.events(afterSequence: 0, limit: 10_000)
        let middle = stored[stored.count / 2].recordedAt
        let refs = try await rawRows(sqlite, "SELECT ref FROM nodes ORDER BY id").compactMap { $0["ref"].flatMap { String.fromDatabaseValue($0) } }
        #expect(refs.count > 100)
        var compared = 0
        for asOf in [nil, middle] {
            for text in refs {
                let reference = try Reference(parsing: text)
                func same(_ what: String, _ query: (any LineageStore) async throws -> JSONValue) async {
                    let a = await outcome { try await query(sqlite) }, b = await outcome { try await query(postgres) }
                    switch (a, b) {
                    case (.success(let x), .success(let y)): #expect(x == y, "\(what) \(text) as of \(String(describing: asOf))")
                    case (.failure(let x), .failure(let y)): #expect("\(x)" == "\(y)", "\(what) \(text) fails alike")
                    default: Issue.record("\(what) \(text) as of \(String(describing: asOf)): SQLite \(a), PostgreSQL \(b)")
                    }
                    compared += 1
                }
                await same("show") { try await $0.show(reference, asOf: asOf).json }
                for depth in [nil, 1, 3] as [Int?] {
                    await same("upstream \(String(describing: depth))") {
                        try await $0.lineage(reference, direction: .upstream, depth: depth, asOf: asOf).json
                    }
                    await same("downstream \(String(describing: depth))") {
                        try await $0.lineage(reference, direction: .downstream, depth: depth, asOf: asOf).json
                    }
                }
                await same("impact") { try await $0.impact(reference, asOf: asOf).json }
                if case .artifact(let artifact) = reference {
                    await same("trained on") { try await $0.modelsTrainedOn(artifact, asOf: asOf).json }
                    await same("pedigree") {
                        let pedigree = try await $0.pedigree(.artifact(artifact), depth: nil, asOf: asOf)
                        return LineageDiff(pedigree, pedigree, includeUnchanged: true).json
                    }
                }
                if case .deployment(let namespace, let endpoint) = reference {
                    await same("history") { .array(try await $0.deploymentHistory(namespace: namespace, endpoint: endpoint, asOf: asOf).map(\.json)) }
                }
            }
        }
        for namespace in try await sqlite.namespaces() {
            await #expect(
                try await postgres.artifacts(inNamespace: namespace, limit: 500, offset: 0)
                    == sqlite.artifacts(inNamespace: namespace, limit: 500, offset: 0))
            await #expect(
                try await postgres.jobs(inNamespace: namespace, limit: 500, offset: 0) == sqlite.jobs(inNamespace: namespace, limit: 500, offset: 0))
        }
        #expect(try await postgres.namespaces() == sqlite.namespaces())
        #expect(compared > 2_000)
    }

    @Test("an import refuses history that does not continue the chain, or was altered, and stores none of the batch", arguments: StoreKind.allCases)
    func importChecksChains(target kind: StoreKind) async throws {
        let source = try await makeStore(.sqlite)
        _ = try await source.append((1...4).map { try! artifactEvent("ns", "d", version: "\($0)") }, recordedBy: "w")
        let events = try await source.events(afterSequence: 0, limit: 10)
        let target = try await makeStore(kind)
        func altered(_ change: (StoredEvent) -> StoredEvent) -> [StoredEvent] {
            events.enumerated().map { i, event in i == 2 ? change(event) : event }
        }
        let forgeries: [(String, [StoredEvent])] = [
            (
                "another recorder",
                altered {
                    StoredEvent(
                        sequence: $0.sequence, namespace: $0.namespace, namespaceSequence: $0.namespaceSequence, recordedAt: $0.recordedAt,
                        recordedBy: "mallory", digest: $0.digest, previousHash: $0.previousHash, chainHash: $0.chainHash, body: $0.body)
                }
            ),
            (
                "the same JSON, not canonical",
                altered {
                    StoredEvent(
                        sequence: $0.sequence, namespace: $0.namespace, namespaceSequence: $0.namespaceSequence, recordedAt: $0.recordedAt,
                        recordedBy: $0.recordedBy, digest: $0.digest, previousHash: $0.previousHash, chainHash: $0.chainHash, body: " " + $0.body)
                }
            ),
            ("an event left out", events.enumerated().filter { $0.offset != 1 }.map(\.element)),
        ]
        for (forgery, batch) in forgeries {
            await #expect(Comment(rawValue: forgery)) {
                try await target.restore(batch)
            } throws: { error in
                (error as? StoreError)?.code == .invalid
            }
            #expect(try await target.events(afterSequence: 0, limit: 10).isEmpty, "\(forgery): nothing stored")
        }
        try await target.restore(events)
        #expect(try await target.events(afterSequence: 0, limit: 10) == events)
        #expect(try await target.verify().ok)
    }

    @Test(
        "two writers on one database, as two server replicas: one gapless chain per namespace, retries stored once, nothing lost", Self.needsPostgres)
    func replicas() async throws {
        let first = try await makeStore(.postgres)
        let second = try await reopen(first)
        // 40 clients, each sending to one replica and retrying the same events on the other, as a load balancer would after a timeout.
        let acknowledged = try await withThrowingTaskGroup(of: [AppendOutcome].self) { group in
            for client in 0..<40 {
                group.addTask {
                    let namespace = ["shared", "other"][client % 2]
                    let events = try (0..<5).map {
                        try artifactEvent(namespace, "data-\(client)", version: "\($0)", digest: digest("\(client)-\($0)"))
                    }
                    let (primary, retry) = client % 3 == 0 ? (first, second) : (second, first)
                    let outcomes = try await primary.append(events, recordedBy: "client-\(client)")
                    let retried = try await retry.append(events, recordedBy: "client-\(client)")
                    #expect(retried.filter { !$0.duplicate }.isEmpty)
                    #expect(retried.map(\.sequence) == outcomes.map(\.sequence))
                    return outcomes
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(acknowledged.count == 200 && acknowledged.allSatisfy { !$0.duplicate })
        let stored = try await first.events(afterSequence: 0, limit: 1_000)
        #expect(stored.count == 200, "every acknowledged write, once")
        #expect(stored.map(\.sequence) == Array(1...200))
        for namespace in ["shared", "other"] {
            #expect(stored.filter { $0.namespace == namespace }.map(\.namespaceSequence) == Array(1...100), "\(namespace): one gapless chain")
        }
        #expect(Set(stored.map(\.digest)).count == 200)
        let report = try await second.verify()
        #expect(report.ok, "\(report.problems)")
    }
}

private func outcome(_ body: () async throws -> JSONValue) async -> Result<JSONValue, any Error> {
    do { return .success(try await body()) } catch { return .failure(error) }
}
