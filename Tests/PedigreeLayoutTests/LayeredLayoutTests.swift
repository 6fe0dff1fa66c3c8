import PedigreeLayout
import Testing

/// A seeded generator, so every generated graph is the same on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

typealias Edge = LayeredLayout.Edge

/// A lineage-like DAG: `nodes` in topological order, each (after the first few) fed by 1–3 earlier ones.
func randomDAG(nodes: Int, seed: UInt64) -> (sizes: [LayeredLayout.Size], edges: [Edge]) {
    var rng = SplitMix64(state: seed)
    var edges: [Edge] = []
    for v in 3..<nodes {
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            let window = max(0, v - 40)
            edges.append(Edge(from: Int.random(in: window..<v, using: &rng), to: v))
        }
    }
    let sizes = (0..<nodes).map { _ in LayeredLayout.Size(width: Double(Int.random(in: 90...260, using: &rng)), height: 40) }
    return (sizes, Array(Set(edges)).sorted { ($0.from, $0.to) < ($1.from, $1.to) })
}

func uniform(_ n: Int) -> [LayeredLayout.Size] { Array(repeating: .init(width: 120, height: 40), count: n) }

/// Every pair of boxes, compared within each column (boxes of different columns cannot meet: columns are
/// as wide as their widest box and separated by the layer gap, which the second check confirms).
func overlapping(_ result: LayeredLayout.Result) -> [(Int, Int)] {
    var found: [(Int, Int)] = []
    let byLayer = Dictionary(grouping: result.boxes.indices, by: { result.layers[$0] })
    for (_, members) in byLayer {
        let sorted = members.sorted { result.boxes[$0].y < result.boxes[$1].y }
        for (a, b) in zip(sorted, sorted.dropFirst()) where result.boxes[a].overlaps(result.boxes[b]) { found.append((a, b)) }
    }
    let columns = byLayer.keys.sorted().map { layer in
        let members = byLayer[layer]!
        return (members.map { result.boxes[$0].x }.min()!, members.map { result.boxes[$0].x + result.boxes[$0].width }.max()!)
    }
    for (left, right) in zip(columns, columns.dropFirst()) where left.1 > right.0 { found.append((-1, -1)) }
    return found
}

@Suite struct LayeredLayoutTests {
    @Test(arguments: [(50, 1), (300, 2), (1000, 3), (3000, 4)] as [(Int, UInt64)])
    func generatedGraphsHaveNoOverlapsAndEveryEdgePointsForward(nodes: Int, seed: UInt64) {
        let (sizes, edges) = randomDAG(nodes: nodes, seed: seed)
        let result = LayeredLayout.layout(sizes: sizes, edges: edges)
        #expect(result.boxes.count == nodes)
        #expect(overlapping(result).isEmpty)
        #expect(result.reversed.isEmpty)
        for (i, edge) in edges.enumerated() {
            #expect(result.layers[edge.from] < result.layers[edge.to], "edge \(edge.from) → \(edge.to) does not point forward")
            let path = result.paths[i]
            let source = result.boxes[edge.from], target = result.boxes[edge.to]
            #expect(path.first == .init(x: source.x + source.width, y: source.center.y))
            #expect(path.last == .init(x: target.x, y: target.center.y))
            // One point per column crossed: the path runs left to right.
            #expect(path.count == result.layers[edge.to] - result.layers[edge.from] + 1)
            #expect(zip(path, path.dropFirst()).allSatisfy { $0.x < $1.x })
        }
        #expect(result.boxes.allSatisfy { $0.x >= 0 && $0.y >= 0 && $0.x + $0.width <= result.width && $0.y + $0.height <= result.height })
    }

    @Test func aTreeIsDrawnWithoutCrossings() {
        // A binary tree of 255 nodes, edges listed in an order that starts out tangled.
        let n = 255
        let edges = (1..<n).reversed().map { Edge(from: ($0 - 1) / 2, to: $0) }
        let result = LayeredLayout.layout(sizes: uniform(n), edges: edges)
        #expect(result.crossings == 0)
        #expect(overlapping(result).isEmpty)
    }

    @Test func aCompleteBipartiteGraphHasItsMinimumCrossings() {
        // K(3,3) cannot be drawn in two layers with fewer than 9 crossings (3·2/2 · 3·2/2).
        let edges = (0..<3).flatMap { a in (3..<6).map { Edge(from: a, to: $0) } }
        #expect(LayeredLayout.layout(sizes: uniform(6), edges: edges).crossings == 9)
    }

    @Test func aReversedMatchingIsUntangled() {
        // a_i → b_(n-1-i) in the initial order crosses every pair; a planar drawing exists.
        let n = 40
        let edges = (0..<n).map { Edge(from: $0, to: n + (n - 1 - $0)) }
        #expect(LayeredLayout.layout(sizes: uniform(2 * n), edges: edges).crossings == 0)
    }

    /// Bounds recorded from this implementation on fixed graphs (a change to the heuristics that draws them
    /// with more crossings fails here), and the gain over the initial depth-first order (no sweeps).
    @Test(arguments: [(300, 2, 2_662), (1000, 3, 11_237)] as [(Int, UInt64, Int)])
    func crossingsOnGeneratedGraphsStayWithinTheRecordedBounds(nodes: Int, seed: UInt64, bound: Int) {
        let (sizes, edges) = randomDAG(nodes: nodes, seed: seed)
        let result = LayeredLayout.layout(sizes: sizes, edges: edges)
        var unswept = LayeredLayout.Options()
        unswept.sweeps = 0
        let initial = LayeredLayout.layout(sizes: sizes, edges: edges, options: unswept).crossings
        #expect(result.crossings <= bound, "crossings: \(result.crossings), before the sweeps: \(initial)")
        #expect(Double(result.crossings) <= 0.8 * Double(initial), "crossings: \(result.crossings), before the sweeps: \(initial)")
    }

    @Test func aCycleIsBrokenNotFollowedForever() {
        let edges = [Edge(from: 0, to: 1), Edge(from: 1, to: 2), Edge(from: 2, to: 0), Edge(from: 2, to: 2)]
        let result = LayeredLayout.layout(sizes: uniform(3), edges: edges)
        #expect(result.reversed.count == 1)
        #expect(result.paths[3].isEmpty)
        #expect(overlapping(result).isEmpty)
        for (i, edge) in edges.enumerated() where edge.from != edge.to && !result.reversed.contains(i) {
            #expect(result.layers[edge.from] < result.layers[edge.to])
        }
    }

    @Test func aLongChainDoesNotExhaustTheStack() {
        let n = 10_000
        let result = LayeredLayout.layout(sizes: uniform(n), edges: (1..<n).map { Edge(from: $0 - 1, to: $0) })
        #expect(result.layers.last == n - 1)
        #expect(result.crossings == 0)
    }

    @Test func aSourceSitsNextToItsFirstConsumer() {
        // 0 → 1 → 2 → 3, and a pretrained model 4 that only feeds 3: it belongs in layer 2, not layer 0.
        let edges = [Edge(from: 0, to: 1), Edge(from: 1, to: 2), Edge(from: 2, to: 3), Edge(from: 4, to: 3)]
        #expect(LayeredLayout.layout(sizes: uniform(5), edges: edges).layers == [0, 1, 2, 3, 2])
    }
}
