import Foundation
import PedigreeCore
import Yams

/// What a serving configuration file says about a deployment: a KServe `InferenceService`
/// (serving.kserve.io/v1beta1; also one of several documents, or an item of a `kubectl get isvc -o yaml`
/// List), or a plain YAML or JSON config of any other server, kept verbatim with its digest.
public struct ServingManifestReader: Sendable {
    /// One deployment as the file describes it.
    public struct Serving: Sendable {
        public var manifest: ServingManifest
        /// The parsed fields worth comparing and searching: for KServe, model format, storage URI, runtime,
        /// protocol, replicas, canary share; for a plain config, the whole document (secrets redacted).
        public var config: [String: JSONValue]
        /// Container images (with digests when pinned), runtime and resources.
        public var environment: [String: JSONValue]?
        /// From `metadata`: the InferenceService's name and Kubernetes namespace.
        public var name: String?
        public var namespace: String?
        public var storageURI: String?
        /// `canaryTrafficPercent`, when the manifest sets one.
        public var canaryTrafficPercent: Int?
        /// `metadata.labels` (the Kubeflow Model Registry's among them).
        public var labels: [String: String]
    }

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let field: String
        public let message: String
        public var description: String { "\(field): \(message)" }
    }

    static let kserveGroup = "serving.kserve.io/"
    /// Predictor keys of KServe's older, framework-specific spelling (`predictor.sklearn.storageUri`).
    static let frameworks = [
        "sklearn", "xgboost", "lightgbm", "tensorflow", "pytorch", "triton", "onnx", "paddle", "pmml", "huggingface",
    ]

    public init() {}

    /// Reads a KServe manifest. `endpoint` picks one InferenceService when the file holds several.
    public func kserve(file: String, endpoint: String?) throws -> Serving {
        let (data, text) = try read(file, field: "--manifest")
        let documents: [JSONValue]
        do { documents = try ConfigLoader.yamlDocuments(text, file: file) } catch {
            throw Failure(field: "--manifest", message: "\(file) \(error.message)")
        }
        // `kubectl get isvc -o yaml` wraps them in a List.
        let objects = documents.flatMap { document -> [JSONValue] in
            document["kind"]?.stringValue == "List" ? (document["items"]?.arrayValue ?? []) : [document]
        }
        let services = objects.filter {
            $0["kind"]?.stringValue == "InferenceService" && ($0["apiVersion"]?.stringValue ?? "").hasPrefix(Self.kserveGroup)
        }
        guard !services.isEmpty else {
            let found = objects.compactMap { object -> String? in
                guard let kind = object["kind"]?.stringValue else { return nil }
                return "\(kind) (\(object["apiVersion"]?.stringValue ?? "no apiVersion"))"
            }
            throw Failure(
                field: "--manifest",
                message:
                    "\(file) holds no KServe InferenceService (apiVersion serving.kserve.io/v1beta1)\(found.isEmpty ? "" : "; found \(found.joined(separator: ", "))"); for another server's config use --config FILE"
            )
        }
        let service: JSONValue
        if services.count == 1 {
            service = services[0]
        } else {
            let names = services.compactMap { $0["metadata"]?["name"]?.stringValue }
            guard let endpoint, let match = services.first(where: { $0["metadata"]?["name"]?.stringValue == endpoint }) else {
                throw Failure(
                    field: "--manifest",
                    message:
                        "\(file) holds \(services.count) InferenceServices (\(names.joined(separator: ", "))); pick one with --endpoint NAMESPACE/NAME"
                )
            }
            service = match
        }
        return try describe(service, file: file, data: data, text: text, documents: documents)
    }

    /// Reads any other server's config, kept verbatim: JSON when it parses as JSON, else YAML.
    public func plain(file: String) throws -> Serving {
        let (data, text) = try read(file, field: "--config")
        let format: String
        let document: JSONValue
        if let json = try? JSONValue.parse(text) {
            (format, document) = ("json", json)
        } else {
            do {
                guard let node = try Yams.compose(yaml: text) else { throw Failure(field: "--config", message: "\(file) is empty") }
                (format, document) = ("yaml", try ConfigLoader.json(from: node))
            } catch let failure as Failure {
                throw failure
            } catch {
                throw Failure(field: "--config", message: "\(file) is neither JSON nor YAML: \(error)")
            }
        }
        guard case .object(let members) = Self.redacted(document) else {
            throw Failure(field: "--config", message: "\(file) must hold a mapping of settings, not a \(document.typeName)")
        }
        return Serving(
            manifest: manifest(format: format, file: file, data: data, text: text, document: document), config: members, environment: nil, name: nil,
            namespace: nil,
            storageURI: nil, canaryTrafficPercent: nil, labels: [:])
    }

    private func read(_ file: String, field: String) throws -> (Data, String) {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw Failure(field: field, message: "cannot read \(file)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw Failure(field: field, message: "\(file) is not UTF-8 text")
        }
        return (data, text)
    }

    /// The file as recorded: its digest (of the bytes as given) always; its text only when it is small enough
    /// and holds no secret — when redaction would change any of its settings (a secret-named key, a
    /// secret-named `env` entry, a password in a URL), no rule for rewriting text in place is trusted with it,
    /// and the parsed, redacted settings are what is kept.
    private func manifest(format: String, file: String, data: Data, text: String, document: JSONValue) -> ServingManifest {
        let holdsSecrets = Self.redacted(document) != document
        let keep = data.count <= ServingManifest.maxStoredText && !holdsSecrets
        return ServingManifest(
            format: format, file: URL(fileURLWithPath: file).lastPathComponent, digest: ContentDigest(hashing: Array(data)),
            text: keep ? text : nil, redacted: holdsSecrets)
    }

    private func describe(_ service: JSONValue, file: String, data: Data, text: String, documents: [JSONValue]) throws -> Serving {
        let metadata = service["metadata"]
        let predictor = service["spec"]?["predictor"]
        guard let predictor, predictor.objectValue != nil else {
            throw Failure(field: "--manifest", message: "the InferenceService in \(file) has no spec.predictor")
        }
        // The model: `predictor.model` (v1beta1), or a framework key of the older spelling.
        var model = predictor["model"]
        var format = model?["modelFormat"]
        if model == nil, let framework = Self.frameworks.first(where: { predictor[$0] != nil }) {
            model = predictor[framework]
            format = ["name": .string(framework)]
        }
        var config: [String: JSONValue] = ["kind": "InferenceService", "apiVersion": service["apiVersion"] ?? .null]
        config["name"] = metadata?["name"]
        config["namespace"] = metadata?["namespace"]
        config["modelFormat"] = format
        config["storageUri"] = model?["storageUri"].map { .string(SecretRedactor.stripURLCredentials($0.stringValue ?? "")) }
        config["runtime"] = model?["runtime"]
        config["runtimeVersion"] = model?["runtimeVersion"]
        config["protocolVersion"] = model?["protocolVersion"]
        for key in ["minReplicas", "maxReplicas", "canaryTrafficPercent", "serviceAccountName", "scaleMetric", "scaleTarget"] {
            config[key] = predictor[key]
        }
        var environment: [String: JSONValue] = ["platform": "kserve"]
        let images = Self.images(in: service["spec"])
        if !images.isEmpty { environment["images"] = .array(images) }
        environment["runtime"] = model?["runtime"]
        environment["runtimeVersion"] = model?["runtimeVersion"]
        environment["resources"] = model?["resources"] ?? predictor["resources"]
        var canary: Int?
        if let share = predictor["canaryTrafficPercent"] {
            guard case .int(let percent) = share, (0...100).contains(percent) else {
                throw Failure(field: "spec.predictor.canaryTrafficPercent", message: "must be a whole number from 0 to 100")
            }
            canary = percent == 100 ? nil : Int(percent)
        }
        var labels: [String: String] = [:]
        for (key, value) in metadata?["labels"]?.objectValue ?? [:] { labels[key] = value.stringValue ?? value.canonicalString }
        return Serving(
            manifest: manifest(format: "kserve", file: file, data: data, text: text, document: .array(documents)),
            config: (Self.redacted(.object(config.filter { $0.value != .null })).objectValue ?? [:]),
            environment: Self.redacted(.object(environment.filter { $0.value != .null })).objectValue,
            name: metadata?["name"]?.stringValue, namespace: metadata?["namespace"]?.stringValue,
            storageURI: model?["storageUri"]?.stringValue, canaryTrafficPercent: canary, labels: labels)
    }

    /// Every container image of the predictor, transformer and explainer, with its digest when pinned
    /// (`image@sha256:…`).
    static func images(in spec: JSONValue?) -> [JSONValue] {
        var out: [JSONValue] = []
        for component in ["predictor", "transformer", "explainer"] {
            guard let part = spec?[component] else { continue }
            var containers = part["containers"]?.arrayValue ?? []
            if let model = part["model"], model["image"] != nil { containers.insert(model, at: 0) }
            for framework in frameworks { if let spelled = part[framework], spelled["image"] != nil { containers.append(spelled) } }
            for container in containers {
                guard let image = container["image"]?.stringValue else { continue }
                var entry: [String: JSONValue] = ["component": .string(component), "image": .string(image)]
                if let name = container["name"]?.stringValue { entry["name"] = .string(name) }
                if let at = image.range(of: "@sha256:") {
                    entry["digest"] = .string(String(image[image.index(after: at.lowerBound)...]))
                }
                out.append(.object(entry))
            }
        }
        return out
    }

    /// Settings with secrets removed: secret-named keys, and Kubernetes `env` entries (`name`/`value`
    /// pairs) whose name is secret.
    static func redacted(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(var members):
            if let name = members["name"]?.stringValue, SecretRedactor.isSecretName(name), members["value"] != nil {
                members["value"] = .string(SecretRedactor.placeholder)
            }
            return SecretRedactor.redactSecrets(.object(members.mapValues(redacted)))
        case .array(let elements): return .array(elements.map(redacted))
        default: return SecretRedactor.redactSecrets(value)
        }
    }
}
