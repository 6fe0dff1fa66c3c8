import Foundation
import HTTPTypes
import Hummingbird
import PedigreeCore
import PedigreeStore

/// Token management (admin tokens of a namespace manage that namespace's tokens) and operations: health,
/// readiness, Prometheus metrics and the API description.
struct AdminAPI: Sendable {
    let store: any LineageStore
    let tokens: any TokenStore
    let metrics: ServerMetrics

    static let routes: [RouteSpec] = [
        RouteSpec(method: .post, path: "/api/v1/tokens"),
        RouteSpec(method: .get, path: "/api/v1/tokens"),
        RouteSpec(method: .delete, path: "/api/v1/tokens/{id}"),
        RouteSpec(method: .get, path: "/healthz"),
        RouteSpec(method: .get, path: "/readyz"),
        RouteSpec(method: .get, path: "/metrics"),
        RouteSpec(method: .get, path: "/openapi.json"),
    ]

    func register(on router: Router<PedigreeRequestContext>) {
        router.post("/api/v1/tokens") { request, context in try await createToken(request, context) }
        router.get("/api/v1/tokens") { request, context in try await listTokens(request, context) }
        router.delete("/api/v1/tokens/:id") { _, context in try await revokeToken(context) }
        router.get("/healthz") { _, _ in Response.json(["status": "ok"]) }
        router.get("/readyz") { _, _ in try await ready() }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.exposition(try await store.statistics()))))
        }
        router.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.bytes)))
        }
    }

    func createToken(_ request: Request, _ context: PedigreeRequestContext) async throws -> Response {
        let value = try JSONValue.parse(try await RequestBodyReader.text(request, context))
        let reader = try FieldReader(value, path: "")
        try reader.rejectUnknownKeys(["namespace", "role", "name"])
        let namespace = try reader.string("namespace")
        let roleText = try reader.string("role", hint: "reader, writer or admin")
        guard let role = Role(rawValue: roleText) else {
            throw APIError(.unprocessableContent, code: "invalid", "'\(roleText)' is not reader, writer or admin", field: "role")
        }
        guard namespace != AccessToken.everyNamespace else {
            throw APIError.forbidden("tokens for every namespace are created with `pedigree token create` on the server's store")
        }
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
        _ = try await tokens.revokeToken(id: id)
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

/// `openapi.json`, bundled with the server and served as it is in the repository.
enum OpenAPIDocument {
    static let bytes: [UInt8] = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"), let data = try? Data(contentsOf: url) else { return [] }
        return Array(data)
    }()
}
