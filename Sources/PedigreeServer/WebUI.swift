import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PedigreeCore
import PedigreeRender
import PedigreeStore

/// The web UI: server-rendered pages over the same scoped queries as the JSON API. Read-only: a token given
/// at `/login` is kept in an `HttpOnly`, `SameSite=Strict` cookie that `AuthMiddleware` accepts for GET
/// requests only, so no page can be made to write on a reader's behalf.
struct WebUI: Sendable {
    let store: any LineageStore
    let tokens: any TokenStore
    let trustedKey: TrustedKey?
    let authRequired: Bool

    static let cookieName = "pedigree_token"
    /// The pages, which send a browser without a token to `/login` rather than answering 401 JSON.
    static let pagePaths: Set<String> = ["/", "/node", "/graph", "/graph.svg", "/diff", "/impact", "/incident", "/audit"]
    /// Open without a token: signing in and out (which only sets or clears the cookie) and the assets.
    static let openPaths: Set<String> = ["/login", "/logout", "/static/pedigree.css", "/static/pedigree.js"]
    static let registryPageSize = 50

    /// No inline script or style anywhere, nothing from elsewhere, no framing.
    static let securityHeaders: HTTPFields = [
        .init("Content-Security-Policy")!:
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        .init("X-Content-Type-Options")!: "nosniff", .init("Referrer-Policy")!: "same-origin", .init("X-Frame-Options")!: "DENY",
    ]

    var routes: RouteCollection<PedigreeRequestContext> {
        let routes = RouteCollection(context: PedigreeRequestContext.self)
        routes.get("/") { request, context in await page(context) { try await registry(request, $0) } }
        routes.get("/node") { request, context in await page(context) { try await node(request, $0) } }
        routes.get("/graph") { request, context in await page(context) { try await graph(request, $0) } }
        routes.get("/graph.svg") { request, context in try await graphFile(request, context) }
        routes.get("/diff") { request, context in await page(context) { try await diff(request, $0) } }
        routes.get("/impact") { request, context in
            await page(context) { ImpactPage.render(try await $0.impact(try Query(request).reference("ref")), viewer: viewer(context)) }
        }
        routes.get("/incident") { request, context in await page(context) { try await incident(request, $0) } }
        routes.get("/audit") { request, context in await page(context) { try await audit(request, $0) } }
        routes.get("/login") { request, _ in
            html(LoginPage.render(error: nil, next: Self.localPath(Query(request).parameters["next"])))
        }
        routes.post("/login") { request, context in try await login(request, context) }
        routes.post("/logout") { _, _ in
            var headers = Self.securityHeaders
            headers[.location] = "/login"
            headers[.setCookie] = "\(Self.cookieName)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
            return Response(status: .seeOther, headers: headers)
        }
        routes.get("/static/pedigree.css") { _, _ in asset(WebAssets.stylesheet, type: "text/css; charset=utf-8") }
        routes.get("/static/pedigree.js") { _, _ in asset(WebAssets.script, type: "text/javascript; charset=utf-8") }
        return routes
    }

    // MARK: Pages

    func registry(_ request: Request, _ queries: ScopedQueries) async throws -> String {
        let query = Query(request)
        func optional(_ name: String) -> String? { query.parameters[name].flatMap { $0.isEmpty ? nil : $0 } }
        let deployed: Bool? =
            switch optional("deployed") {
            case nil: nil
            case "yes": true
            case "no": false
            default: throw APIError.badRequest("deployed must be yes or no", field: "deployed")
            }
        let filter = RegistryFilter(kind: optional("kind"), namespace: optional("namespace"), search: optional("q"), deployed: deployed)
        let entries = try await queries.registry(filter, after: optional("after"), limit: Self.registryPageSize + 1)
        return RegistryPage.render(
            entries, pageSize: Self.registryPageSize, query: .init(filter: filter, after: optional("after") ?? ""),
            namespaces: try await queries.namespaces(), viewer: viewer(queries.identity))
    }

    func node(_ request: Request, _ queries: ScopedQueries) async throws -> String {
        let ref = try Query(request).reference("ref")
        let detail = try await queries.show(ref)
        let viewer = viewer(queries.identity)
        switch (ref, detail.summary.kind) {
        case (_, "run"): return NodePages.run(detail, viewer: viewer)
        case (.deployment(let namespace, let endpoint), _):
            return NodePages.endpoint(detail, history: try await queries.history(namespace: namespace, endpoint: endpoint), now: .now, viewer: viewer)
        case (.artifact, "model"):
            let version = try versioned(detail.summary)
            async let upstream = queries.lineage(.artifact(version), direction: .upstream, depth: 200)
            async let audit = queries.audit(version)
            let chain = Self.parentChain(of: detail.summary.ref, in: try await upstream)
            return NodePages.artifact(detail, model: .init(parentChain: chain, integrity: try await audit.integrity), trainedOn: nil, viewer: viewer)
        default:
            let trainedOn = try await queries.modelsTrainedOn(try versioned(detail.summary))
            return NodePages.artifact(detail, model: nil, trainedOn: trainedOn, viewer: viewer)
        }
    }

    func versioned(_ summary: NodeSummary) throws -> ArtifactRef {
        ArtifactRef(kind: summary.kind, namespace: summary.namespace, name: summary.name, version: summary.version)
    }

    /// From a model version to its parent, the parent's parent, … to the original pretrained model: each
    /// step is the model the generating run names as its parent (the first, when a merge names several).
    static func parentChain(of ref: String, in graph: LineageGraph) -> [NodeSummary] {
        let nodes = Dictionary(graph.nodes.map { ($0.node.ref, $0.node) }, uniquingKeysWith: { first, _ in first })
        var generatedBy: [String: String] = [:], usedBy: [String: [String]] = [:]
        for edge in graph.edges {
            if nodes[edge.from]?.kind == "run" { generatedBy[edge.to] = generatedBy[edge.to] ?? edge.from }
            if nodes[edge.to]?.kind == "run", nodes[edge.from]?.kind == "model" { usedBy[edge.to, default: []].append(edge.from) }
        }
        var chain: [NodeSummary] = [], seen: Set<String> = [ref], current = ref
        while let run = generatedBy[current], let parent = usedBy[run]?.sorted().first, seen.insert(parent).inserted, let node = nodes[parent] {
            chain.append(node)
            current = parent
        }
        return chain
    }

    func graphQuery(_ request: Request) throws -> GraphPage.Query {
        let query = Query(request)
        var options = LineageView.Options()
        options.collapsed = Set(request.uri.queryParameters.getAll("collapse").map { String($0) }.filter { !$0.isEmpty })
        options.expanded = Set(request.uri.queryParameters.getAll("expand").map { String($0) }.filter { !$0.isEmpty })
        if let from = query.parameters["from"], let to = query.parameters["to"], !from.isEmpty, !to.isEmpty { options.path = (from, to) }
        return GraphPage.Query(
            ref: try query.reference("ref").description, upstream: try query.int("up", default: 3, range: 0...500),
            downstream: try query.int("down", default: 1, range: 0...500), options: options)
    }

    func view(_ query: GraphPage.Query, _ queries: ScopedQueries) async throws -> LineageView {
        let ref = try Reference(parsing: query.ref)
        // The upstream walk always runs (depth 0 is the root alone), so the root is known either way.
        let upstream = try await queries.lineage(ref, direction: .upstream, depth: query.upstream)
        let downstream = query.downstream > 0 ? try await queries.lineage(ref, direction: .downstream, depth: query.downstream) : nil
        return LineageView(upstream: upstream, downstream: downstream, options: query.options)
    }

    func graph(_ request: Request, _ queries: ScopedQueries) async throws -> String {
        let query = try graphQuery(request)
        return GraphPage.render(try await view(query, queries), query: query, viewer: viewer(queries.identity))
    }

    /// The drawing as a file to attach to a report (what `pedigree export --format svg` writes).
    func graphFile(_ request: Request, _ context: PedigreeRequestContext) async throws -> Response {
        let query = try graphQuery(request)
        let svg = LineageSVG.render(try await view(query, scoped(context)), title: "Lineage of \(query.ref)")
        var headers = Self.securityHeaders
        headers[.contentType] = "image/svg+xml; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"lineage.svg\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: svg)))
    }

    func diff(_ request: Request, _ queries: ScopedQueries) async throws -> String {
        let query = Query(request)
        let toText = query.parameters["to"] ?? "", all = try query.bool("all")
        var fromText = query.parameters["from"] ?? ""
        var candidates: [DiffPage.Candidate] = []
        if !toText.isEmpty {
            let to = try query.reference("to")
            candidates = try await Self.candidates(for: to, queries)
            if fromText.isEmpty, let first = candidates.first { fromText = first.ref }
        }
        guard !fromText.isEmpty, !toText.isEmpty else {
            return DiffPage.render(nil, from: fromText, to: toText, all: all, candidates: candidates, viewer: viewer(queries.identity))
        }
        let from: Reference
        do { from = try Reference(parsingModel: fromText) } catch { throw APIError(.badRequest, code: "bad_reference", error.message, field: "from") }
        let diff = try await queries.diff(from, try query.reference("to"), all: all)
        return DiffPage.render(diff, from: fromText, to: toText, all: all, candidates: candidates, viewer: viewer(queries.identity))
    }

    /// "The previous version" (when versions are numbered) and "what served endpoint E before" for each
    /// endpoint the version served.
    static func candidates(for ref: Reference, _ queries: ScopedQueries) async throws -> [DiffPage.Candidate] {
        guard case .artifact(let artifact) = ref, let version = artifact.version else { return [] }
        var out: [DiffPage.Candidate] = []
        if let number = Int(version), number > 1 {
            let previous = ArtifactRef(kind: artifact.kind, namespace: artifact.namespace, name: artifact.name, version: String(number - 1))
            if (try? await queries.show(.artifact(previous))) != nil {
                out.append(.init(label: "the previous version (@\(number - 1))", ref: previous.description))
            }
        }
        let detail = try await queries.show(ref)
        for link in detail.downstream where link.node.kind == "deployment" {
            guard case .deployment(let namespace, let endpoint) = try Reference(parsing: link.node.ref) else { continue }
            let history = try await queries.history(namespace: namespace, endpoint: endpoint)
            guard let start = history.firstIndex(where: { $0.serving.contains { $0.model == ref.description } }),
                let before = history[..<start].last(where: { $0.primary != nil && $0.primary != ref.description })?.primary
            else { continue }
            out.append(.init(label: "what served \(link.node.ref) before", ref: before))
        }
        return out
    }

    func incident(_ request: Request, _ queries: ScopedQueries) async throws -> String {
        let query = Query(request)
        let endpointText = query.parameters["endpoint"] ?? "", atText = query.parameters["at"] ?? ""
        guard !endpointText.isEmpty, !atText.isEmpty else {
            return IncidentPage.render(nil, endpoint: endpointText, at: atText, viewer: viewer(queries.identity))
        }
        let (namespace, endpoint) = try query.endpoint("endpoint")
        guard let at = try query.time("at") else { throw APIError.badRequest("at is required", field: "at") }
        let report = try await queries.incident(namespace: namespace, endpoint: endpoint, at: at, baseline: .previous)
        return IncidentPage.render(report, endpoint: endpointText, at: atText, viewer: viewer(queries.identity))
    }

    func audit(_ request: Request, _ queries: ScopedQueries) async throws -> String {
        guard case .artifact(let model) = try Query(request).reference("ref"), model.kind == "model", model.version != nil else {
            throw APIError(.badRequest, code: "bad_reference", "ref must be a model version, e.g. model:fraud-team/fraud@3", field: "ref")
        }
        return AuditPage.render(try await queries.audit(model), viewer: viewer(queries.identity))
    }

    // MARK: Signing in

    func login(_ request: Request, _ context: PedigreeRequestContext) async throws -> Response {
        var body = try await request.body.collect(upTo: 16 << 10)
        let form = Self.formFields(body.readString(length: body.readableBytes) ?? "")
        let next = Self.localPath(form["next"])
        guard let secret = form["token"]?.trimmingCharacters(in: .whitespaces), !secret.isEmpty,
            try await tokens.token(secret: secret) != nil
        else {
            context.logger.notice("refused a sign-in with an unknown or revoked token")
            return html(LoginPage.render(error: "That token is unknown or revoked.", next: next), status: .unauthorized)
        }
        var headers = Self.securityHeaders
        headers[.location] = next
        headers[.setCookie] = "\(Self.cookieName)=\(secret); Path=/; HttpOnly; SameSite=Strict"
        return Response(status: .seeOther, headers: headers)
    }

    /// Where to go after signing in: a path on this server only (never `//elsewhere` or a full URL).
    static func localPath(_ text: String?) -> String {
        guard let text, text.hasPrefix("/"), !text.hasPrefix("//"), !text.contains("\\"), !text.contains(where: \.isNewline) else { return "/" }
        return text
    }

    static func formFields(_ body: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            if let key = parts.first { fields[key] = parts.count > 1 ? parts[1] : "" }
        }
        return fields
    }

    // MARK: Responses

    func scoped(_ context: PedigreeRequestContext) -> ScopedQueries {
        ScopedQueries(store: store, identity: context.identity, trustedKey: trustedKey)
    }

    func viewer(_ identity: Identity) -> WebPage.Viewer {
        WebPage.Viewer(
            name: identity.token.map { "\($0.name ?? $0.id) · \($0.namespace == AccessToken.everyNamespace ? "all namespaces" : $0.namespace)" },
            authRequired: authRequired)
    }

    func viewer(_ context: PedigreeRequestContext) -> WebPage.Viewer { viewer(context.identity) }

    /// Renders a page; a failed lookup or a bad parameter becomes a page that says so, with the API's status.
    func page(_ context: PedigreeRequestContext, _ render: (ScopedQueries) async throws -> String) async -> Response {
        do {
            return html(try await render(scoped(context)))
        } catch {
            let mapped = APIError.from(error)
            guard let error = mapped as? APIError else {
                context.logger.error("a page failed", metadata: ["error": "\(mapped)"])
                return html(
                    WebPage.problem("Something went wrong on the server; the log says what.", viewer: viewer(context)), status: .internalServerError)
            }
            let message = error.field.map { "\($0): \(error.message)" } ?? error.message
            return html(WebPage.problem(message, viewer: viewer(context)), status: error.status)
        }
    }

    func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = Self.securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    func asset(_ text: String, type: String) -> Response {
        var headers = Self.securityHeaders
        headers[.contentType] = type
        headers[.cacheControl] = "public, max-age=300"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
