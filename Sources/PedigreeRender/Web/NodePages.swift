import Foundation
import PedigreeCore

/// The pages of one node: a model version (its five dimensions as panels), a dataset version (with the
/// models trained on it), a run, and an endpoint (its deployment timeline).
public enum NodePages {
    /// What the model version page shows beside the node itself.
    public struct ModelContext: Sendable {
        /// Parent models from the direct parent down to the original pretrained model.
        public let parentChain: [NodeSummary]
        /// Whether this version's events verify (nil: not checked), and the chain heads they lead to.
        public let integrity: AuditReport.Integrity?
        public init(parentChain: [NodeSummary], integrity: AuditReport.Integrity?) {
            self.parentChain = parentChain
            self.integrity = integrity
        }
    }

    static let h = WebPage.h

    // MARK: Model and dataset versions

    public static func artifact(_ detail: NodeDetail, model: ModelContext?, trainedOn: TrainedOnReport?, viewer: WebPage.Viewer) -> String {
        let s = detail.summary
        var facts: [(String, String)] = [("reference", WebPage.code(s.ref)), ("namespace", h(s.namespace)), ("digest", WebPage.digest(s.digest))]
        if let artifact = detail.artifact {
            if let uri = artifact.uri { facts.append(("uri", WebPage.code(uri))) }
            if !artifact.aliasDigests.isEmpty { facts.append(("alias digests", artifact.aliasDigests.map(WebPage.code).joined(separator: " "))) }
        }
        facts.append(("recorded", WebPage.time(s.recordedAt)))
        if let provenance = detail.generatedBy { facts.append(("made by", WebPage.nodeLink(provenance.run))) }
        if let retired = detail.retirement {
            facts.append(("retired", "\(WebPage.time(retired.at)) by \(h(retired.by)): \(h(retired.reason))"))
        }
        var actions = [
            "<a href=\"\(h(WebURL.graph(s.ref)))\">Lineage graph</a>", "<a href=\"\(h(WebURL.impact(s.ref)))\">Impact</a>",
        ]
        if s.kind == "model" {
            actions.append("<a href=\"\(h(WebURL.link("/diff", ["to": s.ref])))\">Diff with previous</a>")
            actions.append("<a href=\"\(h(WebURL.audit(s.ref)))\">Audit report</a>")
        }
        var body =
            "<h1><span class=\"kind kind-\(h(s.kind))\">\(h(s.kind))</span> \(h(s.name)) <span class=\"version\">@\(h(s.version ?? "?"))</span>"
        if let integrity = model?.integrity { body += " " + badge(integrity) }
        body += "</h1><p class=\"actions\">\(actions.joined(separator: " · "))</p>" + WebPage.facts(facts)

        if let provenance = detail.generatedBy {
            let record = provenance.record
            body += "<div class=\"panels\">"
            body += WebPage.panel("Data", id: "data", data(provenance.inputs.filter { $0.node.kind != "model" }, record.data))
            body += WebPage.panel("Code", id: "code", code(record.code))
            body += WebPage.panel(
                "Parent models", id: "parents", parents(provenance.inputs.filter { $0.node.kind == "model" }, chain: model?.parentChain ?? []))
            body += WebPage.panel("Hyperparameters", id: "hyperparameters", hyperparameters(record.hyperparameters))
            body += WebPage.panel("Environment", id: "environment", environment(record.environment))
            body += WebPage.panel("Metrics", id: "metrics", metrics(record.metrics))
            body += "</div>"
        }
        if s.kind == "model" {
            body += WebPage.panel("Deployments", id: "deployments", deployments(detail))
        }
        if let trainedOn {
            let rows = trainedOn.models.map { entry in
                [
                    WebPage.nodeLink(entry.model.ref), WebPage.nodeLink(entry.run),
                    entry.direct ? "directly" : "through \(entry.hops / 2 - 1) preparation step(s)",
                ]
            }
            body += WebPage.panel(
                "Models trained on this dataset", id: "trained-on",
                WebPage.table(["Model", "Trained by", "How"], rows, id: "trained-on-table", empty: "No model was trained on it."))
        }
        body += WebPage.panel(
            "Used by", id: "used-by",
            WebPage.table(["Role", "Node"], detail.downstream.map { [h($0.role), WebPage.nodeLink($0.node.ref)] }, empty: "Nothing uses it yet."))
        if let facets = detail.artifact?.facets, !facets.isEmpty { body += WebPage.panel("Facets", id: "facets", WebPage.tree(.object(facets))) }
        body += WebPage.panel("Events", id: "events", events(detail.events))
        return WebPage.document(title: s.ref, section: .node, viewer: viewer, body: body)
    }

    static func badge(_ integrity: AuditReport.Integrity) -> String {
        let head = integrity.events.last.map { " · chain head \($0.namespace)#\($0.sequence) \(String($0.chainHash.prefix(12)))…" } ?? ""
        if integrity.ok {
            let covered = integrity.eventsCheckpointed == integrity.events.count && !integrity.events.isEmpty ? ", signed checkpoint" : ""
            return "<span class=\"badge ok integrity\" title=\"\(h("\(integrity.events.count) events verify\(head)"))\">✓ verified\(covered)</span>"
        }
        return "<span class=\"badge bad integrity\" title=\"\(h(integrity.checkpointProblems.joined(separator: "; ")))\">✗ does not verify</span>"
    }

    static func data(_ inputs: [NodeDetail.Link], _ facet: DataFacet?) -> String {
        var out = WebPage.table(
            ["Role", "Dataset version", "Digest"], inputs.map { [h($0.role), WebPage.nodeLink($0.node.ref), WebPage.digest($0.node.digest)] },
            empty: "No data inputs recorded.")
        if let facet {
            if !facet.transformations.isEmpty {
                out +=
                    "<h3>Transformations</h3><ol class=\"steps\">" + facet.transformations.map { "<li>\(WebPage.tree($0))</li>" }.joined() + "</ol>"
            }
            if let selection = facet.featureSelection { out += "<h3>Feature selection</h3>" + WebPage.tree(selection) }
            if !facet.quality.isEmpty { out += "<h3>Data quality</h3>" + WebPage.tree(.object(facet.quality)) }
        }
        return out
    }

    static func code(_ code: CodeFacet?) -> String {
        guard let code else { return "<p class=\"muted\">No code recorded: run training under <code>pedigree run</code> in a git checkout.</p>" }
        var facts: [(String, String)] = []
        if let repository = code.repository { facts.append(("repository", WebPage.code(repository))) }
        if let commit = code.commit {
            let link = commitURL(repository: code.repository, commit: commit)
            facts.append(("commit", link.map { "<a href=\"\(h($0))\" rel=\"noreferrer\">\(WebPage.code(commit))</a>" } ?? WebPage.code(commit)))
        }
        if let branch = code.branch { facts.append(("branch", WebPage.code(branch))) }
        if let tag = code.tag { facts.append(("tag", WebPage.code(tag))) }
        if let path = code.path { facts.append(("path", WebPage.code(path))) }
        if let dirty = code.dirty {
            facts.append(("working tree", dirty ? WebPage.status("dirty", "warn") : WebPage.status("clean", "ok")))
        }
        if let digest = code.diffDigest { facts.append(("diff digest", WebPage.code(digest))) }
        var out = WebPage.facts(facts)
        if let diff = code.json["diff"]?.stringValue {
            out += "<details><summary>Uncommitted diff</summary><pre class=\"diff\">\(h(diff))</pre></details>"
        }
        return out
    }

    /// A web link to the commit when the repository is on a forge whose URL layout is known.
    static func commitURL(repository: String?, commit: String) -> String? {
        guard let repository, commit.count >= 7, commit.allSatisfy(\.isHexDigit) else { return nil }
        var path = repository
        for prefix in ["https://", "http://", "ssh://git@", "git@"] where path.hasPrefix(prefix) { path = String(path.dropFirst(prefix.count)) }
        path = path.replacingOccurrences(of: ":", with: "/")
        if path.hasSuffix(".git") { path = String(path.dropLast(4)) }
        let parts = path.split(separator: "/")
        guard parts.count >= 3, let host = parts.first,
            parts.allSatisfy({ $0.allSatisfy { $0.isLetter || $0.isNumber || "-_.".contains($0) } })
        else { return nil }
        switch host {
        case "github.com", "gitlab.com": return "https://\(path)/\(host == "gitlab.com" ? "-/" : "")commit/\(commit)"
        case "bitbucket.org": return "https://\(path)/commits/\(commit)"
        default: return nil
        }
    }

    static func parents(_ direct: [NodeDetail.Link], chain: [NodeSummary]) -> String {
        guard !direct.isEmpty else { return "<p class=\"muted\">Trained from scratch: no parent model recorded.</p>" }
        let list = chain.isEmpty ? direct.map(\.node) : chain
        return "<ol class=\"chain\">"
            + list.enumerated().map { i, node in
                let note = i == list.count - 1 && list.count > 1 ? " <span class=\"muted\">(original)</span>" : ""
                return "<li>\(WebPage.nodeLink(node.ref))\(note)</li>"
            }.joined() + "</ol>"
    }

    static func hyperparameters(_ parameters: [String: JSONValue]?) -> String {
        guard let parameters, !parameters.isEmpty else { return "<p class=\"muted\">No hyperparameters recorded.</p>" }
        return """
            <label class="filter">Filter <input type="search" data-filter="#hyperparameter-tree" placeholder="e.g. lr"></label>
            <div id="hyperparameter-tree">\(WebPage.tree(.object(parameters)))</div>
            """
    }

    static func environment(_ environment: EnvironmentFacet?) -> String {
        guard let environment else { return "<p class=\"muted\">No environment recorded.</p>" }
        var facts: [(String, String)] = []
        if let runtime = environment.runtime { facts.append(("runtime", h("\(runtime.name) \(runtime.version ?? "")"))) }
        for (label, key) in [("os", "os"), ("kernel", "kernel"), ("cpu", "cpu"), ("cuda", "cuda"), ("cudnn", "cudnn"), ("image", "containerImage")] {
            if let value = environment.json[key]?.stringValue { facts.append((label, WebPage.code(value))) }
        }
        if let gpu = environment.gpu {
            facts.append(
                ("gpu", h([gpu.model, gpu.count.map { "×\($0)" }, gpu.driver.map { "driver \($0)" }].compactMap { $0 }.joined(separator: " "))))
        }
        if !environment.seeds.isEmpty { facts.append(("seeds", WebPage.tree(.object(environment.seeds)))) }
        var out = WebPage.facts(facts)
        let packages = environment.packages.sorted { $0.key < $1.key }
        if !packages.isEmpty {
            out += """
                <h3>Packages (\(packages.count))</h3>
                <label class="filter">Filter <input type="search" data-filter="#packages" placeholder="e.g. torch"></label>
                """
            out += WebPage.table(["Package", "Version"], packages.map { [h($0.key), WebPage.code($0.value)] }, id: "packages")
        }
        return out
    }

    static func metrics(_ metrics: [String: JSONValue]?) -> String {
        guard let metrics, !metrics.isEmpty else { return "<p class=\"muted\">No metrics recorded.</p>" }
        let rows = metrics.keys.sorted().map { key -> [String] in
            let series = Sparkline.series(metrics[key]!)
            let last = series.last.map { Sparkline.format($0) } ?? WebPage.scalar(metrics[key])
            return [h(key), WebPage.code(last), series.count > 1 ? Sparkline.svg(series, label: key) : ""]
        }
        return WebPage.table(["Metric", "Final", "Over steps"], rows, id: "metrics-table")
    }

    static func deployments(_ detail: NodeDetail) -> String {
        let endpoints = detail.downstream.filter { $0.node.kind == "deployment" }
        return WebPage.table(
            ["Endpoint", "Timeline"],
            endpoints.map { [WebPage.nodeLink($0.node.ref), "<a href=\"\(h(WebURL.node($0.node.ref)))#timeline\">timeline</a>"] },
            empty: "Never deployed.")
    }

    static func events(_ events: [EventSummary]) -> String {
        WebPage.table(
            ["Digest", "Chain position", "Recorded", "By"],
            events.map { [WebPage.digest($0.digest), h("\($0.namespace)#\($0.sequence)"), WebPage.time($0.recordedAt), h($0.recordedBy)] })
    }

    // MARK: Runs

    public static func run(_ detail: NodeDetail, viewer: WebPage.Viewer) -> String {
        let s = detail.summary
        let run = detail.run
        var facts: [(String, String)] = [("reference", WebPage.code(s.ref)), ("namespace", h(s.namespace)), ("status", h(s.status ?? "unknown"))]
        if let run {
            facts.append(("job", h(run.job)))
            facts.append(("started", WebPage.time(run.startedAt)))
            facts.append(("ended", WebPage.time(run.endedAt)))
            if let parent = run.parentRun { facts.append(("parent run", WebPage.nodeLink("run:\(parent)"))) }
        }
        var body = "<h1><span class=\"kind kind-run\">run</span> \(h(s.name))</h1>"
        body += "<p class=\"actions\"><a href=\"\(h(WebURL.graph(s.ref)))\">Lineage graph</a></p>" + WebPage.facts(facts)
        body += "<div class=\"panels\">"
        body += WebPage.panel(
            "Inputs", id: "inputs",
            WebPage.table(
                ["Role", "Node", "Digest"], detail.upstream.map { [h($0.role), WebPage.nodeLink($0.node.ref), WebPage.digest($0.node.digest)] }))
        body += WebPage.panel(
            "Outputs", id: "outputs",
            WebPage.table(
                ["Role", "Node", "Digest"], detail.downstream.map { [h($0.role), WebPage.nodeLink($0.node.ref), WebPage.digest($0.node.digest)] }))
        if let run {
            body += WebPage.panel("Data preparation", id: "data", data([], run.data))
            body += WebPage.panel("Code", id: "code", code(run.code))
            body += WebPage.panel("Hyperparameters", id: "hyperparameters", hyperparameters(run.hyperparameters))
            body += WebPage.panel("Environment", id: "environment", environment(run.environment))
            body += WebPage.panel("Metrics", id: "metrics", metrics(run.metrics))
        }
        body += "</div>" + WebPage.panel("Events", id: "events", events(detail.events))
        return WebPage.document(title: s.ref, section: .node, viewer: viewer, body: body)
    }

    // MARK: Endpoints

    public static func endpoint(_ detail: NodeDetail, history: [DeploymentEntry], now: Timestamp, viewer: WebPage.Viewer) -> String {
        let s = detail.summary
        var body = "<h1><span class=\"kind kind-deployment\">endpoint</span> \(h(s.name))</h1>"
        body += "<p class=\"actions\"><a href=\"\(h(WebURL.graph(s.ref)))\">Lineage graph</a> · "
        body += "<a href=\"\(h(WebURL.link("/incident", ["endpoint": s.ref])))\">Investigate an incident</a></p>"
        body += WebPage.facts([("reference", WebPage.code(s.ref)), ("namespace", h(s.namespace))])
        body += WebPage.panel("Deployment timeline", id: "timeline", Timeline.svg(history, now: now) + Timeline.table(history))
        body += WebPage.panel("Events", id: "events", events(detail.events))
        return WebPage.document(title: s.ref, section: .node, viewer: viewer, body: body)
    }
}
