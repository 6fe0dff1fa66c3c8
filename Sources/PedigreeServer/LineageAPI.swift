import CompressNIO
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PedigreeCore
import PedigreeRender
import PedigreeStore

/// The native REST API: recording events and every query the CLI has. Thin: parse, check access, call the
/// store, shape the answer — the same result types and JSON the CLI prints.
struct LineageAPI: Sendable {
    let store: any LineageStore
    let ingest: IngestService
    /// The checkpoint signer audits trust (`serve --checkpoint-public-key`); nil: the key each checkpoint names.
    let trustedKey: TrustedKey?

    var routes: RouteCollection<PedigreeRequestContext> {
        let routes = RouteCollection(context: PedigreeRequestContext.self)
        routes.post("/api/v1/events") { request, context in try await record(request, context) }
        routes.get("/api/v1/events") { request, context in try await events(request, context) }
        routes.get("/api/v1/nodes") { request, context in try await show(request, context) }
        routes.get("/api/v1/graph") { request, context in try await graph(request, context) }
        routes.get("/api/v1/models") { request, context in try await trainedOn(request, context) }
        routes.get("/api/v1/impact") { request, context in try await impact(request, context) }
        routes.get("/api/v1/diff") { request, context in try await diff(request, context) }
        routes.get("/api/v1/history") { request, context in try await history(request, context) }
        routes.get("/api/v1/incident") { request, context in try await incident(request, context) }
        routes.get("/api/v1/artifacts") { request, context in try await artifactsWithDigest(request, context) }
        routes.get("/api/v1/verify") { _, context in try await verify(context) }
        routes.get("/api/v1/audit") { request, context in try await audit(request, context) }
        routes.get("/api/v1/inventory") { request, context in try await inventory(request, context) }
        return routes
    }

    // MARK: Writing

    /// All events of one request are stored in one transaction, or none are.
    func record(_ request: Request, _ context: PedigreeRequestContext) async throws -> Response {
        let events: [LineageEvent]
        do {
            events = try await EventDocument.decode(try await RequestBodyReader.text(request, context))
        } catch {
            ingest.rejected(1)
            throw error
        }
        let outcomes = try await ingest.append(events, as: context.identity)
        return .json(["events": .array(outcomes.map(\.json))], status: .created)
    }

    // MARK: Reading

    func events(_ request: Request, _ context: PedigreeRequestContext) async throws -> Response {
        let query = Query(request)
        let after = try query.int("after", default: 0, range: 0...Int.max)
        let limit = try query.int("limit", default: 100, range: 1...1000)
        // Filtered after paging, so a page may hold fewer events than asked; `next` always moves forward.
        let page = try await store.events(afterSequence: Int64(after), limit: limit)
        let visible = page.filter { context.identity.allows(.reader, in: $0.namespace) }
        var body: [String: JSONValue] = ["events": .array(visible.map(\.json))]
        body["next"] = page.count == limit ? .int(page.last!.sequence) : .null
        return .json(.object(body))
    }

    func scoped(_ context: PedigreeRequestContext) -> ScopedQueries {
        ScopedQueries(store: store, identity: context.identity, trustedKey: trustedKey)
    }

    func show(_ request: Request, _ context: PedigreeRequestContext) async throws -> Response {
        let query = Query(request)
        return .json(try await scoped(context).show(try query.reference("ref"), asOf: try query.time("asOf")).json)
    }

    func graph(_ request: Request, _ context: PedigreeRequestContext) async throws -> Response {
        let query = Query(request)
        let ref = try query.reference("ref")
        let direction = try query.choice("direction", LineageDirection.allCases.map(\.rawValue), default: "upstream")
        let depth = try query.optionalInt("depth", range: 0...Int.max)
        let graph = try await scoped(context).lineage(
            ref, direction: LineageDirection(rawValue: direction)!, depth: depth, asOf: try query.time("asOf"))
        return .json(graph.json)
    }

    func trainedOn(_ request: Request, _ context: PedigreeRequestContext) async throws -> Response {
        let query = Query(request)
        guard case .artifact(let dataset) = try query.reference("trainedOn") else {
            throw APIError(.unprocessableContent, code: "invalid", "trainedOn must be an artifact reference", field: "trainedOn")
        }
        let report = try await scoped(context).modelsTrainedOn(dataset, asOf: try query.time("asOf"))
        let limit = try query.int("limit", default: 100, range: 1...1000), offset = try query.int("offset", default: 0, range: 0...Int.max)
        let page = TrainedOnReport(datasets: report.datasets, models: Array(report.models.dropFirst(offset).prefix(limit)))
        guard case .object(var body) = page.json else { return .json(page.json) }
        body["total"] = .int(Int64(report.models.count))
        return .json(.object(body))
    }

    func impact(_ request: Request, _ context: PedigreeRequestContext) async throws -> Response {
        let query = Query(request)
        return .json(try await scoped(context).impact(try query.reference("ref"), asOf: try query.time("asOf")).json)
    }

    /// Two model or dataset versions, or two runs, compared dimension by dimension.
    func diff(_ request: Request, _ context: PedigreeRequestContext) async throws -> Response {
        let query = Query(request)
        let diff = try await scoped(context).diff(
            try query.reference("from"), try query.reference("to"), all: try query.bool("all"),
            depth: try query.optionalInt("depth", range: 0...Int.max),
            asOf: try query.time("asOf"))
        return .json(diff.json)
    }

    func history(_ request: Request, _ context: PedigreeRequestContext) async throws -> Response {
        let query = Query(request)
        let text = try query.string("endpoint")
        guard case .deployment(let namespace, let endpoint) = try Reference(parsing: text.hasPrefix("deployment:") ? text : "deployment:\(text)")
        else {
            throw APIError(.unprocessableContent, code: "invalid", "endpoint must be NAMESPACE/ENDPOINT", field: "endpoint")
        }
        var entries = try await scoped(context).history(namespace: namespace, endpoint: endpoint, asOf: try query.time("asOf"))
        if let at = try query.time("at") {
            entries = entries.filter { $0.isServing(at: at) }
        }
        return .json([
            "endpoint": .string(Reference.deployment(namespace: namespace, endpoint: endpoint).description), "history": .array(entries.map(\.json)),
        ])
    }

    /// The root-cause report: what served `endpoint` at `at`, the last good model (or `good`, or what served
    /// at `goodAt`), what changed, and who else the changed data reaches — as far as the caller may see.
    func incident(_ request: Request, _ context: PedigreeRequestContext) async throws -> Response {
        let query = Query(request)
        let (namespace, endpoint) = try query.endpoint("endpoint")
        try context.identity.requireRead(namespace, Reference.deployment(namespace: namespace, endpoint: endpoint).description)
        guard let at = try query.time("at") else {
            throw APIError(.badRequest, code: "missing_parameter", "the query parameter at is required: when the predictions went bad", field: "at")
        }
        for (name, time) in [("at", at), ("goodAt", try query.time("goodAt"))] {
            if let time, time > .now {
                throw APIError(.badRequest, code: "bad_parameter", "\(time) is in the future; an incident is about what already served", field: name)
            }
        }
        let baseline: IncidentBaseline
        switch (query.parameters["good"].flatMap { $0.isEmpty ? nil : $0 }, try query.time("goodAt")) {
        case (nil, nil): baseline = .previous
        case (_?, nil):
            guard case .artifact(let model) = try query.reference("good") else {
                throw APIError(.badRequest, code: "bad_reference", "good must be a model version reference", field: "good")
            }
            baseline = .model(model)
        case (nil, let time?): baseline = .servingAt(time)
        case (_?, _?): throw APIError(.badRequest, code: "bad_parameter", "give good or goodAt, not both", field: "good")
        }
        let report = try await scoped(context).incident(
            namespace: namespace, endpoint: endpoint, at: at, baseline: baseline, asOf: try query.time("asOf"))
        return .json(report.json)
    }

    /// With `digest`: the artifact versions with that content (what `pedigree run` asks to find a parent model
    /// by its file); with `uri`, those registered at that URI (what `pedigree deploy` asks of a manifest). Otherwise the latest version of each artifact matching `kind`, `namespace` and `name` (a
    /// glob), paged (`pedigree list`). Only what the caller may read, filtered after paging.
    func artifactsWithDigest(_ request: Request, _ context: PedigreeRequestContext) async throws -> Response {
        let query = Query(request)
        func optional(_ name: String) -> String? { query.parameters[name].flatMap { $0.isEmpty ? nil : $0 } }
        let found: [NodeSummary]
        if let text = optional("digest") {
            guard let digest = ContentDigest(text) else {
                throw APIError(.badRequest, code: "bad_parameter", "digest must be sha256:<64 hex digits>", field: "digest")
            }
            found = try await store.artifacts(withDigest: digest, kind: optional("kind"))
        } else if let uri = optional("uri") {
            found = try await store.artifacts(withURI: uri, kind: optional("kind"))
        } else {
            var filter = ArtifactFilter(kind: optional("kind"), namespace: optional("namespace"), name: optional("name"))
            if let namespace = filter.namespace { try context.identity.requireRead(namespace, "namespace \(namespace)") }
            // A token for one namespace lists that namespace: paging must not run through what it cannot see.
            if filter.namespace == nil, let scoped = context.identity.token?.namespace, scoped != AccessToken.everyNamespace {
                filter.namespace = scoped
            }
            found = try await store.artifacts(
                matching: filter, limit: try query.int("limit", default: 100, range: 1...1000),
                offset: try query.int("offset", default: 0, range: 0...Int.max),
                asOf: try query.time("asOf"))
        }
        return .json(["artifacts": .array(found.filter { context.identity.allows(.reader, in: $0.namespace) }.map(\.json))])
    }

    /// A model version's audit report: JSON, or `format=md|html` as the CLI writes it.
    func audit(_ request: Request, _ context: PedigreeRequestContext) async throws -> Response {
        let query = Query(request)
        guard case .artifact(let model) = try query.reference("ref"), model.kind == "model" else {
            throw APIError(.badRequest, code: "bad_reference", "ref must be a model version, e.g. model:fraud-team/fraud@3", field: "ref")
        }
        let format = try query.choice("format", ["json", "md", "html"], default: "json")
        let report = try await scoped(context).audit(model, asOf: try query.time("asOf"))
        switch format {
        case "md": return .text(AuditRenderer.markdown(report), contentType: "text/markdown; charset=utf-8")
        case "html": return .text(AuditRenderer.html(report), contentType: "text/html; charset=utf-8")
        default: return .json(report.json)
        }
    }

    /// The model inventory of what the caller may read: JSON, or `format=csv`.
    func inventory(_ request: Request, _ context: PedigreeRequestContext) async throws -> Response {
        let query = Query(request)
        let format = try query.choice("format", ["json", "csv"], default: "json")
        let entries = try await scoped(context).inventory(asOf: try query.time("asOf"))
        if format == "csv" {
            return .text(
                AuditRenderer.inventoryCSVHeader + entries.map(AuditRenderer.inventoryCSVRow).joined(), contentType: "text/csv; charset=utf-8")
        }
        return .json(["models": .array(entries.map(\.json))])
    }

    /// Verification reads every chain: only for tokens that can read every namespace.
    func verify(_ context: PedigreeRequestContext) async throws -> Response {
        guard context.identity.allows(.reader, in: AccessToken.everyNamespace) else {
            throw APIError.forbidden("verify reads every namespace's chain: it needs a token for namespace *")
        }
        let report = try await store.verify()
        return .json(report.json, status: report.ok ? .ok : .conflict)
    }
}

/// Typed access to query parameters, with errors that name the parameter.
struct Query {
    let parameters: [String: String]

    init(_ request: Request) {
        // Hummingbird has already percent-decoded the values; decoding again would turn a reference's own
        // %2F into '/'.
        var parameters: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { parameters[String(key)] = String(value) }
        self.parameters = parameters
    }

    func string(_ name: String) throws -> String {
        guard let value = parameters[name], !value.isEmpty else {
            throw APIError(.badRequest, code: "missing_parameter", "the query parameter \(name) is required", field: name)
        }
        return value
    }

    func reference(_ name: String) throws -> Reference {
        let text = try string(name)
        do { return try Reference(parsingModel: text) } catch {
            throw APIError(.badRequest, code: "bad_reference", error.message, field: name)
        }
    }

    /// An endpoint given as `NAMESPACE/ENDPOINT` or `deployment:NAMESPACE/ENDPOINT`.
    func endpoint(_ name: String) throws -> (namespace: String, endpoint: String) {
        let text = try string(name)
        guard case .deployment(let namespace, let endpoint)? = try? Reference(parsing: text.hasPrefix("deployment:") ? text : "deployment:\(text)")
        else {
            throw APIError(.badRequest, code: "bad_reference", "\(name) must be NAMESPACE/ENDPOINT, e.g. fraud-team/fraud-api", field: name)
        }
        return (namespace, endpoint)
    }

    func time(_ name: String) throws -> Timestamp? {
        guard let text = parameters[name], !text.isEmpty else { return nil }
        guard let time = Timestamp(text) else {
            throw APIError(.badRequest, code: "bad_parameter", "'\(text)' is not an RFC 3339 time such as 2026-11-28T13:39:04Z", field: name)
        }
        return time
    }

    func optionalInt(_ name: String, range: ClosedRange<Int>) throws -> Int? {
        guard let text = parameters[name], !text.isEmpty else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw APIError(
                .badRequest, code: "bad_parameter", "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound)", field: name)
        }
        return value
    }

    func int(_ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        try optionalInt(name, range: range) ?? value
    }

    func bool(_ name: String) throws -> Bool {
        switch parameters[name] {
        case nil, "", "false", "0": return false
        case "true", "1": return true
        case let other?: throw APIError(.badRequest, code: "bad_parameter", "\(name) must be true or false, not '\(other)'", field: name)
        }
    }

    func choice(_ name: String, _ options: [String], default value: String) throws -> String {
        guard let text = parameters[name], !text.isEmpty else { return value }
        guard options.contains(text) else {
            throw APIError(.badRequest, code: "bad_parameter", "\(name) must be one of \(options.joined(separator: ", "))", field: name)
        }
        return text
    }
}

/// Reads a request body as text: JSON only (415 otherwise), gzip-decoded when the client says so, never
/// more than the configured limit (413) — checked after decompression too, so a small zip bomb cannot pass.
enum RequestBodyReader {
    static func text(_ request: Request, _ context: PedigreeRequestContext) async throws -> String {
        if let type = request.headers[.contentType]?.lowercased(),
            !(type.hasPrefix("application/json") || type.hasPrefix("application/x-ndjson") || type.hasPrefix("application/jsonl"))
        {
            throw APIError(.unsupportedMediaType, code: "unsupported_media_type", "send JSON (Content-Type: application/json), not \(type)")
        }
        var body = try await request.body.collect(upTo: context.maxBodyBytes)
        switch request.headers[.contentEncoding]?.lowercased() {
        case nil, "identity": break
        case "gzip":
            do {
                body = try body.decompress(with: .gzip(), maxSize: context.maxBodyBytes)
            } catch {
                throw APIError(.badRequest, code: "bad_encoding", "the body is not valid gzip, or inflates beyond \(context.maxBodyBytes) bytes")
            }
        case let other?:
            throw APIError(.unsupportedMediaType, code: "unsupported_encoding", "Content-Encoding \(other) is not supported; use gzip or none")
        }
        guard let text = body.readString(length: body.readableBytes) else { return "" }
        return text
    }
}
