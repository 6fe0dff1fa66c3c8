import PedigreeCore

/// GraphML: every node with its properties as typed keys, every edge of the graph with its type and role,
/// in the graph's direction. Read by networkx, yEd, Gephi, igraph.
enum GraphMLExport {
    static func write(_ source: any ExportSource, to write: (String) throws -> Void) throws {
        var header = """
            <?xml version="1.0" encoding="UTF-8"?>
            <graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" \
            xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">

            """
        for name in NodeProperties.names { header += "  <key id=\"n.\(name)\" for=\"node\" attr.name=\"\(name)\" attr.type=\"string\"/>\n" }
        header += "  <key id=\"n.label\" for=\"node\" attr.name=\"label\" attr.type=\"string\"/>\n"
        for name in ["type", "role", "recordedAt"] { header += "  <key id=\"e.\(name)\" for=\"edge\" attr.name=\"\(name)\" attr.type=\"string\"/>\n" }
        try write(header + "  <graph id=\"pedigree\" edgedefault=\"directed\">\n")
        try source.forEachNode(.all) { node in
            let values = NodeProperties.values(node)
            var out = "    <node id=\"\(xmlEscaped(node.summary.ref))\">"
            out += "<data key=\"n.label\">\(NodeProperties.label(node.summary.kind))</data>"
            for name in NodeProperties.names { if let value = values[name] { out += "<data key=\"n.\(name)\">\(xmlEscaped(value))</data>" } }
            try write(out + "</node>\n")
        }
        try source.forEachRelation(ExportRelation.graphEdges) { relation in
            let (from, to) = relation.flow
            try write(
                "    <edge source=\"\(xmlEscaped(from))\" target=\"\(xmlEscaped(to))\"><data key=\"e.type\">\(relation.label)</data>"
                    + "<data key=\"e.role\">\(xmlEscaped(relation.role))</data><data key=\"e.recordedAt\">\(relation.time)</data></edge>\n")
        }
        try write("  </graph>\n</graphml>\n")
    }
}

/// Graphviz DOT: a left-to-right digraph, one shape per kind, edges labelled with their role.
enum DOTExport {
    static func write(_ source: any ExportSource, to write: (String) throws -> Void) throws {
        try write(
            """
            digraph lineage {
              rankdir=LR;
              node [fontname="Helvetica", fontsize=10, style=filled, fillcolor="#ffffff"];
              edge [fontname="Helvetica", fontsize=8, color="#666666"];

            """)
        try source.forEachNode(.all, records: false) { node in
            let s = node.summary
            let (shape, fill) =
                switch s.kind {
                case "run": ("box", "#e8f0fe")
                case "model": ("ellipse", "#fde7d9")
                case "deployment": ("hexagon", "#e6f4ea")
                default: ("note", "#fff8d6")
                }
            var label = s.name
            if let version = s.version { label += "\n@\(version)" }
            if let digest = s.digest { label += "\n\(digest.hex.prefix(12))" }
            if s.kind == "run" { label += "\n\(s.status ?? "run")" }
            try write("  \(quoted(s.ref)) [label=\(quoted(label)), shape=\(shape), fillcolor=\"\(fill)\", tooltip=\(quoted(s.ref))];\n")
        }
        try source.forEachRelation(ExportRelation.graphEdges) { relation in
            let (from, to) = relation.flow
            try write("  \(quoted(from)) -> \(quoted(to)) [label=\(quoted(relation.role))];\n")
        }
        try write("}\n")
    }

    /// A DOT double-quoted string: quotes and backslashes escaped (a backslash would start an escString
    /// sequence such as \N or \G), line breaks as \n, other control characters dropped.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: if isShown(scalar) { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}

/// A Mermaid flowchart, as GitHub renders in Markdown: identifiers derived from references (Mermaid's
/// identifiers cannot hold them), labels quoted with Mermaid's entity codes for anything it would read as
/// syntax or HTML.
enum MermaidExport {
    static func write(_ source: any ExportSource, to write: (String) throws -> Void) throws {
        try write("flowchart LR\n")
        try source.forEachNode(.all, records: false) { node in
            let s = node.summary
            var label = s.name
            if let version = s.version { label += " @" + version }
            if s.kind == "run" { label += " · " + (s.status ?? "run") }
            let text = "\"" + escaped(label) + "\""
            let shape =
                switch s.kind {
                case "run": "[\(text)]"
                case "model": "([\(text)])"
                case "deployment": "{{\(text)}}"
                default: "[(\(text))]"
                }
            let style = ["dataset", "model", "run", "deployment"].contains(s.kind) ? s.kind : "artifact"
            try write("  \(shortID(s.ref))\(shape)\n  class \(shortID(s.ref)) \(style)\n")
        }
        try source.forEachRelation(ExportRelation.graphEdges) { relation in
            let (from, to) = relation.flow
            try write("  \(shortID(from)) -->|\"\(escaped(relation.role))\"| \(shortID(to))\n")
        }
        try write(
            """
              classDef dataset fill:#fff8d6,stroke:#b59f3b
              classDef model fill:#fde7d9,stroke:#c0622f
              classDef run fill:#e8f0fe,stroke:#4a6fa5
              classDef deployment fill:#e6f4ea,stroke:#3c8d55
              classDef artifact fill:#f3f3f3,stroke:#888888

            """)
    }

    /// Mermaid entity codes (`#quot;`, `#35;` …) for every character that would end a label or be read as
    /// markup, and no line breaks or control characters.
    static func escaped(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "#quot;"
            case "#": out += "#35;"
            case "&": out += "#amp;"
            case "<": out += "#lt;"
            case ">": out += "#gt;"
            case "`": out += "#96;"
            case "|": out += "#124;"
            case "\n", "\r", "\t": out += " "
            default: if isShown(scalar) { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }
}
