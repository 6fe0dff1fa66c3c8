import PedigreeCore

/// What a lineage drawing shows of a graph: the nodes a reader asked to see, with crowds of alike siblings
/// folded into one expandable cluster and collapsed neighbourhoods hidden behind their node. A pure function
/// of the query result and the reader's choices (which become URL parameters in the web UI), so a pasted
/// link draws the same picture.
public struct LineageView: Sendable {
    public struct Options: Sendable {
        /// Nodes whose far side (away from the root) is hidden.
        public var collapsed: Set<String> = []
        /// Clusters (by `Node.id`) drawn as their members.
        public var expanded: Set<String> = []
        /// Siblings alike in kind and neighbours, this many or more, become one cluster.
        public var clusterThreshold = 8
        /// The most nodes drawn: beyond it, whole layers of a kind fold into clusters, biggest first, so a
        /// 10,000-node lineage draws as a readable overview instead of a hairball.
        public var nodeBudget = 400
        /// Nodes on the path between two references (both must be drawn) are highlighted.
        public var path: (from: String, to: String)?
        public init() {}
    }

    public struct Node: Hashable, Sendable {
        /// The node's reference, or `cluster:…` for a cluster.
        public let id: String
        public let kind: String
        /// The first line: the name (for a cluster, the shared name or kind and the count).
        public let title: String
        /// The second line: version and digest, status, or what a cluster holds.
        public let detail: String
        /// Hops from the root: negative upstream, positive downstream.
        public let depth: Int
        /// A cluster's members (empty for a plain node).
        public let members: [NodeSummary]
        /// How many nodes are hidden behind this collapsed node (0 when not collapsed).
        public let hidden: Int
        /// Whether the node has anything beyond it that collapsing would hide.
        public let collapsible: Bool
        public var isCluster: Bool { !members.isEmpty }
    }

    public struct Edge: Hashable, Sendable {
        public let from: Int
        public let to: Int
        public let role: String
        /// Edges folded into this one by clustering.
        public let count: Int
    }

    public let root: String
    public let nodes: [Node]
    public let edges: [Edge]
    /// Indices of the nodes and edges on the highlighted path.
    public let pathNodes: Set<Int>
    public let pathEdges: Set<Int>
    /// Nodes of the graph that are not drawn (hidden by collapsing, or inside clusters).
    public let foldedCount: Int

    /// Joins an upstream and a downstream graph of the same root (either may be nil) into one view.
    public init(upstream: LineageGraph?, downstream: LineageGraph?, options: Options = Options()) {
        var depth: [String: Int] = [:], summaries: [String: NodeSummary] = [:], order: [String] = []
        var edgeSet: Set<LineageEdge> = []
        var edgeList: [LineageEdge] = []
        let root = (upstream ?? downstream)!.root
        for (graph, sign) in [(upstream, -1), (downstream, 1)] {
            guard let graph else { continue }
            for entry in graph.nodes where depth[entry.node.ref] == nil {
                depth[entry.node.ref] = sign * entry.depth
                summaries[entry.node.ref] = entry.node
                order.append(entry.node.ref)
            }
            for edge in graph.edges where edgeSet.insert(edge).inserted { edgeList.append(edge) }
        }
        self.root = root.ref

        // Away from the root: upstream nodes are reached against the data flow, downstream ones with it.
        var away: [String: [String]] = [:]
        for edge in edgeList {
            let (a, b) = (depth[edge.from] ?? 0, depth[edge.to] ?? 0)
            if b > 0 || (b == 0 && a < 0) { away[edge.from, default: []].append(edge.to) }
            if a < 0 || (a == 0 && b > 0) { away[edge.to, default: []].append(edge.from) }
        }
        // Collapsing: what is still reachable from the root without passing a collapsed node.
        var visible: Set<String> = [root.ref]
        var queue = [root.ref]
        while let ref = queue.popLast() {
            guard ref == root.ref || !options.collapsed.contains(ref) else { continue }
            for next in away[ref] ?? [] where visible.insert(next).inserted { queue.append(next) }
        }
        var hidden: [String: Int] = [:]
        for ref in options.collapsed where visible.contains(ref) && ref != root.ref {
            var seen: Set<String> = [ref]
            var stack = [ref]
            while let r = stack.popLast() {
                for next in away[r] ?? [] where !visible.contains(next) && seen.insert(next).inserted { stack.append(next) }
            }
            hidden[ref] = seen.count - 1
        }
        let shown = order.filter(visible.contains)

        // Clusters: a group of alike siblings (kind, side, neighbours) folds into one node; twice, so the
        // runs of 1,000 fine-tunes fold first, then the models those runs made.
        var clusterOf: [String: String] = [:]
        var clusterMembers: [String: [String]] = [:]
        func id(_ ref: String) -> String { clusterOf[ref] ?? ref }
        let visibleEdges = edgeList.filter { visible.contains($0.from) && visible.contains($0.to) }
        for _ in 0..<2 {
            var neighbours: [String: Set<String>] = [:]
            for edge in visibleEdges {
                neighbours[edge.from, default: []].insert("<" + id(edge.to))
                neighbours[edge.to, default: []].insert(">" + id(edge.from))
            }
            var groups: [String: [String]] = [:]
            for ref in shown where ref != root.ref && clusterOf[ref] == nil && hidden[ref] == nil {
                let node = summaries[ref]!
                let side = (depth[ref] ?? 0).signum()
                let key = "\(node.kind)|\(side)|" + (neighbours[ref] ?? []).sorted().joined(separator: ",")
                groups[key, default: []].append(ref)
            }
            for members in groups.values where members.count >= options.clusterThreshold {
                let clusterID = Self.clusterID(members)
                guard !options.expanded.contains(clusterID) else { continue }
                for ref in members { clusterOf[ref] = clusterID }
                clusterMembers[clusterID] = members
            }
        }
        // Over budget: fold whole layers of one kind on one side — `band` consecutive depths at a time — into
        // clusters, biggest first, until it fits. The band is the narrowest with which folding every such layer
        // would fit: 1 where siblings share depths, wider for a lineage whose nodes each sit at their own depth
        // (a long chain), and at most the whole side, so a 10,000-node lineage always degrades to clusters.
        // It is chosen before expansions apply, so expanding one cluster leaves the others as they were.
        var drawn = Set(shown.map(id)).count
        if drawn > options.nodeBudget {
            let candidates = shown.filter { $0 != root.ref && clusterOf[$0] == nil && hidden[$0] == nil }
            func layers(band: Int) -> [[String]] {
                var groups: [String: [String]] = [:]
                for ref in candidates {
                    let d = depth[ref] ?? 0
                    groups["\(d.signum())|\(abs(d) / band)|\(summaries[ref]!.kind)", default: []].append(ref)
                }
                return groups.values.sorted { ($0.count, $0[0]) > ($1.count, $1[0]) }
            }
            let deepest = candidates.map { abs(depth[$0] ?? 0) }.max() ?? 0
            var band = 1
            while band <= deepest, drawn - layers(band: band).reduce(0, { $0 + $1.count - 1 }) > options.nodeBudget { band *= 2 }
            for members in layers(band: band) where drawn > options.nodeBudget && members.count > 1 {
                let clusterID = Self.clusterID(members)
                guard !options.expanded.contains(clusterID) else { continue }
                for ref in members { clusterOf[ref] = clusterID }
                clusterMembers[clusterID] = members
                drawn -= members.count - 1
            }
        }

        // The drawn nodes, in breadth-first order of their first member.
        var index: [String: Int] = [:]
        var nodes: [Node] = []
        for ref in shown {
            let nodeID = id(ref)
            guard index[nodeID] == nil else { continue }
            index[nodeID] = nodes.count
            if let members = clusterMembers[nodeID] {
                let summary = members.map { summaries[$0]! }
                nodes.append(Self.cluster(nodeID, summary, depth: depth[ref] ?? 0))
            } else {
                let s = summaries[ref]!
                nodes.append(
                    Node(
                        id: ref, kind: s.kind, title: s.name, detail: Self.detail(s), depth: depth[ref] ?? 0, members: [],
                        hidden: hidden[ref] ?? 0, collapsible: ref != root.ref && !(away[ref] ?? []).isEmpty))
            }
        }
        var folded: [String: (Edge, Int)] = [:]
        var edges: [Edge] = []
        for edge in visibleEdges {
            let (a, b) = (index[id(edge.from)]!, index[id(edge.to)]!)
            guard a != b else { continue }
            let key = "\(a)>\(b)>\(edge.role)"
            if let (existing, position) = folded[key] {
                let merged = Edge(from: a, to: b, role: edge.role, count: existing.count + 1)
                folded[key] = (merged, position)
                edges[position] = merged
            } else {
                let new = Edge(from: a, to: b, role: edge.role, count: 1)
                folded[key] = (new, edges.count)
                edges.append(new)
            }
        }
        self.nodes = nodes
        self.edges = edges
        foldedCount = order.count - nodes.count
        (pathNodes, pathEdges) = options.path.flatMap { Self.path(from: index[$0.from], to: index[$0.to], edges: edges) } ?? ([], [])
    }

    /// The shortest path between two drawn nodes, ignoring direction (lineage is read both ways).
    static func path(from: Int?, to: Int?, edges: [Edge]) -> (Set<Int>, Set<Int>)? {
        guard let from, let to else { return nil }
        var adjacent: [Int: [(node: Int, edge: Int)]] = [:]
        for (i, e) in edges.enumerated() {
            adjacent[e.from, default: []].append((e.to, i))
            adjacent[e.to, default: []].append((e.from, i))
        }
        guard from != to else { return ([from], []) }
        var previous: [Int: (node: Int, edge: Int)] = [:]
        var frontier = [from], seen: Set<Int> = [from], head = 0
        while head < frontier.count, !seen.contains(to) {
            let v = frontier[head]
            head += 1
            for (w, e) in adjacent[v] ?? [] where seen.insert(w).inserted {
                previous[w] = (v, e)
                frontier.append(w)
            }
        }
        guard seen.contains(to) else { return nil }
        var nodes: Set<Int> = [to], pathEdges: Set<Int> = []
        var current = to
        while let step = previous[current], current != from {
            nodes.insert(step.node)
            pathEdges.insert(step.edge)
            current = step.node
        }
        return (nodes, pathEdges)
    }

    /// Stable across requests for the same members, so `expand=ID` in a URL keeps meaning the same cluster.
    static func clusterID(_ members: [String]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in members.sorted().joined(separator: "\n").utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return "cluster:" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    static func cluster(_ id: String, _ members: [NodeSummary], depth: Int) -> Node {
        let names = Set(members.map(\.name))
        let kind = members[0].kind
        let plural = kind == "run" ? "runs" : "\(kind) versions"
        let title = names.count == 1 ? "\(members[0].name) ×\(members.count)" : "\(members.count) \(plural)"
        let detail = names.count == 1 ? "\(members.count) \(plural)" : "\(names.count) names: \(names.sorted().prefix(2).joined(separator: ", "))…"
        return Node(id: id, kind: kind, title: title, detail: detail, depth: depth, members: members, hidden: 0, collapsible: false)
    }

    static func detail(_ node: NodeSummary) -> String {
        switch node.kind {
        case "run": return "run · \(node.status ?? "unknown")"
        case "deployment": return "endpoint · \(node.namespace)"
        default:
            var parts = ["\(node.kind)"]
            if let version = node.version { parts.append("@\(version)") }
            if let digest = node.digest { parts.append(String(digest.hex.prefix(8))) }
            return parts.joined(separator: " ")
        }
    }
}
