import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import PedigreeCore
import PedigreeRender
import PedigreeStore

/// Who is making a request and what they may do.
public struct Identity: Sendable {
    /// Recorded as the writer of every event this identity appends.
    public let name: String
    let token: AccessToken?

    /// Without auth, everyone may do everything (loopback only, by default).
    static let unrestricted = Identity(name: "anonymous", token: nil)

    func allows(_ role: AccessRole, in namespace: String) -> Bool {
        guard let token else { return true }
        return token.allows(role, in: namespace)
    }

    /// Reading a namespace one cannot see is answered as if it did not exist.
    func requireRead(_ namespace: String, _ what: @autoclosure () -> String) throws {
        guard allows(.reader, in: namespace) else { throw APIError.notFound("\(what()) is not recorded", field: "ref") }
    }

    /// Whether a reference names a readable namespace (run references name none until looked up).
    func mayRead(_ ref: Reference) -> Bool {
        switch ref {
        case .artifact(let artifact): allows(.reader, in: artifact.namespace)
        case .deployment(let namespace, _): allows(.reader, in: namespace)
        case .run: true
        }
    }

    /// Checked before the store is asked, so its answers (even "not found, latest versions: …") never
    /// describe a namespace the caller cannot see.
    func requireRead(_ ref: Reference) throws {
        guard mayRead(ref) else { throw APIError.notFound("\(ref) is not recorded", field: "ref") }
    }

    func requireWrite(_ namespace: String) throws {
        guard allows(.reader, in: namespace) else { throw APIError.notFound("namespace \(namespace) does not exist", field: "namespace") }
        guard allows(.writer, in: namespace) else { throw APIError.forbidden("this token may read namespace \(namespace) but not write to it") }
    }

    func requireAdmin(_ namespace: String) throws {
        guard allows(.reader, in: namespace) else { throw APIError.notFound("namespace \(namespace) does not exist", field: "namespace") }
        guard allows(.admin, in: namespace) else { throw APIError.forbidden("managing tokens of namespace \(namespace) needs an admin token") }
    }
}

/// The request context: Hummingbird's, plus the caller's identity and the body limit.
public struct PedigreeRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity = Identity.unrestricted
    public var maxBodyBytes = 16 << 20

    public init(source: Source) {
        coreContext = .init(source: source)
    }

    public var maxUploadSize: Int { maxBodyBytes }
}

/// Resolves the bearer token of each request; rejects requests without a valid one when auth is on.
/// Health, readiness, metrics and the API description stay open: probes and scrapers carry no tokens.
///
/// With auth off, a token the server does not know is ignored (the request is served anonymously, and the
/// log says so once): an OpenLineage client configured with an API key must be able to send to a dev
/// server. A token the server does know always applies, so its namespace limits hold on any server.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = PedigreeRequestContext
    let tokens: any TokenStore
    let required: Bool
    let maxBodyBytes: Int
    let unknownTokenNoticed = NIOLockedValueBox(false)
    static let openPaths: Set<String> = ["/healthz", "/readyz", "/metrics", "/openapi.json"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.maxBodyBytes = maxBodyBytes
        let path = request.uri.path
        if let secret = Self.secret(of: request) {
            if let token = try await tokens.token(secret: secret) {
                context.identity = Identity(name: "token:\(token.id)", token: token)
            } else if required && WebUI.pagePaths.contains(path) && request.headers[.authorization] == nil {
                return Self.signIn(request, clearCookie: true)
            } else if required {
                // The secret itself is never logged: only that one was refused, and where from.
                context.logger.notice("refused an unknown or revoked token", metadata: ["path": "\(request.uri.path)"])
                throw APIError.unknownToken
            } else if unknownTokenNoticed.withLockedValue({ noticed in
                defer { noticed = true }; return !noticed
            }) {
                context.logger.notice("a request carried a token this server does not know; auth is off, so such requests are served anonymously")
            }
        } else if required && WebUI.pagePaths.contains(path) {
            return Self.signIn(request, clearCookie: false)
        } else if required && !Self.openPaths.contains(path) && !WebUI.openPaths.contains(path) {
            throw APIError.unauthorized
        }
        return try await next(request, context)
    }

    /// The bearer token, or for a GET the web UI's cookie: the cookie never authorises a write, so a page
    /// elsewhere cannot make a signed-in browser record anything.
    static func secret(of request: Request) -> String? {
        if let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") {
            return String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        }
        guard request.method == .get || request.method == .head else { return nil }
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if parts.count == 2, parts[0] == WebUI.cookieName, !parts[1].isEmpty { return parts[1] }
            }
        }
        return nil
    }

    /// A browser without a (valid) token is sent to the sign-in page, and back here after it.
    static func signIn(_ request: Request, clearCookie: Bool) -> Response {
        var headers = WebUI.securityHeaders
        headers[.location] = WebURL.link("/login", ["next": request.uri.description])
        if clearCookie { headers[.setCookie] = "\(WebUI.cookieName)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" }
        return Response(status: .seeOther, headers: headers)
    }
}

/// Maps domain errors thrown by any handler to API errors, so routes can just `try`.
struct ErrorMappingMiddleware: RouterMiddleware {
    typealias Context = PedigreeRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            throw APIError.from(error)
        }
    }
}
