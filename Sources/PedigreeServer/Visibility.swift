import PedigreeCore
import PedigreeStore

/// What a namespace-scoped token may see of a result. A node is visible when its namespace is readable, or
/// when it is an artifact connected to a visible run: a team sees the data and models its own runs used and
/// produced, wherever they are registered, but not other teams' runs or what only those touched.
struct Visibility {
    let identity: Identity

    func readable(_ node: NodeSummary) -> Bool { identity.allows(.reader, in: node.namespace) }

    func visibleNodes(_ nodes: [NodeSummary], edges: [LineageEdge]) -> Set<String> {
        var visible = Set(nodes.filter(readable).map(\.ref))
        let visibleRuns = Set(nodes.filter { $0.kind == "run" && readable($0) }.map(\.ref))
        for edge in edges where visibleRuns.contains(edge.from) || visibleRuns.contains(edge.to) {
            visible.insert(edge.from)
            visible.insert(edge.to)
        }
        return visible
    }

    func filter(_ graph: LineageGraph) -> LineageGraph {
        let visible = visibleNodes(graph.nodes.map(\.node), edges: graph.edges)
        return LineageGraph(
            root: graph.root, direction: graph.direction, depthLimit: graph.depthLimit,
            nodes: graph.nodes.filter { visible.contains($0.node.ref) },
            edges: graph.edges.filter { visible.contains($0.from) && visible.contains($0.to) })
    }

    func filter(_ report: ImpactReport) -> ImpactReport {
        let visible = visibleNodes(report.affected.map(\.node), edges: [])
        return ImpactReport(
            root: report.root, namespace: report.namespace, affected: report.affected.filter { visible.contains($0.node.ref) },
            serving: report.serving.filter { identity.allows(.reader, in: $0.namespace) })
    }

    func filter(_ report: TrainedOnReport) -> TrainedOnReport {
        TrainedOnReport(
            datasets: report.datasets, models: report.models.filter { readable($0.model) || identity.allows(.reader, in: $0.runNamespace) })
    }

    func filter(_ detail: NodeDetail) -> NodeDetail {
        let links = detail.upstream + detail.downstream
        let visible =
            readable(detail.summary) && detail.summary.kind == "run"
            ? Set(links.map(\.node.ref))
            : Set(links.filter { readable($0.node) }.map(\.node.ref))
        // An artifact's generating run is shown only to those who may see that run.
        let generatedBy = detail.generatedBy.flatMap { provenance in visible.contains(provenance.run) ? provenance : nil }
        return NodeDetail(
            summary: detail.summary, artifact: detail.artifact, run: detail.run, generatedBy: generatedBy,
            upstream: detail.upstream.filter { visible.contains($0.node.ref) },
            downstream: detail.downstream.filter { visible.contains($0.node.ref) },
            history: detail.history, events: detail.events.filter { identity.allows(.reader, in: $0.namespace) }, retirement: detail.retirement)
    }
}
