import Foundation
import PedigreeCore

/// The lineage graph page.
public enum GraphPage {
    /// The reader's choices, all in the URL.
    public struct Query: Sendable {
        public var ref: String
        public var upstream: Int
        public var downstream: Int
        public var options: LineageView.Options
        public init(ref: String, upstream: Int, downstream: Int, options: LineageView.Options) {
            self.ref = ref
            self.upstream = upstream
            self.downstream = downstream
            self.options = options
        }

        public func url(path: String = "/graph", collapsed: Set<String>? = nil, expanded: Set<String>? = nil, keepPath: Bool = true) -> String {
            var parameters: [(String, String)] = [("ref", ref), ("up", String(upstream)), ("down", String(downstream))]
            parameters += (collapsed ?? options.collapsed).sorted().map { ("collapse", $0) }
            parameters += (expanded ?? options.expanded).sorted().map { ("expand", $0) }
            if keepPath, let path = options.path {
                parameters.append(("from", path.from))
                parameters.append(("to", path.to))
            }
            return WebURL.link(path, parameters)
        }

        /// The same graph with a node's neighbourhood collapsed or shown again, or a cluster expanded.
        public func toggled(_ node: LineageView.Node) -> String {
            if node.isCluster { return url(expanded: options.expanded.union([node.id])) }
            if options.collapsed.contains(node.id) { return url(collapsed: options.collapsed.subtracting([node.id])) }
            return url(collapsed: options.collapsed.union([node.id]))
        }
    }

    public static func render(_ view: LineageView, query: Query, viewer: WebPage.Viewer) -> String {
        let h = WebPage.h
        let links = LineageSVG.Links(page: { WebURL.node($0) }, toggle: { query.toggled($0) })
        let svg = LineageSVG.render(view, links: links, standalone: false)
        func depthOptions(_ selected: Int) -> String {
            [0, 1, 2, 3, 5, 10, 20, 50, 100].map { "<option value=\"\($0)\"\($0 == selected ? " selected" : "")>\($0)</option>" }.joined()
        }
        let pathChoices = view.nodes.filter { !$0.isCluster }.map(\.id)
        func pathOptions(_ selected: String?) -> String {
            "<option value=\"\">—</option>"
                + pathChoices.map { "<option value=\"\(h($0))\"\($0 == selected ? " selected" : "")>\(h($0))</option>" }.joined()
        }
        var hidden = "<input type=\"hidden\" name=\"ref\" value=\"\(h(query.ref))\">"
        for ref in query.options.collapsed.sorted() { hidden += "<input type=\"hidden\" name=\"collapse\" value=\"\(h(ref))\">" }
        for id in query.options.expanded.sorted() { hidden += "<input type=\"hidden\" name=\"expand\" value=\"\(h(id))\">" }
        let clustered = view.nodes.filter(\.isCluster)
        let summary =
            "\(view.nodes.count) nodes drawn, \(view.edges.count) edges"
            + (view.foldedCount > 0 ? "; \(view.foldedCount) more folded into clusters or collapsed" : "")
        let body = """
            <h1>Lineage of \(WebPage.nodeLink(query.ref))</h1>
            <form class="filters graph-controls" method="get" action="/graph">\(hidden)
            <label>Upstream depth <select name="up">\(depthOptions(query.upstream))</select></label>
            <label>Downstream depth <select name="down">\(depthOptions(query.downstream))</select></label>
            <label>Path from <select name="from">\(pathOptions(query.options.path?.from))</select></label>
            <label>to <select name="to">\(pathOptions(query.options.path?.to))</select></label>
            <button type="submit">Draw</button>
            </form>
            <p class="muted" id="graph-summary">\(h(summary)).\
            \(query.options.collapsed.isEmpty && query.options.expanded.isEmpty ? "" : " <a href=\"\(h(query.url(collapsed: [], expanded: [])))\">Reset collapsed and expanded nodes</a>.")\
             <a href="\(h(query.url(path: "/graph.svg")))" download>Download SVG</a></p>
            <div class="zoom-controls" hidden><button type="button" data-zoom="in" aria-label="Zoom in">+</button>\
            <button type="button" data-zoom="out" aria-label="Zoom out">−</button><button type="button" data-zoom="reset">Fit</button>\
            <span class="muted">Drag to pan, wheel to zoom, Shift-click two nodes for the path between them.</span></div>
            <div class="graph-frame" id="graph-frame">\(svg)</div>
            \(clustered.isEmpty ? "" : "<h2>Clusters</h2><ul class=\"clusters\">" + clustered.map { "<li><a href=\"\(h(query.toggled($0)))\">Expand \(h($0.title))</a> <span class=\"muted\">\(h($0.detail))</span></li>" }.joined() + "</ul>")
            """
        return WebPage.document(title: "Lineage of \(query.ref)", section: .graph, viewer: viewer, body: body)
    }
}

/// Two versions side by side, dimension by dimension.
public enum DiffPage {
    /// Versions worth comparing `to` against: its previous version, and what served an endpoint before it.
    public struct Candidate: Sendable {
        public let label: String
        public let ref: String
        public init(label: String, ref: String) {
            self.label = label
            self.ref = ref
        }
    }

    public static func render(
        _ diff: LineageDiff?, from: String, to: String, all: Bool, candidates: [Candidate], viewer: WebPage.Viewer
    ) -> String {
        let h = WebPage.h
        var body = "<h1>Diff</h1>"
        body += """
            <form class="filters" method="get" action="/diff">
            <label>From <input name="from" value="\(h(from))" placeholder="model:ns/name@1" size="36"></label>
            <label>To <input name="to" value="\(h(to))" placeholder="model:ns/name@2" size="36"></label>
            <label class="check"><input type="checkbox" name="all" value="1"\(all ? " checked" : "")> show unchanged</label>
            <button type="submit">Compare</button></form>
            """
        if !candidates.isEmpty {
            body +=
                "<p class=\"picker\">Compare with: "
                + candidates.map {
                    "<a href=\"\(h(WebURL.link("/diff", [("from", $0.ref), ("to", to), ("all", all ? "1" : "")])))\">\(h($0.label))</a>"
                }
                .joined(separator: " · ") + "</p>"
        }
        guard let diff else { return WebPage.document(title: "Diff", section: .diff, viewer: viewer, body: body) }
        body += "<p>\(WebPage.nodeLink(diff.from.description)) → \(WebPage.nodeLink(diff.to.description))</p>"
        if diff.isEmpty { body += "<p class=\"badge ok\">No differences in any dimension.</p>" }
        for dimension in Dimension.allCases {
            let changes = diff.changes(in: dimension).filter { all || $0.kind != .unchanged }
            let rows = changes.map { change in
                [
                    WebPage.code(change.path), "<span class=\"change \(change.kind.rawValue)\">\(change.kind.rawValue)</span>",
                    change.old.map { "<del>\(h(WebPage.scalar($0)))</del>" } ?? "—", change.new.map { "<ins>\(h(WebPage.scalar($0)))</ins>" } ?? "—",
                ]
            }
            body += WebPage.panel(
                dimension.rawValue.capitalized, id: "diff-\(dimension.rawValue)",
                WebPage.table(["Path", "Change", "Old", "New"], rows, empty: "unchanged"))
        }
        return WebPage.document(title: "Diff", section: .diff, viewer: viewer, body: body)
    }
}

/// Everything downstream of a node, grouped by models and live deployments.
public enum ImpactPage {
    public static func render(_ report: ImpactReport, viewer: WebPage.Viewer) -> String {
        let h = WebPage.h
        let models = report.affected.filter { $0.node.kind == "model" }
        let runs = report.affected.filter { $0.node.kind == "run" }
        let others = report.affected.filter { $0.node.isArtifact && $0.node.kind != "model" && $0.node.ref != report.root }
        var body = "<h1>Impact of \(WebPage.nodeLink(report.root))</h1>"
        body +=
            "<p>\(models.count) model versions, \(report.serving.count) live deployments, \(runs.count) runs and \(others.count) other artifacts downstream.</p>"
        body += WebPage.panel(
            "Live deployments", id: "serving",
            WebPage.table(
                ["Endpoint", "Serving", "Since"],
                report.serving.map { [WebPage.nodeLink($0.ref), WebPage.nodeLink($0.model), WebPage.time($0.since)] },
                id: "serving-table", empty: "No live endpoint serves an affected model."))
        body += WebPage.panel(
            "Models", id: "models",
            WebPage.table(
                ["Model version", "Hops"], models.map { [WebPage.nodeLink($0.node.ref), h(String($0.depth))] }, id: "models-table",
                empty: "No model is affected."))
        body += WebPage.panel(
            "Datasets and other artifacts", id: "artifacts",
            WebPage.table(["Artifact", "Hops"], others.map { [WebPage.nodeLink($0.node.ref), h(String($0.depth))] }))
        body += WebPage.panel("Runs", id: "runs", WebPage.table(["Run", "Hops"], runs.map { [WebPage.nodeLink($0.node.ref), h(String($0.depth))] }))
        return WebPage.document(title: "Impact of \(report.root)", section: .impact, viewer: viewer, body: body)
    }
}

/// The incident report, as `pedigree incident` prints it, with links.
public enum IncidentPage {
    public static func render(_ report: IncidentReport?, endpoint: String, at: String, viewer: WebPage.Viewer) -> String {
        let h = WebPage.h
        var body = """
            <h1>Incident</h1>
            <form class="filters" method="get" action="/incident">
            <label>Endpoint <input name="endpoint" value="\(h(endpoint))" placeholder="fraud-team/fraud-api" size="32" required></label>
            <label>Went bad at <input name="at" value="\(h(at))" placeholder="2026-11-28T14:00:00Z" size="24" required></label>
            <button type="submit">Investigate</button></form>
            """
        guard let report else { return WebPage.document(title: "Incident", section: .incident, viewer: viewer, body: body) }
        body += "<p class=\"summary\" role=\"status\">\(h(report.summary))</p>"
        var facts: [(String, String)] = [
            ("endpoint", WebPage.nodeLink(report.endpoint)), ("at", WebPage.time(report.at)),
            ("serving then", report.serving.serving.map { "\(WebPage.nodeLink($0.model)) \($0.percent)%" }.joined(separator: ", ")),
            ("suspect", WebPage.nodeLink(report.suspect) + " since " + WebPage.time(report.suspectSince)),
        ]
        if let good = report.good {
            facts.append(("last good", WebPage.nodeLink(good.model) + " <span class=\"muted\">(\(h(good.choice.rawValue)))</span>"))
        }
        body += WebPage.facts(facts)
        if let good = report.good {
            body += "<p class=\"actions\"><a href=\"\(h(WebURL.diff(from: good.model, to: report.suspect)))\">Full diff</a> · "
            body +=
                "<a href=\"\(h(WebURL.node(report.endpoint)))#timeline\">Timeline</a> · <a href=\"\(h(WebURL.graph(report.suspect)))\">Suspect's lineage</a></p>"
        }
        if let diff = report.diff {
            for dimension in Dimension.allCases {
                let changes = diff.changes(in: dimension).filter { $0.kind != .unchanged }
                guard !changes.isEmpty else { continue }
                body += WebPage.panel(
                    "What changed: \(dimension.rawValue)", id: "changed-\(dimension.rawValue)",
                    WebPage.table(
                        ["Path", "Old", "New"],
                        changes.map { [WebPage.code($0.path), h(WebPage.scalar($0.old)), h(WebPage.scalar($0.new))] }))
            }
        }
        if !report.servingChanges.isEmpty {
            body += WebPage.panel(
                "Serving configuration", id: "serving-changes",
                WebPage.table(
                    ["Path", "Old", "New"],
                    report.servingChanges.map { [WebPage.code($0.path), h(WebPage.scalar($0.old)), h(WebPage.scalar($0.new))] }))
        }
        let radius = report.blastRadius.map { blast in
            [
                WebPage.nodeLink(blast.dataset), blast.models.map { WebPage.nodeLink($0) }.joined(separator: "<br>"),
                blast.endpoints.map { "\(WebPage.nodeLink($0.ref)) (\(WebPage.nodeLink($0.model)))" }.joined(separator: "<br>"),
                "<a href=\"\(h(WebURL.impact(blast.dataset)))\">impact</a>",
            ]
        }
        body += WebPage.panel(
            "Blast radius of the changed data", id: "blast-radius",
            WebPage.table(["Dataset", "Models", "Endpoints", ""], radius, empty: "No data changed."))
        return WebPage.document(title: "Incident on \(report.endpoint)", section: .incident, viewer: viewer, body: body)
    }
}

/// The audit report inside the UI's shell, with a link to the printable file.
public enum AuditPage {
    public static func render(_ report: AuditReport, viewer: WebPage.Viewer) -> String {
        let ref = report.model.ref
        let body =
            "<p class=\"actions\"><a href=\"\(WebPage.h(WebURL.node(ref)))\">Model page</a> · "
            + "<a href=\"\(WebPage.h(WebURL.link("/api/v1/audit", ["ref": ref, "format": "html"])))\">Printable report</a> · "
            + "<a href=\"\(WebPage.h(WebURL.link("/api/v1/audit", ["ref": ref, "format": "md"])))\">Markdown</a></p>"
            + "<article class=\"audit\">\(AuditRenderer.htmlBody(report))</article>"
        return WebPage.document(title: "Audit of \(ref)", section: .audit, viewer: viewer, body: body)
    }
}

/// Where a token is given when the server requires one.
public enum LoginPage {
    public static func render(error: String?, next: String) -> String {
        let h = WebPage.h
        let body = """
            <h1>Sign in</h1>
            <p>This server requires a token. Ask its operator for one (<code>pedigree token create</code>).</p>
            \(error.map { "<p class=\"error\" role=\"alert\">\(h($0))</p>" } ?? "")
            <form class="login" method="post" action="/login">
            <input type="hidden" name="next" value="\(h(next))">
            <label>Token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
            <button type="submit">Sign in</button></form>
            """
        return WebPage.document(title: "Sign in", section: .login, viewer: .init(name: nil, authRequired: true), body: body)
    }
}
