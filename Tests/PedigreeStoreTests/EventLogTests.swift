import Foundation
import GRDB
import PedigreeCore
import PedigreeStore
import PedigreeTestSupport
import Testing

@Suite("Event log", .dropsTestDatabases)
struct EventLogTests {
    @Test("the same event delivered twice is stored once, across and within batches", arguments: StoreKind.allCases)
    func idempotence(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        let event = try artifactEvent("w", "tx", version: "1", digest: digest("tx1"))
        let first = try await store.append([event], recordedBy: "test")
        let second = try await store.append([event, event], recordedBy: "test")
        #expect(first.map(\.duplicate) == [false])
        #expect(second.map(\.duplicate) == [true, true])
        #expect(second[0].sequence == first[0].sequence)
        #expect(try await store.events(afterSequence: 0, limit: 10).count == 1)
        let report = try await store.verify()
        #expect(report.ok, "\(report.problems)")
    }

    @Test("a batch with one bad event stores nothing", arguments: StoreKind.allCases)
    func atomicity(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        try await store.append([try artifactEvent("w", "tx", version: "1", digest: digest("a"))], recordedBy: "test")
        let good = try artifactEvent("w", "other", version: "1", digest: digest("b"))
        let conflicting = try artifactEvent("w", "tx", version: "1", digest: digest("changed content"))
        await #expect {
            try await store.append([good, conflicting], recordedBy: "test")
        } throws: { error in
            (error as? StoreError)?.code == .conflict && (error as? StoreError)?.field == "digest"
        }
        #expect(try await store.events(afterSequence: 0, limit: 10).count == 1)
        await #expect(throws: StoreError.self) { try await store.show(try ref("dataset:w/other@1"), asOf: nil) }
        #expect(try await store.verify().ok)
    }

    @Test(
        "a batch whose last event is refused stores none of it, at sizes around PostgreSQL's 1,000-row statements",
        arguments: StoreKind.allCases, [1, 999, 1000, 1001, 50_000])
    func largeBatchAtomicity(kind: StoreKind, size: Int) async throws {
        let store = try await makeStore(kind)
        try await store.append([try artifactEvent("w", "taken", version: "1", digest: digest("original"))], recordedBy: "setup")
        // Each run adds two nodes (itself and its input) and an edge: every batched table gets rows.
        var batch = try (0..<(size - 1)).map { i in
            let input: JSONValue = ["kind": "dataset", "name": .string("in-\(i)"), "version": "1", "digest": .string(digest("in-\(i)"))]
            return try runEvent("w", id: "run-\(size)-\(i)", inputs: [(input, "train")])
        }
        batch.append(try artifactEvent("w", "taken", version: "1", digest: digest("changed content")))
        await #expect {
            try await store.append(batch, recordedBy: "test")
        } throws: { error in
            (error as? StoreError)?.code == .conflict
        }
        #expect(try await store.events(afterSequence: 0, limit: 10).count == 1, "only the setup event")
        #expect(try await store.statistics().nodes == 1, "no node of the refused batch")
        if size > 1 { await #expect(throws: StoreError.self) { try await store.show(.run("run-\(size)-0"), asOf: nil) } }
        // The store goes on: the same runs without the refused event are stored whole.
        try await store.append(Array(batch.dropLast()), recordedBy: "test")
        #expect(try await store.statistics().nodes == 1 + 2 * (size - 1))
        // Verification is covered at every size but the largest: after a refused batch of 50,000, PostgreSQL's
        // edge comparison over its dead rows, not yet analysed, takes minutes (left for issue 16).
        if size <= 1001 { #expect(try await store.verify().ok) }
    }

    @Test("concurrent appends commit together yet succeed or fail one by one", arguments: StoreKind.allCases)
    func groupCommit(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        try await store.append([try artifactEvent("w", "taken", version: "1", digest: digest("original"))], recordedBy: "setup")
        let results = await withTaskGroup(of: (Int, Bool).self) { group in
            for i in 0..<60 {
                group.addTask {
                    // Every fifth request conflicts with what is stored; its other event must not be stored either.
                    var events = [try! artifactEvent("w", "d\(i)", version: "1", digest: digest("d\(i)"))]
                    if i % 5 == 0 { events.append(try! artifactEvent("w", "taken", version: "1", digest: digest("other \(i)"))) }
                    do {
                        _ = try await store.append(events, recordedBy: "client-\(i)")
                        return (i, true)
                    } catch {
                        return (i, false)
                    }
                }
            }
            var results: [Int: Bool] = [:]
            for await (i, ok) in group { results[i] = ok }
            return results
        }
        #expect(results.filter { $0.value }.count == 48)
        #expect(results.allSatisfy { $0.value == ($0.key % 5 != 0) })
        let stored = try await store.events(afterSequence: 0, limit: 1000)
        #expect(stored.count == 49)
        #expect(!stored.contains { $0.recordedBy == "client-0" || $0.recordedBy == "client-5" })
        #expect(stored.map(\.namespaceSequence) == Array(1...49), "one gapless chain")
        let report = try await store.verify()
        #expect(report.ok, "\(report.problems)")
    }

    @Test("deploying an unregistered model is rejected, naming the field", arguments: StoreKind.allCases)
    func deploymentNeedsModel(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        await #expect {
            try await store.append(
                [try deploymentEvent(endpoint: "api", model: "model:team/m@1", validFrom: "2026-01-01T00:00:00Z")], recordedBy: "t")
        } throws: { error in
            (error as? StoreError)?.code == .notFound && (error as? StoreError)?.field == "deployment.model"
        }
    }

    @Test("events are immutable in the database itself", arguments: StoreKind.allCases)
    func triggers(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        try await store.append([try artifactEvent("w", "tx", version: "1")], recordedBy: "test")
        let before = try await store.events(afterSequence: 0, limit: 10)
        for statement in ["UPDATE events SET body = '{}'", "DELETE FROM events"] {
            await #expect(Comment(rawValue: statement)) {
                try await execute(store, statement)
            } throws: { error in
                "\(String(reflecting: error))".contains("events are immutable")
            }
        }
        #expect(try await store.events(afterSequence: 0, limit: 10) == before)
    }

    @Test("each namespace has its own gapless chain and records who wrote each event", arguments: StoreKind.allCases)
    func chains(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        try await store.append([try artifactEvent("a", "x", version: "1"), try artifactEvent("b", "y", version: "1")], recordedBy: "alice")
        try await store.append([try artifactEvent("a", "x", version: "2")], recordedBy: "bob")
        let events = try await store.events(afterSequence: 0, limit: 10)
        #expect(events.map(\.namespace) == ["a", "b", "a"])
        #expect(events.map(\.namespaceSequence) == [1, 1, 2])
        #expect(events.map(\.recordedBy) == ["alice", "alice", "bob"])
        #expect(events[2].previousHash == events[0].chainHash)
        #expect(events[0].previousHash == EventChain.genesis)
        let report = try await store.verify()
        #expect(report.chains.map(\.namespace) == ["a", "b"])
        #expect(report.chains.map(\.events) == [2, 1])
    }

    @Test("rebuilding the projections from the log gives the same answers", arguments: StoreKind.allCases)
    func rebuild(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        try await store.append(try ExampleGraph.events(), recordedBy: "test")
        let before = try await store.lineage(try ref("model:team/m@2"), direction: .upstream, depth: nil, asOf: nil)
        try await tamper(store, "DELETE FROM edges")
        #expect(try await !store.verify().ok, "lost projections are detected")
        try await store.rebuildProjections()
        let after = try await store.lineage(try ref("model:team/m@2"), direction: .upstream, depth: nil, asOf: nil)
        #expect(after.nodes == before.nodes)
        #expect(Set(after.edges) == Set(before.edges))
        #expect(try await store.verify().ok)
    }

    @Test("data written survives closing and reopening the store", arguments: StoreKind.allCases)
    func persistence(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        try await store.append(try ExampleGraph.events(), recordedBy: "test")
        let reopened = try await reopen(store)
        #expect(try await reopened.show(try ref("model:team/m@2"), asOf: nil).summary.ref == "model:team/m@2")
        #expect(try await reopened.verify().ok)
    }
}

/// A small graph used by several suites:
///   raw@1 → prep(r-prep) → features@1 → train(r1, base hf bert) → m@1 → deployed api (2026-01)
///   raw@2 → prep2 → features@2 → train(r2) → m@2 → deployed api (2026-02); m@2 → finetune(r3) → m-eu@1
///   holdout@1 used as test data by r1 and r2
enum ExampleGraph {
    static func events() throws -> [LineageEvent] {
        [
            try artifactEvent("team", "raw", version: "1", digest: digest("raw1")),
            try artifactEvent("team", "raw", version: "2", digest: digest("raw2")),
            try artifactEvent("team", "holdout", version: "1", digest: digest("holdout")),
            try runEvent(
                id: "r-prep1", job: "prep", inputs: [("dataset:team/raw@1", "input")],
                outputs: [(dataset("features", digest: digest("f1")), "output")],
                extra: ["data": ["transformations": [["op": "dropna"]]]]),
            try runEvent(
                id: "r1", inputs: [("dataset:team/features@1", "train"), ("dataset:team/holdout@1", "test")],
                outputs: [(model("m", digest: digest("m1")), "model")], parents: ["hf://google/bert@abc"],
                extra: [
                    "hyperparameters": ["optimizer": ["lr": 0.001], "epochs": 3],
                    "environment": ["packages": ["torch": "2.2.0"]], "code": ["commit": "aaa", "dirty": false],
                ]),
            try deploymentEvent(endpoint: "api", model: "model:team/m@1", validFrom: "2026-01-01T00:00:00Z"),
            try runEvent(
                id: "r-prep2", job: "prep", inputs: [("dataset:team/raw@2", "input")],
                outputs: [(dataset("features", digest: digest("f2")), "output")]),
            try runEvent(
                id: "r2", inputs: [("dataset:team/features@2", "train"), ("dataset:team/holdout@1", "test")],
                outputs: [(model("m", digest: digest("m2")), "model")], parents: ["hf://google/bert@abc"],
                extra: [
                    "hyperparameters": ["optimizer": ["lr": 0.0005], "epochs": 3],
                    "environment": ["packages": ["torch": "2.3.0"]], "code": ["commit": "bbb", "dirty": true],
                ]),
            try deploymentEvent(endpoint: "api", model: "model:team/m@2", validFrom: "2026-02-01T00:00:00Z"),
            try runEvent(
                id: "r3", job: "finetune", inputs: [("dataset:team/eu@1", "train")], outputs: [(model("m-eu"), "model")], parents: ["model:team/m@2"]),
        ]
    }

}

extension EventLogTests {
    @Test("an event built in code is stored only if it reads back as itself", arguments: StoreKind.allCases)
    func validationAtTheWriteBoundary(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        // Memberwise initialisers do not validate: the writer must.
        let badNamespace = LineageEvent(
            namespace: "my team", payload: .artifact(ArtifactSpec(ref: ArtifactRef(kind: "dataset", namespace: "my team", name: "tx", version: "1"))))
        var run = RunRecord(id: "9e8d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c6b", job: "train", status: .complete)
        run.inputs = [
            ArtifactUse(artifact: ArtifactSpec(ref: ArtifactRef(kind: "dataset", namespace: "team", name: "tx", version: "1")), role: "träin")
        ]
        let badRole = LineageEvent(namespace: "team", payload: .run(run))
        let good = try artifactEvent("team", "fine", version: "1", digest: digest("fine"))
        for (bad, field) in [(badNamespace, "namespace"), (badRole, "run.inputs[0].role")] {
            await #expect {
                try await store.append([good, bad], recordedBy: "test")
            } throws: { error in
                (error as? StoreError)?.code == .invalid && (error as? StoreError)?.field == field
            }
        }
        #expect(try await store.events(afterSequence: 0, limit: 10).isEmpty, "the whole batch was refused")
        // The same events built validly are stored, and the store still verifies and rebuilds.
        run.inputs[0].role = "train"
        try await store.append([good, LineageEvent(namespace: "team", payload: .run(run))], recordedBy: "test")
        try await store.rebuildProjections()
        #expect(try await store.verify().ok)
    }
}
