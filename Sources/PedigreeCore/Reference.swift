import Foundation

/// Identifies one artifact, run or deployment endpoint. There is exactly one canonical text form, printed
/// everywhere and accepted everywhere:
///
///     dataset:warehouse/transactions@v1        KIND:NAMESPACE/NAME@VERSION
///     model:fraud-team/fraud                   no @VERSION: the latest version
///     run:01a22261-7f25-758a-96b1-b13c09406106
///     deployment:fraud-team/fraud-api           a serving endpoint
///
/// OpenLineage namespaces are URIs (`s3://bucket`, `trino://host:1337`), and dataset names contain `/`
/// (`imagenet/train`). The first `/` after `KIND:` always ends the namespace, so a namespace writes `/` as
/// `%2F`; `@` and `%` are written `%40` and `%25` in namespaces and names. The version is everything after
/// the first unescaped `@`, verbatim. Thus `s3://datasets` + `imagenet/train` + `v3` is
/// `dataset:s3:%2F%2Fdatasets/imagenet/train@v3`, and parsing it gives back exactly those three parts.
/// A reference without any `/` (`dataset:transactions@v1`) is in the namespace `default`.
public enum Reference: Hashable, Sendable, CustomStringConvertible {
    case artifact(ArtifactRef)
    case run(String)
    case deployment(namespace: String, endpoint: String)

    public static let defaultNamespace = "default"

    public var description: String {
        switch self {
        case .artifact(let a): a.description
        case .run(let id): "run:\(id)"
        case .deployment(let ns, let endpoint):
            "deployment:\(Self.escape(ns, reserved: "%/@"))/\(Self.escape(endpoint, reserved: "%@"))"
        }
    }

    public init(parsing text: String) throws(ValidationError) {
        guard let colon = text.firstIndex(of: ":") else {
            throw ValidationError(
                field: "reference",
                "'\(text)' has no kind; write KIND:NAMESPACE/NAME[@VERSION], e.g. model:fraud-team/fraud@2 or run:<uuid>")
        }
        let kind = String(text[..<colon])
        let rest = String(text[text.index(after: colon)...])
        switch kind {
        case "run":
            self = .run(try Self.validRunID(rest, field: "reference"))
        case "deployment":
            let (ns, endpoint, version) = try Self.splitPath(rest, whole: text)
            guard version == nil else {
                throw ValidationError(field: "reference", "'\(text)': a deployment reference has no @VERSION; use --at TIME for history")
            }
            self = .deployment(namespace: ns, endpoint: endpoint)
        default:
            try ArtifactRef.validateKind(kind, field: "reference")
            let (ns, name, version) = try Self.splitPath(rest, whole: text)
            self = .artifact(ArtifactRef(kind: kind, namespace: ns, name: name, version: version))
        }
    }

    /// Accepts an external model reference (`hf://org/name@rev`, `s3://bucket/path@v`) or a canonical one.
    /// External references become models in a namespace named after the scheme: `hf://google/bert@abc` is
    /// `model:hf/google/bert@abc`, so the same base model is one node however it is written.
    public init(parsingModel text: String) throws(ValidationError) {
        // SCHEME:// before any other ':' (canonical references have KIND: first, with no '//' after it).
        if let colon = text.utf8.firstIndex(of: UInt8(ascii: ":")), text.utf8[colon...].starts(with: "://".utf8) {
            let scheme = String(text[..<colon])
            let path = String(text[text.utf8.index(colon, offsetBy: 3)...])
            let (name, version) = path.firstIndex(of: "@").map { (String(path[..<$0]), String(path[path.index(after: $0)...])) } ?? (path, nil)
            guard !scheme.isEmpty, !name.isEmpty, version.map({ !$0.isEmpty }) ?? true else {
                throw ValidationError(
                    field: "reference",
                    "'\(text)' is not a valid external model reference; write SCHEME://NAME@REVISION, e.g. hf://google/bert-base-uncased@86b5e09")
            }
            self = .artifact(ArtifactRef(kind: "model", namespace: scheme, name: name, version: version))
            return
        }
        try self.init(parsing: text)
    }

    static func validRunID(_ id: String, field: String) throws(ValidationError) -> String {
        guard !id.isEmpty, id.utf8.count <= 128, id.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "/") }) else {
            throw ValidationError(
                field: field, "run id '\(id)' must be 1–128 printable ASCII characters without spaces or '/' (OpenLineage uses UUIDs)")
        }
        // UUIDs compare case-insensitively; lower-case is their canonical form.
        return id.utf8.contains(where: { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }) ? id.lowercased() : id
    }

    private static func splitPath(_ rest: String, whole: String) throws(ValidationError) -> (String, String, String?) {
        let (path, version): (Substring, String?)
        if let at = rest.firstIndex(of: "@") {
            path = rest[..<at]
            version = String(rest[rest.index(after: at)...])
        } else {
            (path, version) = (Substring(rest), nil)
        }
        let (rawNamespace, rawName): (Substring, Substring)
        if let slash = path.firstIndex(of: "/") {
            (rawNamespace, rawName) = (path[..<slash], path[path.index(after: slash)...])
        } else {
            (rawNamespace, rawName) = (Substring(defaultNamespace), path)
        }
        guard let namespace = unescape(rawNamespace), let name = unescape(rawName) else {
            throw ValidationError(field: "reference", "'\(whole)' has a malformed %-escape; only %2F (/), %40 (@) and %25 (%) are used")
        }
        guard !namespace.isEmpty, !name.isEmpty else {
            throw ValidationError(field: "reference", "'\(whole)' needs a namespace and a name: KIND:NAMESPACE/NAME[@VERSION]")
        }
        // `model:s3://bucket/x`: the first '/' ended the namespace at "s3:".
        if namespace.hasSuffix(":"), name.hasPrefix("/") {
            let kind = whole.prefix { $0 != ":" }
            let escaped = String(whole.dropFirst(kind.count + 1)).replacingOccurrences(of: "://", with: ":%2F%2F")
            throw ValidationError(
                field: "reference",
                "'\(whole)': the first '/' ends the namespace, so a namespace that is a URI writes its '/' as %2F: \(kind):\(escaped)")
        }
        if let version, version.isEmpty {
            throw ValidationError(field: "reference", "'\(whole)' has an empty version after '@'; drop the '@' to mean the latest version")
        }
        return (namespace, name, version)
    }

    static func escape(_ text: String, reserved: String) -> String {
        // Fast path: references are built on every write, and almost none need escaping.
        let reservedBytes = Array(reserved.utf8)
        guard text.utf8.contains(where: { reservedBytes.contains($0) }) else { return text }
        var out = ""
        for ch in text {
            switch ch {
            case "%" where reserved.contains(ch): out += "%25"
            case "/" where reserved.contains(ch): out += "%2F"
            case "@" where reserved.contains(ch): out += "%40"
            default: out.append(ch)
            }
        }
        return out
    }

    static func unescape(_ text: Substring) -> String? {
        guard text.contains("%") else { return String(text) }
        var out = ""
        var i = text.startIndex
        while i < text.endIndex {
            if text[i] == "%" {
                let end = text.index(i, offsetBy: 3, limitedBy: text.endIndex) ?? text.endIndex
                switch text[i..<end].uppercased() {
                case "%25": out += "%"
                case "%2F": out += "/"
                case "%40": out += "@"
                default: return nil
                }
                i = end
            } else {
                out.append(text[i])
                i = text.index(after: i)
            }
        }
        return out
    }
}

/// An artifact version, or (with `version == nil`) the latest version of an artifact.
public struct ArtifactRef: Hashable, Sendable, CustomStringConvertible {
    public var kind: String
    public var namespace: String
    public var name: String
    public var version: String?

    public init(kind: String, namespace: String, name: String, version: String? = nil) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.version = version
    }

    public var unversioned: ArtifactRef { ArtifactRef(kind: kind, namespace: namespace, name: name) }

    public var description: String {
        let base = "\(kind):\(Reference.escape(namespace, reserved: "%/@"))/\(Reference.escape(name, reserved: "%@"))"
        return version.map { "\(base)@\($0)" } ?? base
    }

    /// Kinds are lower-case identifiers: `dataset`, `model`, `feature-set`, `evaluation-report`, …
    static func validateKind(_ kind: String, field: String) throws(ValidationError) {
        _ = try Kind(kind, field: field)
    }
}
