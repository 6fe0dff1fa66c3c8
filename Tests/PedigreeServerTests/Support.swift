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

/// The real application over a real store of the given engine, driven in-process.
func withServer(
    _ kind: StoreKind, auth: ServerConfiguration.AuthMode = .off, maxBody: Int = 16 << 20, store given: (any LineageStore & TokenStore)? = nil,
    artifacts: URL? = nil,
    _ body: @Sendable (any LineageStore & TokenStore, any TestClientProtocol) async throws -> Void
) async throws {
    let store: any LineageStore & TokenStore
    if let given { store = given } else { store = try await makeStore(kind) }
    var configuration = ServerConfiguration(storePath: kind.rawValue)
    configuration.auth = auth
    configuration.maxBodyBytes = maxBody
    configuration.artifactsDirectory = artifacts?.path
    let app = Application(router: PedigreeServer.buildRouter(store: store, tokens: store, configuration: configuration))
    try await app.test(.router) { client in try await body(store, client) }
}

/// An HTTP answer. `json` records a test failure when the body is not JSON, instead of passing `null` on.
struct Reply {
    let status: HTTPResponse.Status
    let text: String
    var json: JSONValue {
        do {
            return try JSONValue.parse(text)
        } catch {
            Issue.record("the answer (HTTP \(status.code)) is not JSON: \(error): \(text.prefix(200))")
            return .null
        }
    }
    /// The error code, when the answer is a JSON error (some routes answer text, or nothing).
    var errorCode: String? { (try? JSONValue.parse(text))?["error"]?["code"]?.stringValue }
}

extension TestClientProtocol {
    func call(
        _ method: HTTPRequest.Method, _ uri: String, body: String? = nil, token: String? = nil,
        contentType: String? = "application/json", headers extra: HTTPFields = [:], rawBody: ByteBuffer? = nil
    ) async throws -> Reply {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        if let contentType, body != nil || rawBody != nil { headers[.contentType] = contentType }
        let buffer = rawBody ?? body.map { ByteBuffer(string: $0) }
        return try await execute(uri: uri, method: method, headers: headers, body: buffer) { response in
            Reply(status: response.status, text: String(buffer: response.body))
        }
    }
}

func fixture(_ name: String) throws -> String {
    try String(
        contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/openlineage/\(name)"), encoding: .utf8)
}

/// Percent-encodes a query value (references contain ':', '/', '@' and '%').
func encoded(_ value: String) -> String {
    value.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? value
}

/// A small native history: a dataset, a training run in `team-a` producing a model, a deployment.
func nativeHistory(namespace: String = "team-a", run: String = "r1", model: String = "m") -> String {
    """
    {"type": "artifact", "namespace": "\(namespace)", "artifact": {"kind": "dataset", "name": "data", "version": "1", "digest": "\(JSONValue.string(namespace + run).digest)"}}
    {"type": "run", "namespace": "\(namespace)", "run": {"id": "\(run)", "job": "train", "status": "COMPLETE", "inputs": [{"ref": "dataset:\(namespace)/data@1", "role": "train"}], "outputs": [{"artifact": {"kind": "model", "name": "\(model)"}, "role": "model"}], "hyperparameters": {"lr": 0.1}}}
    {"type": "deployment", "namespace": "\(namespace)", "deployment": {"endpoint": "api", "model": "model:\(namespace)/\(model)@1", "validFrom": "2026-01-01T00:00:00Z"}}
    """
}
