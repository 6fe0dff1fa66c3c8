import PedigreeCore

/// The formats `pedigree export` writes from an `ExportSource`, each read by another tool: a provenance
/// document, a lineage event stream, a graph database's statements or import files, a metadata catalogue's proposals, a graph file, a
/// diagram. Every one is a pure function of the source, so the same store gives
/// the same bytes.
public enum ExportFormat: String, CaseIterable, Sendable {
    case provJSON = "prov-json"
    case openLineage = "openlineage"
    case cypher
    /// The same statements with Kùzu's typed tables for schema.
    case cypherKuzu = "cypher-kuzu"
    case csv
    case dataHub = "datahub"
    case graphML = "graphml"
    case dot
    case mermaid

    /// Whether the export is a directory of files (`csv`: the neo4j-admin import layout) rather than one file.
    public var isDirectory: Bool { self == .csv }

    /// Writes the selection in this format. `write(part, text)` appends `text` to the output: `part` is ""
    /// for a one-file format, the file's name inside the directory for `csv`.
    public func write(_ source: any ExportSource, to write: (_ part: String, _ text: String) throws -> Void) throws {
        let single = { (text: String) throws in try write("", text) }
        switch self {
        case .provJSON: try PROVExport.write(source, to: single)
        case .openLineage: try OpenLineageExport.write(source, to: single)
        case .cypher: try CypherExport.write(source, dialect: .neo4j, to: single)
        case .cypherKuzu: try CypherExport.write(source, dialect: .kuzu, to: single)
        case .csv: try CSVImportExport.write(source, to: write)
        case .dataHub: try DataHubExport.write(source, to: single)
        case .graphML: try GraphMLExport.write(source, to: single)
        case .dot: try DOTExport.write(source, to: single)
        case .mermaid: try MermaidExport.write(source, to: single)
        }
    }
}

/// A node's recorded facts as flat, named properties — the shape property graphs and graph files need.
/// Nested records (code, hyperparameters, environment, data, metrics, facets) are canonical JSON strings, so
/// nothing is lost and every value has one type. The same names, in the same order, for every format.
enum NodeProperties {
    static let names = [
        "ref", "kind", "namespace", "name", "version", "digest", "status", "recordedAt", "recordedBy", "uri", "aliasDigests", "job",
        "startedAt", "endedAt", "code", "hyperparameters", "environment", "data", "metrics", "parentRun", "facets",
    ]

    /// Values by name; absent ones are missing from the dictionary.
    static func values(_ node: ExportNode) -> [String: String] {
        let s = node.summary
        var out: [String: String] = ["ref": s.ref, "kind": s.kind, "namespace": s.namespace, "name": s.name, "recordedAt": s.recordedAt.description]
        out["version"] = s.version
        out["digest"] = s.digest?.description
        out["status"] = s.status
        out["recordedBy"] = node.recordedBy
        let record = node.run?.json.objectValue ?? node.artifact?.json.objectValue ?? [:]
        for key in [
            "uri", "aliasDigests", "startedAt", "endedAt", "code", "hyperparameters", "environment", "data", "metrics", "parentRun", "facets",
        ] {
            guard let value = record[key] else { continue }
            if case .object(let members) = value, members.isEmpty { continue }
            out[key] = value.stringValue ?? value.canonicalString
        }
        if node.run != nil { out["job"] = s.name }
        return out
    }

    /// The label a property graph gives a node of this kind.
    static func label(_ kind: String) -> String {
        switch kind {
        case "dataset": "Dataset"
        case "model": "Model"
        case "run": "Run"
        case "deployment": "Deployment"
        default: "Artifact"
        }
    }

    static let labels = ["Dataset", "Model", "Run", "Deployment", "Artifact"]
}

extension ExportRelation {
    /// The relationship type a property graph gives it.
    var label: String {
        switch type {
        case .used: "USED"
        case .generated: "GENERATED"
        case .derivedFrom: "DERIVED_FROM"
        case .serves: "SERVES"
        }
    }
}

/// A short identifier derived from a reference, for formats whose identifiers cannot hold one (Mermaid):
/// the first 64 bits of its SHA-256, so the same reference always gives the same identifier, in any selection,
/// and no recorded name can be chosen to take another node's.
func shortID(_ ref: String) -> String { "n" + JSONValue.string(ref).digest.hex.prefix(16) }

extension ExportRelation {
    /// The relation as the graph stores it, pointing the way data flows (artifact → run → artifact → endpoint):
    /// how a lineage drawing reads left to right.
    var flow: (from: String, to: String) {
        switch type {
        case .used, .serves, .derivedFrom: (object, subject)
        case .generated: (subject, object)
        }
    }

    /// The relations that are the graph's own edges (a derivation is read through the run between two models).
    static let graphEdges: Set<RelationType> = [.used, .generated, .serves]
}

/// Text for XML 1.0 content and attributes: markup escaped, and the characters XML cannot hold at all (most
/// control characters, lone surrogates cannot occur in a Swift string) replaced by U+FFFD.
func xmlEscaped(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
        default:
            let v = scalar.value
            if v < 0x20 || (0x7F...0x9F).contains(v) || v == 0xFFFE || v == 0xFFFF {
                out += "\u{FFFD}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out
}

/// Nested parameters as dotted keys (`optimizer.lr`) with their text (strings as they are, anything else as
/// JSON), in key order: the flat key–value lists OpenLineage and DataHub carry.
func dottedLeaves(_ values: [String: JSONValue]) -> [(String, String)] {
    var out: [(String, String)] = []
    func flatten(_ value: JSONValue, _ path: String) {
        if case .object(let members) = value, !members.isEmpty {
            for key in members.keys.sorted() { flatten(members[key]!, path + "." + key) }
        } else {
            out.append((path, value.stringValue ?? value.canonicalString))
        }
    }
    for key in values.keys.sorted() { flatten(values[key]!, key) }
    return out
}

/// Whether a character may stand in a label as it is: not a control character (C0, DEL, C1 — U+009B starts a
/// terminal escape) nor a bidirectional override or isolate, which would reorder what a reader sees.
func isShown(_ scalar: Unicode.Scalar) -> Bool {
    let v = scalar.value
    return !(v < 0x20 || (0x7F...0x9F).contains(v) || (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v))
}
