import Foundation

/// The five dimensions of a model's pedigree, as typed views over validated JSON.
///
/// Each facet keeps the JSON it was given (`json`), so fields Pedigree does not know are carried through
/// unchanged and digests cover exactly what was recorded; the typed properties read the known fields,
/// whose types are checked when the facet is created.

/// Code: where the training code came from.
public struct CodeFacet: Hashable, Sendable {
    public let json: [String: JSONValue]
    public var repository: String? { json["repository"]?.stringValue }
    public var commit: String? { json["commit"]?.stringValue }
    public var branch: String? { json["branch"]?.stringValue }
    public var tag: String? { json["tag"]?.stringValue }
    public var path: String? { json["path"]?.stringValue }
    /// Whether the working tree had uncommitted changes.
    public var dirty: Bool? { if case .bool(let b)? = json["dirty"] { b } else { nil } }
    /// SHA-256 of the uncommitted diff (`git diff HEAD`), so two dirty runs can be told apart.
    public var diffDigest: String? { json["diffDigest"]?.stringValue }

    public init(json value: JSONValue, path: String) throws(ValidationError) {
        let reader = try FieldReader(value, path: path)
        for key in ["repository", "commit", "branch", "tag", "path", "diff", "diffDigest"] { _ = try reader.optionalString(key) }
        _ = try reader.optionalBool("dirty")
        if let digest = try reader.optionalString("diffDigest"), ContentDigest(digest) == nil {
            throw ValidationError(field: reader.fieldPath("diffDigest"), "must be sha256:<64 hex digits>")
        }
        json = reader.members
    }
}

/// Environment: the machine, runtime and packages a run executed with.
public struct EnvironmentFacet: Hashable, Sendable {
    public let json: [String: JSONValue]
    public var os: String? { json["os"]?.stringValue }
    public var kernel: String? { json["kernel"]?.stringValue }
    public var cpu: String? { json["cpu"]?.stringValue }
    public var cuda: String? { json["cuda"]?.stringValue }
    public var cudnn: String? { json["cudnn"]?.stringValue }
    public var containerImage: String? { json["containerImage"]?.stringValue }
    /// Installed packages: name → version.
    public var packages: [String: String] { json["packages"]?.objectValue?.compactMapValues(\.stringValue) ?? [:] }
    /// Random seeds by where they were found (`PYTHONHASHSEED`, `seed`, `--seed`).
    public var seeds: [String: JSONValue] { json["seeds"]?.objectValue ?? [:] }
    public var runtime: (name: String, version: String?)? {
        guard let r = json["runtime"], let name = r["name"]?.stringValue else { return nil }
        return (name, r["version"]?.stringValue)
    }
    public var gpu: (model: String?, count: Int64?, driver: String?)? {
        guard let g = json["gpu"]?.objectValue else { return nil }
        let count: Int64? = if case .int(let c)? = g["count"] { c } else { nil }
        return (g["model"]?.stringValue, count, g["driver"]?.stringValue)
    }

    public init(json value: JSONValue, path: String) throws(ValidationError) {
        let reader = try FieldReader(value, path: path)
        for key in ["os", "kernel", "cpu", "cuda", "cudnn", "containerImage", "python"] { _ = try reader.optionalString(key) }
        _ = try reader.optionalInt("cpuCount")
        _ = try reader.optionalInt("memoryBytes")
        if let packages = try reader.optionalObject("packages") {
            for (name, version) in packages where version.stringValue == nil {
                throw ValidationError(field: "\(reader.fieldPath("packages")).\(name)", "must be a version string, got \(version.typeName)")
            }
        }
        if let runtime = try reader.optionalReader("runtime") {
            _ = try runtime.string("name", hint: "e.g. {\"name\": \"python\", \"version\": \"3.11.7\"}")
            _ = try runtime.optionalString("version")
        }
        if let gpu = try reader.optionalReader("gpu") {
            _ = try gpu.optionalString("model")
            _ = try gpu.optionalString("driver")
            _ = try gpu.optionalInt("count")
        }
        _ = try reader.optionalObject("seeds")
        if let variables = try reader.optionalObject("variables") {
            for (name, v) in variables where v.stringValue == nil && v != .null {
                throw ValidationError(field: "\(reader.fieldPath("variables")).\(name)", "must be a string, got \(v.typeName)")
            }
        }
        json = reader.members
    }
}

/// Data: how the inputs were prepared and what they looked like when the run used them.
public struct DataFacet: Hashable, Sendable {
    public let json: [String: JSONValue]
    /// Preprocessing steps in order (free-form objects: `{"op": "dropna"}`, `{"op": "scale", "columns": […]}`).
    public var transformations: [JSONValue] { json["transformations"]?.arrayValue ?? [] }
    /// How features were chosen: criteria, the selected list, or both.
    public var featureSelection: JSONValue? { json["featureSelection"] }
    /// Data-quality metrics, keyed by the dataset reference they were measured on.
    public var quality: [String: JSONValue] { json["quality"]?.objectValue ?? [:] }

    public init(json value: JSONValue, path: String) throws(ValidationError) {
        let reader = try FieldReader(value, path: path)
        _ = try reader.array("transformations")
        _ = try reader.optionalObject("quality")
        json = reader.members
    }
}

/// Where a run stands. OpenLineage's event types, which native events use too.
public enum RunStatus: String, Sendable, CaseIterable {
    case start = "START", running = "RUNNING", complete = "COMPLETE", fail = "FAIL", abort = "ABORT", other = "OTHER"

    public var isTerminal: Bool { self == .complete || self == .fail || self == .abort }
}
