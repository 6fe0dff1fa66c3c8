import Foundation
import PedigreeCore

/// The artifact proxy (`/api/2.0/mlflow-artifacts/artifacts/…`). Files are stored by content in
/// `ArtifactBlobs`; which path holds which content is an event on the run or logged model the path belongs
/// to, so a run's files are part of its tamper-evident trail.
extension MLflowService {
    /// Whose artifact location a path is in: `EXP/RUN/artifacts/…` or `EXP/models/MODEL/artifacts/…`.
    enum ArtifactOwner {
        case run(MLflowState.Run)
        case model(MLflowState.LoggedModel)

        var namespace: String {
            switch self {
            case .run(let run): run.namespace
            case .model(let model): model.namespace
            }
        }
    }

    func owner(of path: String, _ state: MLflowState) -> ArtifactOwner? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if parts.count >= 4, parts[2] == "artifacts", let run = state.runs[parts[1]], run.experimentID == parts[0] { return .run(run) }
        if parts.count >= 5, parts[1] == "models", parts[3] == "artifacts", let model = state.loggedModels[parts[2]], model.experimentID == parts[0] {
            return .model(model)
        }
        return nil
    }

    public static func checkPath(_ path: String) throws {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !path.isEmpty, !parts.contains(where: { $0 == ".." || $0 == "." || $0.isEmpty }), !path.contains("\\") else {
            throw MLflowError.invalid("Invalid artifact path '\(path)': use a relative path without '.', '..' or empty segments")
        }
    }

    /// Checks, before a byte is stored, that the caller may upload to `path`.
    public func checkUpload(path: String, _ caller: MLflowCaller) async throws {
        try Self.checkPath(path)
        _ = try writableOwner(of: path, try await current(), caller)
    }

    private func writableOwner(of path: String, _ state: MLflowState, _ caller: MLflowCaller) throws -> ArtifactOwner {
        guard let owner = owner(of: path, state), caller.mayRead(owner.namespace) else {
            throw MLflowError.notFound(
                "No run or logged model owns the artifact path '\(path)': upload under a run's artifact_uri or a logged model's artifact_uri")
        }
        try requireWrite(owner.namespace, caller)
        return owner
    }

    /// Records that `path` now holds the stored content `digest`.
    public func recordUpload(path: String, digest: ContentDigest, size: Int64, _ caller: MLflowCaller) async throws {
        try Self.checkPath(path)
        try await write { state in
            let owner = try self.writableOwner(of: path, state, caller)
            switch owner {
            case .run(let run):
                var record = MLflowRecord(.runArtifact, time: Self.now())
                record.id = run.id
                record.path = path
                record.digest = digest.description
                record.size = size
                try await self.record([Self.runEvent(record, namespace: run.namespace, id: run.id, job: run.job)], caller)
            case .model(let model):
                var record = MLflowRecord(.loggedModelArtifact, time: Self.now())
                record.id = model.id
                record.path = path
                record.digest = digest.description
                record.size = size
                try await self.record([Self.artifactEvent(record, ref: model.ref)], caller)
            }
        }
    }

    /// The file a path holds, for download.
    public func download(path: String, _ caller: MLflowCaller) async throws -> (digest: ContentDigest, size: Int64) {
        try Self.checkPath(path)
        let state = try await current()
        guard let file = state.files[path], caller.mayRead(file.namespace), let digest = ContentDigest(file.digest) else {
            throw MLflowError.notFound("No artifact at '\(path)'")
        }
        return (digest, file.size)
    }

    /// The entries directly under a directory: `{"files": [{path, is_dir, file_size}]}`; `{}` when there are none.
    public func listArtifacts(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let directory = (try request.optionalString("path") ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        let state = try await current()
        var entries: [String: Int64?] = [:]
        for (relative, file) in state.files(under: directory) where caller.mayRead(file.namespace) {
            if let slash = relative.firstIndex(of: "/") {
                entries[String(relative[..<slash])] = .some(nil)
            } else {
                entries[relative] = file.size
            }
        }
        guard !entries.isEmpty else { return [:] }
        let files: [JSONValue] = entries.keys.sorted().map { name in
            if let size = entries[name] ?? nil { return ["path": .string(name), "is_dir": false, "file_size": .int(size)] }
            return ["path": .string(name), "is_dir": true]
        }
        return ["files": .array(files)]
    }
}
