import Foundation
import PedigreeCore

/// The audit report as a document — headings, paragraphs and tables — written once and rendered as
/// Markdown or as self-contained, printable HTML. Every recorded string is escaped for the output it goes
/// into: a model, parameter or tag name can hold Markdown, HTML or terminal control characters.
public enum AuditRenderer {
    enum Cell {
        case text(String)
        case code(String)
        /// A status word that HTML colours: met, partly met, missing, verified, FAILED.
        case status(String)
    }

    enum Block {
        case heading(Int, String)
        case paragraph(String)
        case table([String], [[Cell]])
    }

    // MARK: The document

    static func document(_ report: AuditReport) -> [Block] {
        var blocks: [Block] = [.heading(1, "Audit of \(report.model.ref)")]
        let facts = [
            "Generated \(report.generatedAt)\(report.asOf.map { ", as the store knew it at \($0)" } ?? "").",
            "Completeness \(report.score)%. Integrity: \(report.integrity.ok ? "verified" : "FAILED").",
            "Owner: \(report.owner ?? "not declared"). Risk tier: \(report.riskTier ?? "not declared").",
            report.model.digest.map { "Content digest \($0)." } ?? "No content digest recorded.",
        ]
        let counts = [AuditReport.Status.met, .partial, .missing].map { status in (status, report.checklist.filter { $0.status == status }.count) }
        let integrity = report.integrity
        blocks.append(.paragraph(facts.joined(separator: " ")))
        blocks.append(
            .table(
                ["Summary", ""],
                [
                    [.text("Completeness"), .text("\(report.score)% over the five dimensions")],
                    [
                        .text("Events verified"),
                        .status(integrity.eventsVerified ? "verified" : "FAILED"),
                    ],
                    [.text("Under a signed checkpoint"), .text("\(integrity.eventsCheckpointed) of \(integrity.events.count) events")],
                    [
                        .text("Model signatures"),
                        integrity.latestSignatures.isEmpty
                            ? .status("missing") : .status(integrity.latestSignatures.map(\.status).sorted().joined(separator: ", ")),
                    ],
                    [.text("Obligations"), .text(counts.map { "\($0.1) \($0.0.rawValue)" }.joined(separator: ", "))],
                ]))

        blocks.append(.heading(2, "1. Completeness of the five dimensions"))
        blocks.append(
            .table(
                ["Dimension", "Score", "Missing"],
                report.dimensions.map { dimension in
                    let missing = dimension.fields.filter { !$0.present }.map(\.name)
                    return [.text(dimension.name), .text("\(dimension.score)%"), .text(missing.isEmpty ? "—" : missing.joined(separator: ", "))]
                }))
        for dimension in report.dimensions {
            blocks.append(.heading(3, "\(dimension.name) (\(dimension.score)%)"))
            blocks.append(
                .table(
                    ["Field", "Status", "Recorded", "To capture it"],
                    dimension.fields.map { field in
                        [.text(field.name), .status(field.present ? "met" : "missing"), .text(field.detail), field.fix.map(Cell.code) ?? .text("")]
                    }))
        }

        blocks.append(.heading(2, "2. Integrity"))
        blocks.append(
            .paragraph(
                "\(integrity.events.count) events; \(integrity.events.filter(\.verified).count) verified against their hash chains up to the head; "
                    + "\(integrity.eventsCheckpointed) under a signed checkpoint."))
        for problem in integrity.checkpointProblems { blocks.append(.paragraph("✗ \(problem)")) }
        blocks.append(
            .table(
                ["Event", "Type", "Namespace #", "Recorded", "By", "Chain", "Checkpoint"],
                integrity.events.map { event in
                    [
                        .code(event.digest), .text(event.type), .text("\(event.namespace) #\(event.sequence)"), .text(event.recordedAt.description),
                        .text(event.recordedBy), .status(event.verified ? "verified" : "FAILED"),
                        .text(
                            event.problem
                                ?? event.checkpoint.map {
                                    "signed \($0.signedAt) by \($0.keyId.prefix(19))…\($0.trustedKey ? " (trusted key)" : " (key not pinned)")"
                                }
                                ?? "none"),
                    ]
                }))
        blocks.append(.heading(3, "Model signatures"))
        if integrity.signatures.isEmpty {
            blocks.append(.paragraph("No model signature recorded. To sign: pedigree sign \(report.model.ref) --key KEY.pem"))
        } else {
            blocks.append(
                .table(
                    ["File", "Format", "Result", "Signer key", "Checked", "Recorded by", "Event"],
                    integrity.signatures.map { signature in
                        [
                            .text(signature.file), .text(signature.format), .status(signature.status),
                            .text(signature.keyId ?? "unknown"), .text(signature.checkedAt.description), .text(signature.recordedBy),
                            .code(signature.event),
                        ]
                    }))
            for signature in integrity.signatures where !signature.verified {
                blocks.append(.paragraph("✗ \(signature.file): \(signature.problem ?? "did not verify")"))
            }
        }

        if !integrity.redactions.isEmpty {
            blocks.append(.heading(3, "Redactions"))
            blocks.append(
                .table(
                    ["Event", "Fields", "Reason", "By", "When"],
                    integrity.redactions.map { r in
                        [.code(r.event), .code(r.fields.joined(separator: ", ")), .text(r.reason), .text(r.by), .text(r.at.description)]
                    }))
        }

        blocks.append(.heading(2, "3. Obligations"))
        blocks.append(
            .table(
                ["Item", "Source", "Status", "Detail", "Evidence"],
                report.checklist.map { item in
                    [
                        .text(item.title), .text(item.source), .status(item.status.rawValue), .text(item.detail),
                        .code(
                            item.evidence.prefix(3).map { String($0.prefix(19)) + "…" }.joined(separator: " ")
                                + (item.evidence.count > 3 ? " +\(item.evidence.count - 3)" : "")),
                    ]
                }))

        blocks.append(.heading(2, "4. Change log of the line"))
        if report.changeLog.isEmpty { blocks.append(.paragraph("This is the first version of its line.")) }
        for change in report.changeLog {
            let diff = change.diff
            blocks.append(.heading(3, "\(diff.from) → \(diff.to) (recorded \(change.recordedAt))"))
            let rows = Dimension.allCases.flatMap { dimension in
                diff.changes(in: dimension).filter { $0.kind != .unchanged }.map { c -> [Cell] in
                    [.text(dimension.rawValue), .text(c.kind.rawValue), .code(c.path), .text(Self.value(c.old)), .text(Self.value(c.new))]
                }
            }
            if rows.isEmpty {
                blocks.append(.paragraph("No change in any dimension."))
            } else {
                blocks.append(.table(["Dimension", "Change", "Path", "Before", "After"], rows))
            }
        }

        blocks.append(.heading(2, "5. Deployments and decommissioning"))
        if report.deployments.isEmpty { blocks.append(.paragraph("Never deployed.")) }
        for endpoint in report.deployments {
            blocks.append(.heading(3, endpoint.endpoint))
            blocks.append(
                .table(
                    ["From", "Until", "Serving", "Change", "By"],
                    endpoint.periods.map { period in
                        [
                            .text(period.validFrom.description), .text(period.validUntil?.description ?? "now"),
                            .text(period.serving.isEmpty ? "nothing" : period.serving.map { "\($0.model) \($0.percent)%" }.joined(separator: ", ")),
                            .text(period.action.rawValue + (period.forced ? " (forced)" : "")), .text(period.recordedBy),
                        ]
                    }))
        }
        if let retirement = report.retirement {
            blocks.append(.paragraph("Retired \(retirement.at) by \(retirement.by): \(retirement.reason)"))
        }
        return blocks
    }

    static func value(_ value: JSONValue?) -> String {
        guard let value else { return "" }
        let text = value.stringValue ?? value.canonicalString
        return text.count > 120 ? String(text.prefix(117)) + "…" : text
    }

    // MARK: Markdown

    public static func markdown(_ report: AuditReport) -> String {
        markdown(document(report))
    }

    static func markdown(_ blocks: [Block]) -> String {
        var out: [String] = []
        for block in blocks {
            switch block {
            case .heading(let level, let text): out.append(String(repeating: "#", count: level) + " " + Markdown.escape(text))
            case .paragraph(let text): out.append(Markdown.escape(text))
            case .table(let header, let rows):
                var lines = ["| " + header.map(Markdown.escape).joined(separator: " | ") + " |", "|" + header.map { _ in " --- |" }.joined()]
                for row in rows {
                    lines.append(
                        "| "
                            + row.map { cell in
                                switch cell {
                                case .text(let t), .status(let t): Markdown.escape(t)
                                case .code(let t): t.isEmpty ? "" : Markdown.code(t)
                                }
                            }.joined(separator: " | ") + " |")
                }
                out.append(lines.joined(separator: "\n"))
            }
        }
        return out.joined(separator: "\n\n") + "\n"
    }

    // MARK: HTML

    public static func html(_ report: AuditReport) -> String {
        html(document(report), title: "Audit of \(report.model.ref)")
    }

    /// The report's sections as HTML without the document around them (the web UI's audit page).
    public static func htmlBody(_ report: AuditReport) -> String { htmlBlocks(document(report)) }

    static func html(_ blocks: [Block], title: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(HTML.escape(title))</title>
        <style>\(stylesheet)</style></head>
        <body><main>
        \(htmlBlocks(blocks))
        <footer>Produced by Pedigree from its hash-chained event log. Event digests are SHA-256 of each event's canonical JSON.</footer>
        </main></body></html>

        """
    }

    static func htmlBlocks(_ blocks: [Block]) -> String {
        var body: [String] = []
        for block in blocks {
            switch block {
            case .heading(let level, let text): body.append("<h\(level)>\(HTML.escape(text))</h\(level)>")
            case .paragraph(let text): body.append("<p>\(HTML.escape(text))</p>")
            case .table(let header, let rows):
                let head = "<tr>" + header.map { "<th>\(HTML.escape($0))</th>" }.joined() + "</tr>"
                let cells = rows.map { row in
                    "<tr>"
                        + row.map { cell in
                            switch cell {
                            case .text(let t): "<td>\(HTML.escape(t))</td>"
                            case .code(let t): "<td><code>\(HTML.escape(t))</code></td>"
                            case .status(let t):
                                "<td class=\"status \(t.replacingOccurrences(of: " ", with: "-").lowercased())\">\(HTML.escape(t))</td>"
                            }
                        }.joined() + "</tr>"
                }
                body.append("<table><thead>\(head)</thead><tbody>\(cells.joined(separator: "\n"))</tbody></table>")
            }
        }
        return body.joined(separator: "\n")
    }

    /// Inline, so the file needs nothing else to display or print.
    static let stylesheet = """
        :root{color-scheme:light dark;--fg:#1b1f24;--bg:#fff;--muted:#57606a;--line:#d0d7de;--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e}
        @media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#8d96a0;--line:#30363d;--ok:#3fb950;--warn:#d29922;--bad:#f85149}}
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg);margin:0}
        main{max-width:1100px;margin:0 auto;padding:24px}
        h1{font-size:22px;margin:0 0 8px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
        h3{font-size:15px;margin:18px 0 6px}p{margin:6px 0}
        table{border-collapse:collapse;width:100%;margin:6px 0 12px;font-size:12.5px}
        th,td{border:1px solid var(--line);padding:4px 6px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
        th{background:color-mix(in srgb,var(--line) 35%,transparent);white-space:nowrap}
        code{font:11.5px ui-monospace,SFMono-Regular,Menlo,monospace}
        .status{font-weight:600;white-space:nowrap}.met,.verified{color:var(--ok)}.partly-met{color:var(--warn)}.missing,.failed{color:var(--bad)}
        footer{margin-top:32px;color:var(--muted);font-size:12px}
        @media print{body{font-size:10.5px}main{max-width:none;padding:0}h2{break-after:avoid}tr{break-inside:avoid}table{font-size:9.5px}}
        @page{size:A4;margin:14mm}
        """

    // MARK: The inventory

    public static func inventoryTable(_ entries: [InventoryEntry]) -> String {
        guard !entries.isEmpty else { return "no models recorded" }
        let rows = entries.map { entry in
            [
                entry.model.ref, "\(entry.score)%", entry.owner ?? "—", entry.riskTier ?? "—",
                entry.serving.isEmpty ? (entry.retired ? "retired" : "—") : entry.serving.joined(separator: ", "),
                entry.lastCheckpoint?.description ?? "never",
            ]
        }
        return TextRenderer.table(["MODEL (LATEST VERSION)", "COMPLETE", "OWNER", "RISK", "SERVING", "LAST CHECKPOINT"], rows)
            + "\n\(entries.count) model line\(entries.count == 1 ? "" : "s")"
    }

    public static let inventoryCSVHeader = "model,versions,score,owner,risk_tier,serving,last_checkpoint,retired\n"

    public static func inventoryCSVRow(_ entry: InventoryEntry) -> String {
        [
            entry.model.ref, String(entry.versions), String(entry.score), entry.owner ?? "", entry.riskTier ?? "",
            entry.serving.joined(separator: " "),
            entry.lastCheckpoint?.description ?? "", entry.retired ? "true" : "false",
        ].map(CSV.field).joined(separator: ",") + "\n"
    }
}

/// Markdown text that displays as written: punctuation that Markdown would interpret is backslash-escaped,
/// HTML is written as entities, and control characters (line breaks among them: a table cell is one line) are
/// shown as visible escapes, as on a terminal.
public enum Markdown {
    public static func escape(_ text: String) -> String {
        var out = ""
        for scalar in TerminalText.escape(text).unicodeScalars {
            switch scalar {
            case "\\", "`", "*", "_", "[", "]", "|", "~", ">":
                out.append("\\")
                out.unicodeScalars.append(scalar)
            case "<": out += "&lt;"
            case "&": out += "&amp;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A code span that no backtick in the text can close early.
    public static func code(_ text: String) -> String {
        let safe = TerminalText.escape(text).replacingOccurrences(of: "|", with: "\\|")
        var fence = "`"
        while safe.contains(fence) { fence += "`" }
        return "\(fence) \(safe) \(fence)"
    }
}

public enum HTML {
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}

/// RFC 4180 fields, and no formula injection: a field a spreadsheet would evaluate (=, +, -, @, tab, CR)
/// is prefixed with an apostrophe.
public enum CSV {
    public static func field(_ text: String) -> String {
        var value = text
        if let first = value.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { value = "'" + value }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
