import PedigreeCore

/// Cypher for a property graph database: schema statements first, then `MERGE` statements for every node
/// and relationship, one a line, so loading the file twice leaves the graph as loading it once. Labels
/// `Dataset`, `Model`, `Run`, `Deployment` (other artifact kinds: `Artifact`); relationships `USED`,
/// `GENERATED`, `DERIVED_FROM`, `SERVES`; flat properties with the canonical `ref` on every node. The data
/// statements are the same for every dialect; only the schema differs (Neo4j 5 constraints and indexes, or
/// Kùzu's typed tables).
public enum CypherExport {
    public enum Dialect: String, CaseIterable, Sendable {
        case neo4j, kuzu
    }

    /// Which node labels each relationship connects, for databases whose relationships are typed by endpoints.
    static let relationshipEnds: [(String, [(String, String)])] = [
        ("USED", ["Dataset", "Model", "Artifact"].map { ("Run", $0) }),
        ("GENERATED", ["Dataset", "Model", "Artifact"].map { ("Run", $0) }),
        ("DERIVED_FROM", ["Model", "Dataset", "Artifact"].map { ("Model", $0) }),
        ("SERVES", ["Model", "Artifact"].map { ("Deployment", $0) }),
    ]

    public static func write(_ source: any ExportSource, dialect: Dialect, to write: (String) throws -> Void) throws {
        try write(schema(dialect))
        try source.forEachNode(.all) { node in
            let values = NodeProperties.values(node)
            let label = NodeProperties.label(node.summary.kind)
            let assignments = NodeProperties.names.dropFirst().compactMap { name in values[name].map { "n.\(name) = \(literal($0))" } }
            try write("MERGE (n:\(label) {ref: \(literal(node.summary.ref))}) SET \(assignments.joined(separator: ", "));\n")
        }
        try source.forEachRelation(Set(ExportRelation.RelationType.allCases)) { relation in
            let (a, b) = (NodeProperties.label(relation.subjectKind), NodeProperties.label(relation.objectKind))
            try write(
                "MATCH (a:\(a) {ref: \(literal(relation.subject))}), (b:\(b) {ref: \(literal(relation.object))}) "
                    + "MERGE (a)-[r:\(relation.label) {role: \(literal(relation.role))}]->(b) SET r.recordedAt = \(literal(relation.time.description));\n"
            )
        }
    }

    static func schema(_ dialect: Dialect) -> String {
        switch dialect {
        case .neo4j:
            var out = "// Pedigree lineage for Neo4j 5: schema, then the graph. Every statement is idempotent.\n"
            for label in NodeProperties.labels {
                let name = label.lowercased()
                out += "CREATE CONSTRAINT pedigree_\(name)_ref IF NOT EXISTS FOR (n:\(label)) REQUIRE n.ref IS UNIQUE;\n"
                out += "CREATE INDEX pedigree_\(name)_line IF NOT EXISTS FOR (n:\(label)) ON (n.namespace, n.name);\n"
            }
            return out
        case .kuzu:
            var out = "// Pedigree lineage for Kùzu: typed tables, then the graph. Every statement is idempotent.\n"
            let columns = NodeProperties.names.map { "\($0) STRING" }.joined(separator: ", ")
            for label in NodeProperties.labels { out += "CREATE NODE TABLE IF NOT EXISTS \(label)(\(columns), PRIMARY KEY (ref));\n" }
            for (type, ends) in relationshipEnds {
                let pairs = ends.map { "FROM \($0.0) TO \($0.1)" }.joined(separator: ", ")
                out += "CREATE REL TABLE IF NOT EXISTS \(type)(\(pairs), role STRING, recordedAt STRING);\n"
            }
            return out
        }
    }

    /// A Cypher string literal: single-quoted, with backslash escapes for the quote, the backslash and every
    /// control character, so no recorded text can end the literal or the statement.
    static func literal(_ text: String) -> String {
        var out = "'"
        for scalar in text.unicodeScalars {
            switch scalar {
            case "'": out += "\\'"
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if !isShown(scalar) {
                    let hex = String(scalar.value, radix: 16, uppercase: true)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "'"
    }
}

/// Node and relationship files in the layout `neo4j-admin database import full` reads: one node file per
/// label and one relationship file per type, each with a typed header (`ref:ID`, `:LABEL`, `:START_ID`,
/// `:END_ID`, `:TYPE`), every field quoted (RFC 4180). Values are kept exactly — this is an import format,
/// not a spreadsheet, so nothing is prefixed to defuse formulas; open it in a spreadsheet as text.
enum CSVImportExport {
    static func nodeFile(_ label: String) -> String { "nodes-\(label).csv" }
    static func relationshipFile(_ type: String) -> String { "relationships-\(type).csv" }

    static func write(_ source: any ExportSource, to write: (_ part: String, _ text: String) throws -> Void) throws {
        let header = (["ref:ID"] + NodeProperties.names.dropFirst().map { "\($0):string" } + [":LABEL"]).joined(separator: ",") + "\n"
        for label in NodeProperties.labels { try write(nodeFile(label), header) }
        let relationshipHeader = ":START_ID,:END_ID,role:string,recordedAt:string,:TYPE\n"
        for (type, _) in CypherExport.relationshipEnds { try write(relationshipFile(type), relationshipHeader) }
        try source.forEachNode(.all) { node in
            let values = NodeProperties.values(node)
            let label = NodeProperties.label(node.summary.kind)
            // An absent value is an empty, unquoted field: neo4j-admin sets no property for it.
            let fields = NodeProperties.names.map { values[$0].map(field) ?? "" } + [field(label)]
            try write(nodeFile(label), fields.joined(separator: ",") + "\n")
        }
        try source.forEachRelation(Set(ExportRelation.RelationType.allCases)) { relation in
            let fields = [relation.subject, relation.object, relation.role, relation.time.description, relation.label]
            try write(relationshipFile(relation.label), fields.map(field).joined(separator: ",") + "\n")
        }
    }

    static func field(_ text: String) -> String {
        var out = "\""
        for character in text { out += character == "\"" ? "\"\"" : String(character) }
        return out + "\""
    }
}
