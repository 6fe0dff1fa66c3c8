import Foundation
import PedigreeCore

/// The web UI's page shell and the small pieces every page uses. Pages are pure functions of query results:
/// the server fetches, these render. Every recorded string goes through `h` (names, tags and parameters
/// are attacker-controlled), every URL through `WebURL`, and no page uses inline script or style, so the
/// server's Content-Security-Policy can forbid both.
public enum WebPage {
    /// Who is looking, for the header.
    public struct Viewer: Sendable {
        public let name: String?
        public let authRequired: Bool
        public init(name: String?, authRequired: Bool) {
            self.name = name
            self.authRequired = authRequired
        }
    }

    public enum Section: String, Sendable { case registry, graph, diff, impact, incident, audit, node, login }

    public static func document(title: String, section: Section, viewer: Viewer, body: String) -> String {
        let nav: [(Section, String, String)] = [(.registry, "/", "Registry"), (.diff, "/diff", "Diff"), (.incident, "/incident", "Incident")]
        let links = nav.map { s, href, label in
            "<a href=\"\(href)\"\(s == section ? " aria-current=\"page\"" : "")>\(label)</a>"
        }.joined()
        var session = ""
        if viewer.authRequired, let name = viewer.name {
            session = """
                <form class="session" method="post" action="/logout"><span>\(h(name))</span><button type="submit">Sign out</button></form>
                """
        }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(h(title)) · Pedigree</title>
            <link rel="icon" href="data:,"><link rel="stylesheet" href="/static/pedigree.css"><script src="/static/pedigree.js" defer></script></head>
            <body><a class="skip" href="#main">Skip to content</a>
            <header class="top"><a class="brand" href="/">Pedigree</a><nav aria-label="Sections">\(links)</nav>\(session)</header>
            <main id="main" tabindex="-1">
            \(body)
            </main></body></html>

            """
    }

    // MARK: Pieces

    /// Recorded text as HTML text (or an attribute value).
    public static func h(_ text: String) -> String { HTML.escape(text) }

    /// A link to a node's page, labelled with its reference (or `label`).
    static func nodeLink(_ ref: String, label: String? = nil) -> String {
        "<a href=\"\(h(WebURL.node(ref)))\">\(h(label ?? ref))</a>"
    }

    static func code(_ text: String) -> String { "<code>\(h(text))</code>" }

    static func digest(_ digest: ContentDigest?) -> String {
        guard let digest else { return "—" }
        return "<code title=\"\(h(digest.description))\">sha256:\(h(String(digest.hex.prefix(12))))…</code>"
    }

    static func time(_ time: Timestamp?) -> String {
        guard let time else { return "—" }
        return "<time datetime=\"\(h(time.description))\">\(h(time.description))</time>"
    }

    static func table(_ header: [String], _ rows: [[String]], id: String? = nil, empty: String = "none recorded") -> String {
        guard !rows.isEmpty else { return "<p class=\"muted\">\(h(empty))</p>" }
        let head = header.map { "<th scope=\"col\">\(h($0))</th>" }.joined()
        let body = rows.map { "<tr>" + $0.map { "<td>\($0)</td>" }.joined() + "</tr>" }.joined(separator: "\n")
        return "<table\(id.map { " id=\"\(h($0))\"" } ?? "")><thead><tr>\(head)</tr></thead><tbody>\(body)</tbody></table>"
    }

    static func panel(_ title: String, id: String, _ content: String) -> String {
        "<section class=\"panel\" id=\"\(id)\" aria-labelledby=\"\(id)-h\"><h2 id=\"\(id)-h\">\(h(title))</h2>\(content)</section>"
    }

    /// Facts as a definition list; values are HTML already.
    static func facts(_ pairs: [(String, String)]) -> String {
        "<dl class=\"facts\">" + pairs.map { "<dt>\(h($0.0))</dt><dd>\($0.1)</dd>" }.joined() + "</dl>"
    }

    /// A JSON value as nested, collapsible lists (objects) or inline code (scalars).
    static func tree(_ value: JSONValue, open depth: Int = 1) -> String {
        switch value {
        case .object(let members):
            guard !members.isEmpty else { return "<code>{}</code>" }
            let items = members.keys.sorted().map { key -> String in
                let child = members[key]!
                switch child {
                case .object(let inner) where !inner.isEmpty:
                    return
                        "<li data-key=\"\(h(key))\"><details\(depth > 0 ? " open" : "")><summary>\(h(key))</summary>\(tree(child, open: depth - 1))</details></li>"
                default:
                    return "<li data-key=\"\(h(key))\"><span class=\"key\">\(h(key))</span> <code>\(h(scalar(child)))</code></li>"
                }
            }
            return "<ul class=\"tree\">\(items.joined())</ul>"
        default:
            return "<code>\(h(scalar(value)))</code>"
        }
    }

    static func scalar(_ value: JSONValue?) -> String {
        guard let value else { return "—" }
        if case .string(let s) = value { return s }
        return value.canonicalString
    }

    static func status(_ text: String, _ tone: String) -> String { "<span class=\"badge \(tone)\">\(h(text))</span>" }

    /// A page that says what went wrong and what to do, for a failed lookup or a bad parameter.
    public static func problem(_ message: String, hint: String? = nil, viewer: Viewer) -> String {
        document(
            title: "Not shown", section: .node, viewer: viewer,
            body: "<h1>Not shown</h1><p class=\"error\" role=\"alert\">\(h(message))</p>" + (hint.map { "<p>\(h($0))</p>" } ?? "")
                + "<p><a href=\"/\">Back to the registry</a></p>")
    }
}

/// URLs of the UI's pages: stable, made only of the query the page needs, safe to paste into a ticket.
public enum WebURL {
    public static func node(_ ref: String) -> String { link("/node", ["ref": ref]) }
    public static func graph(_ ref: String) -> String { link("/graph", ["ref": ref]) }
    public static func diff(from: String, to: String) -> String { link("/diff", ["from": from, "to": to]) }
    public static func impact(_ ref: String) -> String { link("/impact", ["ref": ref]) }
    public static func audit(_ ref: String) -> String { link("/audit", ["ref": ref]) }

    /// A path with query parameters in the given order; empty values are left out.
    public static func link(_ path: String, _ parameters: KeyValuePairs<String, String>) -> String {
        link(path, parameters.map { ($0.key, $0.value) })
    }

    public static func link(_ path: String, _ parameters: [(String, String)]) -> String {
        let query = parameters.filter { !$0.1.isEmpty }.map { "\(encode($0.0))=\(encode($0.1))" }
        return query.isEmpty ? path : path + "?" + query.joined(separator: "&")
    }

    /// Everything but unreserved characters percent-encoded (a reference's own `%2F` becomes `%252F`, so the
    /// server decodes it back to the reference once).
    public static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
        allowed.insert(charactersIn: "-._~:@")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}
