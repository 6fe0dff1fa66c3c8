import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PedigreeCore
import PedigreeInterop
import PedigreeStore

/// Reads what a running MLflow tracking server knows through its REST API (`/api/2.0/mlflow/…`), every list
/// paged to its end: experiments, runs (deleted ones too), MLflow 3's logged models, registered models and
/// their versions. The files of every model (a logged model's directory, or what a registered version was
/// registered from) are listed and downloaded through the server's artifact proxy (`mlflow-artifacts:/`) to
/// digest them; a model whose files the server does not serve is imported without a digest, with the reason.
/// Reading only: nothing is sent that changes the server.
public struct MLflowServerReader: Sendable {
    public let base: URL
    public let token: String?
    private let http: HTTPClient
    /// A model's files larger than this together are not downloaded (the model is imported without a digest).
    public var downloadLimit: Int64 = 4 << 30

    public init(base: URL, token: String?, http: HTTPClient = .shared) {
        self.base = base
        self.token = token
        self.http = http
    }

    public func snapshot() async throws -> MLflowServerSnapshot {
        var snapshot = MLflowServerSnapshot()
        snapshot.experiments = try await pages("experiments", post: "/api/2.0/mlflow/experiments/search", ["max_results": 1000, "view_type": "ALL"])
        let experimentIDs = snapshot.experiments.compactMap { $0["experiment_id"]?.stringValue }
        // runs/search takes at most 100 experiments at a time.
        for start in stride(from: 0, to: experimentIDs.count, by: 100) {
            let ids = JSONValue.array(experimentIDs[start..<min(start + 100, experimentIDs.count)].map(JSONValue.string))
            snapshot.runs += try await pages(
                "runs", post: "/api/2.0/mlflow/runs/search", ["experiment_ids": ids, "max_results": 1000, "run_view_type": "ALL"])
            // An MLflow 2 server has no logged models: its 404 means there are none.
            snapshot.loggedModels += try await pages(
                "models", post: "/api/2.0/mlflow/logged-models/search", ["experiment_ids": ids, "max_results": 100], missingIsEmpty: true)
        }
        // A search leaves out a run's input models (MLflow 3): the run itself has them.
        for (i, run) in snapshot.runs.enumerated() {
            guard let id = run["info"]?["run_id"]?.stringValue,
                let bytes = try await request(.GET, "/api/2.0/mlflow/runs/get", query: ["run_id": id], body: nil),
                let full = try parse(bytes, "/api/2.0/mlflow/runs/get")["run"]
            else { continue }
            snapshot.runs[i] = full
        }
        snapshot.registeredModels = try await pages("registered_models", get: "/api/2.0/mlflow/registered-models/search", ["max_results": "1000"])
        snapshot.modelVersions = try await pages("model_versions", get: "/api/2.0/mlflow/model-versions/search", ["max_results": "1000"])
        for location in Set(snapshot.modelLocations) { snapshot.modelFiles[location] = try await files(at: location) }
        return snapshot
    }

    // MARK: Files

    /// The files under an artifact location, digested, or why they could not be.
    func files(at location: String) async throws -> MLflowServerSnapshot.ModelFiles {
        guard location.hasPrefix("mlflow-artifacts:") else {
            return .unavailable("\(location) is not served by the tracking server (only mlflow-artifacts:/ locations are downloaded)")
        }
        var root = String(location.dropFirst("mlflow-artifacts:".count))
        while root.hasPrefix("/") { root.removeFirst() }
        var listed: [(path: String, size: Int64)] = []
        var directories = [""]
        while let directory = directories.popLast() {
            let path = directory.isEmpty ? root : root + "/" + directory
            let answer = try await request(.GET, "/api/2.0/mlflow-artifacts/artifacts", query: ["path": path], body: nil)
            guard let answer else { return .unavailable("the server has no files at \(location)") }
            for file in try JSONValue.parse(Data(answer))["files"]?.arrayValue ?? [] {
                guard let name = file["path"]?.stringValue else { continue }
                let relative = directory.isEmpty ? name : directory + "/" + name
                if file["is_dir"] == .bool(true) { directories.append(relative) } else { listed.append((relative, file["file_size"]?.intValue ?? 0)) }
            }
        }
        let total = listed.reduce(0) { $0 + $1.size }
        guard total <= downloadLimit else { return .unavailable("\(location) holds \(total) bytes, more than the download limit") }
        var files: [MLflowServerSnapshot.ModelFile] = []
        for entry in listed.sorted(by: { $0.path < $1.path }) {
            let remote = (root + "/" + entry.path).split(separator: "/").map { PedigreeClient.encode(String($0)) }.joined(separator: "/")
            guard let bytes = try await request(.GET, "/api/2.0/mlflow-artifacts/artifacts/" + remote, query: [:], body: nil) else {
                return .unavailable("\(location)/\(entry.path) was listed but cannot be downloaded")
            }
            // Small text files describe the model's environment (requirements.txt, python_env.yaml, MLmodel).
            let text = bytes.count <= 1 << 20 && !entry.path.contains("/") ? String(validating: bytes, as: UTF8.self) : nil
            files.append(.init(path: entry.path, digest: ContentDigest(hashing: bytes), size: Int64(bytes.count), text: text))
        }
        return .files(files)
    }

    // MARK: HTTP

    /// Every page of a search, following `next_page_token` (in the body of a POST search, the query of a GET).
    private func pages(_ key: String, post path: String, _ body: [String: JSONValue], missingIsEmpty: Bool = false) async throws -> [JSONValue] {
        try await pages(key, path, missingIsEmpty: missingIsEmpty) { token in
            var request = body
            if let token { request["page_token"] = .string(token) }
            return try await self.request(.POST, path, query: [:], body: JSONValue.object(request).canonicalBytes)
        }
    }

    private func pages(_ key: String, get path: String, _ query: [String: String]) async throws -> [JSONValue] {
        try await pages(key, path, missingIsEmpty: false) { token in
            var parameters = query
            if let token { parameters["page_token"] = token }
            return try await self.request(.GET, path, query: parameters, body: nil)
        }
    }

    private func pages(
        _ key: String, _ path: String, missingIsEmpty: Bool, fetch: (_ pageToken: String?) async throws -> [UInt8]?
    ) async throws -> [JSONValue] {
        var out: [JSONValue] = []
        var token: String?
        repeat {
            guard let bytes = try await fetch(token) else {
                if missingIsEmpty { return [] }
                throw StoreError(.unavailable, "\(displayURL) has no \(path): is it an MLflow tracking server?")
            }
            let page = try parse(bytes, path)
            out += page[key]?.arrayValue ?? []
            token = page["next_page_token"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return out
    }

    private func parse(_ bytes: [UInt8], _ path: String) throws -> JSONValue {
        do { return try JSONValue.parse(Data(bytes)) } catch {
            throw StoreError(.unavailable, "\(displayURL)\(path) did not answer with JSON: is it an MLflow tracking server?")
        }
    }

    /// The body of a 2xx answer; nil for 404 (MLflow's RESOURCE_DOES_NOT_EXIST, or a route this server lacks).
    private func request(_ method: HTTPMethod, _ path: String, query: [String: String], body: [UInt8]?) async throws -> [UInt8]? {
        let items = query.map { "\($0.key)=\(PedigreeClient.encode($0.value))" }.sorted()
        let root = base.absoluteString.hasSuffix("/") ? String(base.absoluteString.dropLast()) : base.absoluteString
        var request = HTTPClientRequest(url: root + path + (items.isEmpty ? "" : "?" + items.joined(separator: "&")))
        request.method = method
        if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
            request.headers.add(name: "Content-Type", value: "application/json")
        }
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let status: UInt, bytes: [UInt8]
        do {
            let response = try await http.execute(request, timeout: .seconds(120))
            status = response.status.code
            bytes = Array(buffer: try await response.body.collect(upTo: Int(min(downloadLimit, Int64(Int32.max)))))
        } catch {
            throw StoreError(.unavailable, "cannot reach the MLflow server at \(displayURL): \(error)")
        }
        if (200..<300).contains(status) { return bytes }
        if status == 404 { return nil }
        let message = (try? JSONValue.parse(Data(bytes)))?["message"]?.stringValue ?? String(decoding: bytes.prefix(200), as: UTF8.self)
        if status == 401 || status == 403 {
            throw StoreError(.forbidden, "the MLflow server at \(displayURL) refused the request (\(status)): \(message) (set MLFLOW_TRACKING_TOKEN)")
        }
        throw StoreError(.unavailable, "the MLflow server at \(displayURL) answered \(status) to \(path): \(message)")
    }

    /// The server's address for messages, without any credentials in it.
    public var displayURL: String { SecretRedactor.stripURLCredentials(base.absoluteString) }
}
