/// The proper layered graph the layout works on: the input nodes plus one dummy node per layer an edge
/// crosses, so every edge joins adjacent layers. Holds the order of each layer and places nodes in it.
struct LayeredGraph {
    /// The layer of every node, dummies (indices from `realCount`) included.
    var layerOf: [Int]
    let realCount: Int
    /// Each layer's nodes, in drawing order (top to bottom).
    var layers: [[Int]]
    var predecessors: [[Int]]
    var successors: [[Int]]

    init(layerOf: [Int], realCount: Int) {
        self.layerOf = layerOf
        self.realCount = realCount
        layers = Array(repeating: [], count: (layerOf.max() ?? 0) + 1)
        predecessors = Array(repeating: [], count: layerOf.count)
        successors = Array(repeating: [], count: layerOf.count)
    }

    /// Adds the edges, splitting long ones; returns each edge's chain of nodes from source to target (nil for
    /// a left-out self-loop). Also sets the initial order: nodes in input order, each dummy after its source's.
    mutating func addEdges(_ edges: [LayeredLayout.Edge?]) -> [[Int]?] {
        var chains: [[Int]?] = []
        chains.reserveCapacity(edges.count)
        for edge in edges {
            guard let edge else {
                chains.append(nil)
                continue
            }
            var chain = [edge.from]
            var previous = edge.from
            for l in (layerOf[edge.from] + 1)..<max(layerOf[edge.to], layerOf[edge.from] + 1) {
                let dummy = layerOf.count
                layerOf.append(l)
                predecessors.append([])
                successors.append([])
                link(previous, dummy)
                chain.append(dummy)
                previous = dummy
            }
            link(previous, edge.to)
            chain.append(edge.to)
            chains.append(chain)
        }
        // Initial order: depth-first from the first layer, so connected nodes start near one another.
        var seen = [Bool](repeating: false, count: layerOf.count)
        func visit(_ start: Int) {
            var stack = [start]
            while let v = stack.popLast() {
                guard !seen[v] else { continue }
                seen[v] = true
                layers[layerOf[v]].append(v)
                stack.append(contentsOf: successors[v].reversed())
            }
        }
        for v in 0..<layerOf.count where predecessors[v].isEmpty { visit(v) }
        for v in 0..<layerOf.count where !seen[v] { visit(v) }
        return chains
    }

    private mutating func link(_ from: Int, _ to: Int) {
        successors[from].append(to)
        predecessors[to].append(from)
    }

    // MARK: Crossing reduction

    /// Barycentre sweeps, alternating down (by predecessors) and up (by successors), keeping the best
    /// order seen; returns its crossing count.
    mutating func orderLayers(sweeps: Int) -> Int {
        var best = layers, bestCrossings = crossings()
        var position = [Int](repeating: 0, count: layerOf.count)
        func index() {
            for nodes in layers { for (i, v) in nodes.enumerated() { position[v] = i } }
        }
        var stale = 0
        for sweep in 0..<sweeps where bestCrossings > 0 && stale < 2 {
            index()
            let down = sweep % 2 == 0
            let order = down ? Array(1..<layers.count) : Array((0..<max(0, layers.count - 1)).reversed())
            for l in order {
                let keyed = layers[l].enumerated().map { i, v -> (Double, Int, Int) in
                    let neighbours = down ? predecessors[v] : successors[v]
                    // A node with no neighbours on that side keeps its place.
                    let barycentre = neighbours.isEmpty ? Double(i) : Double(neighbours.reduce(0) { $0 + position[$1] }) / Double(neighbours.count)
                    return (barycentre, i, v)
                }
                layers[l] = keyed.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map(\.2)
                for (i, v) in layers[l].enumerated() { position[v] = i }
            }
            let count = crossings()
            if count < bestCrossings {
                best = layers
                bestCrossings = count
                stale = 0
            } else {
                stale += 1
            }
        }
        layers = best
        return bestCrossings
    }

    /// Crossings between every pair of adjacent layers: the inversions of the edges' lower ends when sorted
    /// by their upper ends, counted with a Fenwick tree.
    func crossings() -> Int {
        var position = [Int](repeating: 0, count: layerOf.count)
        for nodes in layers { for (i, v) in nodes.enumerated() { position[v] = i } }
        var total = 0
        for l in 0..<max(0, layers.count - 1) {
            let size = layers[l + 1].count
            guard size > 1 else { continue }
            var ends: [(Int, Int)] = []
            for v in layers[l] { for w in successors[v] { ends.append((position[v], position[w])) } }
            ends.sort { $0 < $1 }
            var tree = [Int](repeating: 0, count: size + 1), seen = 0
            for (_, lower) in ends {
                // Edges already seen whose lower end is strictly below this one cross it.
                var i = lower + 1, atOrAbove = 0
                while i > 0 {
                    atOrAbove += tree[i]
                    i -= i & -i
                }
                total += seen - atOrAbove
                i = lower + 1
                while i <= size {
                    tree[i] += 1
                    i += i & -i
                }
                seen += 1
            }
        }
        return total
    }

    // MARK: Placement

    /// The vertical centre of every node: packed first, then alternately pulled towards the mean of its
    /// predecessors and of its successors, keeping each layer's order and gaps.
    func place(heights: [Double], gap: Double, margin: Double) -> [Double] {
        var y = [Double](repeating: 0, count: layerOf.count)
        for nodes in layers {
            var next = margin
            for v in nodes {
                y[v] = next + heights[v] / 2
                next += heights[v] + gap
            }
        }
        for round in 0..<8 {
            let down = round % 2 == 0
            let order = down ? Array(layers.indices) : Array(layers.indices.reversed())
            for l in order {
                let nodes = layers[l]
                let desired = nodes.map { v -> Double in
                    let neighbours = down ? predecessors[v] : successors[v]
                    return neighbours.isEmpty ? y[v] : neighbours.reduce(0) { $0 + y[$1] } / Double(neighbours.count)
                }
                let placed = Self.isotonicPlacement(desired: desired, heights: nodes.map { heights[$0] }, gap: gap)
                for (v, value) in zip(nodes, placed) { y[v] = value }
            }
        }
        // Shift everything so the topmost box starts at the margin.
        var top = Double.infinity
        for v in 0..<layerOf.count { top = min(top, y[v] - heights[v] / 2) }
        return y.map { $0 - top + margin }
    }

    /// The positions closest (least squares) to `desired` with each at least half of both heights plus `gap`
    /// below the one before: with offsets s (the cumulative separations) this is isotonic regression of
    /// `desired - s`, solved by pool-adjacent-violators.
    static func isotonicPlacement(desired: [Double], heights: [Double], gap: Double) -> [Double] {
        guard !desired.isEmpty else { return [] }
        var offsets = [0.0]
        for i in 1..<desired.count { offsets.append(offsets[i - 1] + (heights[i - 1] + heights[i]) / 2 + gap) }
        // Blocks of pooled values: mean and count.
        var means: [Double] = [], counts: [Int] = []
        for i in desired.indices {
            means.append(desired[i] - offsets[i])
            counts.append(1)
            while means.count > 1 && means[means.count - 2] > means[means.count - 1] {
                let c1 = Double(counts[counts.count - 2]), c2 = Double(counts[counts.count - 1])
                let merged = (means[means.count - 2] * c1 + means[means.count - 1] * c2) / (c1 + c2)
                means.removeLast()
                counts[counts.count - 2] += counts.removeLast()
                means[means.count - 1] = merged
            }
        }
        var result: [Double] = []
        result.reserveCapacity(desired.count)
        for (mean, count) in zip(means, counts) {
            for _ in 0..<count { result.append(mean + offsets[result.count]) }
        }
        return result
    }
}
