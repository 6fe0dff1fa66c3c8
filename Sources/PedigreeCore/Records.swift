import Foundation

/// An artifact as a run or an event names it: a reference (perhaps without a version yet) plus what is
/// known of its content. The store resolves a missing version: the version with the same digest, else the
/// next integer version; an input without digest or version means the latest version.
public struct ArtifactSpec: Hashable, Sendable {
    public var ref: ArtifactRef
    public var digest: ContentDigest?
    /// Other tools' digests of the same content (`md5:…` from DVC), for cross-referencing.
    public var aliasDigests: [String]
    public var uri: String?
    /// Facets Pedigree does not interpret (schema, data source, …), kept verbatim.
    public var facets: [String: JSONValue]

    public init(ref: ArtifactRef, digest: ContentDigest? = nil, aliasDigests: [String] = [], uri: String? = nil, facets: [String: JSONValue] = [:]) {
        self.ref = ref
        self.digest = digest
        self.aliasDigests = aliasDigests
        self.uri = uri
        self.facets = facets
    }

    static let keys: Set<String> = ["kind", "namespace", "name", "version", "digest", "aliasDigests", "uri", "facets"]

    public init(json value: JSONValue, path: String, defaultNamespace: String) throws(ValidationError) {
        let reader = try FieldReader(value, path: path)
        try reader.rejectUnknownKeys(Self.keys)
        let kind = try reader.string("kind", hint: "e.g. \"dataset\" or \"model\"")
        try ArtifactRef.validateKind(kind, field: reader.fieldPath("kind"))
        let namespace = try reader.optionalString("namespace") ?? defaultNamespace
        try validateNamespace(namespace, field: reader.fieldPath("namespace"))
        ref = ArtifactRef(kind: kind, namespace: namespace, name: try reader.string("name"), version: try reader.optionalString("version"))
        if let text = try reader.optionalString("digest") {
            guard let digest = ContentDigest(text) else {
                throw ValidationError(field: reader.fieldPath("digest"), "'\(text)' must be sha256:<64 hex digits>")
            }
            self.digest = digest
        }
        aliasDigests = []
        for (i, alias) in try reader.array("aliasDigests").enumerated() {
            guard let text = alias.stringValue, text.contains(":") else {
                throw ValidationError(field: "\(reader.fieldPath("aliasDigests"))[\(i)]", "must be a string ALGORITHM:HEX, e.g. md5:0b3c…")
            }
            aliasDigests.append(text)
        }
        uri = try reader.optionalString("uri")
        facets = try reader.optionalObject("facets") ?? [:]
    }

    public var json: JSONValue {
        var out: [String: JSONValue] = ["kind": .string(ref.kind), "namespace": .string(ref.namespace), "name": .string(ref.name)]
        if let version = ref.version { out["version"] = .string(version) }
        if let digest { out["digest"] = .string(digest.description) }
        if !aliasDigests.isEmpty { out["aliasDigests"] = .array(aliasDigests.map(JSONValue.string)) }
        if let uri { out["uri"] = .string(uri) }
        if !facets.isEmpty { out["facets"] = .object(facets) }
        return .object(out)
    }
}

/// One edge between a run and an artifact, with the part the artifact played (`train`, `validation`,
/// `test`, `base-model`, `model`, …).
public struct ArtifactUse: Hashable, Sendable {
    public var artifact: ArtifactSpec
    public var role: String
    public var facets: [String: JSONValue]

    public init(artifact: ArtifactSpec, role: String, facets: [String: JSONValue] = [:]) {
        self.artifact = artifact
        self.role = role
        self.facets = facets
    }

    /// Accepts `{"ref": "dataset:warehouse/tx@v1", "role": "train"}` or `{"artifact": {…}, "role": …}`.
    public init(json value: JSONValue, path: String, defaultNamespace: String, defaultRole: String) throws(ValidationError) {
        let reader = try FieldReader(value, path: path)
        try reader.rejectUnknownKeys(["ref", "artifact", "role", "facets"])
        switch (reader.value("ref"), reader.value("artifact")) {
        case (let ref?, nil):
            guard let text = ref.stringValue else { throw ValidationError(field: reader.fieldPath("ref"), "must be a reference string") }
            let parsed: Reference
            do throws(ValidationError) { parsed = try Reference(parsingModel: text) } catch {
                throw ValidationError(field: reader.fieldPath("ref"), error.message)
            }
            guard case .artifact(let a) = parsed else {
                throw ValidationError(field: reader.fieldPath("ref"), "'\(text)' is not an artifact; runs use and generate artifacts")
            }
            artifact = ArtifactSpec(ref: a)
        case (nil, let spec?):
            artifact = try ArtifactSpec(json: spec, path: reader.fieldPath("artifact"), defaultNamespace: defaultNamespace)
        default:
            throw ValidationError(field: path, "needs exactly one of \"ref\" (a reference string) or \"artifact\" (an object)")
        }
        role = try reader.optionalString("role") ?? defaultRole
        try validateIdentifier(role, field: reader.fieldPath("role"))
        facets = try reader.optionalObject("facets") ?? [:]
    }

    public var json: JSONValue {
        var out: [String: JSONValue] = ["artifact": artifact.json, "role": .string(role)]
        if !facets.isEmpty { out["facets"] = .object(facets) }
        return .object(out)
    }
}

/// A run: one execution of a job, with what it used and generated and the five dimensions.
/// Several events may describe one run (START, then COMPLETE); `merged(with:)` folds them.
public struct RunRecord: Hashable, Sendable {
    public var id: String
    public var job: String
    public var status: RunStatus?
    public var startedAt: Timestamp?
    public var endedAt: Timestamp?
    public var inputs: [ArtifactUse]
    public var outputs: [ArtifactUse]
    /// Base models this run fine-tuned or transferred from (registered or external, e.g. `hf://org/name@rev`).
    public var parents: [ArtifactRef]
    public var code: CodeFacet?
    public var environment: EnvironmentFacet?
    public var hyperparameters: [String: JSONValue]?
    public var data: DataFacet?
    public var metrics: [String: JSONValue]?
    /// The run this one is part of (OpenLineage's `parent` run facet), as `run:<id>`.
    public var parentRun: String?
    /// Facets Pedigree does not interpret, kept verbatim.
    public var facets: [String: JSONValue]

    public init(id: String, job: String, status: RunStatus? = nil) {
        self.id = id
        self.job = job
        self.status = status
        inputs = []
        outputs = []
        parents = []
        facets = [:]
    }

    static let keys: Set<String> = [
        "id", "job", "status", "startedAt", "endedAt", "inputs", "outputs", "parents", "code", "environment",
        "hyperparameters", "data", "metrics", "parentRun", "facets",
    ]

    /// Parses and validates a run record. `requireOrderedTimes: false` is for a record folded from several
    /// events (START from one producer, COMPLETE from another with a skewed clock), which results carry.
    public init(json value: JSONValue, path: String, namespace: String, requireOrderedTimes: Bool = true) throws(ValidationError) {
        let reader = try FieldReader(value, path: path)
        try reader.rejectUnknownKeys(Self.keys)
        id = try Reference.validRunID(try reader.string("id", hint: "a unique run id, e.g. a UUID"), field: reader.fieldPath("id"))
        job = try reader.string("job", hint: "the name of what ran, e.g. \"train-fraud\"")
        if let text = try reader.optionalString("status") {
            guard let status = RunStatus(rawValue: text.uppercased()) else {
                throw ValidationError(
                    field: reader.fieldPath("status"), "'\(text)' is not one of \(RunStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            self.status = status
        }
        startedAt = try readTimestamp(reader, "startedAt")
        endedAt = try readTimestamp(reader, "endedAt")
        inputs = try reader.array("inputs").enumerated().map { (i, v) throws(ValidationError) in
            try ArtifactUse(json: v, path: "\(reader.fieldPath("inputs"))[\(i)]", defaultNamespace: namespace, defaultRole: "input")
        }
        outputs = try reader.array("outputs").enumerated().map { (i, v) throws(ValidationError) in
            try ArtifactUse(json: v, path: "\(reader.fieldPath("outputs"))[\(i)]", defaultNamespace: namespace, defaultRole: "output")
        }
        parents = try reader.array("parents").enumerated().map { (i, v) throws(ValidationError) in
            let field = "\(reader.fieldPath("parents"))[\(i)]"
            guard let text = v.stringValue else { throw ValidationError(field: field, "must be a model reference string") }
            let parsed: Reference
            do throws(ValidationError) { parsed = try Reference(parsingModel: text) } catch { throw ValidationError(field: field, error.message) }
            guard case .artifact(let a) = parsed, a.kind == "model" else {
                throw ValidationError(field: field, "'\(text)' is not a model; a parent is model:NS/NAME@VERSION or hf://org/name@revision")
            }
            return a
        }
        code = try reader.value("code").map { v throws(ValidationError) in try CodeFacet(json: v, path: reader.fieldPath("code")) }
        environment = try reader.value("environment").map { v throws(ValidationError) in
            try EnvironmentFacet(json: v, path: reader.fieldPath("environment"))
        }
        hyperparameters = try reader.optionalObject("hyperparameters")
        data = try reader.value("data").map { v throws(ValidationError) in try DataFacet(json: v, path: reader.fieldPath("data")) }
        metrics = try reader.optionalObject("metrics")
        if let parent = try reader.optionalString("parentRun") {
            let bare = parent.hasPrefix("run:") ? String(parent.dropFirst(4)) : parent
            parentRun = "run:" + (try Reference.validRunID(bare, field: reader.fieldPath("parentRun")))
        }
        facets = try reader.optionalObject("facets") ?? [:]
        if requireOrderedTimes, let startedAt, let endedAt, endedAt < startedAt {
            throw ValidationError(field: reader.fieldPath("endedAt"), "\(endedAt) is before startedAt \(startedAt)")
        }
    }

    public var json: JSONValue {
        var out: [String: JSONValue] = ["id": .string(id), "job": .string(job)]
        if let status { out["status"] = .string(status.rawValue) }
        if let startedAt { out["startedAt"] = .string(startedAt.description) }
        if let endedAt { out["endedAt"] = .string(endedAt.description) }
        if !inputs.isEmpty { out["inputs"] = .array(inputs.map(\.json)) }
        if !outputs.isEmpty { out["outputs"] = .array(outputs.map(\.json)) }
        if !parents.isEmpty { out["parents"] = .array(parents.map { .string($0.description) }) }
        if let code { out["code"] = .object(code.json) }
        if let environment { out["environment"] = .object(environment.json) }
        if let hyperparameters { out["hyperparameters"] = .object(hyperparameters) }
        if let data { out["data"] = .object(data.json) }
        if let metrics { out["metrics"] = .object(metrics) }
        if let parentRun { out["parentRun"] = .string(parentRun) }
        if !facets.isEmpty { out["facets"] = .object(facets) }
        return .object(out)
    }

    /// The run as known after `later` arrived: later values win field by field, inputs, outputs and parents
    /// accumulate, hyperparameters merge deeply, metrics and unknown facets merge by key. START-then-COMPLETE gives the complete picture.
    public func merged(with later: RunRecord) -> RunRecord {
        var out = self
        out.job = later.job
        out.status = later.status ?? status
        out.startedAt = startedAt ?? later.startedAt
        out.endedAt = later.endedAt ?? endedAt
        for use in later.inputs where !out.inputs.contains(use) { out.inputs.append(use) }
        for use in later.outputs where !out.outputs.contains(use) { out.outputs.append(use) }
        for parent in later.parents where !out.parents.contains(parent) { out.parents.append(parent) }
        out.code = later.code ?? code
        out.environment = later.environment ?? environment
        // Parameters arrive in pieces from incremental loggers (MLflow's log_param): later keys are added,
        // nested objects merge, and a key given again takes its later value.
        if let laterParameters = later.hyperparameters {
            out.hyperparameters = JSONValue.object(hyperparameters ?? [:]).merging(.object(laterParameters)).objectValue
        }
        out.data = later.data ?? data
        if let laterMetrics = later.metrics { out.metrics = (metrics ?? [:]).merging(laterMetrics) { _, new in new } }
        out.facets = facets.merging(later.facets) { _, new in new }
        out.parentRun = later.parentRun ?? parentRun
        return out
    }
}

func readTimestamp(_ reader: FieldReader, _ key: String) throws(ValidationError) -> Timestamp? {
    guard let text = try reader.optionalString(key) else { return nil }
    guard let t = Timestamp(text) else {
        throw ValidationError(field: reader.fieldPath(key), "'\(text)' is not an RFC 3339 time such as 2026-11-28T13:39:04Z")
    }
    return t
}

func validateNamespace(_ namespace: String, field: String) throws(ValidationError) {
    _ = try Namespace(namespace, field: field)
}

func validateIdentifier(_ text: String, field: String) throws(ValidationError) {
    _ = try Role(text, field: field)
}
