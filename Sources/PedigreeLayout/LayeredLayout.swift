/// A layered ("Sugiyama") drawing of a directed graph, left to right: every edge points from a lower layer
/// to a higher one, nodes in a layer are ordered to keep edges from crossing, and placed so edges run as
/// straight as the order allows. Pure computation on sizes and indices: the lineage renderer and anything
/// else that draws a DAG give it boxes and get coordinates back.
///
/// The steps, each a well-known method chosen for being predictable at 10,000 nodes:
/// 1. cycles are broken by reversing depth-first back edges (lineage is acyclic; a bad record must not hang);
/// 2. layers by longest path from the sources, then each source pulled next to its first consumer, so a
///    pretrained model that feeds the fourth layer is not drawn three columns away from it;
/// 3. edges that span layers get a dummy node per layer crossed, so they are ordered like the rest;
/// 4. crossing reduction: barycentre sweeps down and up, keeping the order with the fewest crossings
///    (counted exactly, by inversions, after each sweep);
/// 5. coordinates: columns by the widest node of each layer; within a column the positions closest (least
///    squares) to the mean of each node's neighbours that keep the order and the gaps — pool-adjacent-violators,
///    linear per layer;
/// 6. each edge is the path from its source's right side through its dummies to its target's left side.
public enum LayeredLayout {
    public struct Size: Hashable, Sendable {
        public var width: Double
        public var height: Double
        public init(width: Double, height: Double) {
            self.width = width
            self.height = height
        }
    }

    public struct Point: Hashable, Sendable {
        public var x: Double
        public var y: Double
        public init(x: Double, y: Double) {
            self.x = x
            self.y = y
        }
    }

    /// A node's box: its top-left corner and size.
    public struct Box: Hashable, Sendable {
        public var x: Double, y: Double, width: Double, height: Double
        public var center: Point { Point(x: x + width / 2, y: y + height / 2) }
        public func overlaps(_ other: Box) -> Bool {
            x < other.x + other.width && other.x < x + width && y < other.y + other.height && other.y < y + height
        }
    }

    public struct Edge: Hashable, Sendable {
        public var from: Int
        public var to: Int
        public init(from: Int, to: Int) {
            self.from = from
            self.to = to
        }
    }

    public struct Options: Sendable {
        /// Horizontal space between columns (where the edges run).
        public var layerGap: Double = 72
        /// Vertical space between two boxes of a column.
        public var nodeGap: Double = 14
        /// The most barycentre sweeps (down and up count one each); stops early when a sweep gains nothing twice.
        public var sweeps: Int = 16
        public var margin: Double = 16
        public init() {}
    }

    public struct Result: Sendable {
        /// One box per input node, in input order.
        public let boxes: [Box]
        /// Each node's layer (column), from 0.
        public let layers: [Int]
        /// One path per input edge, in input order: from the source's right side, through the columns it
        /// crosses, to the target's left side (empty for a self-loop).
        public let paths: [[Point]]
        /// Edges whose direction was reversed to break a cycle.
        public let reversed: Set<Int>
        /// Edge crossings between adjacent columns in the final order.
        public let crossings: Int
        public let width: Double
        public let height: Double
    }

    public static func layout(sizes: [Size], edges: [Edge], options: Options = Options()) -> Result {
        let n = sizes.count
        guard n > 0 else { return Result(boxes: [], layers: [], paths: edges.map { _ in [] }, reversed: [], crossings: 0, width: 0, height: 0) }
        let (acyclic, reversed) = breakCycles(n, edges)
        let layer = assignLayers(n, acyclic)
        var graph = LayeredGraph(layerOf: layer, realCount: n)
        let chains = graph.addEdges(acyclic)
        let crossings = graph.orderLayers(sweeps: options.sweeps)
        var heights = sizes.map(\.height), widths = sizes.map(\.width)
        for _ in n..<graph.layerOf.count {
            heights.append(0)
            widths.append(0)
        }
        let (x, columnWidths) = columns(graph, widths: widths, options: options)
        let y = graph.place(heights: heights, gap: options.nodeGap, margin: options.margin)
        let boxes = (0..<n).map { v in
            Box(
                x: x[graph.layerOf[v]] + (columnWidths[graph.layerOf[v]] - widths[v]) / 2, y: y[v] - heights[v] / 2, width: widths[v],
                height: heights[v])
        }
        var paths: [[Point]] = []
        for (index, edge) in edges.enumerated() {
            guard edge.from != edge.to, let chain = chains[index] else {
                paths.append([])
                continue
            }
            let source = boxes[chain.first!], target = boxes[chain.last!]
            var points = [Point(x: source.x + source.width, y: source.center.y)]
            for dummy in chain.dropFirst().dropLast() {
                let column = graph.layerOf[dummy]
                points.append(Point(x: x[column] + columnWidths[column] / 2, y: y[dummy]))
            }
            points.append(Point(x: target.x, y: target.center.y))
            paths.append(reversed.contains(index) ? points.reversed() : points)
        }
        let width = (x.last ?? 0) + (columnWidths.last ?? 0) + options.margin
        let height = (boxes.map { $0.y + $0.height }.max() ?? 0) + options.margin
        return Result(boxes: boxes, layers: Array(layer), paths: paths, reversed: reversed, crossings: crossings, width: width, height: height)
    }

    // MARK: 1. Cycles

    /// The edges with every depth-first back edge turned around (and self-loops left out, as nil).
    static func breakCycles(_ n: Int, _ edges: [Edge]) -> (edges: [Edge?], reversed: Set<Int>) {
        var out = Array(repeating: [Int](), count: n)
        for (i, e) in edges.enumerated() where e.from != e.to { out[e.from].append(i) }
        var state = [UInt8](repeating: 0, count: n)  // 0 new, 1 on the stack, 2 done
        var reversed: Set<Int> = []
        for start in 0..<n where state[start] == 0 {
            // Iterative, so a 10,000-long chain cannot overflow the stack.
            var stack: [(node: Int, next: Int)] = [(start, 0)]
            state[start] = 1
            while let top = stack.last {
                if top.next < out[top.node].count {
                    stack[stack.count - 1].next += 1
                    let edge = out[top.node][top.next], target = edges[edge].to
                    if state[target] == 1 {
                        reversed.insert(edge)
                    } else if state[target] == 0 {
                        state[target] = 1
                        stack.append((target, 0))
                    }
                } else {
                    state[top.node] = 2
                    stack.removeLast()
                }
            }
        }
        let acyclic: [Edge?] = edges.enumerated().map { i, e in
            e.from == e.to ? nil : reversed.contains(i) ? Edge(from: e.to, to: e.from) : e
        }
        return (acyclic, reversed)
    }

    // MARK: 2. Layers

    static func assignLayers(_ n: Int, _ edges: [Edge?]) -> [Int] {
        var out = Array(repeating: [Int](), count: n), indegree = [Int](repeating: 0, count: n)
        for case let e? in edges {
            out[e.from].append(e.to)
            indegree[e.to] += 1
        }
        let sources = (0..<n).filter { indegree[$0] == 0 }
        var remaining = indegree, queue = sources, order: [Int] = []
        order.reserveCapacity(n)
        var layer = [Int](repeating: 0, count: n)
        while let v = queue.popLast() {
            order.append(v)
            for w in out[v] {
                layer[w] = max(layer[w], layer[v] + 1)
                remaining[w] -= 1
                if remaining[w] == 0 { queue.append(w) }
            }
        }
        // A source sits just before its nearest consumer.
        for v in sources where !out[v].isEmpty {
            layer[v] = out[v].map { layer[$0] }.min()! - 1
        }
        return layer
    }

    // MARK: 5. Columns

    static func columns(_ graph: LayeredGraph, widths: [Double], options: Options) -> (x: [Double], widths: [Double]) {
        var columnWidths = [Double](repeating: 0, count: graph.layers.count)
        for (l, nodes) in graph.layers.enumerated() { columnWidths[l] = nodes.map { widths[$0] }.max() ?? 0 }
        var x: [Double] = [], next = options.margin
        for w in columnWidths {
            x.append(next)
            next += w + options.layerGap
        }
        return (x, columnWidths)
    }
}
