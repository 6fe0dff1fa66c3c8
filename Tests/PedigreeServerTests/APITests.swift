import CompressNIO
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PedigreeCore
import PedigreeSQLite
import PedigreeServer
import PedigreeStore
import PedigreeTestSupport
import Testing

@Suite("REST API", .dropsTestDatabases)
struct APITests {
    @Test("the OpenAPI document and the routes agree, and every documented route is served", arguments: StoreKind.allCases)
    func openAPIAgreement(kind: StoreKind) async throws {
        try await withServer(kind) { store, client in
            let document = try #require(try await client.call(.get, "/openapi.json").json.objectValue)
            #expect(document["openapi"] == "3.1.0")
            var documented: Set<String> = []
            for (path, operations) in document["paths"]?.objectValue ?? [:] {
                for method in operations.objectValue?.keys ?? [:].keys { documented.insert("\(method.uppercased()) \(path)") }
            }
            // The routes the router actually has, against the document, both ways. The MLflow API is MLflow's,
            // specified by MLflow's REST reference (the document says so); its routes are tested by MLflowAPITests.
            // The web UI's pages are HTML for people, not API (WebUITests drives them in a browser).
            let router = PedigreeServer.buildRouter(store: store, tokens: store, configuration: ServerConfiguration(storePath: "test"))
            let apiPrefixes = ["/api/", "/healthz", "/readyz", "/metrics", "/openapi.json"]
            let native = router.routes.filter { route in
                !route.path.description.contains("mlflow") && apiPrefixes.contains { route.path.description.hasPrefix($0) }
            }
            let served = Set(native.map { "\($0.method.rawValue) \($0.path.description)" })
            #expect(!served.isEmpty)
            #expect(documented == served, "documented only: \(documented.subtracting(served)); served only: \(served.subtracting(documented))")
            for route in native {
                let path = route.path.description.replacingOccurrences(of: "{namespace}", with: "x").replacingOccurrences(of: "{id}", with: "x")
                let reply = try await client.call(route.method, path, body: route.method == .post ? "{}" : nil)
                #expect(reply.errorCode != "route_not_found", "\(route.method) \(route.path) is routed but not served")
            }
        }
    }

    @Test("record events, then every query answers over HTTP with the CLI's JSON", arguments: StoreKind.allCases)
    func recordAndQuery(kind: StoreKind) async throws {
        try await withServer(kind) { _, client in
            let recorded = try await client.call(.post, "/api/v1/events", body: nativeHistory(), contentType: "application/x-ndjson")
            #expect(recorded.status == .created)
            #expect(recorded.json["events"]?.arrayValue?.count == 3)

            let show = try await client.call(.get, "/api/v1/nodes?ref=\(encoded("model:team-a/m@1"))")
            #expect(show.status == .ok)
            #expect(show.json["ref"] == "model:team-a/m@1")
            let graph = try await client.call(.get, "/api/v1/graph?ref=\(encoded("model:team-a/m"))&direction=upstream&depth=2")
            #expect(graph.json["nodes"]?.arrayValue?.map { $0["ref"]?.stringValue ?? "" } == ["model:team-a/m@1", "run:r1", "dataset:team-a/data@1"])
            let models = try await client.call(.get, "/api/v1/models?trainedOn=\(encoded("dataset:team-a/data"))")
            #expect(models.json["models"]?[0]?["ref"] == "model:team-a/m@1")
            #expect(models.json["total"] == 1)
            let impact = try await client.call(.get, "/api/v1/impact?ref=\(encoded("dataset:team-a/data@1"))")
            #expect(impact.json["deployments"]?[0]?["ref"] == "deployment:team-a/api")
            let diff = try await client.call(.get, "/api/v1/diff?from=\(encoded("model:team-a/m@1"))&to=\(encoded("model:team-a/m@1"))&all=true")
            #expect(diff.json["hyperparameters"]?[0]?["change"] == "unchanged")
            let history = try await client.call(.get, "/api/v1/history?endpoint=team-a/api&at=2026-06-01")
            #expect(history.json["history"]?[0]?["model"] == "model:team-a/m@1")
            let verify = try await client.call(.get, "/api/v1/verify")
            #expect(verify.status == .ok && verify.json["ok"] == true)
        }
    }

    @Test("models trained on a dataset page with limit and offset; total counts them all", arguments: StoreKind.allCases)
    func trainedOnPages(kind: StoreKind) async throws {
        try await withServer(kind) { _, client in
            // Three runs train three versions of one model on the same data.
            let history =
                nativeHistory() + "\n"
                + (2...3).map { i in
                    #"{"type": "run", "namespace": "team-a", "run": {"id": "r\#(i)", "job": "train", "status": "COMPLETE", "inputs": [{"ref": "dataset:team-a/data@1", "role": "train"}], "outputs": [{"artifact": {"kind": "model", "name": "m", "digest": "\#(JSONValue.string("m\(i)").digest)"}, "role": "model"}]}}"#
                }.joined(separator: "\n")
            #expect(try await client.call(.post, "/api/v1/events", body: history, contentType: "application/x-ndjson").status == .created)
            let base = "/api/v1/models?trainedOn=\(encoded("dataset:team-a/data"))"
            let all = try await client.call(.get, base).json
            let everyModel = all["models"]?.arrayValue?.compactMap { $0["ref"]?.stringValue } ?? []
            #expect(everyModel.count == 3 && all["total"] == 3)
            for offset in 0..<4 {
                let page = try await client.call(.get, base + "&limit=1&offset=\(offset)").json
                #expect(
                    page["models"]?.arrayValue?.compactMap { $0["ref"]?.stringValue } == Array(everyModel.dropFirst(offset).prefix(1)),
                    "offset \(offset)")
                #expect(page["total"] == 3)
            }
            let two = try await client.call(.get, base + "&limit=2&offset=1").json
            #expect(two["models"]?.arrayValue?.compactMap { $0["ref"]?.stringValue } == Array(everyModel[1...2]))
        }
    }

    @Test("the event log pages with a cursor", arguments: StoreKind.allCases)
    func pagination(kind: StoreKind) async throws {
        try await withServer(kind) { _, client in
            let lines = (1...25).map { #"{"type": "artifact", "namespace": "p", "artifact": {"kind": "dataset", "name": "d", "version": "\#($0)"}}"# }
            #expect(try await client.call(.post, "/api/v1/events", body: lines.joined(separator: "\n")).status == .created)
            var seen: [Int64] = []
            var cursor: Int64 = 0
            while true {
                let page = try await client.call(.get, "/api/v1/events?after=\(cursor)&limit=10").json
                seen += page["events"]?.arrayValue?.compactMap { if case .int(let s)? = $0["sequence"] { s } else { nil } } ?? []
                guard case .int(let next)? = page["next"] else { break }
                cursor = next
            }
            #expect(seen == Array(1...25))
            #expect(try await client.call(.get, "/api/v1/events?limit=5000").errorCode == "bad_parameter")
        }
    }

    struct ErrorCase: Sendable, CustomTestStringConvertible {
        let method: HTTPRequest.Method
        let uri: String
        var body: String? = nil
        var contentType: String? = "application/json"
        let status: HTTPResponse.Status
        let code: String
        var field: String? = nil
        var testDescription: String { "\(method) \(uri) → \(status.code) \(code)" }
    }

    static let errorCases: [ErrorCase] = [
        ErrorCase(method: .post, uri: "/api/v1/events", body: "{not json", status: .badRequest, code: "malformed_json"),
        ErrorCase(
            method: .post, uri: "/api/v1/events", body: #"{"type": "run", "namespace": "n", "run": {"id": "r", "job": "j", "inputs": [{"ref": 1}]}}"#,
            status: .unprocessableContent, code: "invalid", field: "run.inputs[0].ref"),
        ErrorCase(
            method: .post, uri: "/api/v1/events", body: "x", contentType: "text/plain", status: .unsupportedMediaType, code: "unsupported_media_type"),
        ErrorCase(method: .get, uri: "/api/v1/nodes", status: .badRequest, code: "missing_parameter", field: "ref"),
        ErrorCase(method: .get, uri: "/api/v1/nodes?ref=nonsense", status: .badRequest, code: "bad_reference", field: "ref"),
        ErrorCase(method: .get, uri: "/api/v1/nodes?ref=\(encoded("model:a/none"))", status: .notFound, code: "not_found", field: "ref"),
        ErrorCase(
            method: .get, uri: "/api/v1/graph?ref=\(encoded("model:a/b"))&depth=-1", status: .badRequest, code: "bad_parameter", field: "depth"),
        ErrorCase(
            method: .get, uri: "/api/v1/graph?ref=\(encoded("model:a/b"))&direction=sideways", status: .badRequest, code: "bad_parameter",
            field: "direction"),
        ErrorCase(
            method: .get, uri: "/api/v1/nodes?ref=\(encoded("model:a/b"))&asOf=yesterday", status: .badRequest, code: "bad_parameter", field: "asOf"),
        ErrorCase(method: .get, uri: "/api/v1/no-such-route", status: .notFound, code: "route_not_found"),
        ErrorCase(method: .post, uri: "/api/v1/lineage", body: "[]", status: .badRequest, code: "bad_request"),
        ErrorCase(
            method: .post, uri: "/api/v1/lineage",
            body: #"{"eventType": "START", "producer": "p", "job": {"namespace": "n", "name": "j"}, "run": {"runId": "r"}}"#,
            status: .unprocessableContent, code: "invalid", field: "eventTime"),
        ErrorCase(
            method: .post, uri: "/api/v1/tokens", body: #"{"namespace": "n", "role": "owner"}"#, status: .unprocessableContent, code: "invalid",
            field: "role"),
    ]

    @Test("errors are JSON with a stable code, the right status and the field at fault", arguments: StoreKind.allCases, errorCases)
    func errors(kind: StoreKind, _ errorCase: ErrorCase) async throws {
        try await withServer(kind) { store, client in
            let reply = try await client.call(errorCase.method, errorCase.uri, body: errorCase.body, contentType: errorCase.contentType)
            #expect(reply.status == errorCase.status, "\(reply.text)")
            #expect(reply.errorCode == errorCase.code, "\(reply.text)")
            #expect(reply.json["error"]?["field"]?.stringValue == errorCase.field)
            #expect(reply.json["error"]?["message"]?.stringValue?.isEmpty == false)
            #expect(try await store.events(afterSequence: 0, limit: 10).isEmpty, "a failed request leaves nothing behind")
        }
    }

    @Test("a conflict is 409 and stores nothing; a body over the limit is 413", arguments: StoreKind.allCases)
    func conflictAndSize(kind: StoreKind) async throws {
        try await withServer(kind, maxBody: 4096) { store, client in
            let first =
                #"{"type": "artifact", "namespace": "n", "artifact": {"kind": "dataset", "name": "d", "version": "1", "digest": "\#(JSONValue.string("a").digest)"}}"#
            #expect(try await client.call(.post, "/api/v1/events", body: first).status == .created)
            let conflicting = first.replacingOccurrences(of: JSONValue.string("a").digest.description, with: JSONValue.string("b").digest.description)
            let reply = try await client.call(.post, "/api/v1/events", body: conflicting)
            #expect(reply.status == .conflict && reply.errorCode == "conflict" && reply.json["error"]?["field"] == "digest")
            let big = try await client.call(.post, "/api/v1/events", body: "[" + String(repeating: " ", count: 10_000) + "]")
            #expect(big.status == .contentTooLarge && big.errorCode == "payload_too_large")
            #expect(try await store.events(afterSequence: 0, limit: 10).count == 1)
        }
    }
}

@Suite("OpenLineage endpoint", .dropsTestDatabases)
struct OpenLineageEndpointTests {
    @Test("START and COMPLETE from the official client, gzip, a retried duplicate stored once", arguments: StoreKind.allCases)
    func events(kind: StoreKind) async throws {
        try await withServer(kind) { store, client in
            let start = try await client.call(.post, "/api/v1/lineage", body: try fixture("run-start.json"))
            #expect(start.status == .created)
            var gzipped = ByteBuffer(string: try fixture("run-complete.json"))
            gzipped = try gzip(gzipped)
            let complete = try await client.call(
                .post, "/api/v1/lineage", contentType: "application/json", headers: [.contentEncoding: "gzip"], rawBody: gzipped)
            #expect(complete.status == .created, "\(complete.text)")
            let retry = try await client.call(.post, "/api/v1/lineage", body: try fixture("run-start.json"))
            #expect(retry.status == .created && retry.json["events"]?[0]?["duplicate"] == true)
            #expect(try await store.events(afterSequence: 0, limit: 10).count == 2)
            let run = try await client.call(.get, "/api/v1/nodes?ref=run:01a22261-7f25-758a-96b1-b13c09406106").json
            #expect(run["status"] == "COMPLETE")
            let bad = try await client.call(
                .post, "/api/v1/lineage", contentType: "application/json", headers: [.contentEncoding: "gzip"],
                rawBody: ByteBuffer(string: "not gzip"))
            #expect(bad.status == .badRequest && bad.errorCode == "bad_encoding")
        }
    }

    @Test("a batch answers per event: successes stored, failures listed by index with the field", arguments: StoreKind.allCases)
    func batch(kind: StoreKind) async throws {
        try await withServer(kind) { store, client in
            let good = try fixture("run-start.json"), other = try fixture("dataset-event.json")
            let broken = #"{"eventType": "START", "eventTime": "2026-11-28T10:00:00Z", "producer": "p", "job": {"name": "j"}, "run": {"runId": "r"}}"#
            let reply = try await client.call(.post, "/api/v1/lineage/batch", body: "[\(good), \(broken), \(other)]")
            #expect(reply.status.code == 207, "\(reply.text)")
            #expect(reply.json["status"] == "PARTIAL_SUCCESS")
            #expect(reply.json["summary"] == ["received": 3, "successful": 2, "failed": 1])
            #expect(reply.json["failed"]?[0]?["index"] == 1)
            #expect(reply.json["failed"]?[0]?["field"] == "[1].job.namespace")
            #expect(try await store.events(afterSequence: 0, limit: 10).count == 2)
            let all = try await client.call(.post, "/api/v1/lineage/batch", body: #"{"events": [\#(good)]}"#)
            #expect(all.status == .ok && all.json["status"] == "SUCCESS")
        }
    }

    @Test(
        "an OpenLineage batch whose last event is invalid stores exactly the others, at sizes around the 1,000-row statements",
        arguments: StoreKind.allCases, [1, 999, 1000, 1001])
    func largeBatch(kind: StoreKind, size: Int) async throws {
        try await withServer(kind) { store, client in
            // Dataset events, each a version of its own dataset: a node and a line each.
            let events = (0..<size).map { i in
                #"{"eventTime": "2026-11-28T10:00:00Z", "producer": "p", "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent", "dataset": {"namespace": "warehouse", "name": "t\#(i)", "facets": {"version": {"_producer": "p", "_schemaURL": "s", "datasetVersion": "v1"}}}}"#
            }
            let broken = #"{"eventType": "START", "eventTime": "2026-11-28T10:00:00Z", "producer": "p", "job": {"name": "j"}, "run": {"runId": "r"}}"#
            let reply = try await client.call(.post, "/api/v1/lineage/batch", body: "[\(events.joined(separator: ",")), \(broken)]")
            #expect(reply.status.code == 207, "\(reply.text.prefix(500))")
            #expect(reply.json["summary"] == ["received": .int(Int64(size + 1)), "successful": .int(Int64(size)), "failed": 1])
            #expect(reply.json["failed"]?[0]?["index"] == .int(Int64(size)))
            #expect(try await store.events(afterSequence: 0, limit: size + 10).count == size, "every valid event, and not the invalid one")
            #expect(try await store.statistics().nodes == size)
        }
    }

    @Test("Marquez-compatible reads: lineage by nodeId (namespaces with ':' included), namespaces, datasets, jobs", arguments: StoreKind.allCases)
    func marquez(kind: StoreKind) async throws {
        try await withServer(kind) { _, client in
            for name in ["run-start.json", "run-complete.json"] { _ = try await client.call(.post, "/api/v1/lineage", body: try fixture(name)) }
            let lineage = try await client.call(.get, "/api/v1/lineage?nodeId=\(encoded("dataset:s3://datasets:imagenet/train"))&depth=5")
            #expect(lineage.status == .ok, "\(lineage.text)")
            let graph = try #require(lineage.json["graph"]?.arrayValue)
            let ids = graph.compactMap { $0["id"]?.stringValue }
            #expect(
                Set(ids) == ["dataset:s3://datasets:imagenet/train", "job:ml-training:train_resnet50", "dataset:mlflow://registry:models/resnet50"])
            let job = try #require(graph.first { $0["id"] == "job:ml-training:train_resnet50" })
            #expect(job["type"] == "JOB")
            #expect(job["inEdges"] == [["origin": "dataset:s3://datasets:imagenet/train", "destination": "job:ml-training:train_resnet50"]])
            #expect(job["outEdges"]?[0]?["destination"] == "dataset:mlflow://registry:models/resnet50")
            let namespaces = try await client.call(.get, "/api/v1/namespaces").json
            #expect(namespaces["namespaces"]?.arrayValue?.contains { $0["name"] == "ml-training" } == true)
            let datasets = try await client.call(.get, "/api/v1/namespaces/\(encoded("s3://datasets"))/datasets").json
            #expect(datasets["datasets"]?[0]?["name"] == "imagenet/train")
            let jobs = try await client.call(.get, "/api/v1/namespaces/ml-training/jobs").json
            #expect(jobs["jobs"]?[0]?["name"] == "train_resnet50" && jobs["jobs"]?[0]?["latestRun"]?["state"] == "COMPLETE")
            #expect(try await client.call(.get, "/api/v1/lineage?nodeId=dataset:nowhere:nothing").status == .notFound)
        }
    }

    func gzip(_ buffer: ByteBuffer) throws -> ByteBuffer {
        var input = buffer
        return try input.compress(with: .gzip())
    }
}

@Suite("Operations", .dropsTestDatabases)
struct OperationsTests {
    @Test("health, readiness and Prometheus metrics by route", arguments: StoreKind.allCases)
    func operations(kind: StoreKind) async throws {
        try await withServer(kind) { _, client in
            #expect(try await client.call(.get, "/healthz").json["status"] == "ok")
            #expect(try await client.call(.get, "/readyz").json["status"] == "ready")
            _ = try await client.call(.post, "/api/v1/events", body: nativeHistory())
            _ = try await client.call(.get, "/api/v1/nodes?ref=\(encoded("model:team-a/m"))")
            _ = try await client.call(.get, "/api/v1/nodes?ref=\(encoded("model:team-a/missing"))")
            let metrics = try await client.call(.get, "/metrics").text
            #expect(metrics.contains("pedigree_events_stored_total 3"))
            #expect(metrics.contains(#"pedigree_http_requests_total{route="/api/v1/nodes",method="GET",status="200"} 1"#), "\(metrics)")
            #expect(
                metrics.contains(#"pedigree_http_requests_total{route="/api/v1/nodes",method="GET",status="404"} 1"#),
                "a domain error counts as its answer: \(metrics)")
            #expect(metrics.contains("pedigree_store_events 3"))
        }
    }
}
