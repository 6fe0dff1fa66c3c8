import Foundation
import PedigreeCore
import PedigreeStore
import PedigreeTestSupport
import Testing

/// Canaries, undeploys, retirement and the incident query, on both backends: the projection the store keeps
/// and what a replay of the log gives must agree.
@Suite("deployments and incidents", .dropsTestDatabases)
struct DeploymentTests {
    func canary(_ model: String, share: Int, at time: String, endpoint: String = "api", force: Bool = false) throws -> LineageEvent {
        var deployment: [String: JSONValue] = [
            "endpoint": .string(endpoint), "model": .string(model), "traffic": .int(Int64(share)), "validFrom": .string(time),
        ]
        if force { deployment["force"] = true }
        return try LineageEvent(json: ["type": "deployment", "namespace": "team", "deployment": .object(deployment)])
    }

    func undeploy(at time: String, endpoint: String = "api") throws -> LineageEvent {
        try LineageEvent(json: [
            "type": "deployment", "namespace": "team",
            "deployment": ["endpoint": .string(endpoint), "action": "undeploy", "validFrom": .string(time)],
        ])
    }

    func retire(_ model: String, reason: String) throws -> LineageEvent {
        try LineageEvent(json: [
            "type": "retirement", "namespace": "team", "retirement": ["model": .string(model), "reason": .string(reason)],
            "eventTime": "2026-03-10T00:00:00Z",
        ])
    }

    func store(_ kind: StoreKind) async throws -> any LineageStore {
        let store = try await makeStore(kind)
        try await store.append(try ExampleGraph.events(), recordedBy: "test")
        return store
    }

    @Test(
        "a canary serves beside the stable version, promotion and undeploy end it; history and as-of show the shares", arguments: StoreKind.allCases)
    func canaryLifecycle(kind: StoreKind) async throws {
        let store = try await store(kind)
        let beforeCanary = Timestamp.now
        try await Task.sleep(for: .milliseconds(5))
        try await store.append([try canary("model:team/m@1", share: 10, at: "2026-03-01T00:00:00Z")], recordedBy: "alice")
        try await store.append(
            [try deploymentEvent(endpoint: "api", model: "model:team/m@1", validFrom: "2026-03-05T00:00:00Z")], recordedBy: "alice")
        try await store.append([try undeploy(at: "2026-04-01T00:00:00Z")], recordedBy: "bob")

        let history = try await store.deploymentHistory(namespace: "team", endpoint: "api", asOf: nil)
        #expect(history.map(\.serving.count) == [1, 1, 2, 1, 0])
        let during = try #require(history.first { $0.isServing(at: Timestamp("2026-03-02T14:00:00Z")!) })
        #expect(during.serving == [.init(model: "model:team/m@2", percent: 90), .init(model: "model:team/m@1", percent: 10)])
        #expect(during.traffic == 10 && during.recordedBy == "alice")
        #expect(history[3].serving == [.init(model: "model:team/m@1", percent: 100)], "promotion gives the canary all the traffic")
        #expect(history[4].action == .undeploy && history[4].model == nil && history[4].recordedBy == "bob")
        // As the store knew it before the canary was recorded: m@2 alone, still serving.
        let then = try await store.deploymentHistory(namespace: "team", endpoint: "api", asOf: beforeCanary)
        #expect(then.last?.serving == [.init(model: "model:team/m@2", percent: 100)] && then.last?.validUntil == nil)
        // An endpoint that serves nothing is not in anyone's blast radius.
        #expect(try await store.impact(try ref("dataset:team/raw@2"), asOf: nil).serving.isEmpty)
        #expect(try await store.verify().ok)
        try await store.rebuildProjections()
        #expect(try await store.deploymentHistory(namespace: "team", endpoint: "api", asOf: nil) == history)
    }

    @Test("a canary needs another version serving, an undeploy something to end; refused, they record nothing", arguments: StoreKind.allCases)
    func invalidTransitions(kind: StoreKind) async throws {
        let store = try await store(kind)
        let events = try await store.events(afterSequence: 0, limit: 1000).count
        let refusals: [(LineageEvent, String)] = [
            (try canary("model:team/m@1", share: 10, at: "2026-03-01T00:00:00Z", endpoint: "fresh"), "serves nothing"),
            (try canary("model:team/m@2", share: 10, at: "2026-03-01T00:00:00Z"), "already has the rest"),
            (try undeploy(at: "2026-03-01T00:00:00Z", endpoint: "fresh"), "nothing to undeploy"),
            (try undeploy(at: "2025-01-01T00:00:00Z"), "serves nothing at 2025-01-01"),
        ]
        for (event, message) in refusals {
            await #expect {
                try await store.append([event], recordedBy: "t")
            } throws: { error in
                (error as? StoreError)?.code == .invalid && "\(error)".contains(message)
            }
        }
        #expect(try await store.events(afterSequence: 0, limit: 1000).count == events)
        #expect(throws: ValidationError.self) { try canary("model:team/m@1", share: 100, at: "2026-03-01T00:00:00Z") }
        #expect(throws: ValidationError.self) { try canary("model:team/m@1", share: 0, at: "2026-03-01T00:00:00Z") }
    }

    @Test("a retired version cannot be deployed without force; the retirement is in the version's record", arguments: StoreKind.allCases)
    func retirement(kind: StoreKind) async throws {
        let store = try await store(kind)
        try await store.append([try retire("model:team/m@1", reason: "leaks the holdout")], recordedBy: "risk-officer")
        let detail = try await store.show(try ref("model:team/m@1"), asOf: nil)
        #expect(detail.summary.status == "RETIRED")
        #expect(detail.events.last?.recordedBy == "risk-officer")
        #expect(detail.retirement?.reason == "leaks the holdout" && detail.retirement?.by == "risk-officer")
        #expect(detail.retirement?.at == Timestamp("2026-03-10T00:00:00Z"))
        // As of before it was recorded, the version was not retired.
        let before = try await store.show(try ref("model:team/m@1"), asOf: Timestamp(microseconds: detail.retirement!.recordedAt.microseconds - 1))
        #expect(before.summary.status == nil && before.retirement == nil)
        // Recorded after the retirement, even a deployment dated before it needs force: the trail must show the override.
        await #expect {
            try await store.append(
                [try deploymentEvent(endpoint: "old-api", model: "model:team/m@1", validFrom: "2026-03-01T00:00:00Z")], recordedBy: "t")
        } throws: { error in
            (error as? StoreError)?.code == .conflict && "\(error)".contains("leaks the holdout")
        }
        await #expect {
            try await store.append(
                [try deploymentEvent(endpoint: "api", model: "model:team/m@1", validFrom: "2026-03-11T00:00:00Z")], recordedBy: "t")
        } throws: { error in
            (error as? StoreError)?.code == .conflict && "\(error)".contains("retired")
        }
        await #expect {
            try await store.append([try retire("model:team/m@1", reason: "twice")], recordedBy: "t")
        } throws: { error in
            (error as? StoreError)?.code == .conflict && "\(error)".contains("already retired")
        }
        try await store.append([try canary("model:team/m@1", share: 5, at: "2026-03-11T00:00:00Z", force: true)], recordedBy: "on-call")
        let history = try await store.deploymentHistory(namespace: "team", endpoint: "api", asOf: nil)
        #expect(history.last?.forced == true && history.last?.recordedBy == "on-call")
        #expect(try await store.verify().ok)
    }

    @Test("the incident names the canary as the suspect, the stable version as good, and what changed", arguments: StoreKind.allCases)
    func incident(kind: StoreKind) async throws {
        let store = try await store(kind)
        try await store.append([try canary("model:team/m@1", share: 10, at: "2026-03-01T00:00:00Z")], recordedBy: "alice")
        let report = try await store.incident(
            namespace: "team", endpoint: "api", at: Timestamp("2026-03-02T14:00:00Z")!, baseline: .previous, asOf: nil, mayRead: { _ in true })
        #expect(report.suspect == "model:team/m@1" && report.good?.model == "model:team/m@2")
        #expect(report.serving.serving.map(\.percent) == [90, 10])
        #expect(report.diff?.hyperparameters.map(\.path) == ["optimizer.lr"])
        #expect(report.summary.contains("(1) data"), "\(report.summary)")
        // Before the canary, m@2 had replaced m@1: the good model is the one before it.
        let earlier = try await store.incident(
            namespace: "team", endpoint: "api", at: Timestamp("2026-02-10T00:00:00Z")!, baseline: .previous, asOf: nil, mayRead: { _ in true })
        #expect(earlier.suspect == "model:team/m@2" && earlier.good?.model == "model:team/m@1")
        #expect(earlier.blastRadius.map(\.dataset).contains("dataset:team/features@2"), "\(earlier.blastRadius)")
        let given = try await store.incident(
            namespace: "team", endpoint: "api", at: Timestamp("2026-02-10T00:00:00Z")!, baseline: .servingAt(Timestamp("2026-01-15T00:00:00Z")!),
            asOf: nil, mayRead: { _ in true })
        #expect(given.good?.model == "model:team/m@1" && given.good?.choice == .servingAt)
        await #expect {
            try await store.incident(
                namespace: "team", endpoint: "api", at: Timestamp("2025-12-01T00:00:00Z")!, baseline: .previous, asOf: nil, mayRead: { _ in true })
        } throws: { error in
            (error as? StoreError)?.code == .notFound && "\(error)".contains("served nothing at 2025-12-01")
        }
        // The report reads back from its JSON unchanged (what the server sends, the client decodes).
        let decoded = try JSONDecoder().decode(IncidentReport.self, from: Data(report.json.canonicalString.utf8))
        #expect(decoded.json == report.json)
    }
}
