import Foundation
import PedigreeCore

extension TextRenderer {
    // MARK: history

    /// One row per period: who served with which share, what changed it, who recorded it, and the serving
    /// configuration's digest.
    public static func history(_ entries: [DeploymentEntry]) -> String {
        guard !entries.isEmpty else { return "nothing has been deployed to this endpoint" }
        let rows = entries.map { entry in
            [
                entry.validFrom.description, entry.validUntil?.description ?? "now", serving(entry), change(entry), entry.recordedBy,
                entry.manifest.map { short($0.digest) } ?? "",
            ]
        }
        return table(["FROM", "UNTIL", "SERVING", "CHANGE", "BY", "CONFIG"], rows)
    }

    /// `model:…@2 90%, model:…@3 10%`, or `nothing` after an undeploy.
    public static func serving(_ entry: DeploymentEntry) -> String {
        entry.serving.isEmpty ? "nothing" : entry.serving.map { "\($0.model) \($0.percent)%" }.joined(separator: ", ")
    }

    static func change(_ entry: DeploymentEntry) -> String {
        switch entry.action {
        case .undeploy: return "undeploy"
        case .deploy:
            let share = entry.traffic.map { "canary \($0)%" } ?? (entry.serving.count == 1 ? "all traffic" : "")
            return "deploy \(entry.model.map(shortModel) ?? "")" + (share.isEmpty ? "" : " (\(share))") + (entry.forced ? " forced" : "")
        }
    }

    /// `fraud@3` for `model:fraud-team/fraud@3`: the endpoint's own namespace is usually the model's.
    static func shortModel(_ ref: String) -> String {
        guard let slash = ref.firstIndex(of: "/") else { return ref }
        return String(ref[ref.index(after: slash)...])
    }

    // MARK: incident

    /// The incident report for the person on call: what served, the suspect and the good model, what changed,
    /// who else is exposed, and the summary.
    public static func incident(_ report: IncidentReport) -> String {
        var lines = ["incident on \(safe(report.endpoint)) at \(report.at)", ""]
        lines.append("serving    \(safe(serving(report.serving)))  (period from \(report.serving.validFrom))")
        let deployed = report.suspectDeployment
        let redeployed = deployed.validFrom == report.suspectSince ? "" : ", last deployed \(deployed.validFrom)"
        lines.append(
            "suspect    \(safe(report.suspect))  took over \(report.suspectSince)\(redeployed), deployed by \(safe(deployed.recordedBy))")
        if let good = report.good {
            let how =
                switch good.choice {
                case .previous: "the version that served before"
                case .given: "given as good"
                case .servingAt: "what served at the good time"
                }
            let when =
                if report.serving.share(of: good.model) > 0 {
                    ", still serving \(report.serving.share(of: good.model))%"
                } else {
                    good.deployment == nil ? ", never served here" : ""
                }
            lines.append("good       \(safe(good.model))  (\(how)\(when))")
        } else {
            lines.append("good       none: nothing served this endpoint before the suspect (give --good REF)")
        }
        if let diff = report.diff {
            lines += ["", "what changed (\(safe(diff.from.description)) → \(safe(diff.to.description)))"]
            var any = false
            for dimension in Dimension.allCases {
                let changes = diff.changes(in: dimension)
                guard !changes.isEmpty else { continue }
                any = true
                lines.append("  \(dimension.rawValue)")
                lines += changes.map { "    " + line($0) }
            }
            if !any { lines.append("  nothing: both versions have the same recorded lineage") }
        }
        if !report.servingChanges.isEmpty {
            lines += ["", "serving changes (configuration, serving code, environment)"]
            lines += report.servingChanges.map { "  " + line($0) }
        }
        if !report.blastRadius.isEmpty {
            lines += ["", "blast radius of the changed data"]
            for blast in report.blastRadius {
                lines.append("  \(safe(blast.dataset))")
                if blast.models.isEmpty && blast.endpoints.isEmpty { lines.append("    no other model or endpoint uses it") }
                if !blast.models.isEmpty { lines.append("    other models: \(blast.models.map(safe).joined(separator: ", "))") }
                lines += blast.endpoints.map { "    endpoint \(safe($0.ref)) serves \(safe($0.model)) since \($0.since)" }
            }
        }
        lines += ["", "summary"] + wrap(safe(report.summary), width: 110).map { "  " + $0 }
        return lines.joined(separator: "\n")
    }

    /// Words wrapped at `width` columns.
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ") {
            if !current.isEmpty, current.count + 1 + word.count > width {
                lines.append(current)
                current = ""
            }
            current += current.isEmpty ? String(word) : " " + word
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }
}
