import Foundation

/// Which model an incident compares the failing one with: the version that served before it took over
/// (the default), one named, or whatever served at a known good time.
public enum IncidentBaseline: Hashable, Sendable {
    case previous
    case model(ArtifactRef)
    case servingAt(Timestamp)
}

/// The root-cause report for an endpoint at a time: what served, the last good model, what changed between
/// them in the five dimensions and on the serving side, who else the changed data reaches, and a summary
/// ranking the likely culprits.
public struct IncidentReport: QueryResult {
    /// A changed input dataset version and who else depends on it now.
    public struct BlastRadius: Hashable, Sendable, Codable {
        /// The changed (new) dataset version.
        public let dataset: String
        /// Other model versions trained on it.
        public let models: [String]
        /// Endpoints serving an affected model now (other than the endpoint in question).
        public let endpoints: [ImpactReport.Serving]

        public init(dataset: String, models: [String], endpoints: [ImpactReport.Serving]) {
            self.dataset = dataset
            self.models = models
            self.endpoints = endpoints
        }
    }

    /// The model the failing one is compared with, and how it was chosen.
    public struct Baseline: Hashable, Sendable, Codable {
        public enum Choice: String, Hashable, Sendable, Codable {
            /// The version that served before the suspect took over.
            case previous
            /// Named with `--good`.
            case given
            /// What served at `--good-at`.
            case servingAt = "serving-at"
        }

        public let model: String
        public let choice: Choice
        /// The period of the endpoint's history it served in (nil when it never served this endpoint).
        public let deployment: DeploymentEntry?

        public init(model: String, choice: Choice, deployment: DeploymentEntry?) {
            self.model = model
            self.choice = choice
            self.deployment = deployment
        }
    }

    public let endpoint: String
    public let namespace: String
    public let at: Timestamp
    /// The period of the endpoint's history that includes `at`: who served, with which shares.
    public let serving: DeploymentEntry
    /// The version that most recently took over serving (the canary when one runs): the first suspect.
    public let suspect: String
    /// When it took over (the start of its unbroken service).
    public let suspectSince: Timestamp
    /// Its latest deployment up to the incident (a redeploy with a new serving config is what changed last).
    public let suspectDeployment: DeploymentEntry
    public let good: Baseline?
    /// The five-dimension difference good → suspect, changes only.
    public let diff: LineageDiff?
    /// What changed on the serving side: configuration, manifest, serving code and environment.
    public let servingChanges: [Change]
    public let blastRadius: [BlastRadius]
    public let summary: String

    public init(
        endpoint: String, namespace: String, at: Timestamp, serving: DeploymentEntry, suspect: String, suspectSince: Timestamp,
        suspectDeployment: DeploymentEntry, good: Baseline?, diff: LineageDiff?, servingChanges: [Change], blastRadius: [BlastRadius]
    ) {
        self.endpoint = endpoint
        self.namespace = namespace
        self.at = at
        self.serving = serving
        self.suspect = suspect
        self.suspectSince = suspectSince
        self.suspectDeployment = suspectDeployment
        self.good = good
        self.diff = diff
        self.servingChanges = servingChanges
        self.blastRadius = blastRadius
        summary = IncidentSummary.write(
            endpoint: endpoint, at: at, serving: serving, suspect: suspect, since: suspectSince, good: good, diff: diff,
            servingChanges: servingChanges, blastRadius: blastRadius)
    }

    /// The dataset versions a diff shows as changed or added, in the order it lists them (direct inputs
    /// first, then what they were built from): where the blast radius is looked for.
    public static func changedDatasets(in diff: LineageDiff) -> [ArtifactRef] {
        var seen: Set<String> = []
        return diff.data.compactMap { change -> ArtifactRef? in
            guard change.kind == .changed || change.kind == .added, let text = change.new?["ref"]?.stringValue,
                case .artifact(let ref)? = try? Reference(parsing: text), ref.kind != "model", seen.insert(text).inserted
            else { return nil }
            return ref
        }
    }
}

/// The one paragraph a person on call reads first: what served, what it replaced, and the changes most
/// likely to explain a regression — data, then code, hyperparameters, environment and parent models,
/// then the serving side — each with its first few values.
enum IncidentSummary {
    static func write(
        endpoint: String, at: Timestamp, serving: DeploymentEntry, suspect: String, since: Timestamp, good: IncidentReport.Baseline?,
        diff: LineageDiff?, servingChanges: [Change], blastRadius: [IncidentReport.BlastRadius]
    ) -> String {
        let shares = serving.serving.map { "\($0.model) (\($0.percent)%)" }.joined(separator: " and ")
        var text = "At \(at) \(endpoint) served \(shares); \(suspect) took over at \(since)"
        guard let good else {
            return text + ", and no other version served the endpoint before it: name a known good version with --good to compare."
        }
        if good.model == suspect {
            text += "; it also served at the good time, so only its serving side can have changed."
        } else {
            text += good.choice == .previous ? " from \(good.model), the last good model." : "; compared with \(good.model) (given as good)."
        }
        var culprits: [String] = []
        if let diff {
            let dimensions: [(String, [Change])] = [
                ("data", diff.data), ("code", diff.code), ("hyperparameters", diff.hyperparameters), ("environment", diff.environment),
                ("parent models", diff.parents),
            ]
            for (name, changes) in dimensions {
                let changed = changes.filter { $0.kind != .unchanged }
                guard !changed.isEmpty else { continue }
                let text =
                    switch name {
                    case "data": describeData(changed)
                    case "code": describeCode(changed)
                    default: describe(changed)
                    }
                culprits.append("\(name): \(text)")
            }
        }
        let serving = servingChanges.filter { $0.kind != .unchanged }
        if !serving.isEmpty { culprits.append("serving: \(describe(serving))") }
        if diff == nil, good.model != suspect {
            text += " The lineage of \(good.model) and \(suspect) is not compared: one of them is in a namespace this caller may not read."
        }
        if culprits.isEmpty {
            text +=
                diff == nil && good.model != suspect
                ? "" : " Nothing recorded changed, in the lineage or on the serving side: look at the traffic the endpoint received."
        } else {
            text += " Most likely culprits first — " + culprits.enumerated().map { "(\($0.offset + 1)) \($0.element)" }.joined(separator: "; ") + "."
        }
        let models = Set(blastRadius.flatMap(\.models)).sorted()
        let endpoints = Set(blastRadius.flatMap { $0.endpoints.map(\.ref) }).sorted()
        if !models.isEmpty || !endpoints.isEmpty {
            text += " The changed data also reaches \(models.count) other model version\(models.count == 1 ? "" : "s")"
            text += models.isEmpty ? "" : " (\(listed(models)))"
            text += endpoints.isEmpty ? ", none serving now." : ", served now by \(listed(endpoints))."
        }
        return text
    }

    /// The first few changes of a dimension, each as `path old → new`.
    static func describe(_ changes: [Change]) -> String {
        let shown = changes.prefix(4).map { change -> String in
            switch change.kind {
            case .added: "\(change.path) added (\(value(change.new)))"
            case .removed: "\(change.path) removed (was \(value(change.old)))"
            default: "\(change.path) \(value(change.old)) → \(value(change.new))"
            }
        }
        let more = changes.count > shown.count ? " and \(changes.count - shown.count) more" : ""
        return shown.joined(separator: ", ") + more
    }

    /// Changed input versions (`dataset:ns/features@1 → @2`, the direct inputs with their role, then what
    /// they were built from), then how many preparation values changed.
    static func describeData(_ changes: [Change]) -> String {
        var parts: [String] = []
        var preparation = 0
        for change in changes {
            if change.path.contains(" preparation") {
                preparation += 1
                continue
            }
            let old = change.old?["ref"]?.stringValue, new = change.new?["ref"]?.stringValue
            guard old != nil || new != nil else {
                parts.append(describe([change]))
                continue
            }
            let role = change.path.contains(" ← ") ? "upstream" : change.path.firstMatch(of: /\[(?<role>[^\]]+)\]/).map { String($0.output.role) }
            let suffix = role.map { " (\($0))" } ?? ""
            switch (old, new) {
            case (let old?, let new?):
                let shared = old.prefix { $0 != "@" } == new.prefix { $0 != "@" }
                parts.append("\(old) → \(shared ? String(new.drop { $0 != "@" }) : new)\(suffix)")
            case (nil, let new?): parts.append("\(new) added\(suffix)")
            case (let old?, nil): parts.append("\(old) removed\(suffix)")
            default: break
            }
        }
        if preparation > 0 { parts.append("\(preparation) preparation value\(preparation == 1 ? "" : "s") changed") }
        return parts.joined(separator: ", ")
    }

    /// The commit (short), whether the tree was dirty, and anything else that changed.
    static func describeCode(_ changes: [Change]) -> String {
        var parts: [String] = []
        var rest: [Change] = []
        for change in changes {
            switch change.path {
            case "commit":
                let old = change.old?.stringValue.map { String($0.prefix(7)) } ?? "none"
                let new = change.new?.stringValue.map { String($0.prefix(7)) } ?? "none"
                parts.append("commit \(old) → \(new)")
            case "dirty": parts.append(change.new == .bool(true) ? "uncommitted changes" : "no longer dirty")
            case "diffDigest", "diff", "untracked": continue
            default: rest.append(change)
            }
        }
        if !rest.isEmpty { parts.append(describe(rest)) }
        return parts.isEmpty ? describe(changes) : parts.joined(separator: ", ")
    }

    /// A value as one short line: an input's reference, else its JSON text, cut at 40 characters.
    static func value(_ value: JSONValue?) -> String {
        guard let value else { return "" }
        let text = value["ref"]?.stringValue ?? value.displayText
        let line = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return line.count > 40 ? String(line.prefix(39)) + "…" : line
    }

    static func listed(_ items: [String]) -> String {
        items.count > 3 ? items.prefix(3).joined(separator: ", ") + " and \(items.count - 3) more" : items.joined(separator: ", ")
    }
}
