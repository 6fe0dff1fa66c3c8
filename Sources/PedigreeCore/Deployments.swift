import Foundation

/// A change to what an endpoint serves, from `validFrom` on.
///
/// `deploy` without `traffic` gives the model all of the endpoint's traffic (a promotion, a rollback or a
/// first deployment); with `traffic` it is a canary taking that share while the model that last had all of
/// it serves the rest. `undeploy` ends service. The serving side of the model's lineage travels with it:
/// the configuration (`config`, parsed; `manifest`, the file as given with its digest), the serving code
/// (`code`, as `pedigree run` captures training code) and the serving environment (`environment`: images,
/// runtime, resources).
public struct DeploymentRecord: Hashable, Sendable {
    public enum Action: String, Hashable, Sendable, CaseIterable { case deploy, undeploy }

    public var endpoint: String
    public var action: Action
    /// The model version served; nil exactly for `undeploy`.
    public var model: ArtifactRef?
    /// A canary's share of traffic in percent (1–99); nil: all of it.
    public var traffic: Int?
    /// Deploys a version that was retired (recorded, so the audit trail shows the override).
    public var force: Bool
    public var config: [String: JSONValue]
    public var manifest: ServingManifest?
    public var code: CodeFacet?
    public var environment: [String: JSONValue]?
    public var validFrom: Timestamp

    public init(
        endpoint: String, model: ArtifactRef, traffic: Int? = nil, force: Bool = false, config: [String: JSONValue] = [:],
        manifest: ServingManifest? = nil, code: CodeFacet? = nil, environment: [String: JSONValue]? = nil, validFrom: Timestamp
    ) {
        self.endpoint = endpoint
        action = .deploy
        self.model = model
        self.traffic = traffic
        self.force = force
        self.config = config
        self.manifest = manifest
        self.code = code
        self.environment = environment
        self.validFrom = validFrom
    }

    /// The endpoint stops serving at `validFrom`.
    public static func undeploy(endpoint: String, validFrom: Timestamp) -> DeploymentRecord {
        DeploymentRecord(undeploying: endpoint, validFrom: validFrom)
    }

    private init(undeploying endpoint: String, validFrom: Timestamp) {
        self.endpoint = endpoint
        action = .undeploy
        force = false
        config = [:]
        self.validFrom = validFrom
    }

    static let keys: Set<String> = ["endpoint", "action", "model", "traffic", "force", "config", "manifest", "code", "environment", "validFrom"]
    public static let trafficRange = 1...99

    public init(json value: JSONValue, path: String, eventTime: Timestamp?) throws(ValidationError) {
        let reader = try FieldReader(value, path: path)
        try reader.rejectUnknownKeys(Self.keys)
        endpoint = try reader.string("endpoint", hint: "the serving endpoint's name, e.g. \"fraud-api\"")
        let actionText = try reader.optionalString("action") ?? Action.deploy.rawValue
        guard let action = Action(rawValue: actionText) else {
            throw ValidationError(
                field: reader.fieldPath("action"), "'\(actionText)' is not one of \(Action.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.action = action
        switch action {
        case .deploy:
            model = try readModelReference(reader, hint: "the model version served, e.g. \"model:fraud-team/fraud@2\"")
        case .undeploy:
            for key in ["model", "traffic", "force", "config", "manifest", "code", "environment"] where reader.has(key) {
                throw ValidationError(field: reader.fieldPath(key), "does not belong in an undeploy, which only ends service")
            }
            model = nil
        }
        if let share = try reader.optionalInt("traffic") {
            guard Self.trafficRange.contains(Int(share)) else {
                throw ValidationError(
                    field: reader.fieldPath("traffic"),
                    "\(share) is outside 1–99: a canary takes part of the traffic; to give a model all of it, deploy it without a share")
            }
            traffic = Int(share)
        }
        force = try reader.optionalBool("force") ?? false
        config = try reader.optionalObject("config") ?? [:]
        manifest = try reader.value("manifest").map { v throws(ValidationError) in try ServingManifest(json: v, path: reader.fieldPath("manifest")) }
        code = try reader.value("code").map { v throws(ValidationError) in try CodeFacet(json: v, path: reader.fieldPath("code")) }
        environment = try reader.optionalObject("environment")
        guard let validFrom = try readTimestamp(reader, "validFrom") ?? eventTime else {
            throw ValidationError(
                field: reader.fieldPath("validFrom"), "is required (or give the event an eventTime): when the endpoint started serving this model")
        }
        self.validFrom = validFrom
    }

    public var json: JSONValue {
        var out: [String: JSONValue] = ["endpoint": .string(endpoint), "validFrom": .string(validFrom.description)]
        if action != .deploy { out["action"] = .string(action.rawValue) }
        if let model { out["model"] = .string(model.description) }
        if let traffic { out["traffic"] = .int(Int64(traffic)) }
        if force { out["force"] = true }
        if !config.isEmpty { out["config"] = .object(config) }
        if let manifest { out["manifest"] = manifest.json }
        if let code { out["code"] = .object(code.json) }
        if let environment { out["environment"] = .object(environment) }
        return .object(out)
    }
}

/// A serving configuration file as it was given: its format, name, the SHA-256 of its bytes (what
/// `sha256sum` prints) and its text, with secret-looking values redacted (`redacted` says so; the digest
/// is still of the original).
public struct ServingManifest: Hashable, Sendable {
    public var format: String
    public var file: String?
    public var digest: ContentDigest
    public var text: String?
    public var redacted: Bool

    /// Formats: a KServe InferenceService, or a plain YAML or JSON serving config of any other server.
    public static let formats = ["kserve", "yaml", "json"]
    /// Larger files are kept as their digest only.
    public static let maxStoredText = 256 * 1024

    public init(format: String, file: String?, digest: ContentDigest, text: String?, redacted: Bool) {
        self.format = format
        self.file = file
        self.digest = digest
        self.text = text
        self.redacted = redacted
    }

    public init(json value: JSONValue, path: String) throws(ValidationError) {
        let reader = try FieldReader(value, path: path)
        try reader.rejectUnknownKeys(["format", "file", "digest", "text", "redacted"])
        format = try reader.string("format", hint: Self.formats.joined(separator: ", "))
        guard Self.formats.contains(format) else {
            throw ValidationError(field: reader.fieldPath("format"), "'\(format)' is not one of \(Self.formats.joined(separator: ", "))")
        }
        file = try reader.optionalString("file")
        let digestText = try reader.string("digest", hint: "sha256:<64 hex digits> of the file")
        guard let digest = ContentDigest(digestText) else {
            throw ValidationError(field: reader.fieldPath("digest"), "'\(digestText)' must be sha256:<64 hex digits>")
        }
        self.digest = digest
        text = try reader.optionalString("text")
        redacted = try reader.optionalBool("redacted") ?? false
    }

    public var json: JSONValue {
        var out: [String: JSONValue] = ["format": .string(format), "digest": .string(digest.description)]
        if let file { out["file"] = .string(file) }
        if let text { out["text"] = .string(text) }
        if redacted { out["redacted"] = true }
        return .object(out)
    }
}

/// A model version taken out of service for good: it can no longer be deployed unless the deployment says
/// `force`. Recorded in the model's own namespace.
public struct RetirementRecord: Hashable, Sendable {
    public var model: ArtifactRef
    public var reason: String
    public var validFrom: Timestamp

    public init(model: ArtifactRef, reason: String, validFrom: Timestamp) {
        self.model = model
        self.reason = reason
        self.validFrom = validFrom
    }

    public init(json value: JSONValue, path: String, namespace: String, eventTime: Timestamp?) throws(ValidationError) {
        let reader = try FieldReader(value, path: path)
        try reader.rejectUnknownKeys(["model", "reason", "validFrom"])
        model = try readModelVersion(
            reader, in: namespace, record: "a retirement", hint: "the model version retired, e.g. \"model:fraud-team/fraud@1\"")
        reason = try reader.string("reason", hint: "why it was retired, for the audit trail")
        guard !reason.allSatisfy(\.isWhitespace) else {
            throw ValidationError(field: reader.fieldPath("reason"), "must say why the version was retired")
        }
        guard let validFrom = try readTimestamp(reader, "validFrom") ?? eventTime else {
            throw ValidationError(field: reader.fieldPath("validFrom"), "is required (or give the event an eventTime): when the version was retired")
        }
        self.validFrom = validFrom
    }

    public var json: JSONValue {
        ["model": .string(model.description), "reason": .string(reason), "validFrom": .string(validFrom.description)]
    }
}

/// What an endpoint serves through a sequence of deployments, applied in valid-time order: the model that
/// last had all traffic (`stable`) and a canary beside it. A canary without another model serving (a log
/// whose history was backfilled around it) counts as taking all traffic.
public struct ServingState: Sendable {
    public private(set) var stable: String?
    public private(set) var canary: (model: String, percent: Int)?

    public init() {}

    public mutating func apply(model: String?, traffic: Int?) {
        guard let model else {
            stable = nil
            canary = nil
            return
        }
        if let traffic, let stable, stable != model {
            canary = (model, traffic)
        } else {
            stable = model
            canary = nil
        }
    }

    /// Who serves and with which share, the stable model first.
    public var shares: [DeploymentEntry.Share] {
        guard let stable else { return [] }
        guard let canary else { return [.init(model: stable, percent: 100)] }
        return [.init(model: stable, percent: 100 - canary.percent), .init(model: canary.model, percent: canary.percent)]
    }

}

/// The `model` member of a record about one version, kept in the model's own namespace (a retirement, a
/// signature): a model reference with a version, in `namespace`.
func readModelVersion(_ reader: FieldReader, in namespace: String, record: String, hint: String) throws(ValidationError) -> ArtifactRef {
    let model = try readModelReference(reader, hint: hint)
    guard model.version != nil else {
        throw ValidationError(field: reader.fieldPath("model"), "'\(model)' names no version; write model:NAMESPACE/NAME@VERSION")
    }
    guard model.namespace == namespace else {
        throw ValidationError(
            field: reader.fieldPath("model"), "\(model) belongs to namespace \(model.namespace): \(record) is recorded in the model's own namespace")
    }
    return model
}

/// The `model` member: a model reference (`model:NAMESPACE/NAME[@VERSION]`).
func readModelReference(_ reader: FieldReader, hint: String) throws(ValidationError) -> ArtifactRef {
    let text = try reader.string("model", hint: hint)
    let parsed: Reference
    do throws(ValidationError) { parsed = try Reference(parsing: text) } catch {
        throw ValidationError(field: reader.fieldPath("model"), error.message)
    }
    guard case .artifact(let model) = parsed, model.kind == "model" else {
        throw ValidationError(field: reader.fieldPath("model"), "'\(text)' is not a model reference")
    }
    return model
}
