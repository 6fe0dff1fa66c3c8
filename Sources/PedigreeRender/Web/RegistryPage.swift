import Foundation
import PedigreeCore

/// The front page: models, datasets and endpoints by namespace, searchable and filterable, a page at a time.
public enum RegistryPage {
    public struct Query: Sendable {
        public var filter: RegistryFilter
        /// The cursor this page starts after (empty: the first page).
        public var after: String
        public init(filter: RegistryFilter, after: String) {
            self.filter = filter
            self.after = after
        }

        var parameters: [(String, String)] {
            [
                ("q", filter.search ?? ""), ("kind", filter.kind ?? ""), ("namespace", filter.namespace ?? ""),
                ("deployed", filter.deployed.map { $0 ? "yes" : "no" } ?? ""),
            ]
        }
    }

    /// `entries` holds one more than a page when there is a next page.
    public static func render(_ entries: [RegistryEntry], pageSize: Int, query: Query, namespaces: [String], viewer: WebPage.Viewer) -> String {
        let h = WebPage.h
        let page = entries.prefix(pageSize)
        let kinds = [("", "All kinds"), ("model", "Models"), ("dataset", "Datasets"), ("deployment", "Endpoints")]
        func option(_ value: String, _ label: String, selected: String) -> String {
            "<option value=\"\(h(value))\"\(value == selected ? " selected" : "")>\(h(label))</option>"
        }
        let deployed = query.filter.deployed.map { $0 ? "yes" : "no" } ?? ""
        let form = """
            <form class="filters" method="get" action="/" role="search">
            <label>Search <input type="search" name="q" value="\(h(query.filter.search ?? ""))" placeholder="name, or a glob such as fraud-*"></label>
            <label>Kind <select name="kind">\(kinds.map { option($0.0, $0.1, selected: query.filter.kind ?? "") }.joined())</select></label>
            <label>Namespace <select name="namespace">\(option("", "All namespaces", selected: query.filter.namespace ?? ""))\
            \(namespaces.map { option($0, $0, selected: query.filter.namespace ?? "") }.joined())</select></label>
            <label>Deployed <select name="deployed">\(option("", "Either", selected: deployed))\(option("yes", "Serving now", selected: deployed))\
            \(option("no", "Not serving", selected: deployed))</select></label>
            <button type="submit">Filter</button>
            </form>
            """
        let rows = page.map { entry -> [String] in
            let s = entry.latest
            let kind = s.kind == "deployment" ? "endpoint" : s.kind
            let status: String =
                if entry.retired { WebPage.status("retired", "bad") } else if !entry.serving.isEmpty { WebPage.status("serving", "ok") } else {
                    WebPage.status(s.kind == "deployment" ? "idle" : "—", "muted")
                }
            let serving = entry.serving.map { share in
                let endpoint = s.kind == "deployment" ? share.model : share.endpoint
                let version = s.kind == "deployment" ? "" : " (@\(share.model.split(separator: "@").last.map(String.init) ?? ""))"
                return WebPage.nodeLink(endpoint) + h(version + (share.percent == 100 ? "" : " \(share.percent)%"))
            }.joined(separator: "<br>")
            return [
                h(kind), h(s.namespace), WebPage.nodeLink(s.ref, label: s.name),
                s.kind == "deployment" ? "—" : "\(h(s.version ?? "—")) <span class=\"muted\">of \(entry.versions)</span>",
                status, h(entry.owner ?? "—"), serving.isEmpty ? "—" : serving,
            ]
        }
        var pager = ""
        if entries.count > pageSize, let last = page.last {
            pager =
                "<nav class=\"pager\" aria-label=\"Pages\">"
                + (query.after.isEmpty ? "" : "<a href=\"\(h(WebURL.link("/", query.parameters)))\">First page</a> ")
                + "<a rel=\"next\" href=\"\(h(WebURL.link("/", query.parameters + [("after", last.cursor)])))\">Next \(pageSize) →</a></nav>"
        } else if !query.after.isEmpty {
            pager = "<nav class=\"pager\" aria-label=\"Pages\"><a href=\"\(h(WebURL.link("/", query.parameters)))\">First page</a></nav>"
        }
        let body = """
            <h1>Registry</h1>
            \(form)
            \(WebPage.table(["Kind", "Namespace", "Name", "Latest", "Status", "Owner", "Serving"], rows, id: "registry", empty: "Nothing matches these filters."))
            \(pager)
            """
        return WebPage.document(title: "Registry", section: .registry, viewer: viewer, body: body)
    }
}
