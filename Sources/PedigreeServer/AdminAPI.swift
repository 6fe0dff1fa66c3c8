import Foundation
import HTTPTypes
import Hummingbird
import PedigreeCore
import PedigreeStore

/// Token management (admin tokens of a namespace manage that namespace's tokens) and operations: health,
/// readiness, Prometheus metrics and the API description.
struct AdminAPI: Sendable {
    let store: any StoreMaintenance
    let tokens: any TokenStore
    let metrics: ServerMetrics

    var routes: RouteCollection<PedigreeRequestContext> {
        let routes = RouteCollection(context: PedigreeRequestContext.self)
        routes.post("/api/v1/tokens") { request, context in try await createToken(request, context) }
        routes.get("/api/v1/tokens") { request, context in try await listTokens(request, context) }
        routes.delete("/api/v1/tokens/{id}") { _, context in try await revokeToken(context) }
        routes.get("/healthz") { _, _ in Response.json(["status": "ok"]) }
        routes.get("/readyz") { _, _ in try await ready() }
        routes.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.exposition(try await store.statistics()))))
        }
        routes.get("/openapi.json") { request, _ in
            // Named after the address the client used, so generated clients and schemathesis point here.
            let host = request.head.authority ?? "127.0.0.1:8750"
            return Response.json(OpenAPIDocument.serving(at: "http://\(host)"))
        }
        return routes
    }

    func createToken(_ request: Request, _ context: PedigreeRequestContext) async throws -> Response {
        let value = try JSONValue.parse(try await RequestBodyReader.text(request, context))
        let reader = try FieldReader(value, path: "")
        try reader.rejectUnknownKeys(["namespace", "role", "name"])
        let namespace = try reader.string("namespace")
        let roleText = try reader.string("role", hint: "reader, writer or admin")
        guard let role = AccessRole(rawValue: roleText) else {
            throw APIError(.unprocessableContent, code: "invalid", "'\(roleText)' is not reader, writer or admin", field: "role")
        }
        guard namespace != AccessToken.everyNamespace else {
            throw APIError.forbidden("tokens for every namespace are created with `pedigree token create` on the server's store")
        }
        _ = try Namespace(namespace, field: "namespace")
        try context.identity.requireAdmin(namespace)
        let (token, secret) = try await tokens.createToken(namespace: namespace, role: role, name: try reader.optionalString("name"))
        guard case .object(var body) = token.json else { return .json(token.json) }
        body["secret"] = .string(secret)
        return .json(.object(body), status: .created)
    }

    func listTokens(_ request: Request, _ context: PedigreeRequestContext) async throws -> Response {
        let namespace = Query(request).parameters["namespace"]
        // Asking about one namespace needs admin there; without one, the caller sees what it administers.
        if let namespace { try context.identity.requireAdmin(namespace) }
        let visible = try await tokens.tokens(namespace: namespace).filter { context.identity.allows(.admin, in: $0.namespace) }
        return .json(["tokens": .array(visible.map(\.json))])
    }

    func revokeToken(_ context: PedigreeRequestContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        guard let token = try await tokens.tokens(namespace: nil).first(where: { $0.id == id }),
            context.identity.allows(.reader, in: token.namespace)
        else { throw APIError.notFound("no token \(id)", field: "id") }
        try context.identity.requireAdmin(token.namespace)
        guard try await tokens.revokeToken(id: id) else { throw APIError.notFound("no live token \(id)", field: "id") }
        return Response(status: .noContent)
    }

    /// Ready when the store answers a query.
    func ready() async throws -> Response {
        do {
            _ = try await store.statistics()
            return .json(["status": "ready"])
        } catch {
            return .json(["status": "unavailable", "reason": .string("\(error)")], status: .serviceUnavailable)
        }
    }
}

/// `openapi.json`, bundled with the server; served with `servers` naming the server itself.
enum OpenAPIDocument {
    static let document: JSONValue = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"), let data = try? Data(contentsOf: url),
            let document = try? JSONValue.parse(data)
        else { return [:] }
        return document
    }()

    static func serving(at address: String) -> JSONValue {
        guard case .object(var members) = document else { return document }
        members["servers"] = [["url": .string(address)]]
        return .object(members)
    }
}
