import Foundation
import PedigreeCore
import PedigreeLayout

/// A lineage view drawn as SVG with the layered layout: the web UI's graph and `pedigree export --format svg`.
/// Recorded text is escaped (names are attacker-controlled); the export carries its own stylesheet, the web
/// page's comes from the page (whose Content-Security-Policy allows no inline style).
public enum LineageSVG {
    /// Where a drawn node leads in the web UI; nil everywhere for a file.
    public struct Links: Sendable {
        /// The page of a node (a plain node's reference).
        public var page: @Sendable (String) -> String
        /// The same graph with this node collapsed, expanded again, or this cluster expanded.
        public var toggle: @Sendable (LineageView.Node) -> String
        public init(page: @escaping @Sendable (String) -> String, toggle: @escaping @Sendable (LineageView.Node) -> String) {
            self.page = page
            self.toggle = toggle
        }
    }

    static let nodeHeight = 40.0, characterWidth = 7.0, longestLabel = 34, legendHeight = 30.0

    public static func render(_ view: LineageView, links: Links? = nil, standalone: Bool = true, title: String? = nil) -> String {
        let sizes = view.nodes.map { node in
            let characters = max(label(node.title).count, label(node.detail).count) + (node.collapsible || node.isCluster ? 2 : 0)
            return LayeredLayout.Size(width: min(max(Double(characters) * characterWidth + 20, 110), 290), height: nodeHeight)
        }
        let layout = LayeredLayout.layout(sizes: sizes, edges: view.edges.map { LayeredLayout.Edge(from: $0.from, to: $0.to) })
        let width = max(layout.width, 480), height = layout.height + legendHeight
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" class="lineage" id="lineage" viewBox="0 0 \(n(width)) \(n(height))" \
            width="\(n(width))" height="\(n(height))" preserveAspectRatio="xMinYMin meet" role="\(links == nil ? "img" : "group")" aria-label="\(HTML.escape(title ?? "Lineage of \(view.root)"))" \
            data-nodes="\(view.nodes.count)" data-edges="\(view.edges.count)" data-crossings="\(layout.crossings)">

            """
        if let title { out += "<title>\(HTML.escape(title))</title>\n" }
        if standalone { out += "<style>\(stylesheet)</style>\n" }
        out += """
            <defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse">\
            <path d="M0,0 L8,4 L0,8 z" class="arrowhead"/></marker></defs>

            """
        out += legend(view)
        out += "<g class=\"graph\" transform=\"translate(0,\(n(legendHeight)))\">\n<g class=\"edges\">\n"
        for (i, edge) in view.edges.enumerated() {
            let points = layout.paths[i]
            guard let first = points.first else { continue }
            var d = "M\(n(first.x)),\(n(first.y))"
            for (a, b) in zip(points, points.dropFirst()) {
                let dx = (b.x - a.x) / 2
                d += " C\(n(a.x + dx)),\(n(a.y)) \(n(b.x - dx)),\(n(b.y)) \(n(b.x)),\(n(b.y))"
            }
            let classes = ["edge", "role-\(cssName(edge.role))"] + (view.pathEdges.contains(i) ? ["on-path"] : [])
            let label = edge.count > 1 ? "\(edge.role) ×\(edge.count)" : edge.role
            out +=
                "<path class=\"\(classes.joined(separator: " "))\" d=\"\(d)\" marker-end=\"url(#arrow)\" data-from=\"n\(edge.from)\" data-to=\"n\(edge.to)\"><title>\(HTML.escape(label))</title></path>\n"
        }
        out += "</g>\n<g class=\"nodes\">\n"
        for (i, node) in view.nodes.enumerated() {
            let box = layout.boxes[i]
            var classes = ["node", "kind-\(cssName(node.kind))"]
            if node.id == view.root { classes.append("root") }
            if node.isCluster { classes.append("cluster") }
            if node.hidden > 0 { classes.append("collapsed") }
            if view.pathNodes.contains(i) { classes.append("on-path") }
            out +=
                "<g class=\"\(classes.joined(separator: " "))\" id=\"n\(i)\" data-ref=\"\(HTML.escape(node.id))\" transform=\"translate(\(n(box.x)),\(n(box.y)))\">"
            let tooltip = node.isCluster ? "\(node.members.count) nodes: \(node.members.prefix(20).map(\.ref).joined(separator: ", "))" : node.id
            let body = """
                <rect width="\(n(box.width))" height="\(n(box.height))" rx="6"/>\
                <text class="title" x="10" y="17">\(HTML.escape(label(node.title)))</text>\
                <text class="detail" x="10" y="32">\(HTML.escape(label(node.detail + (node.hidden > 0 ? " · +\(node.hidden) hidden" : ""))))</text>\
                <title>\(HTML.escape(tooltip))</title>
                """
            if let links {
                let href = node.isCluster ? links.toggle(node) : links.page(node.id)
                out += "<a class=\"open\" href=\"\(HTML.escape(href))\">\(body)</a>"
                if node.collapsible || node.hidden > 0 {
                    let symbol = node.hidden > 0 ? "+" : "−"
                    let what = node.hidden > 0 ? "Expand" : "Collapse"
                    out += """
                        <a class="toggle" href="\(HTML.escape(links.toggle(node)))" aria-label="\(what) \(HTML.escape(node.id))">\
                        <circle cx="\(n(box.width))" cy="\(n(box.height / 2))" r="8"/>\
                        <text x="\(n(box.width))" y="\(n(box.height / 2 + 4))">\(symbol)</text></a>
                        """
                }
            } else {
                out += body
            }
            out += "</g>\n"
        }
        out += "</g>\n</g>\n</svg>\n"
        return out
    }

    /// The kinds drawn, in a fixed order, then what clusters and the highlighted path look like.
    static func legend(_ view: LineageView) -> String {
        let order = ["dataset", "model", "run", "deployment"]
        let present = Set(view.nodes.map(\.kind))
        var kinds = order.filter(present.contains) + present.subtracting(order).sorted()
        if view.nodes.contains(where: \.isCluster) { kinds.append("cluster") }
        var out = "<g class=\"legend\" transform=\"translate(16,8)\">"
        var x = 0.0
        for kind in kinds {
            let name = kind == "deployment" ? "endpoint" : kind == "cluster" ? "cluster (click to expand)" : kind
            let classes = kind == "cluster" ? "node cluster" : "node kind-\(cssName(kind))"
            out += "<g class=\"\(classes)\" transform=\"translate(\(n(x)),0)\"><rect width=\"14\" height=\"14\" rx=\"3\"/>"
            out += "<text class=\"legend-label\" x=\"20\" y=\"11\">\(HTML.escape(name))</text></g>"
            x += 34 + Double(name.count) * characterWidth
        }
        if !view.pathNodes.isEmpty {
            out += "<g class=\"edge-sample\" transform=\"translate(\(n(x)),7)\"><path class=\"edge on-path\" d=\"M0,0 L24,0\"/>"
            out += "<text class=\"legend-label\" x=\"30\" y=\"4\">path</text></g>"
        }
        return out + "</g>\n"
    }

    static func label(_ text: String) -> String {
        let safe = TerminalText.escape(text)
        return safe.count > longestLabel ? String(safe.prefix(longestLabel - 1)) + "…" : safe
    }

    /// A kind or role as a class name: letters, digits and '-' only.
    static func cssName(_ text: String) -> String {
        String(text.lowercased().map { $0.isLetter && $0.isASCII || $0.isNumber && $0.isASCII ? $0 : "-" })
    }

    static func n(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
    }

    /// The drawing's colours, light and dark; the web UI's stylesheet has the same rules.
    public static let stylesheet = """
        .lineage{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;--fg:#1b1f24;--bg:#fff;--edge:#8c959f;--line:#57606a;\
        --dataset:#ddf4ff;--model:#fbefff;--run:#fff8c5;--deployment:#dafbe1;--cluster:#eaeef2;--path:#d1242f}
        @media (prefers-color-scheme:dark){.lineage{--fg:#e6edf3;--bg:#0d1117;--edge:#6e7681;--line:#8b949e;\
        --dataset:#0c2d6b;--model:#3c1e70;--run:#4b3500;--deployment:#04260f;--cluster:#30363d;--path:#ff7b72}}
        .lineage text{fill:var(--fg)}.lineage .detail{opacity:.75;font-size:11px}
        .lineage .node rect{stroke:var(--line);stroke-width:1;fill:var(--cluster)}
        .lineage .kind-dataset rect{fill:var(--dataset)}.lineage .kind-model rect{fill:var(--model)}
        .lineage .kind-run rect{fill:var(--run)}.lineage .kind-deployment rect{fill:var(--deployment)}
        .lineage .cluster rect{fill:var(--cluster);stroke-dasharray:4 2;stroke-width:1.5}
        .lineage .root rect{stroke-width:2.5}.lineage .on-path rect{stroke:var(--path);stroke-width:2.5}
        .lineage .edge{fill:none;stroke:var(--edge);stroke-width:1.2}.lineage .edge.on-path{stroke:var(--path);stroke-width:2.5}
        .lineage .arrowhead{fill:var(--edge)}.lineage .toggle circle{fill:var(--bg);stroke:var(--line)}
        .lineage .toggle text{text-anchor:middle;font-weight:700}
        """
}
