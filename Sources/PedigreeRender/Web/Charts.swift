import Foundation
import PedigreeCore

/// Small inline plots of a metric over steps.
enum Sparkline {
    /// The values of a recorded metric in step order: a number, a list of numbers, or a list of
    /// `{"step": …, "value": …}` points.
    static func series(_ value: JSONValue) -> [Double] {
        func number(_ v: JSONValue?) -> Double? {
            switch v {
            case .int(let i)?: Double(i)
            case .double(let d)?: d.isFinite ? d : nil
            default: nil
            }
        }
        if let single = number(value) { return [single] }
        guard let items = value.arrayValue ?? value["history"]?.arrayValue else { return [] }
        let points: [(Double, Double)] = items.enumerated().compactMap { i, item in
            if let v = number(item) { return (Double(i), v) }
            guard let v = number(item["value"]) else { return nil }
            return (number(item["step"]) ?? Double(i), v)
        }
        return points.sorted { $0.0 < $1.0 }.map(\.1)
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.4g", value)
    }

    static func svg(_ values: [Double], label: String, width: Double = 140, height: Double = 30) -> String {
        let low = values.min()!, high = values.max()!
        let span = high - low == 0 ? 1 : high - low
        let points = values.enumerated().map { i, v in
            let x = Double(i) / Double(max(values.count - 1, 1)) * (width - 4) + 2
            let y = height - 2 - (v - low) / span * (height - 4)
            return "\(LineageSVG.n(x)),\(LineageSVG.n(y))"
        }
        return """
            <svg class="sparkline" viewBox="0 0 \(LineageSVG.n(width)) \(LineageSVG.n(height))" width="\(LineageSVG.n(width))" \
            height="\(LineageSVG.n(height))" role="img" aria-label="\(WebPage.h("\(label): \(values.count) steps, from \(format(values.first!)) to \(format(values.last!))"))">\
            <polyline points="\(points.joined(separator: " "))"/></svg>
            """
    }
}

/// Which versions served an endpoint over time: one band per period, canary shares stacked, a marker at
/// each switch linking to what changed.
enum Timeline {
    static func svg(_ history: [DeploymentEntry], now: Timestamp) -> String {
        guard let first = history.first else { return "<p class=\"muted\">Nothing deployed yet.</p>" }
        let start = Double(first.validFrom.microseconds)
        let end = max(Double(now.microseconds), Double(history.map { $0.validUntil?.microseconds ?? $0.validFrom.microseconds }.max()!) + 1)
        let width = 900.0, band = 70.0, left = 10.0, top = 10.0
        func x(_ t: Timestamp) -> Double { left + (Double(t.microseconds) - start) / (end - start) * (width - 2 * left) }
        var colours: [String: Int] = [:]
        for entry in history { for share in entry.serving where colours[share.model] == nil { colours[share.model] = colours.count % 8 } }
        var out = """
            <svg class="timeline" viewBox="0 0 \(Int(width)) \(Int(band + 50))" width="100%" role="img" \
            aria-label="\(WebPage.h("\(history.count) deployment periods of \(first.endpoint)"))">

            """
        var previousPrimary: String?
        for entry in history {
            let x0 = x(entry.validFrom), x1 = x(entry.validUntil ?? now)
            var y = top
            for share in entry.serving {
                let height = band * Double(share.percent) / 100
                out += """
                    <a href="\(WebPage.h(WebURL.node(share.model)))"><rect class="band band-\(colours[share.model] ?? 0)" x="\(LineageSVG.n(x0))" \
                    y="\(LineageSVG.n(y))" width="\(LineageSVG.n(max(x1 - x0, 1)))" height="\(LineageSVG.n(height))">\
                    <title>\(WebPage.h("\(share.model) \(share.percent)% from \(entry.validFrom)"))</title></rect></a>

                    """
                if x1 - x0 > 90 && height >= 14 {
                    let name = share.model.split(separator: "/").last.map(String.init) ?? share.model
                    out +=
                        "<text class=\"band-label\" x=\"\(LineageSVG.n(x0 + 4))\" y=\"\(LineageSVG.n(y + min(height, 30) / 2 + 4))\">\(WebPage.h(LineageSVG.label(name + (share.percent < 100 ? " \(share.percent)%" : ""))))</text>\n"
                }
                y += height
            }
            if let before = previousPrimary, let now = entry.primary, before != now {
                out += """
                    <a class="switch" href="\(WebPage.h(WebURL.diff(from: before, to: now)))"><line x1="\(LineageSVG.n(x0))" y1="\(LineageSVG.n(top - 6))" \
                    x2="\(LineageSVG.n(x0))" y2="\(LineageSVG.n(top + band + 6))"/><title>\(WebPage.h("switch at \(entry.validFrom): what changed from \(before) to \(now)"))</title></a>

                    """
            }
            previousPrimary = entry.primary ?? previousPrimary
        }
        out += "<text class=\"axis\" x=\"\(Int(left))\" y=\"\(Int(top + band + 24))\">\(WebPage.h(first.validFrom.description))</text>"
        out += "<text class=\"axis end\" x=\"\(Int(width - left))\" y=\"\(Int(top + band + 24))\">now</text>\n</svg>"
        return out
    }

    static func table(_ history: [DeploymentEntry]) -> String {
        var previous: String?
        let rows = history.map { entry -> [String] in
            defer { previous = entry.primary ?? previous }
            let serving = entry.serving.map { "\(WebPage.nodeLink($0.model)) \($0.percent)%" }.joined(separator: "<br>")
            var changed = "—"
            for share in entry.serving where previous != nil && share.model != previous {
                changed = "<a href=\"\(WebPage.h(WebURL.diff(from: previous!, to: share.model)))\">what changed</a>"
            }
            return [
                WebPage.time(entry.validFrom), WebPage.time(entry.validUntil), serving.isEmpty ? "nothing (undeployed)" : serving,
                WebPage.h(entry.action.rawValue + (entry.forced ? " (forced)" : "")), WebPage.h(entry.recordedBy), changed,
            ]
        }
        return WebPage.table(["From", "Until", "Serving", "Action", "Recorded by", "Change"], rows.reversed(), id: "history")
    }
}
