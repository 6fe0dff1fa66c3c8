/// This build of Pedigree.
public enum Pedigree {
    public static let version = "0.3.0"
}

/// Validated values: every way into Pedigree (event JSON, the CLI's flags, capture, the server) builds
/// these with the same throwing initialisers, so one rule decides what a namespace, a kind or a role may be,
/// and nothing that passes at one door is refused when it is read back through another.

/// The unit of ownership and of hash chaining: a team or project, or an OpenLineage namespace URI
/// (`s3://bucket`). 1–1024 bytes without spaces or ASCII control characters. (Other Unicode is allowed:
/// everything that prints recorded text escapes what a terminal would obey.)
public struct Namespace: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: String

    public init(_ text: String, field: String = "namespace") throws(ValidationError) {
        guard !text.isEmpty, text.utf8.count <= 1024, text.utf8.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else {
            throw ValidationError(
                field: field, "'\(text)' must be 1–1024 bytes without spaces or control characters, e.g. fraud-team or s3://datasets")
        }
        rawValue = text
    }

    public var description: String { rawValue }
    public static func < (a: Namespace, b: Namespace) -> Bool { a.rawValue < b.rawValue }
}

/// An artifact kind: a lower-case word (`dataset`, `model`, `feature-set`, `evaluation-report`). `run` and
/// `deployment` are node kinds of their own, not artifact kinds.
public struct Kind: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(_ text: String, field: String = "kind") throws(ValidationError) {
        let bytes = text.utf8
        let lower = UInt8(ascii: "a")...UInt8(ascii: "z")
        let ok =
            bytes.first.map { lower.contains($0) } ?? false
            && bytes.allSatisfy {
                lower.contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
            }
        guard ok, text != "run", text != "deployment" else {
            throw ValidationError(field: field, "'\(text)' is not an artifact kind; use a lower-case word such as dataset or model")
        }
        rawValue = text
    }

    public var description: String { rawValue }
}

/// The part an artifact played in a run (`train`, `validation`, `test`, `base-model`, `model`, `output`):
/// a short word of ASCII letters, digits, '-', '_' or '.'.
public struct Role: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(_ text: String, field: String = "role") throws(ValidationError) {
        guard !text.isEmpty, text.utf8.count <= 64, text.utf8.allSatisfy(isWordByte) else {
            throw ValidationError(
                field: field, "'\(text)' must be a short word of ASCII letters, digits, '-', '_' or '.' (e.g. train, validation, base-model)")
        }
        rawValue = text
    }

    public var description: String { rawValue }
}

/// One of the five dimensions of a model's lineage, in the order they are shown.
public enum Dimension: String, Sendable, CaseIterable, Codable {
    case data, code, parents, hyperparameters, environment
}

/// ASCII letters, digits, '-', '_' and '.'.
func isWordByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
        UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
        true
    default: false
    }
}
