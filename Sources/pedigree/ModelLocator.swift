import Foundation
import PedigreeCapture
import PedigreeCore
import PedigreeStore

/// Finds the model version a deployment serves: the one named, or the one a manifest's storage URI
/// identifies. An unmatched or ambiguous URI is an error that lists the candidates and says how to name
/// the version, so nothing is recorded against a guess.
struct ModelLocator {
    let backend: any Backend
    /// The endpoint's namespace: where a bare name or a registry URI is looked for.
    let namespace: String
    /// pvc:// claims mounted here: claim → directory.
    let pvcMounts: [String: String]

    static let registeredModelLabel = "modelregistry.kubeflow.org/registered-model-id"
    static let modelVersionLabel = "modelregistry.kubeflow.org/model-version-id"

    /// The version to deploy: `text` when given (checked against the manifest), else the manifest's.
    func version(named text: String?, serving: ServingManifestReader.Serving?) async throws -> ArtifactRef {
        var located: Located?
        if let serving { located = try await locate(serving) }
        guard let text else {
            guard let located else {
                throw PedigreeCore.ValidationError(
                    field: "MODEL_REF", "the manifest has no storageUri; name the version: pedigree deploy model:NS/NAME@VERSION …")
            }
            switch located {
            case .found(let version): return version
            case .unmatched(let reason, let candidates), .ambiguous(let reason, let candidates):
                throw StoreError(.notFound, Self.message(reason, candidates: candidates), field: "spec.predictor.model.storageUri")
            }
        }
        let named = try await resolve(text)
        if case .found(let other) = located, other != named {
            throw StoreError(
                .conflict,
                "\(named) was named, but the manifest's storageUri holds \(other); name the version the manifest serves, or fix the manifest",
                field: "MODEL_REF")
        }
        return named
    }

    /// A model reference (a bare `NAME@VERSION` is in the endpoint's namespace) resolved to the exact version.
    func resolve(_ text: String) async throws -> ArtifactRef {
        let reference = try Reference(parsingModel: text.contains(":") ? text : "model:\(namespace)/\(text)")
        guard case .artifact(let ref) = reference, ref.kind == "model" else {
            throw PedigreeCore.ValidationError(field: "MODEL_REF", "'\(text)' is not a model version; write model:NAMESPACE/NAME@VERSION")
        }
        let node = try await backend.show(.artifact(ref), asOf: nil).summary
        return ArtifactRef(kind: node.kind, namespace: node.namespace, name: node.name, version: node.version)
    }

    enum Located {
        case found(ArtifactRef)
        case unmatched(String, [NodeSummary])
        case ambiguous(String, [NodeSummary])
    }

    /// The version a manifest's storage URI (or its Model Registry labels) identifies.
    func locate(_ serving: ServingManifestReader.Serving) async throws -> Located? {
        // The Model Registry labels first; when they name nothing recorded, the storage URI.
        var fromLabels: Located?
        if let name = serving.labels[Self.registeredModelLabel], let version = serving.labels[Self.modelVersionLabel] {
            fromLabels = try await registry(name: name, version: version, source: "the Model Registry labels")
            if case .found = fromLabels { return fromLabels }
        }
        guard let uri = serving.storageURI else { return fromLabels }
        if uri.hasPrefix("model-registry://") {
            let parts = uri.dropFirst("model-registry://".count).split(separator: "/").map(String.init)
            guard parts.count >= 2 else {
                throw PedigreeCore.ValidationError(field: "spec.predictor.model.storageUri", "'\(uri)' must be model-registry://NAME/VERSION")
            }
            return try await registry(name: parts[parts.count - 2], version: parts[parts.count - 1], source: uri)
        }
        var matches = try await backend.artifacts(withURI: uri, kind: "model")
        if let path = localPath(of: uri), FileManager.default.fileExists(atPath: path) {
            let digest = try Models.contentDigest(of: path)
            if let digest { matches += try await backend.artifacts(withDigest: digest, kind: "model") }
            matches += try await backend.artifacts(withURI: "file://" + URL(fileURLWithPath: path).standardizedFileURL.path, kind: "model")
        } else if uri.hasPrefix("pvc://"), matches.isEmpty {
            let claim = uri.dropFirst("pvc://".count).prefix { $0 != "/" }
            return .unmatched(
                "no model version was recorded at \(uri), and claim \(claim) is not mounted here (--pvc \(claim)=DIR matches by content)",
                try await candidates())
        }
        var seen: Set<String> = []
        matches = matches.filter { seen.insert($0.ref).inserted }
        switch matches.count {
        case 1: return .found(ArtifactRef(kind: "model", namespace: matches[0].namespace, name: matches[0].name, version: matches[0].version))
        case 0: return .unmatched("no model version was recorded at \(uri) or has its content", try await candidates())
        default: return .ambiguous("\(uri) matches \(matches.count) model versions", matches)
        }
    }

    /// `model-registry://NAME/VERSION`: the version registered through Pedigree's MLflow-compatible registry
    /// (or recorded as model:NAMESPACE/NAME@VERSION). A registered model deleted and created again numbers
    /// its versions from 1 again, recorded as `@1-2`, `@1-3`: the latest generation is the model of that name now.
    private func registry(name: String, version: String, source: String) async throws -> Located {
        let ref = ArtifactRef(kind: "model", namespace: namespace, name: name, version: version)
        var found: ArtifactRef?
        for generation in 1... {
            let candidate = ArtifactRef(
                kind: "model", namespace: namespace, name: name, version: generation == 1 ? version : "\(version)-\(generation)")
            do {
                found = try await resolve(candidate.description)
            } catch let error as StoreError where error.code == .notFound {
                break
            }
        }
        guard let found else { return .unmatched("\(source) names \(ref), which is not recorded", try await candidates()) }
        return .found(found)
    }

    /// A local path, `file://` URI, or a `pvc://` path under a mounted claim.
    /// Where a storage URI is on this machine, if it is (a path, file://, or a mounted pvc://).
    func localPath(of uri: String) -> String? {
        if uri.hasPrefix("file://") { return URL(string: uri)?.path }
        if uri.hasPrefix("pvc://") {
            let rest = uri.dropFirst("pvc://".count)
            let claim = String(rest.prefix { $0 != "/" })
            guard let mount = pvcMounts[claim] else { return nil }
            return URL(fileURLWithPath: mount).appendingPathComponent(String(rest.dropFirst(claim.count))).path
        }
        return uri.contains("://") ? nil : URL(fileURLWithPath: uri).standardizedFileURL.path
    }

    /// The latest model versions in the endpoint's namespace, to choose from.
    private func candidates() async throws -> [NodeSummary] {
        try await backend.artifacts(matching: ArtifactFilter(kind: "model", namespace: namespace), limit: 10, offset: 0, asOf: nil)
    }

    static func message(_ reason: String, candidates: [NodeSummary]) -> String {
        let listed =
            candidates.isEmpty ? "no model version is recorded in this namespace" : "candidates: " + candidates.map(\.ref).joined(separator: ", ")
        return "\(reason); \(listed). Name the version explicitly: pedigree deploy model:NAMESPACE/NAME@VERSION --manifest FILE"
    }
}
