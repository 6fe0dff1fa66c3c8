import Foundation
import HTTPTypes
import Hummingbird
import PedigreeCore
import PedigreeStore

/// The OpenLineage endpoint, as the official clients (Airflow, Spark, dbt, openlineage-python) send to it,
/// and the Marquez-shaped reads that tools built for the reference server use.
struct OpenLineageAPI: Sendable {
    let store: any LineageQuerying & MarquezListings
    let ingest: IngestService

    var routes: RouteCollection<PedigreeRequestContext> {
        let routes = RouteCollection(context: PedigreeRequestContext.self)
        routes.post("/api/v1/lineage") { request, context in try await receive(request, context) }
        routes.post("/api/v1/lineage/batch") { request, context in try await receiveBatch(request, context) }
        routes.get("/api/v1/lineage") { request, context in try await marquezLineage(request, context) }
        routes.get("/api/v1/namespaces") { request, context in try await namespaces(request, context) }
        routes.get("/api/v1/namespaces/{namespace}/datasets") { request, context in try await datasets(request, context) }
        routes.get("/api/v1/namespaces/{namespace}/jobs") { request, context in try await jobs(request, context) }
        return routes
    }

    /// One event; 201 like the reference server. A retried event is acknowledged and stored once.
    func receive(_ request: Request, _ context: PedigreeRequestContext) async throws -> Response {
        let value = try JSONValue.parse(try await RequestBodyReader.text(request, context))
        guard case .object = value else { throw APIError.badRequest("expected one OpenLineage event object; send arrays to /api/v1/lineage/batch") }
        let events: [LineageEvent]
        do {
            events = try OpenLineageMapping.events(from: value)
        } catch {
            ingest.rejected(1)
            throw error
        }
        let outcomes = try await ingest.append(events, as: context.identity)
        return .json(["events": .array(outcomes.map(\.json))], status: .created)
    }

    /// An array of events (or `{"events": [...]}`), each accepted or rejected on its own: the answer lists
    /// the failures by index with the reason and the field at fault.
    func receiveBatch(_ request: Request, _ context: PedigreeRequestContext) async throws -> Response {
        let value = try JSONValue.parse(try await RequestBodyReader.text(request, context))
        guard let elements = value.arrayValue ?? value["events"]?.arrayValue else {
            throw APIError.badRequest("expected a JSON array of OpenLineage events, or {\"events\": [...]}")
        }
        let items = elements.enumerated().map { index, element in
            BatchItem(index: index, events: Result { try OpenLineageMapping.events(from: element, path: "[\(index)]") })
        }
        let outcome = try await ingest.appendEach(items, as: context.identity)
        let failures: [JSONValue] = outcome.failures.map { failure in
            let api = APIError.from(failure.error) as? APIError
            return [
                "index": .int(Int64(failure.index)), "code": .string(api?.code ?? "error"), "reason": .string(api?.message ?? "\(failure.error)"),
                "field": api?.field.map(JSONValue.string) ?? .null,
            ]
        }
        let status = failures.isEmpty ? "SUCCESS" : (outcome.stored == 0 ? "FAILURE" : "PARTIAL_SUCCESS")
        let body: JSONValue = [
            "status": .string(status),
            "summary": ["received": .int(Int64(outcome.received)), "successful": .int(Int64(outcome.stored)), "failed": .int(Int64(failures.count))],
            "failed": .array(failures),
        ]
        return .json(
            body, status: failures.isEmpty ? .ok : (outcome.stored == 0 ? .badRequest : HTTPResponse.Status(code: 207, reasonPhrase: "Multi-Status")))
    }

    // MARK: Marquez-compatible reads

    /// `GET /api/v1/lineage?nodeId=dataset:NS:NAME&depth=N` in Marquez's shape: a job-level graph (runs
    /// folded into their jobs, versions into their datasets) walked both ways. Marquez ids cannot say where
    /// a namespace containing ':' ends, so every split is tried against the store; Pedigree references are
    /// accepted too.
    func marquezLineage(_ request: Request, _ context: PedigreeRequestContext) async throws -> Response {
        let query = Query(request)
        let nodeID = try query.string("nodeId")
        let depth = try query.int("depth", default: 20, range: 0...1000)
        let start = try await resolveMarquez(nodeID)
        try context.identity.requireRead(start.namespace, nodeID)
        let visibility = Visibility(identity: context.identity)
        var graphs: [LineageGraph] = []
        for direction in LineageDirection.allCases {
            graphs.append(visibility.filter(try await store.lineage(start.reference, direction: direction, depth: depth * 2, asOf: nil)))
        }
        return .json(MarquezGraph(graphs: graphs).json)
    }

    private struct MarquezStart {
        let reference: Reference
        let namespace: String
    }

    private func resolveMarquez(_ nodeID: String) async throws -> MarquezStart {
        if let reference = try? Reference(parsingModel: nodeID), let detail = try? await store.show(reference, asOf: nil) {
            return MarquezStart(reference: reference, namespace: detail.summary.namespace)
        }
        guard let colon = nodeID.firstIndex(of: ":") else {
            throw APIError.badRequest("nodeId must be dataset:NAMESPACE:NAME or job:NAMESPACE:NAME", field: "nodeId")
        }
        let type = nodeID[..<colon]
        let rest = nodeID[nodeID.index(after: colon)...]
        for split in rest.indices where rest[split] == ":" {
            let namespace = String(rest[..<split]), name = String(rest[rest.index(after: split)...])
            switch type {
            case "dataset":
                for kind in ["dataset", "model"] {
                    let ref = Reference.artifact(ArtifactRef(kind: kind, namespace: namespace, name: name))
                    if (try? await store.show(ref, asOf: nil)) != nil { return MarquezStart(reference: ref, namespace: namespace) }
                }
            case "job":
                if let job = try await store.jobs(inNamespace: namespace, limit: 10_000, offset: 0).first(where: { $0.name == name }) {
                    return MarquezStart(reference: Reference.run(String(job.latestRun.ref.dropFirst("run:".count))), namespace: namespace)
                }
            default:
                throw APIError.badRequest("nodeId must start with dataset: or job:", field: "nodeId")
            }
        }
        throw APIError.notFound("\(nodeID) is not recorded", field: "nodeId")
    }

    func namespaces(_ request: Request, _ context: PedigreeRequestContext) async throws -> Response {
        let query = Query(request)
        let limit = try query.int("limit", default: 100, range: 1...1000), offset = try query.int("offset", default: 0, range: 0...Int.max)
        let visible = try await store.namespaces().filter { context.identity.allows(.reader, in: $0) }
        return .json([
            "namespaces": .array(visible.dropFirst(offset).prefix(limit).map { ["name": .string($0)] }), "totalCount": .int(Int64(visible.count)),
        ])
    }

    func datasets(_ request: Request, _ context: PedigreeRequestContext) async throws -> Response {
        let (namespace, limit, offset) = try page(request, context)
        let artifacts = try await store.artifacts(inNamespace: namespace, limit: limit, offset: offset)
        return .json([
            "datasets": .array(
                artifacts.map { node in
                    var dataset: [String: JSONValue] = [
                        "id": ["namespace": .string(node.namespace), "name": .string(node.name)], "namespace": .string(node.namespace),
                        "name": .string(node.name), "type": .string(node.kind == "model" ? "MODEL" : "DB_TABLE"),
                        "currentVersion": .string(node.version ?? ""), "ref": .string(node.ref), "kind": .string(node.kind),
                        "createdAt": .string(node.recordedAt.description),
                    ]
                    if let digest = node.digest { dataset["digest"] = .string(digest.description) }
                    return .object(dataset)
                }),
            "totalCount": .int(Int64(artifacts.count)),
        ])
    }

    func jobs(_ request: Request, _ context: PedigreeRequestContext) async throws -> Response {
        let (namespace, limit, offset) = try page(request, context)
        let jobs = try await store.jobs(inNamespace: namespace, limit: limit, offset: offset)
        return .json([
            "jobs": .array(
                jobs.map { job in
                    [
                        "id": ["namespace": .string(job.namespace), "name": .string(job.name)], "namespace": .string(job.namespace),
                        "name": .string(job.name), "type": "BATCH", "runCount": .int(Int64(job.runCount)),
                        "latestRun": [
                            "id": .string(String(job.latestRun.ref.dropFirst("run:".count))), "ref": .string(job.latestRun.ref),
                            "state": job.latestRun.status.map(JSONValue.string) ?? .null,
                        ],
                    ]
                }),
            "totalCount": .int(Int64(jobs.count)),
        ])
    }

    private func page(_ request: Request, _ context: PedigreeRequestContext) throws -> (String, Int, Int) {
        guard let encoded = context.parameters.get("namespace") else { throw APIError.badRequest("namespace is required", field: "namespace") }
        let namespace = encoded.removingPercentEncoding ?? encoded
        try context.identity.requireRead(namespace, "namespace \(namespace)")
        let query = Query(request)
        return (namespace, try query.int("limit", default: 100, range: 1...1000), try query.int("offset", default: 0, range: 0...Int.max))
    }
}

/// Pedigree's run-level, versioned graph folded into Marquez's job-level one.
struct MarquezGraph {
    let graphs: [LineageGraph]

    static func id(_ node: NodeSummary) -> String {
        node.kind == "run" ? "job:\(node.namespace):\(node.name)" : "dataset:\(node.namespace):\(node.name)"
    }

    var json: JSONValue {
        var nodes: [String: NodeSummary] = [:]
        var edges = Set<[String]>()
        for graph in graphs {
            let byRef = Dictionary(graph.nodes.map { ($0.node.ref, $0.node) }, uniquingKeysWith: { a, _ in a })
            for entry in graph.nodes where nodes[Self.id(entry.node)] == nil { nodes[Self.id(entry.node)] = entry.node }
            for edge in graph.edges {
                guard let from = byRef[edge.from], let to = byRef[edge.to] else { continue }
                edges.insert([Self.id(from), Self.id(to)])
            }
        }
        let entries: [JSONValue] = nodes.keys.sorted().map { id in
            let node = nodes[id]!
            let isJob = node.kind == "run"
            let data: JSONValue =
                isJob
                ? ["namespace": .string(node.namespace), "name": .string(node.name), "latestRun": .string(node.ref)]
                : ["namespace": .string(node.namespace), "name": .string(node.name), "kind": .string(node.kind), "ref": .string(node.ref)]
            return [
                "id": .string(id), "type": .string(isJob ? "JOB" : "DATASET"), "data": data,
                "inEdges": .array(
                    edges.filter { $0[1] == id }.sorted { $0[0] < $1[0] }.map { ["origin": .string($0[0]), "destination": .string($0[1])] }),
                "outEdges": .array(
                    edges.filter { $0[0] == id }.sorted { $0[1] < $1[1] }.map { ["origin": .string($0[0]), "destination": .string($0[1])] }),
            ]
        }
        return ["graph": .array(entries)]
    }
}
