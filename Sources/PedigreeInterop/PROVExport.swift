import PedigreeCore

/// W3C PROV-JSON: artifact versions and endpoints are entities, runs are activities, whoever recorded a node
/// and the code repositories runs came from are agents; `used`, `wasGeneratedBy`, `wasDerivedFrom` (a model
/// from its parent, through the fine-tuning run), `wasAssociatedWith` (a run with its recorder and its
/// repository) and `wasAttributedTo` (a node with its recorder). The five dimensions are `pedigree:`
/// attributes (nested records as canonical JSON strings). Each section is one pass over the source, so the
/// document streams however large the store.
enum PROVExport {
    static let namespace = "https://pedigree.dev/ns#"
    static let identifiers = "https://pedigree.dev/id/"

    static func write(_ source: any ExportSource, to write: (String) throws -> Void) throws {
        try write(
            "{\n  \"prefix\": {\"pedigree\": \(json(namespace)), \"id\": \(json(identifiers))},\n")
        var agents: [String: String] = [:]  // id → prov:type, sorted when written (few: recorders and repositories)

        try section("entity", write) { member in
            try source.forEachNode(.entities) { node in
                var attributes = [("prov:type", typed("pedigree:" + NodeProperties.label(node.summary.kind), "prov:QUALIFIED_NAME"))]
                var label = node.summary.name
                if let version = node.summary.version { label += "@" + version }
                attributes.append(("prov:label", json(label)))
                attributes += dimensions(node)
                if let recorder = node.recordedBy { agents[agentID("agent", recorder)] = "prov:Person" }
                try member(id(node.summary.ref), attributes)
            }
        }
        try write(",\n")
        try section("activity", write) { member in
            try source.forEachNode(.runs) { node in
                var attributes = [("prov:type", typed("pedigree:Run", "prov:QUALIFIED_NAME")), ("prov:label", json(node.summary.name))]
                if let started = node.run?.startedAt { attributes.append(("prov:startTime", json(started.description))) }
                if let ended = node.run?.endedAt { attributes.append(("prov:endTime", json(ended.description))) }
                attributes += dimensions(node)
                if let recorder = node.recordedBy { agents[agentID("agent", recorder)] = "prov:Person" }
                if let repository = node.run?.code?.repository { agents[agentID("repository", repository)] = "prov:SoftwareAgent" }
                try member(id(node.summary.ref), attributes)
            }
        }
        try write(",\n")
        try section("agent", write) { member in
            for (agent, type) in agents.sorted(by: { $0.key < $1.key }) {
                try member(agent, [("prov:type", typed(type, "prov:QUALIFIED_NAME"))])
            }
        }
        var counter = 0
        func blank(_ prefix: String) -> String {
            counter += 1
            return "_:\(prefix)\(counter)"
        }
        for (name, type) in [("used", ExportRelation.RelationType.used), ("wasGeneratedBy", .generated), ("wasDerivedFrom", .derivedFrom)] {
            try write(",\n")
            try section(name, write) { member in
                try source.forEachRelation([type]) { relation in
                    switch type {
                    case .used:
                        try member(
                            blank("u"),
                            [
                                ("prov:activity", json(id(relation.subject))), ("prov:entity", json(id(relation.object))),
                                ("prov:role", json(relation.role)), ("prov:time", json(relation.time.description)),
                            ])
                    case .generated:
                        try member(
                            blank("g"),
                            [
                                ("prov:entity", json(id(relation.object))), ("prov:activity", json(id(relation.subject))),
                                ("prov:role", json(relation.role)), ("prov:time", json(relation.time.description)),
                            ])
                    default:
                        try member(
                            blank("d"),
                            [
                                ("prov:generatedEntity", json(id(relation.subject))), ("prov:usedEntity", json(id(relation.object))),
                                ("prov:activity", json(id(relation.role))), ("prov:type", typed("prov:Revision", "prov:QUALIFIED_NAME")),
                            ])
                    }
                }
            }
        }
        try write(",\n")
        try section("wasAssociatedWith", write) { member in
            try source.forEachNode(.runs) { node in
                if let recorder = node.recordedBy {
                    try member(blank("a"), [("prov:activity", json(id(node.summary.ref))), ("prov:agent", json(agentID("agent", recorder)))])
                }
                if let repository = node.run?.code?.repository {
                    try member(blank("a"), [("prov:activity", json(id(node.summary.ref))), ("prov:agent", json(agentID("repository", repository)))])
                }
            }
        }
        try write(",\n")
        try section("wasAttributedTo", write) { member in
            try source.forEachNode(.entities) { node in
                guard let recorder = node.recordedBy else { return }
                try member(blank("t"), [("prov:entity", json(id(node.summary.ref))), ("prov:agent", json(agentID("agent", recorder)))])
            }
        }
        try write("\n}\n")
    }

    /// Writes `"name": { … }`, the members `body` produces one per line.
    private static func section(
        _ name: String, _ write: (String) throws -> Void, _ body: (_ member: (String, [(String, String)]) throws -> Void) throws -> Void
    ) throws {
        try write("  \(json(name)): {")
        var first = true
        try withoutActuallyEscaping(write) { write in
            try body { id, attributes in
                let members = attributes.map { "\(json($0.0)): \($0.1)" }.joined(separator: ", ")
                try write((first ? "\n" : ",\n") + "    \(json(id)): {\(members)}")
                first = false
            }
        }
        try write(first ? "}" : "\n  }")
    }

    /// The node's recorded facts as `pedigree:` attributes, each a JSON value (nested records as canonical JSON text).
    private static func dimensions(_ node: ExportNode) -> [(String, String)] {
        let values = NodeProperties.values(node)
        return NodeProperties.names.compactMap { name in values[name].map { ("pedigree:\(name)", json($0)) } }
    }

    /// A qualified name in the `id:` namespace: the reference with every character outside PROV's safe
    /// local-name set percent-encoded, so any reference (names are free text) is a valid identifier.
    static func id(_ ref: String) -> String { "id:" + percentEncoded(ref) }

    static func agentID(_ kind: String, _ name: String) -> String { "id:" + kind + "/" + percentEncoded(name) }

    static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"),
                UInt8(ascii: "_"), UInt8(ascii: "."):
                out.unicodeScalars.append(UnicodeScalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" : "") + hex
            }
        }
        return out
    }

    static func json(_ text: String) -> String { JSONValue.string(text).canonicalString }

    static func typed(_ value: String, _ type: String) -> String { "{\"$\": \(json(value)), \"type\": \(json(type))}" }
}
