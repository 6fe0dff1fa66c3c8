import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import PedigreeCore
import PedigreeStore

/// Where the CLI's commands get their answers: the local store, or a Pedigree server (`--server`). Both
/// give the same result types, so every command prints the same text and the same JSON either way.
protocol Backend: Sendable {
    func record(_ text: String) async throws -> [AppendOutcome]
    func show(_ ref: Reference, asOf: Timestamp?) async throws -> NodeDetail
    func lineage(_ ref: Reference, direction: LineageDirection, depth: Int?, asOf: Timestamp?) async throws -> LineageGraph
    func modelsTrainedOn(_ ref: ArtifactRef, asOf: Timestamp?) async throws -> TrainedOnReport
    func impact(_ ref: Reference, asOf: Timestamp?) async throws -> ImpactReport
    func diff(_ from: ArtifactRef, _ to: ArtifactRef, all: Bool, asOf: Timestamp?) async throws -> LineageDiff
    func history(namespace: String, endpoint: String, asOf: Timestamp?) async throws -> [DeploymentEntry]
    func verify() async throws -> VerificationReport
}

struct LocalBackend: Backend {
    let store: any LineageStore

    func record(_ text: String) async throws -> [AppendOutcome] {
        try await store.append(try await EventDocument.decode(text), recordedBy: cliIdentity)
    }
    func show(_ ref: Reference, asOf: Timestamp?) async throws -> NodeDetail { try await store.show(ref, asOf: asOf) }
    func lineage(_ ref: Reference, direction: LineageDirection, depth: Int?, asOf: Timestamp?) async throws -> LineageGraph {
        try await store.lineage(ref, direction: direction, depth: depth, asOf: asOf)
    }
    func modelsTrainedOn(_ ref: ArtifactRef, asOf: Timestamp?) async throws -> TrainedOnReport { try await store.modelsTrainedOn(ref, asOf: asOf) }
    func impact(_ ref: Reference, asOf: Timestamp?) async throws -> ImpactReport { try await store.impact(ref, asOf: asOf) }
    func diff(_ from: ArtifactRef, _ to: ArtifactRef, all: Bool, asOf: Timestamp?) async throws -> LineageDiff {
        LineageDiff(try await store.modelPedigree(from, asOf: asOf), try await store.modelPedigree(to, asOf: asOf), includeUnchanged: all)
    }
    func history(namespace: String, endpoint: String, asOf: Timestamp?) async throws -> [DeploymentEntry] {
        try await store.deploymentHistory(namespace: namespace, endpoint: endpoint, asOf: asOf)
    }
    func verify() async throws -> VerificationReport { try await store.verify() }
}

/// The server's REST API. Its error answers become the same domain errors (and exit codes) as local ones.
struct RemoteBackend: Backend {
    let base: URL
    let token: String?

    func record(_ text: String) async throws -> [AppendOutcome] {
        let reply = try await call("POST", "/api/v1/events", [:], body: Data(text.utf8))
        return try (reply["events"]?.arrayValue ?? []).map(AppendOutcome.init(json:))
    }

    func show(_ ref: Reference, asOf: Timestamp?) async throws -> NodeDetail {
        try NodeDetail(json: try await call("GET", "/api/v1/nodes", ["ref": ref.description, "asOf": asOf?.description]))
    }

    func lineage(_ ref: Reference, direction: LineageDirection, depth: Int?, asOf: Timestamp?) async throws -> LineageGraph {
        try LineageGraph(json: try await call("GET", "/api/v1/graph", [
            "ref": ref.description, "direction": direction.rawValue, "depth": depth.map(String.init), "asOf": asOf?.description,
        ]))
    }

    func modelsTrainedOn(_ ref: ArtifactRef, asOf: Timestamp?) async throws -> TrainedOnReport {
        try TrainedOnReport(json: try await call("GET", "/api/v1/models", ["trainedOn": ref.description, "asOf": asOf?.description, "limit": "1000"]))
    }

    func impact(_ ref: Reference, asOf: Timestamp?) async throws -> ImpactReport {
        try ImpactReport(json: try await call("GET", "/api/v1/impact", ["ref": ref.description, "asOf": asOf?.description]))
    }

    func diff(_ from: ArtifactRef, _ to: ArtifactRef, all: Bool, asOf: Timestamp?) async throws -> LineageDiff {
        try LineageDiff(json: try await call("GET", "/api/v1/diff", [
            "from": from.description, "to": to.description, "all": all ? "true" : nil, "asOf": asOf?.description,
        ]))
    }

    func history(namespace: String, endpoint: String, asOf: Timestamp?) async throws -> [DeploymentEntry] {
        let reply = try await call("GET", "/api/v1/history", ["endpoint": "\(namespace)/\(endpoint)", "asOf": asOf?.description])
        return try (reply["history"]?.arrayValue ?? []).map(DeploymentEntry.init(json:))
    }

    func verify() async throws -> VerificationReport {
        try VerificationReport(json: try await call("GET", "/api/v1/verify", [:], acceptConflict: true))
    }

    private func call(_ method: String, _ path: String, _ query: [String: String?], body: Data? = nil, acceptConflict: Bool = false) async throws -> JSONValue {
        var components = URLComponents(url: base.appendingPathComponent(path), resolvingAgainstBaseURL: false)!
        let items = query.compactMap { key, value in value.map { URLQueryItem(name: key, value: $0) } }.sorted { $0.name < $1.name }
        if !items.isEmpty { components.percentEncodedQuery = items.map { "\($0.name)=\(Self.encode($0.value ?? ""))" }.joined(separator: "&") }
        var request = URLRequest(url: components.url!)
        request.httpMethod = method
        request.httpBody = body
        if body != nil { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let data: Data, response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw StoreError(.unavailable, "cannot reach the Pedigree server at \(base.absoluteString): \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let json = try? JSONValue.parse(data)
        if (200..<300).contains(status) || (acceptConflict && status == 409), let json { return json }
        let message = json?["error"]?["message"]?.stringValue ?? "HTTP \(status)"
        let field = json?["error"]?["field"]?.stringValue
        switch status {
        case 400, 413, 415, 422: throw StoreError(.invalid, message, field: field)
        case 404: throw StoreError(.notFound, message, field: field)
        case 409: throw StoreError(.conflict, message, field: field)
        case 401: throw StoreError(.unavailable, "the server needs a token: \(message) (set PEDIGREE_TOKEN)")
        case 403: throw StoreError(.forbidden, message, field: field)
        default: throw StoreError(.unavailable, "the server answered \(status): \(message)")
        }
    }

    /// Query values are references full of ':', '/', '@' and '%': encode everything but unreserved characters.
    static func encode(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? value
    }
}
