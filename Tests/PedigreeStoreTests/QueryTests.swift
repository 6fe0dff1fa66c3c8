import Foundation
import GRDB
import PedigreeCore
import PedigreeSQLite
import PedigreeStore
import PedigreeTestSupport
import Testing

@Suite("Graph queries", .dropsTestDatabases)
struct QueryTests {
    func exampleStore(_ kind: StoreKind) async throws -> any LineageStore {
        let store = try await makeStore(kind)
        try await store.append(try ExampleGraph.events(), recordedBy: "test")
        return store
    }

    @Test("versions: explicit, by digest, automatic, latest", arguments: StoreKind.allCases)
    func versions(kind: StoreKind) async throws {
        let store = try await exampleStore(kind)
        #expect(try await store.show(try ref("dataset:team/features"), asOf: nil).summary.version == "2")
        #expect(try await store.show(try ref("model:team/m@1"), asOf: nil).summary.digest?.description == digest("m1"))
        // The same content registered again without a version is the same version.
        try await store.append([try artifactEvent("team", kind: "model", "m", digest: digest("m1"))], recordedBy: "t")
        #expect(try await store.show(try ref("model:team/m"), asOf: nil).summary.version == "2")
        // A version can be named by a digest prefix.
        let prefix = String(digest("m1").prefix(7 + 12))
        #expect(try await store.show(try ref("model:team/m@\(prefix)"), asOf: nil).summary.version == "1")
        await #expect {
            try await store.show(try ref("model:team/m@9"), asOf: nil)
        } throws: { error in
            (error as? StoreError)?.code == .notFound && "\(error)".contains("latest versions: 2, 1")
        }
    }

    @Test("upstream lineage reaches the data, code-side parents and the external base model", arguments: StoreKind.allCases)
    func upstream(kind: StoreKind) async throws {
        let store = try await exampleStore(kind)
        let graph = try await store.lineage(try ref("model:team/m@2"), direction: .upstream, depth: nil, asOf: nil)
        let refs = Set(graph.nodes.map(\.node.ref))
        #expect(
            refs == [
                "model:team/m@2", "run:r2", "dataset:team/features@2", "dataset:team/holdout@1", "model:hf/google/bert@abc",
                "run:r-prep2", "dataset:team/raw@2",
            ])
        #expect(graph.edges.contains(LineageEdge(from: "model:hf/google/bert@abc", to: "run:r2", role: "base-model")))
        #expect(graph.nodes.first { $0.node.ref == "dataset:team/raw@2" }?.depth == 4)
        let bounded = try await store.lineage(try ref("model:team/m@2"), direction: .upstream, depth: 2, asOf: nil)
        #expect(bounded.nodes.map(\.depth).max() == 2)
        #expect(!bounded.nodes.contains { $0.node.ref == "run:r-prep2" })
    }

    @Test("downstream lineage reaches models, fine-tunes and endpoints", arguments: StoreKind.allCases)
    func downstream(kind: StoreKind) async throws {
        let store = try await exampleStore(kind)
        let graph = try await store.lineage(try ref("dataset:team/raw@2"), direction: .downstream, depth: nil, asOf: nil)
        #expect(Set(graph.nodes.map(\.node.ref)).isSuperset(of: ["model:team/m@2", "model:team/m-eu@1", "deployment:team/api"]))
        #expect(!graph.nodes.contains { $0.node.ref == "model:team/m@1" })
    }

    @Test("cycles terminate", arguments: StoreKind.allCases)
    func cycles(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        try await store.append(
            [
                try runEvent(id: "a", inputs: [(dataset("x", version: "1"), "input")], outputs: [(dataset("y", version: "1"), "output")]),
                try runEvent(id: "b", inputs: [(dataset("y", version: "1"), "input")], outputs: [(dataset("x", version: "1"), "output")]),
            ], recordedBy: "t")
        let graph = try await store.lineage(try ref("dataset:team/x@1"), direction: .upstream, depth: nil, asOf: nil)
        #expect(graph.nodes.count == 4)
        #expect(try await store.impact(try ref("dataset:team/x@1"), asOf: nil).affected.count == 3)
    }

    @Test("a chain of 600 fine-tunes is walked to the pretrained original, with no hop cap", arguments: StoreKind.allCases)
    func longChains(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        var events = [try artifactEvent("team", kind: "model", "base", version: "0")]
        for i in 1...600 {
            events.append(
                try runEvent(
                    id: "ft\(i)", job: "finetune", outputs: [(model("m\(i)", version: "1"), "model")],
                    parents: [i == 1 ? "model:team/base@0" : "model:team/m\(i - 1)@1"]))
        }
        try await store.append(events, recordedBy: "t")
        let graph = try await store.lineage(try ref("model:team/m600@1"), direction: .upstream, depth: nil, asOf: nil)
        #expect(graph.nodes.count == 1201)
        #expect(graph.nodes.last?.node.ref == "model:team/base@0")
        #expect(graph.nodes.last?.depth == 1200)
    }

    @Test("models trained on a dataset: through preprocessing, not test data, not fine-tunes", arguments: StoreKind.allCases)
    func trainedOn(kind: StoreKind) async throws {
        let store = try await exampleStore(kind)
        let all = try await store.modelsTrainedOn(try artifactRef("dataset:team/raw"), asOf: nil)
        #expect(all.datasets.map(\.ref) == ["dataset:team/raw@1", "dataset:team/raw@2"])
        #expect(all.models.map(\.model.ref) == ["model:team/m@1", "model:team/m@2"])
        #expect(all.models.map(\.hops) == [4, 4])
        #expect(all.models.map(\.run) == ["run:r1", "run:r2"])
        let one = try await store.modelsTrainedOn(try artifactRef("dataset:team/raw@1"), asOf: nil)
        #expect(one.models.map(\.model.ref) == ["model:team/m@1"])
        let holdout = try await store.modelsTrainedOn(try artifactRef("dataset:team/holdout@1"), asOf: nil)
        #expect(holdout.models.isEmpty, "test data does not make a model trained on it")
        let direct = try await store.modelsTrainedOn(try artifactRef("dataset:team/features@2"), asOf: nil)
        #expect(direct.models.map(\.hops) == [2])
    }

    @Test("impact lists derived models and the endpoints serving them now", arguments: StoreKind.allCases)
    func impact(kind: StoreKind) async throws {
        let store = try await exampleStore(kind)
        try await store.append(
            [try deploymentEvent(endpoint: "eu-api", model: "model:team/m-eu@1", validFrom: "2026-03-01T00:00:00Z")], recordedBy: "t")
        let bad2 = try await store.impact(try ref("dataset:team/raw@2"), asOf: nil)
        #expect(Set(bad2.affected(kind: "model").map(\.ref)) == ["model:team/m@2", "model:team/m-eu@1"])
        #expect(Set(bad2.serving.map(\.ref)) == ["deployment:team/api", "deployment:team/eu-api"])
        // raw@1 only fed m@1, which the api no longer serves.
        let bad1 = try await store.impact(try ref("dataset:team/raw@1"), asOf: nil)
        #expect(bad1.affected(kind: "model").map(\.ref) == ["model:team/m@1"])
        #expect(bad1.serving.isEmpty)
    }

    @Test("diff reports what changed in every dimension", arguments: StoreKind.allCases)
    func diff(kind: StoreKind) async throws {
        let store = try await exampleStore(kind)
        let a = try await store.pedigree(try ref("model:team/m@1"), depth: nil, asOf: nil)
        let b = try await store.pedigree(try ref("model:team/m@2"), depth: nil, asOf: nil)
        let diff = LineageDiff(a, b)
        // The features changed, and so did how they were prepared (r-prep1 declared a dropna step, r-prep2 none)
        // and what they were prepared from (raw@1, then raw@2): the diff follows the data up to its source.
        #expect(
            diff.data.map(\.path) == [
                "inputs[train] dataset:team/features", "inputs[train] dataset:team/features preparation.transformations",
                "inputs[train] dataset:team/features ← inputs[input] dataset:team/raw",
            ])
        #expect(diff.data[1].kind == .removed)
        #expect(diff.data[2].old?["ref"] == "dataset:team/raw@1" && diff.data[2].new?["ref"] == "dataset:team/raw@2")
        let shallow = LineageDiff(
            try await store.pedigree(try ref("model:team/m@1"), depth: 0, asOf: nil),
            try await store.pedigree(try ref("model:team/m@2"), depth: 0, asOf: nil))
        #expect(shallow.data.count == 2, "depth 0 stops at the direct inputs")
        #expect(diff.code.map(\.path) == ["commit", "dirty"])
        #expect(diff.hyperparameters.map(\.path) == ["optimizer.lr"])
        #expect(diff.hyperparameters.first?.old == 0.001)
        #expect(diff.environment.map(\.path) == ["packages.torch"])
        #expect(diff.parents.isEmpty)
        let full = LineageDiff(a, b, includeUnchanged: true)
        #expect(full.parents.map(\.kind) == [.unchanged])
        await #expect(throws: StoreError.self) { try await store.pedigree(try ref("deployment:team/api"), depth: nil, asOf: nil) }
    }

    @Test("deployment history and as-of", arguments: StoreKind.allCases)
    func historyAndAsOf(kind: StoreKind) async throws {
        let store = try await exampleStore(kind)
        let history = try await store.deploymentHistory(namespace: "team", endpoint: "api", asOf: nil)
        #expect(history.map(\.model) == ["model:team/m@1", "model:team/m@2"])
        #expect(history[0].validUntil == Timestamp("2026-02-01T00:00:00Z"))
        #expect(history[1].validUntil == nil)
        let cutoff = Timestamp.now
        try await Task.sleep(for: .milliseconds(5))
        try await store.append([try runEvent(id: "r4", inputs: [("dataset:team/raw@2", "train")], outputs: [(model("m"), "model")])], recordedBy: "t")
        #expect(try await store.show(try ref("model:team/m"), asOf: nil).summary.version == "3")
        #expect(try await store.show(try ref("model:team/m"), asOf: cutoff).summary.version == "2")
        let before = try await store.lineage(try ref("dataset:team/raw@2"), direction: .downstream, depth: nil, asOf: cutoff)
        #expect(!before.nodes.contains { $0.node.ref == "run:r4" })
        await #expect(throws: StoreError.self) { try await store.show(try ref("run:r4"), asOf: cutoff) }
        await #expect {
            try await store.deploymentHistory(namespace: "team", endpoint: "api", asOf: Timestamp(microseconds: 0))
        } throws: { error in
            (error as? StoreError)?.code == .notFound
        }
    }

    @Test("a run's START and COMPLETE fold into one node; show at an earlier time shows the START", arguments: StoreKind.allCases)
    func runFolding(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        try await store.append(
            [try runEvent(id: "r", inputs: [(dataset("d", version: "1"), "train")], extra: ["hyperparameters": ["lr": 0.1]], status: "START")],
            recordedBy: "t")
        let afterStart = Timestamp.now
        try await Task.sleep(for: .milliseconds(5))
        try await store.append([try runEvent(id: "r", outputs: [(model("m"), "model")], extra: ["metrics": ["auc": 0.9]])], recordedBy: "t")
        let detail = try await store.show(.run("r"), asOf: nil)
        #expect(detail.summary.status == "COMPLETE")
        #expect(detail.run?.hyperparameters == ["lr": 0.1])
        #expect(detail.run?.metrics == ["auc": 0.9])
        #expect(detail.upstream.map(\.node.ref) == ["dataset:team/d@1"])
        #expect(detail.downstream.map(\.node.ref) == ["model:team/m@1"])
        #expect(detail.events.count == 2)
        let earlier = try await store.show(.run("r"), asOf: afterStart)
        #expect(earlier.run?.status == .start)
        #expect(earlier.run?.metrics == nil)
        #expect(earlier.downstream.isEmpty)
    }

    @Test("a correction supersedes without rewriting history", arguments: StoreKind.allCases)
    func corrections(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        let wrong = try runEvent(
            id: "r", inputs: [(dataset("d", version: "1"), "train")], outputs: [(model("m", version: "1"), "model")],
            extra: ["hyperparameters": ["lr": 0.1]])
        try await store.append([wrong], recordedBy: "t")
        let body = try #require(wrong.body.objectValue)
        var corrected = body
        var run = try #require(body["run"]?.objectValue)
        run["inputs"] = [["ref": "dataset:team/d@2", "role": "train"]]
        run["hyperparameters"] = ["lr": 0.01]
        corrected["run"] = .object(run)
        corrected["supersedes"] = .string(wrong.digest.description)
        try await store.append([try LineageEvent(json: .object(corrected))], recordedBy: "t")
        let detail = try await store.show(.run("r"), asOf: nil)
        #expect(detail.run?.hyperparameters == ["lr": 0.01])
        #expect(detail.upstream.map(\.node.ref) == ["dataset:team/d@2"])
        #expect(detail.events.count == 2, "the wrong event is still in the log")
        #expect(try await store.verify().ok)
        // A correction must point at an event about the same subject.
        var stray = corrected
        stray["supersedes"] = .string(digest("nothing"))
        await #expect(throws: StoreError.self) { try await store.append([try LineageEvent(json: .object(stray))], recordedBy: "t") }
    }

    @Test("correcting a run keeps the versions it generated", arguments: StoreKind.allCases)
    func correctionKeepsOutputs(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        let original = try runEvent(
            id: "r", inputs: [(dataset("d", version: "1"), "train")], outputs: [(model("m"), "model")], extra: ["hyperparameters": ["lr": 0.1]])
        try await store.append([original], recordedBy: "t")
        var body = try #require(original.body.objectValue)
        var run = try #require(body["run"]?.objectValue)
        run["hyperparameters"] = ["lr": 0.2]
        run["inputs"] = [["ref": "dataset:team/d@2", "role": "train"]]
        body["run"] = .object(run)
        body["supersedes"] = .string(original.digest.description)
        try await store.append([try LineageEvent(json: .object(body))], recordedBy: "t")
        let detail = try await store.show(.run("r"), asOf: nil)
        #expect(detail.downstream.map(\.node.ref) == ["model:team/m@1"], "no phantom model:team/m@2")
        #expect(detail.upstream.map(\.node.ref) == ["dataset:team/d@2"], "the superseded input edge is gone")
        #expect(try await store.show(try ref("model:team/m"), asOf: nil).summary.version == "1")
        #expect(try await store.verify().ok)
    }

    @Test("OpenLineage START and COMPLETE from the official client make one run with its model", arguments: StoreKind.allCases)
    func openLineage(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        for fixture in ["run-start.json", "run-complete.json", "dataset-event.json", "job-event.json"] {
            let data = try Data(
                contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                    .appendingPathComponent("Fixtures/openlineage/\(fixture)"))
            try await store.append(try EventDocument.decode(JSONValue.parse(data)), recordedBy: "ol")
        }
        let run = try await store.show(.run("01a22261-7f25-758a-96b1-b13c09406106"), asOf: nil)
        #expect(run.summary.status == "COMPLETE")
        #expect(run.run?.hyperparameters == ["lr": "0.001", "epochs": "10"])
        #expect(run.downstream.map(\.node.ref) == ["model:mlflow:%2F%2Fregistry/models/resnet50@7"])
        let trained = try await store.modelsTrainedOn(try artifactRef("dataset:s3:%2F%2Fdatasets/imagenet/train@v3"), asOf: nil)
        #expect(trained.models.map(\.model.ref) == ["model:mlflow:%2F%2Fregistry/models/resnet50@7"])
        #expect(try await store.show(try ref("dataset:s3:%2F%2Fdatasets/imagenet/train"), asOf: nil).summary.version == "v4")
        #expect(try await store.verify().ok)
    }
}

extension QueryTests {
    /// What a client decodes from the server's JSON is the result the store gave, field for field.
    @Test("every result reads back from its JSON unchanged", arguments: StoreKind.allCases)
    func resultsRoundTrip(kind: StoreKind) async throws {
        let store = try await exampleStore(kind)
        func roundTrips<T: QueryResult>(_ result: T, _ what: String) throws {
            let decoded = try T(json: result.json)
            #expect(decoded.json == result.json, "\(what)")
        }
        for text in ["dataset:team/raw@1", "run:r1", "model:team/m@2", "deployment:team/api", "model:team/m-eu@1"] {
            let ref = try ref(text)
            let detail = try await store.show(ref, asOf: nil)
            try roundTrips(detail, "show \(text)")
            #expect(try NodeDetail(json: detail.json).events == detail.events)
            for direction in LineageDirection.allCases {
                try roundTrips(try await store.lineage(ref, direction: direction, depth: nil, asOf: nil), "lineage \(text)")
            }
            try roundTrips(try await store.impact(ref, asOf: nil), "impact \(text)")
        }
        try roundTrips(try await store.modelsTrainedOn(try artifactRef("dataset:team/raw"), asOf: nil), "trained-on")
        let diff = LineageDiff(
            try await store.pedigree(try ref("model:team/m@1"), depth: nil, asOf: nil),
            try await store.pedigree(try ref("model:team/m@2"), depth: nil, asOf: nil),
            includeUnchanged: true)
        try roundTrips(diff, "diff")
        try roundTrips(try await store.verify(), "verify")
        for event in try await store.events(afterSequence: 0, limit: 100) { try roundTrips(event, "event \(event.sequence)") }
        for entry in try await store.deploymentHistory(namespace: "team", endpoint: "api", asOf: nil) { try roundTrips(entry, "history") }
        // The generating run of a model arrives whole: its record and what it used.
        let model = try NodeDetail(json: try await store.show(try ref("model:team/m@1"), asOf: nil).json)
        #expect(model.generatedBy?.run == "run:r1")
        #expect(model.generatedBy?.record.hyperparameters?["epochs"] == 3)
        #expect(
            model.generatedBy?.inputs.map(\.node.ref).sorted() == ["dataset:team/features@1", "dataset:team/holdout@1", "model:hf/google/bert@abc"])
    }

    @Test("listing: latest versions, filters combined, a case-insensitive glob, paging, as of a time", arguments: StoreKind.allCases)
    func listing(kind: StoreKind) async throws {
        let store = try await exampleStore(kind)
        let all = try await store.artifacts(matching: ArtifactFilter(), limit: 100, offset: 0, asOf: nil)
        #expect(all.map(\.ref).contains("model:team/m@2") && !all.map(\.ref).contains("model:team/m@1"))
        let models = try await store.artifacts(matching: ArtifactFilter(kind: "model"), limit: 100, offset: 0, asOf: nil)
        #expect(models.allSatisfy { $0.kind == "model" } && models.map(\.ref).contains("model:team/m-eu@1"))
        #expect(models.map { "\($0.namespace)/\($0.name)" } == models.map { "\($0.namespace)/\($0.name)" }.sorted())
        let glob = try await store.artifacts(matching: ArtifactFilter(namespace: "team", name: "M*"), limit: 100, offset: 0, asOf: nil)
        #expect(glob.map(\.ref) == ["model:team/m@2", "model:team/m-eu@1"])
        let underscore = try await store.artifacts(matching: ArtifactFilter(name: "m_eu"), limit: 100, offset: 0, asOf: nil)
        #expect(underscore.isEmpty, "'_' in a glob is a literal underscore, not any character")
        let pages = try await store.artifacts(matching: ArtifactFilter(), limit: 2, offset: 2, asOf: nil)
        #expect(pages.map(\.ref) == Array(all.map(\.ref)[2..<4]))
        let early = try await store.artifacts(matching: ArtifactFilter(kind: "model"), limit: 100, offset: 0, asOf: Timestamp(microseconds: 0))
        #expect(early.isEmpty)
    }
}

extension QueryTests {
    @Test("the registry lists each line's latest version once, pages by cursor, searches and filters what serves", arguments: StoreKind.allCases)
    func registry(kind: StoreKind) async throws {
        let store = try await exampleStore(kind)
        func page(_ filter: RegistryFilter = RegistryFilter(), after: String? = nil, limit: Int = 100) async throws -> [RegistryEntry] {
            try await store.registry(filter, after: after, limit: limit, asOf: nil, mayRead: { _ in true })
        }
        let everything = try await page()
        #expect(
            everything.map(\.latest.ref) == [
                "dataset:team/eu@1", "dataset:team/features@2", "dataset:team/holdout@1", "dataset:team/raw@2", "deployment:team/api",
                "model:hf/google/bert@abc", "model:team/m@2", "model:team/m-eu@1",
            ])
        #expect(everything.first { $0.latest.ref == "model:team/m@2" }?.versions == 2)
        // Pages of three, each after the last one's cursor, give the same lines in the same order.
        var paged: [RegistryEntry] = []
        while true {
            let next = try await page(after: paged.last?.cursor, limit: 3)
            paged += next
            if next.count < 3 { break }
        }
        #expect(paged.map(\.latest.ref) == everything.map(\.latest.ref))
        #expect(try await page(RegistryFilter(search: "FEAT")).map(\.latest.ref) == ["dataset:team/features@2"])
        #expect(try await page(RegistryFilter(search: "m*")).map(\.latest.ref) == ["model:team/m@2", "model:team/m-eu@1"])
        #expect(try await page(RegistryFilter(deployed: true)).map(\.latest.ref) == ["deployment:team/api", "model:team/m@2"])
        #expect(try await page(RegistryFilter(kind: "model", namespace: "hf")).map(\.latest.ref) == ["model:hf/google/bert@abc"])
        #expect(try await registryPage(readableOnly: "hf", store).map(\.latest.ref) == ["model:hf/google/bert@abc"])
        // The lines are a projection: a rebuild from the log gives the same registry, and verify compares them.
        try await store.rebuildProjections()
        #expect(try await page().map(\.latest.ref) == everything.map(\.latest.ref))
        #expect(try await store.verify().ok)
    }

    private func registryPage(readableOnly namespace: String, _ store: any LineageStore) async throws -> [RegistryEntry] {
        try await store.registry(RegistryFilter(), after: nil, limit: 100, asOf: nil, mayRead: { $0 == namespace })
    }
}

@Suite("The lines projection's migration")
struct LinesMigrationTests {
    @Test("a store from before the lines projection migrates: its lines come from its nodes, and verify agrees with a replay")
    func migratesAnOlderStore() async throws {
        let path = try makeSQLiteStore().path
        let store = try SQLiteStore(path: path)
        try await store.append(try ExampleGraph.events(), recordedBy: "test")
        let before = try await store.registry(RegistryFilter(), after: nil, limit: 100, asOf: nil, mayRead: { _ in true }).map(\.latest.ref)
        // Back to schema v4, as a store written by the previous Pedigree is.
        try await DatabaseQueue(path: path).write { db in
            try db.execute(sql: "DROP TABLE lines; DELETE FROM grdb_migrations WHERE identifier = 'v5: artifact lines'")
        }
        let migrated = try SQLiteStore(path: path)
        #expect(try await migrated.registry(RegistryFilter(), after: nil, limit: 100, asOf: nil, mayRead: { _ in true }).map(\.latest.ref) == before)
        #expect(try await migrated.verify().ok, "the migrated lines are what a replay of the log projects")
    }
}
