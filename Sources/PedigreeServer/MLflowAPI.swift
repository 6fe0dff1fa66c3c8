import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PedigreeCore
import PedigreeMLflow
import PedigreeStore

/// The MLflow tracking, registry and artifact REST API, as the official client calls it, under
/// `/api/2.0/mlflow`, `/api/3.0/mlflow` and `/api/2.0/mlflow-artifacts`. The same routes are served under
/// `/mlflow/run/RUN_ID/…`, the tracking address `pedigree run` hands the script it wraps: there, the first
/// run the script creates is the wrapper's own run.
///
/// Errors are MLflow's `{"error_code", "message"}` with the statuses the client branches on.
struct MLflowAPI: Sendable {
    let service: MLflowService
    let ingest: IngestService
    let defaultNamespace: String
    /// Whether the server was given an artifact directory (`--artifacts`); without one, uploads are refused.
    let artifactsEnabled: Bool

    typealias Handler = @Sendable (MLflowRequest, MLflowCaller, Request, PedigreeRequestContext) async throws -> JSONValue

    var routes: RouteCollection<PedigreeRequestContext> {
        let routes = RouteCollection(context: PedigreeRequestContext.self)
        for base in ["/api/2.0/mlflow", "/api/3.0/mlflow"] {
            for (method, path, handler) in trackingRoutes {
                routes.on(RouterPath("\(base)/\(path)"), method: method) { request, context in
                    try await answer(request, context, handler)
                }
            }
        }
        routes.get("/api/3.0/mlflow/server-info") { request, context in
            try await answer(request, context) { _, _, _, _ in
                [
                    "store_type": "SqlStore", "workspaces_enabled": false, "trace_archival_enabled": false, "multipart_uploads_enabled": false,
                    "multipart_downloads_enabled": false, "presigned_upload_run_id_supported": false, "presigned_upload_model_id_supported": false,
                    "features_enabled": [:],
                ]
            }
        }
        routes.get("/api/2.0/mlflow-artifacts/artifacts") { request, context in
            try await answer(request, context) { r, caller, _, _ in try await service.listArtifacts(r, caller) }
        }
        routes.put("/api/2.0/mlflow-artifacts/artifacts/**") { request, context in try await upload(request, context) }
        routes.get("/api/2.0/mlflow-artifacts/artifacts/**") { request, context in try await download(request, context) }
        return routes
    }

    // swiftlint:disable:next function_body_length
    private var trackingRoutes: [(HTTPRequest.Method, String, Handler)] {
        let s = service
        return [
            (.get, "experiments/get-by-name", { r, c, _, _ in try await s.getExperimentByName(r, c) }),
            (.post, "experiments/create", { r, c, _, _ in try await s.createExperiment(r, c) }),
            (.get, "experiments/get", { r, c, _, _ in try await s.getExperiment(r, c) }),
            (.post, "experiments/search", { r, c, _, _ in try await s.searchExperiments(r, c) }),
            (.get, "experiments/search", { r, c, _, _ in try await s.searchExperiments(r, c) }),
            (.post, "experiments/update", { r, c, _, _ in try await s.updateExperiment(r, c) }),
            (.post, "experiments/delete", { r, c, _, _ in try await s.deleteExperiment(r, c) }),
            (.post, "experiments/restore", { r, c, _, _ in try await s.restoreExperiment(r, c) }),
            (.post, "experiments/set-experiment-tag", { r, c, _, _ in try await s.setExperimentTag(r, c) }),
            (.post, "experiments/delete-experiment-tag", { r, c, _, _ in try await s.deleteExperimentTag(r, c) }),
            (.post, "runs/create", { r, c, _, context in try await s.createRun(r, c, adopting: context.parameters.get("wrapped")) }),
            (.get, "runs/get", { r, c, _, _ in try await s.getRun(r, c) }),
            (.post, "runs/update", { r, c, _, _ in try await s.updateRun(r, c) }),
            (.post, "runs/delete", { r, c, _, _ in try await s.deleteRun(r, c) }),
            (.post, "runs/restore", { r, c, _, _ in try await s.restoreRun(r, c) }),
            (.post, "runs/search", { r, c, _, _ in try await s.searchRuns(r, c) }),
            (.post, "runs/log-batch", { r, c, _, _ in try await s.logBatch(r, c) }),
            (.post, "runs/log-metric", { r, c, _, _ in try await s.logMetric(r, c) }),
            (.post, "runs/log-parameter", { r, c, _, _ in try await s.logParameter(r, c) }),
            (.post, "runs/set-tag", { r, c, _, _ in try await s.setTag(r, c) }),
            (.post, "runs/delete-tag", { r, c, _, _ in try await s.deleteTag(r, c) }),
            (.post, "runs/log-inputs", { r, c, _, _ in try await s.logInputs(r, c) }),
            (.post, "runs/outputs", { r, c, _, _ in try await s.logOutputs(r, c) }),
            (.get, "metrics/get-history", { r, c, _, _ in try await s.getMetricHistory(r, c) }),
            (.post, "logged-models", { r, c, _, _ in try await s.createLoggedModel(r, c) }),
            (.post, "logged-models/search", { r, c, _, _ in try await s.searchLoggedModels(r, c) }),
            (
                .get, "logged-models/{model}",
                { _, c, _, context in
                    let id = try Self.parameter("model", context)
                    if let run = context.parameters.get("wrapped") { try await s.noteLoad(ofLoggedModel: id, by: run, c) }
                    return try await s.getLoggedModel(id, c)
                }
            ),
            (.patch, "logged-models/{model}", { r, c, _, context in try await s.finalizeLoggedModel(try Self.parameter("model", context), r, c) }),
            (.delete, "logged-models/{model}", { _, c, _, context in try await s.deleteLoggedModel(try Self.parameter("model", context), c) }),
            (
                .patch, "logged-models/{model}/tags",
                { r, c, _, context in try await s.setLoggedModelTags(try Self.parameter("model", context), r, c) }
            ),
            (
                .delete, "logged-models/{model}/tags/{key}",
                { _, c, _, context in
                    try await s.deleteLoggedModelTag(try Self.parameter("model", context), key: try Self.parameter("key", context), c)
                }
            ),
            (
                .post, "logged-models/{model}/params",
                { r, c, _, context in try await s.logLoggedModelParams(try Self.parameter("model", context), r, c) }
            ),
            (.post, "registered-models/create", { r, c, _, _ in try await s.createRegisteredModel(r, c) }),
            (.get, "registered-models/get", { r, c, _, _ in try await s.getRegisteredModel(r, c) }),
            (.get, "registered-models/search", { r, c, _, _ in try await s.searchRegisteredModels(r, c) }),
            (.post, "registered-models/rename", { r, c, _, _ in try await s.renameRegisteredModel(r, c) }),
            (.patch, "registered-models/update", { r, c, _, _ in try await s.updateRegisteredModel(r, c) }),
            (.delete, "registered-models/delete", { r, c, _, _ in try await s.deleteRegisteredModel(r, c) }),
            (.post, "registered-models/set-tag", { r, c, _, _ in try await s.setRegisteredModelTag(r, c) }),
            (.delete, "registered-models/delete-tag", { r, c, _, _ in try await s.deleteRegisteredModelTag(r, c) }),
            (.post, "registered-models/get-latest-versions", { r, c, _, _ in try await s.getLatestVersions(r, c) }),
            (.get, "registered-models/get-latest-versions", { r, c, _, _ in try await s.getLatestVersions(r, c) }),
            (.post, "registered-models/alias", { r, c, _, _ in try await s.setAlias(r, c) }),
            (.delete, "registered-models/alias", { r, c, _, _ in try await s.deleteAlias(r, c) }),
            (.get, "registered-models/alias", { r, c, _, _ in try await s.getModelVersionByAlias(r, c) }),
            (.post, "model-versions/create", { r, c, _, _ in try await s.createModelVersion(r, c) }),
            (.get, "model-versions/get", { r, c, _, _ in try await s.getModelVersion(r, c) }),
            (.get, "model-versions/search", { r, c, _, _ in try await s.searchModelVersions(r, c) }),
            (.patch, "model-versions/update", { r, c, _, _ in try await s.updateModelVersion(r, c) }),
            (.post, "model-versions/transition-stage", { r, c, _, _ in try await s.transitionStage(r, c) }),
            (.post, "model-versions/set-tag", { r, c, _, _ in try await s.setModelVersionTag(r, c) }),
            (.delete, "model-versions/delete-tag", { r, c, _, _ in try await s.deleteModelVersionTag(r, c) }),
            (.delete, "model-versions/delete", { r, c, _, _ in try await s.deleteModelVersion(r, c) }),
            (
                .get, "model-versions/get-download-uri",
                { r, c, _, context in
                    if let run = context.parameters.get("wrapped") { try await s.noteLoad(ofVersion: r, by: run, c) }
                    return try await s.getModelVersionDownloadURI(r, c)
                }
            ),
        ]
    }

    static func parameter(_ name: String, _ context: PedigreeRequestContext) throws -> String {
        guard let value = context.parameters.get(name) else { throw MLflowError.invalid("Missing path parameter \(name)") }
        return value.removingPercentEncoding ?? value
    }

    // MARK: Answering

    /// Parses the request (query for GET, JSON body otherwise), runs the handler, and answers 200 with its
    /// JSON or MLflow's error.
    private func answer(_ request: Request, _ context: PedigreeRequestContext, _ handler: Handler) async throws -> Response {
        do {
            let fields = try await Self.fields(request, context)
            return .json(try await handler(fields, caller(context), request, context))
        } catch {
            return Self.errorResponse(error)
        }
    }

    static func fields(_ request: Request, _ context: PedigreeRequestContext) async throws -> MLflowRequest {
        if request.method == .get {
            return MLflowRequest(query: Self.formDecoded(request.uri.query ?? ""))
        }
        var body = try await request.body.collect(upTo: context.maxBodyBytes)
        guard body.readableBytes > 0, let text = body.readString(length: body.readableBytes), !text.allSatisfy(\.isWhitespace) else {
            return MLflowRequest(fields: [:])
        }
        guard case .object(let members) = try JSONValue.parse(text) else {
            throw MLflowError(.malformedRequest, "The request body must be a JSON object")
        }
        return MLflowRequest(fields: members)
    }

    /// `a=1&b=x+y%2B`: the client (Python's requests) encodes spaces as '+', which is decoded before `%`-escapes.
    static func formDecoded(_ query: String) -> [(String, String)] {
        query.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                let spaced = text.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    /// Who the caller is, in the MLflow service's terms: a token's namespace is where its experiments go.
    func caller(_ context: PedigreeRequestContext) -> MLflowCaller {
        let identity = context.identity
        let tokenNamespace = identity.token.map(\.namespace).flatMap { $0 == AccessToken.everyNamespace ? nil : $0 }
        let ingest = self.ingest
        return MLflowCaller(
            name: identity.name, namespace: tokenNamespace ?? defaultNamespace,
            mayRead: { identity.allows(.reader, in: $0) }, mayWrite: { identity.allows(.writer, in: $0) },
            append: { events in _ = try await ingest.append(events, as: identity, fromMLflowAPI: true) })
    }

    static func errorResponse(_ error: any Error) -> Response {
        let mlflow: MLflowError =
            switch error {
            case let error as MLflowError: error
            case let error as StoreError: MLflowError(store: error)
            case let error as APIError where error.status == .forbidden: MLflowError(.permissionDenied, error.message)
            case let error as APIError where error.status == .notFound: MLflowError(.resourceDoesNotExist, error.message)
            case let error as APIError: MLflowError(.invalidParameterValue, error.message)
            case let error as JSONParseError: MLflowError(.malformedRequest, "The request body is not valid JSON: \(error)")
            case is NIOTooManyBytesError: MLflowError(.requestLimitExceeded, "The request body is larger than this server accepts")
            case let error as ArtifactStoreError: MLflowError(.invalidParameterValue, error.description)
            default: MLflowError(.internalError, "\(error)")
            }
        return Response(
            status: HTTPResponse.Status(code: mlflow.code.status), headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: mlflow.json.canonicalBytes)))
    }

    // MARK: Artifacts

    private func artifactPath(_ context: PedigreeRequestContext) -> String {
        context.parameters.getCatchAll().joined(separator: "/").removingPercentEncoding ?? ""
    }

    /// Streams the body into the content store, then records which path now holds it.
    private func upload(_ request: Request, _ context: PedigreeRequestContext) async throws -> Response {
        do {
            guard artifactsEnabled else {
                throw MLflowError(.invalidState, "this server stores no artifacts: start pedigree serve with --artifacts DIR")
            }
            let path = artifactPath(context)
            try MLflowService.checkPath(path)
            let caller = caller(context)
            try await service.checkUpload(path: path, caller)
            let (digest, size) = try await service.blobs.store(request.body) { Array($0.readableBytesView) }
            try await service.recordUpload(path: path, digest: digest, size: size, caller)
            return Response(status: .ok)
        } catch {
            return Self.errorResponse(error)
        }
    }

    private func download(_ request: Request, _ context: PedigreeRequestContext) async throws -> Response {
        do {
            let path = artifactPath(context)
            let (digest, _) = try await service.download(path: path, caller(context))
            let file = service.blobs.url(of: digest).path
            // Replicas need one shared --artifacts directory; a blob this one lacks is not a server fault to retry.
            guard let size = (try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? Int else {
                throw MLflowError.notFound("'\(path)' is recorded, but this server's artifact directory does not hold its content (\(digest))")
            }
            let body = try await FileIO().loadFile(path: file, context: context)
            let name = path.split(separator: "/").last.map(String.init) ?? "artifact"
            let safeName = name.filter { $0.isLetter || $0.isNumber || "._-".contains($0) }
            return Response(
                status: .ok,
                headers: [
                    .contentType: "application/octet-stream", .contentLength: String(size),
                    .contentDisposition: "attachment; filename=\(safeName.isEmpty ? "artifact" : safeName)",
                ], body: body)
        } catch {
            return Self.errorResponse(error)
        }
    }
}
