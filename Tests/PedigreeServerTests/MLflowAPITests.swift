import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PedigreeCore
import PedigreeServer
import PedigreeStore
import PedigreeTestSupport
import Testing

/// The MLflow API through the real application over both stores. The official client's own suite is in
/// PedigreeCLITests (MLflowCompatibilityTests); these cover what it cannot: namespaces, errors, the fold.
@Suite("MLflow API", .dropsTestDatabases)
struct MLflowAPITests {
    static func artifactsDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("pedigree-mlflow-\(UUID().uuidString)")
    }

    @Test("an experiment belongs to its creator's token namespace; other teams can neither see nor change it", arguments: StoreKind.allCases)
    func namespaces(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        let writerA = try await store.createToken(namespace: "team-a", role: .writer, name: nil).secret
        let readerA = try await store.createToken(namespace: "team-a", role: .reader, name: nil).secret
        let writerB = try await store.createToken(namespace: "team-b", role: .writer, name: nil).secret
        try await withServer(kind, auth: .on, store: store) { store, client in
            let created = try await client.call(.post, "/api/2.0/mlflow/experiments/create", body: #"{"name": "churn"}"#, token: writerA)
            #expect(created.status == .ok)
            let experiment = try #require(created.json["experiment_id"]?.stringValue)
            let run = try await client.call(.post, "/api/2.0/mlflow/runs/create", body: #"{"experiment_id": "\#(experiment)"}"#, token: writerA)
            let runID = try #require(run.json["run"]?["info"]?["run_id"]?.stringValue)
            #expect(run.json["run"]?["data"]?["tags"]?[0]?["key"] == "mlflow.runName", "a run gets a generated name")

            let hidden = try await client.call(.get, "/api/2.0/mlflow/experiments/get-by-name?experiment_name=churn", token: writerB)
            #expect(hidden.status == .notFound && hidden.json["error_code"] == "RESOURCE_DOES_NOT_EXIST")
            let otherRun = try await client.call(
                .post, "/api/2.0/mlflow/runs/log-metric", body: #"{"run_id": "\#(runID)", "key": "x", "value": 1, "timestamp": 1, "step": 0}"#,
                token: writerB)
            #expect(otherRun.status == .notFound, "another team's run is answered as if it did not exist")
            let readOnly = try await client.call(
                .post, "/api/2.0/mlflow/runs/log-metric", body: #"{"run_id": "\#(runID)", "key": "x", "value": 1, "timestamp": 1, "step": 0}"#,
                token: readerA)
            #expect(readOnly.status == .forbidden && readOnly.json["error_code"] == "PERMISSION_DENIED")
            let sameName = try await client.call(.post, "/api/2.0/mlflow/experiments/create", body: #"{"name": "churn"}"#, token: writerB)
            #expect(sameName.status == .ok, "names are unique within a namespace, not across teams")
            let search = try await client.call(.post, "/api/2.0/mlflow/experiments/search", body: #"{"max_results": 100}"#, token: writerB)
            #expect(search.json["experiments"]?.arrayValue?.compactMap { $0["experiment_id"]?.stringValue }.contains(experiment) == false)

            let events = try await store.events(afterSequence: 0, limit: 100)
            #expect(events.filter { $0.body.contains("\"createExperiment\"") }.map(\.namespace).sorted() == ["team-a", "team-b"])
            #expect(events.allSatisfy { $0.recordedBy.hasPrefix("token:") })
        }
    }

    @Test("bad requests get MLflow's error JSON and status, never a 5xx, and record nothing", arguments: StoreKind.allCases)
    func errors(kind: StoreKind) async throws {
        try await withServer(kind) { store, client in
            let before = try await store.events(afterSequence: 0, limit: 1000).count
            let cases: [(HTTPRequest.Method, String, String?, HTTPResponse.Status, String)] = [
                (.post, "/api/2.0/mlflow/experiments/create", "{}", .badRequest, "INVALID_PARAMETER_VALUE"),
                (.post, "/api/2.0/mlflow/experiments/create", "{not json", .badRequest, "MALFORMED_REQUEST"),
                (.get, "/api/2.0/mlflow/runs/get?run_id=0123", nil, .notFound, "RESOURCE_DOES_NOT_EXIST"),
                (.post, "/api/2.0/mlflow/runs/create", #"{"experiment_id": "42"}"#, .notFound, "RESOURCE_DOES_NOT_EXIST"),
                (
                    .post, "/api/2.0/mlflow/runs/search", #"{"experiment_ids": ["0"], "filter": "metrics.x <> "}"#, .badRequest,
                    "INVALID_PARAMETER_VALUE"
                ),
                (.post, "/api/2.0/mlflow/runs/log-batch", #"{"run_id": "nope", "metrics": [{"key": "a"}]}"#, .badRequest, "INVALID_PARAMETER_VALUE"),
                (.get, "/api/2.0/mlflow/registered-models/get?name=nope", nil, .notFound, "RESOURCE_DOES_NOT_EXIST"),
                (
                    .post, "/api/2.0/mlflow/model-versions/transition-stage", #"{"name": "m", "version": "1", "stage": "Prod"}"#, .badRequest,
                    "INVALID_PARAMETER_VALUE"
                ),
                (
                    .post, "/api/2.0/mlflow/registered-models/alias", #"{"name": "m", "alias": "latest", "version": "1"}"#, .badRequest,
                    "INVALID_PARAMETER_VALUE"
                ),
                (.put, "/api/2.0/mlflow-artifacts/artifacts/0/nope/artifacts/x.txt", "x", .badRequest, "INVALID_STATE"),
                (.get, "/api/2.0/mlflow/experiments/search?page_token=9223372036854775807", nil, .badRequest, "INVALID_PARAMETER_VALUE"),
                (
                    .post, "/api/2.0/mlflow/runs/create", #"{"experiment_id": "0", "start_time": 9223372036854775807}"#, .badRequest,
                    "INVALID_PARAMETER_VALUE"
                ),
            ]
            for (method, path, body, status, code) in cases {
                let reply = try await client.call(method, path, body: body)
                #expect(reply.status == status && reply.json["error_code"]?.stringValue == code, "\(method) \(path): \(reply.status) \(reply.text)")
                #expect(reply.json["message"]?.stringValue?.isEmpty == false)
            }
            let created = try await client.call(.post, "/api/2.0/mlflow/experiments/create", body: #"{"name": "dup"}"#)
            #expect(created.status == .ok)
            let duplicate = try await client.call(.post, "/api/2.0/mlflow/experiments/create", body: #"{"name": "dup"}"#)
            #expect(
                duplicate.status == .badRequest && duplicate.json["error_code"] == "RESOURCE_ALREADY_EXISTS",
                "400, not 409: the client branches on it")
            #expect(try await store.events(afterSequence: 0, limit: 1000).count == before + 1, "only the one good request left a record")

            // MLflow's records come only through the MLflow API, which checks them: not forged through the native one.
            let forged = try await client.call(
                .post, "/api/v1/events",
                body:
                    #"{"type": "run", "namespace": "default", "run": {"id": "forged", "job": "j", "facets": {"mlflow": {"op": "createRun", "time": 1, "id": "forged"}}}}"#
            )
            #expect(forged.status == .unprocessableContent && forged.json["error"]?["field"] == "run.facets.mlflow", "\(forged.text)")

            // A registered model deleted and created again numbers its versions from 1; Pedigree's references differ.
            for _ in 0..<3 {
                _ = try await client.call(.post, "/api/2.0/mlflow/registered-models/create", body: #"{"name": "again"}"#)
                let version = try await client.call(.post, "/api/2.0/mlflow/model-versions/create", body: #"{"name": "again", "source": "s3://b/m"}"#)
                #expect(version.json["model_version"]?["version"] == "1", "\(version.text)")
                _ = try await client.call(.delete, "/api/2.0/mlflow/registered-models/delete", body: #"{"name": "again"}"#)
            }
            let refs = try await store.artifacts(matching: ArtifactFilter(kind: "model", name: "again"), limit: 10, offset: 0, asOf: nil)
            #expect(refs.map(\.ref) == ["model:default/again@1-3"], "the latest of model:default/again is the third model's version 1")
        }
    }

    @Test("MLflow's view is a fold of the log: a fresh server over the same store answers the same", arguments: StoreKind.allCases)
    func foldOfTheLog(kind: StoreKind) async throws {
        try await withServer(kind) { store, client in
            let experiment = try #require(
                try await client.call(.post, "/api/2.0/mlflow/experiments/create", body: #"{"name": "fold"}"#).json["experiment_id"]?.stringValue)
            let run = try await client.call(.post, "/api/2.0/mlflow/runs/create", body: #"{"experiment_id": "\#(experiment)", "run_name": "r"}"#)
            let id = try #require(run.json["run"]?["info"]?["run_id"]?.stringValue)
            for step in 0..<3 {
                _ = try await client.call(
                    .post, "/api/2.0/mlflow/runs/log-metric",
                    body: #"{"run_id": "\#(id)", "key": "loss", "value": \#(1.0 / Double(step + 1)), "timestamp": \#(step), "step": \#(step)}"#)
            }
            _ = try await client.call(
                .post, "/api/2.0/mlflow/runs/log-batch",
                body: #"{"run_id": "\#(id)", "params": [{"key": "optimizer.lr", "value": "0.01"}], "tags": [{"key": "team", "value": "ml"}]}"#)
            _ = try await client.call(.post, "/api/2.0/mlflow/runs/delete-tag", body: #"{"run_id": "\#(id)", "key": "team"}"#)
            _ = try await client.call(.post, "/api/2.0/mlflow/runs/update", body: #"{"run_id": "\#(id)", "status": "FINISHED", "end_time": 99}"#)
            _ = try await client.call(.post, "/api/2.0/mlflow/registered-models/create", body: #"{"name": "reg"}"#)
            _ = try await client.call(
                .post, "/api/2.0/mlflow/model-versions/create", body: #"{"name": "reg", "source": "runs:/\#(id)/model", "run_id": "\#(id)"}"#)
            _ = try await client.call(
                .post, "/api/2.0/mlflow/registered-models/alias", body: #"{"name": "reg", "alias": "champion", "version": "1"}"#)
            let reads = [
                "/api/2.0/mlflow/runs/get?run_id=\(id)", "/api/2.0/mlflow/metrics/get-history?run_id=\(id)&metric_key=loss",
                "/api/2.0/mlflow/registered-models/get?name=reg", "/api/2.0/mlflow/registered-models/alias?name=reg&alias=champion",
            ]
            var answers: [String] = []
            for read in reads { answers.append(try await client.call(.get, read).text) }
            // A second server over the same store: its MLflow state comes from folding the log, nothing else.
            let fresh = Application(
                router: PedigreeServer.buildRouter(store: store, tokens: store, configuration: ServerConfiguration(storePath: "fresh")))
            let again = try await fresh.test(.router) { fresh in
                var again: [String] = []
                for read in reads { again.append(try await fresh.call(.get, read).text) }
                return again
            }
            #expect(again == answers)
            let runID = id
            let folded = try JSONValue.parse(again[0])["run"]
            let tagKeys = folded?["data"]?["tags"]?.arrayValue?.compactMap { $0["key"]?.stringValue } ?? []
            #expect(!tagKeys.contains("team"), "the deleted tag stays deleted")
            #expect(folded?["info"]?["status"] == "FINISHED")
            // Pedigree's own view of the same run: one training run with nested hyperparameters and its metrics.
            let detail = try await store.show(.run(runID), asOf: nil)
            #expect(detail.run?.hyperparameters == ["optimizer": ["lr": 0.01]])
            #expect(detail.run?.metrics?["loss"] == JSONValue(number: 1.0 / 3))
            #expect(detail.summary.status == "COMPLETE")
            let history = try await store.deploymentHistory(namespace: "default", endpoint: "alias/reg/champion", asOf: nil)
            #expect(history.map(\.model) == ["model:default/reg@1"])
            #expect(history.first?.config["mlflow"] != nil, "the alias move carries its MLflow record")
            #expect(try await store.verify().ok)
        }
    }

    @Test("artifacts are stored once by content, their paths recorded in the log, and read back byte for byte", arguments: StoreKind.allCases)
    func artifacts(kind: StoreKind) async throws {
        let directory = Self.artifactsDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await withServer(kind, artifacts: directory) { store, client in
            let run = try await client.call(.post, "/api/2.0/mlflow/runs/create", body: #"{"experiment_id": "0"}"#)
            let root = try #require(run.json["run"]?["info"]?["artifact_uri"]?.stringValue).replacingOccurrences(of: "mlflow-artifacts:/", with: "")
            let content = String(repeating: "weights ", count: 1000)
            for path in ["model/a.bin", "copy/b.bin"] {
                let put = try await client.call(
                    .put, "/api/2.0/mlflow-artifacts/artifacts/\(root)/\(path)", body: content, contentType: "application/octet-stream")
                #expect(put.status == .ok, "\(put.text)")
            }
            let stored = try FileManager.default.subpathsOfDirectory(atPath: directory.appendingPathComponent("blobs").path)
            let blobs = stored.filter { $0.split(separator: "/").count == 3 }
            let digest = SHA256.hash(data: Data(content.utf8)).map { String(format: "%02x", $0) }.joined()
            #expect(blobs == ["sha256/\(digest.prefix(2))/\(digest)"], "identical uploads are one file, named by its SHA-256")
            let download = try await client.call(.get, "/api/2.0/mlflow-artifacts/artifacts/\(root)/copy/b.bin")
            #expect(download.status == .ok && download.text == content)
            let list = try await client.call(.get, "/api/2.0/mlflow-artifacts/artifacts?path=\(root)")
            let expected: JSONValue = ["files": [["path": "copy", "is_dir": true], ["path": "model", "is_dir": true]]]
            #expect(list.json == expected)
            let events = try await store.events(afterSequence: 0, limit: 100).filter { $0.body.contains("runArtifact") }
            #expect(events.count == 2 && events.allSatisfy { $0.body.contains("sha256:\(digest)") })
            let outside = try await client.call(.put, "/api/2.0/mlflow-artifacts/artifacts/0/elsewhere/x.bin", body: "x", contentType: "text/plain")
            #expect(outside.status == .notFound, "uploads go under a run's or a logged model's location")
            let storedAfter = try FileManager.default.subpathsOfDirectory(atPath: directory.appendingPathComponent("blobs").path)
            #expect(storedAfter.filter { $0.split(separator: "/").count == 3 } == blobs, "a refused upload stores nothing")
            let escape = try await client.call(.get, "/api/2.0/mlflow-artifacts/artifacts/\(root)/../../etc/passwd")
            #expect(escape.status == .badRequest || escape.status == .notFound)
        }
    }
}
