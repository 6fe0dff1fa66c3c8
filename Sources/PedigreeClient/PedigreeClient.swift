import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PedigreeCore
import PedigreeStore

/// A Pedigree server's REST API, answering with the same result types a local store gives: the CLI's
/// `--server` mode, and any Swift program that talks to a server. Error answers become the store's domain
/// errors (`StoreError`), so callers handle a remote store exactly like a local one.
public struct PedigreeClient: Sendable {
    public let base: URL
    public let token: String?
    private let http: HTTPClient
    /// How long one request may take, connection attempts included (AsyncHTTPClient retries a refused
    /// connection until then).
    public var timeout: Duration = .seconds(60)

    public init(base: URL, token: String?, http: HTTPClient = .shared) {
        self.base = base
        self.token = token
        self.http = http
    }

    // MARK: Writing

    /// Records a document of native or OpenLineage events (one, an array, or JSON lines); all or nothing.
    public func record(_ document: String) async throws -> [AppendOutcome] {
        try await call(.POST, "/api/v1/events", body: Array(document.utf8), as: AppendOutcomes.self).events
    }

    /// Records events built in code, as one all-or-nothing request.
    public func record(_ events: [LineageEvent]) async throws -> [AppendOutcome] {
        let lines = events.map { $0.body.canonicalString }.joined(separator: "\n")
        return try await record(lines)
    }

    // MARK: Querying

    public func show(_ ref: Reference, asOf: Timestamp?) async throws -> NodeDetail {
        try await call(.GET, "/api/v1/nodes", ["ref": ref.description, "asOf": asOf?.description], as: NodeDetail.self)
    }

    public func lineage(_ ref: Reference, direction: LineageDirection, depth: Int?, asOf: Timestamp?) async throws -> LineageGraph {
        try await call(
            .GET, "/api/v1/graph",
            ["ref": ref.description, "direction": direction.rawValue, "depth": depth.map(String.init), "asOf": asOf?.description],
            as: LineageGraph.self)
    }

    /// Every model trained on the dataset: the server answers in pages, which this reads to the end.
    public func modelsTrainedOn(_ ref: ArtifactRef, asOf: Timestamp?) async throws -> TrainedOnReport {
        var models: [TrainedOnReport.Entry] = []
        var datasets: [NodeSummary] = []
        while true {
            let page = try await call(
                .GET, "/api/v1/models",
                ["trainedOn": ref.description, "asOf": asOf?.description, "limit": "1000", "offset": String(models.count)], as: TrainedOnPage.self)
            datasets = page.datasets
            models += page.models
            if page.models.isEmpty || models.count >= page.total { break }
        }
        return TrainedOnReport(datasets: datasets, models: models)
    }

    public func impact(_ ref: Reference, asOf: Timestamp?) async throws -> ImpactReport {
        try await call(.GET, "/api/v1/impact", ["ref": ref.description, "asOf": asOf?.description], as: ImpactReport.self)
    }

    public func diff(_ from: Reference, _ to: Reference, all: Bool, depth: Int?, asOf: Timestamp?) async throws -> LineageDiff {
        try await call(
            .GET, "/api/v1/diff",
            ["from": from.description, "to": to.description, "all": all ? "true" : nil, "depth": depth.map(String.init), "asOf": asOf?.description],
            as: LineageDiff.self)
    }

    public func history(namespace: String, endpoint: String, asOf: Timestamp?) async throws -> [DeploymentEntry] {
        let ref = Reference.deployment(namespace: namespace, endpoint: endpoint).description
        return try await call(.GET, "/api/v1/history", ["endpoint": ref, "asOf": asOf?.description], as: History.self).history
    }

    /// The root-cause report for an endpoint at a time, as far as the token may see.
    public func incident(
        namespace: String, endpoint: String, at: Timestamp, baseline: IncidentBaseline, asOf: Timestamp?
    ) async throws
        -> IncidentReport
    {
        var query: [String: String?] = [
            "endpoint": Reference.deployment(namespace: namespace, endpoint: endpoint).description, "at": at.description,
            "asOf": asOf?.description,
        ]
        switch baseline {
        case .previous: break
        case .model(let model): query["good"] = model.description
        case .servingAt(let time): query["goodAt"] = time.description
        }
        return try await call(.GET, "/api/v1/incident", query, as: IncidentReport.self)
    }

    /// The latest version of each artifact the filter matches.
    public func artifacts(matching filter: ArtifactFilter, limit: Int, offset: Int, asOf: Timestamp?) async throws -> [NodeSummary] {
        try await call(
            .GET, "/api/v1/artifacts",
            [
                "kind": filter.kind, "namespace": filter.namespace, "name": filter.name, "limit": String(limit), "offset": String(offset),
                "asOf": asOf?.description,
            ],
            as: ArtifactList.self
        ).artifacts
    }

    /// A model version's audit report.
    public func audit(_ model: ArtifactRef, asOf: Timestamp?) async throws -> AuditReport {
        try await call(.GET, "/api/v1/audit", ["ref": model.description, "asOf": asOf?.description], as: AuditReport.self)
    }

    /// The model inventory the token may read.
    public func inventory(asOf: Timestamp?) async throws -> [InventoryEntry] {
        try await call(.GET, "/api/v1/inventory", ["asOf": asOf?.description], as: Inventory.self).models
    }

    /// Artifact versions with this content digest, oldest first.
    public func artifacts(withDigest digest: ContentDigest, kind: String?) async throws -> [NodeSummary] {
        try await call(.GET, "/api/v1/artifacts", ["digest": digest.description, "kind": kind], as: ArtifactList.self).artifacts
    }

    /// Artifact versions registered at this URI, oldest first.
    public func artifacts(withURI uri: String, kind: String?) async throws -> [NodeSummary] {
        try await call(.GET, "/api/v1/artifacts", ["uri": uri, "kind": kind], as: ArtifactList.self).artifacts
    }

    /// Events the caller may read, in append order, from after `afterSequence`.
    public func events(afterSequence: Int64, limit: Int) async throws -> [StoredEvent] {
        var events: [StoredEvent] = []
        var after = afterSequence
        // The server pages by at most 1000 and filters by namespace after paging: follow `next`.
        while events.count < limit {
            let page = try await call(
                .GET, "/api/v1/events", ["after": String(after), "limit": String(min(1000, limit - events.count))], as: EventPage.self)
            events += page.events
            guard let next = page.next else { break }
            after = next
        }
        return events
    }

    public func verify() async throws -> VerificationReport {
        try await call(.GET, "/api/v1/verify", [:], acceptConflict: true, as: VerificationReport.self)
    }

    // MARK: Tokens

    public func createToken(namespace: String, role: AccessRole, name: String?) async throws -> (token: AccessToken, secret: String) {
        var body: [String: JSONValue] = ["namespace": .string(namespace), "role": .string(role.rawValue)]
        if let name { body["name"] = .string(name) }
        let created = try await call(.POST, "/api/v1/tokens", body: JSONValue.object(body).canonicalBytes, as: CreatedToken.self)
        return (created.token, created.secret)
    }

    public func tokens(namespace: String?) async throws -> [AccessToken] {
        try await call(.GET, "/api/v1/tokens", ["namespace": namespace], as: TokenList.self).tokens
    }

    public func revokeToken(id: String) async throws -> Bool {
        do {
            _ = try await send(.DELETE, "/api/v1/tokens/\(Self.encode(id))", [:], body: nil, acceptConflict: false)
            return true
        } catch let error as StoreError where error.code == .notFound {
            return false
        }
    }

    // MARK: HTTP

    private func call<T: Decodable>(
        _ method: HTTPMethod, _ path: String, _ query: [String: String?] = [:], body: [UInt8]? = nil, acceptConflict: Bool = false, as type: T.Type
    ) async throws -> T {
        let (status, bytes) = try await send(method, path, query, body: body, acceptConflict: acceptConflict)
        guard (try? JSONValue.parse(Data(bytes))) != nil else { throw notPedigree(status: status, bytes: bytes, reason: "not JSON") }
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch let error as DecodingError {
            // JSON, but not the answer this version of Pedigree expects: most likely another version.
            throw StoreError(.unavailable, "\(ResultDecodingError(T.self, error)) (is the server another version of Pedigree?)")
        }
    }

    /// Sends one request; a 2xx answer (or 409 when `acceptConflict`) returns its body, any other its error.
    private func send(
        _ method: HTTPMethod, _ path: String, _ query: [String: String?], body: [UInt8]?, acceptConflict: Bool
    ) async throws -> (status: UInt, bytes: [UInt8]) {
        var request = HTTPClientRequest(url: url(path, query))
        request.method = method
        if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
            request.headers.add(name: "Content-Type", value: "application/json")
        }
        request.headers.add(name: "Accept", value: "application/json")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let status: UInt, bytes: [UInt8]
        do {
            let (seconds, attoseconds) = timeout.components
            let response = try await http.execute(request, timeout: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
            status = response.status.code
            bytes = Array(buffer: try await response.body.collect(upTo: 256 << 20))
        } catch {
            throw StoreError(.unavailable, "cannot reach the Pedigree server at \(displayURL): \(error)")
        }
        if (200..<300).contains(status) || (acceptConflict && status == 409) { return (status, bytes) }
        guard let json = try? JSONValue.parse(Data(bytes)), let error = json["error"], let message = error["message"]?.stringValue else {
            throw notPedigree(status: status, bytes: bytes, reason: "HTTP \(status)")
        }
        let field = error["field"]?.stringValue
        switch status {
        case 400, 413, 415, 422: throw StoreError(.invalid, message, field: field)
        case 404: throw StoreError(.notFound, message, field: field)
        case 409: throw StoreError(.conflict, message, field: field)
        case 401: throw StoreError(.forbidden, "the server refused the token: \(message) (set PEDIGREE_TOKEN)")
        case 403: throw StoreError(.forbidden, message, field: field)
        default: throw StoreError(.unavailable, "the server answered \(status): \(message)")
        }
    }

    /// An answer that is not what a Pedigree server sends: most likely another server at that address.
    private func notPedigree(status: UInt, bytes: [UInt8], reason: String) -> StoreError {
        let start = String(decoding: bytes.prefix(60), as: UTF8.self).replacingOccurrences(of: "\n", with: " ")
        return StoreError(
            .unavailable,
            "\(displayURL) did not answer like a Pedigree server (HTTP \(status), \(reason)\(start.isEmpty ? "" : ": \"\(start)…\"")); check --server/PEDIGREE_URL"
        )
    }

    /// The server's address for messages, without any credentials in it.
    public var displayURL: String {
        guard var components = URLComponents(url: base, resolvingAgainstBaseURL: false), components.user != nil || components.password != nil else {
            return base.absoluteString
        }
        components.user = nil
        components.password = nil
        return components.string ?? base.absoluteString
    }

    private func url(_ path: String, _ query: [String: String?]) -> String {
        let items = query.compactMap { key, value in value.map { "\(key)=\(Self.encode($0))" } }.sorted()
        let root = base.absoluteString.hasSuffix("/") ? String(base.absoluteString.dropLast()) : base.absoluteString
        return root + path + (items.isEmpty ? "" : "?" + items.joined(separator: "&"))
    }

    /// Query values are references full of ':', '/', '@' and '%': encode everything but unreserved characters.
    static func encode(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? value
    }
}

// The envelopes some routes wrap their results in.

private struct AppendOutcomes: Decodable { let events: [AppendOutcome] }
private struct History: Decodable { let history: [DeploymentEntry] }
private struct TokenList: Decodable { let tokens: [AccessToken] }
private struct ArtifactList: Decodable { let artifacts: [NodeSummary] }

private struct Inventory: Decodable { let models: [InventoryEntry] }

private struct EventPage: Decodable {
    let events: [StoredEvent]
    let next: Int64?
}

private struct TrainedOnPage: Decodable {
    let datasets: [NodeSummary]
    let models: [TrainedOnReport.Entry]
    let total: Int
}

private struct CreatedToken: Decodable {
    let token: AccessToken
    let secret: String

    private enum CodingKeys: String, CodingKey { case secret }

    init(from decoder: any Decoder) throws {
        token = try AccessToken(from: decoder)
        secret = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .secret)
    }
}
