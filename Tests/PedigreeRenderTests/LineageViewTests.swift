import PedigreeCore
import PedigreeRender
import Testing

@Suite("What a lineage drawing folds")
struct LineageViewTests {
    /// A downstream lineage where every node sits at its own breadth-first depth: a chain of runs and
    /// artifacts, each artifact made by the run before it and used by the next — the shape of a long
    /// fine-tune chain, and the one in which no two siblings share a layer.
    static func chain(_ n: Int) -> LineageGraph {
        let time = Timestamp(microseconds: 0)
        var entries: [LineageGraph.Entry] = []
        var edges: [LineageEdge] = []
        for i in 0..<n {
            let kind = i % 2 == 1 ? "run" : "model"
            let ref = kind == "run" ? "run:r\(i)" : "model:ns/m@\(i)"
            let node = NodeSummary(
                ref: ref, kind: kind, namespace: "ns", name: kind == "run" ? "ft" : "m", version: kind == "run" ? nil : "\(i)",
                digest: nil, status: kind == "run" ? "COMPLETE" : nil, recordedAt: time)
            entries.append(.init(node: node, depth: i))
            if i > 0 { edges.append(LineageEdge(from: entries[i - 1].node.ref, to: ref, role: kind == "run" ? "parent" : "model")) }
        }
        return LineageGraph(root: entries[0].node, direction: .downstream, depthLimit: nil, nodes: entries, edges: edges)
    }

    @Test("a 10,000-node lineage with no shared depths degrades to clusters within the node budget")
    func deepLineageFolds() {
        let view = LineageView(upstream: nil, downstream: Self.chain(10_000))
        #expect(view.nodes.count <= LineageView.Options().nodeBudget)
        #expect(view.nodes.count > 1)
        #expect(view.nodes.contains { $0.isCluster })
        #expect(view.nodes.reduce(0) { $0 + max(1, $1.members.count) } == 10_000, "every node is drawn or inside a cluster")
        #expect(view.nodes[0].id == "model:ns/m@0", "the root is never folded")
    }

    @Test("expanding one cluster of a folded lineage draws its members and leaves the other clusters as they were")
    func expandingKeepsTheOthers() throws {
        let graph = Self.chain(2_000)
        let folded = LineageView(upstream: nil, downstream: graph)
        let clusters = folded.nodes.filter(\.isCluster)
        let target = try #require(clusters.first)
        var options = LineageView.Options()
        options.expanded = [target.id]
        let expanded = LineageView(upstream: nil, downstream: graph, options: options)
        let drawn = Set(expanded.nodes.map(\.id))
        #expect(target.members.allSatisfy { drawn.contains($0.ref) })
        #expect(Set(clusters.dropFirst().map(\.id)).isSubset(of: drawn))
    }

    @Test("a lineage within the budget is drawn node for node")
    func smallLineageIsNotFolded() {
        let view = LineageView(upstream: nil, downstream: Self.chain(300))
        #expect(view.nodes.count == 300)
        #expect(view.foldedCount == 0)
    }
}
