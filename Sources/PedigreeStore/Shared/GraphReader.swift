import PedigreeCore

/// The graph queries over the projections, within one read transaction (a consistent snapshot), on either
/// backend.
///
/// Walks are breadth-first in Swift with a set of visited nodes, so every node is listed once, at its
/// shortest distance, and cycles end the walk instead of looping. Where each node's neighbours come from
/// depends on the backend: in-process SQLite looks them up hop by hop (one cached-statement lookup costs a
/// few microseconds, and a walk stops as soon as it is done); PostgreSQL first fetches the whole reachable
/// subgraph with one recursive query (`SQLSession.reachableSubgraph`), because there each lookup would be
/// a network round trip. The visiting order is the same on both: neighbours by node id, then role.
struct GraphReader {
    let db: any SQLSession
    /// Transaction-time cut-off: only what was recorded at or before this instant is visible.
    let cutoff: Int64
    let asOf: Timestamp?

    init(db: any SQLSession, asOf: Timestamp?) {
        self.db = db
        self.asOf = asOf
        cutoff = asOf?.microseconds ?? Int64.max
    }

    // MARK: Resolving references

    func resolve(_ ref: Reference) throws -> GraphNode {
        switch ref {
        case .run, .deployment:
            if let node = try fetchNode(
                "SELECT \(GraphNode.columns) FROM nodes n WHERE n.ref = ? AND n.recorded_at <= ?", .text(ref.description), .int(cutoff))
            {
                return node
            }
            throw StoreError(.notFound, "\(ref) is not recorded\(asOfPhrase)", field: "ref")
        case .artifact(let artifact):
            return try resolve(artifact)
        }
    }

    func resolve(_ ref: ArtifactRef) throws -> GraphNode {
        if let version = ref.version {
            if let node = try fetchNode(
                "SELECT \(GraphNode.columns) FROM nodes n WHERE n.ref = ? AND n.recorded_at <= ?", .text(ref.description), .int(cutoff))
            {
                return node
            }
            // `@sha256:ab12…` names a version by (a prefix of) its digest.
            if version.hasPrefix(ContentDigest.prefix), version.count < ContentDigest.prefix.count + 8 {
                throw StoreError(.invalid, "\(ref): a digest prefix needs at least 8 hex digits after sha256:", field: "ref")
            }
            if version.hasPrefix(ContentDigest.prefix) {
                let matches = try db.rows(
                    """
                    SELECT \(GraphNode.columns) FROM nodes n
                    WHERE n.kind = ? AND n.namespace = ? AND n.name = ? AND n.digest >= ? AND n.digest < ? AND n.recorded_at <= ?
                    ORDER BY n.ordinal LIMIT 2
                    """, .text(ref.kind), .text(ref.namespace), .text(ref.name), .text(version.lowercased()), .text(version.lowercased() + "~"),
                    .int(cutoff))
                if matches.count == 1 { return try GraphNode(row: matches[0]) }
                if matches.count > 1 {
                    throw StoreError(.invalid, "\(ref) matches several versions; give more digits of the digest", field: "ref")
                }
            }
        } else if let node = try fetchNode(
            """
            SELECT \(GraphNode.columns) FROM nodes n WHERE n.kind = ? AND n.namespace = ? AND n.name = ? AND n.recorded_at <= ?
            ORDER BY n.ordinal DESC LIMIT 1
            """, .text(ref.kind), .text(ref.namespace), .text(ref.name), .int(cutoff))
        {
            return node
        }
        let versions = try db.texts(
            """
            SELECT version FROM nodes WHERE kind = ? AND namespace = ? AND name = ? AND recorded_at <= ? ORDER BY ordinal DESC LIMIT 10
            """, .text(ref.kind), .text(ref.namespace), .text(ref.name), .int(cutoff))
        if versions.isEmpty {
            throw StoreError(.notFound, "no \(ref.kind) named \(ref.unversioned) is recorded\(asOfPhrase)\(try namespaceHint(ref))", field: "ref")
        }
        throw StoreError(.notFound, "\(ref) is not recorded\(asOfPhrase); latest versions: \(versions.joined(separator: ", "))", field: "ref")
    }

    private var asOfPhrase: String { asOf.map { " as of \($0)" } ?? "" }

    /// For `dataset:data/train.csv`, which names namespace `data`: when that namespace holds nothing, say how
    /// references split. (Only about the namespace asked for: a caller allowed that one learns nothing else.)
    private func namespaceHint(_ ref: ArtifactRef) throws -> String {
        // `default` is where a reference without '/' goes: it is never a path's first segment misread.
        guard ref.namespace != Reference.defaultNamespace,
            try db.row("SELECT 1 FROM nodes WHERE namespace = ? AND recorded_at <= ? LIMIT 1", .text(ref.namespace), .int(cutoff)) == nil
        else { return "" }
        return
            "; nothing is recorded in namespace '\(ref.namespace)' (the first '/' after KIND: ends the namespace: a path is written KIND:NAMESPACE/\(ref.namespace)/\(ref.name))"
    }

    func fetchNode(_ sql: String, _ values: SQLValue...) throws -> GraphNode? {
        try db.rows(sql, values).first.map { try GraphNode(row: $0) }
    }

    // MARK: Neighbours and walks

    /// Nodes one hop away, with the role of the connecting edge, by node id and role.
    func neighbours(of id: Int64, _ direction: LineageDirection) throws -> [(node: GraphNode, role: String)] {
        let sql =
            switch direction {
            case .upstream:
                "SELECT \(GraphNode.columns), e.role FROM edges e JOIN nodes n ON n.id = e.src WHERE e.dst = ? AND e.recorded_at <= ? ORDER BY e.src, e.role"
            case .downstream:
                "SELECT \(GraphNode.columns), e.role FROM edges e JOIN nodes n ON n.id = e.dst WHERE e.src = ? AND e.recorded_at <= ? ORDER BY e.dst, e.role"
            }
        return try db.rows(sql, .int(id), .int(cutoff)).map { (try GraphNode(row: $0), try $0.text(GraphNode.columnCount)) }
    }

    /// Breadth-first walk. Nodes of `stopKinds` are reached but not continued past (the root always is);
    /// edges with `skipRoles` are not taken.
    func walk(
        from root: GraphNode, _ direction: LineageDirection, depth limit: Int?, stopKinds: Set<String> = [], skipRoles: Set<String> = []
    ) throws -> (nodes: [LineageGraph.Entry], edges: [LineageEdge], ids: [Int64]) {
        let prefetched = try db.reachableSubgraph(
            WalkSpecification(
                root: root.id, direction: direction, depth: limit, cutoff: cutoff, stopKinds: stopKinds, skipRoles: skipRoles))
        var entries = [LineageGraph.Entry(node: root.summary, depth: 0)]
        var ids = [root.id]
        var edges: [LineageEdge] = []
        var seen: Set<Int64> = [root.id]
        var frontier = [root]
        var depth = 0
        while !frontier.isEmpty, limit.map({ depth < $0 }) ?? true {
            depth += 1
            var next: [GraphNode] = []
            for node in frontier where depth == 1 || !stopKinds.contains(node.summary.kind) {
                let links = try prefetched.map { $0[node.id] ?? [] } ?? neighbours(of: node.id, direction)
                for (neighbour, role) in links where !skipRoles.contains(role) {
                    edges.append(
                        direction == .upstream
                            ? LineageEdge(from: neighbour.summary.ref, to: node.summary.ref, role: role)
                            : LineageEdge(from: node.summary.ref, to: neighbour.summary.ref, role: role))
                    if seen.insert(neighbour.id).inserted {
                        entries.append(LineageGraph.Entry(node: neighbour.summary, depth: depth))
                        ids.append(neighbour.id)
                        next.append(neighbour)
                    }
                }
            }
            frontier = next
        }
        return (entries, edges, ids)
    }

    func lineage(_ ref: Reference, direction: LineageDirection, depth: Int?) throws -> LineageGraph {
        let root = try resolve(ref)
        let walked = try walk(from: root, direction, depth: depth)
        return LineageGraph(root: root.summary, direction: direction, depthLimit: depth, nodes: walked.nodes, edges: walked.edges)
    }

    // MARK: Trained on

    /// Roles under which using a dataset does not make it training data.
    static let nonTrainingRoles: Set<String> = ["test", "evaluation", "eval", "benchmark"]

    /// Walks downstream through datasets and runs (not through models: a model fine-tuned from another is
    /// derived from it, not trained on its data; `impact` follows that path), collecting the models reached.
    func modelsTrainedOn(_ ref: ArtifactRef) throws -> TrainedOnReport {
        let starts: [GraphNode]
        if ref.version == nil {
            starts = try db.rows(
                """
                SELECT \(GraphNode.columns) FROM nodes n WHERE n.kind = ? AND n.namespace = ? AND n.name = ? AND n.recorded_at <= ? ORDER BY n.ordinal
                """, .text(ref.kind), .text(ref.namespace), .text(ref.name), .int(cutoff)
            ).map { try GraphNode(row: $0) }
            if starts.isEmpty { _ = try resolve(ref) }
        } else {
            starts = [try resolve(ref)]
        }
        var models: [TrainedOnReport.Entry] = []
        var found: Set<String> = []
        for start in starts {
            let walked = try walk(
                from: start, .downstream, depth: nil, stopKinds: ["model", "deployment"], skipRoles: Self.nonTrainingRoles.union(["deployed"]))
            let generators = Dictionary(walked.edges.map { ($0.to, $0.from) }, uniquingKeysWith: { first, _ in first })
            let runs = Dictionary(walked.nodes.filter { $0.node.kind == "run" }.map { ($0.node.ref, $0.node) }, uniquingKeysWith: { a, _ in a })
            for entry in walked.nodes where entry.node.kind == "model" && entry.depth > 0 && found.insert(entry.node.ref).inserted {
                guard let runRef = generators[entry.node.ref], let run = runs[runRef] else { continue }
                models.append(TrainedOnReport.Entry(model: entry.node, run: run.ref, runNamespace: run.namespace, hops: entry.depth))
            }
        }
        return TrainedOnReport(datasets: starts.map(\.summary), models: models)
    }

    // MARK: Impact

    func impact(_ ref: Reference) throws -> ImpactReport {
        let root = try resolve(ref)
        let walked = try walk(from: root, .downstream, depth: nil)
        let affectedModels = Set(walked.nodes.filter { $0.node.kind == "model" }.map(\.node.ref))
        var serving: [ImpactReport.Serving] = []
        for (entry, id) in zip(walked.nodes, walked.ids) where entry.node.kind == "deployment" {
            let (state, changed) = try currentServing(endpointID: id)
            guard let since = changed else { continue }
            for share in state.shares where affectedModels.contains(share.model) {
                serving.append(
                    ImpactReport.Serving(
                        ref: entry.node.ref, namespace: entry.node.namespace, endpoint: entry.node.name, model: share.model, since: since))
            }
        }
        return ImpactReport(root: root.summary, affected: Array(walked.nodes.dropFirst()), serving: serving)
    }

    // MARK: Deployments

    /// What an endpoint serves now (at the cut-off), and since when: the fold of its deployments alone, without
    /// reading their events (which may hold whole manifests), for walks that reach many endpoints.
    func currentServing(endpointID: Int64) throws -> (ServingState, Timestamp?) {
        try Self.serving(db, endpointID: endpointID, cutoff: cutoff)
    }

    /// The fold of an endpoint's deployments valid up to `validThrough` and recorded by `cutoff`: what it
    /// served then (models by reference), and since when. The projector checks a new deployment against it.
    static func serving(
        _ db: any SQLSession, endpointID: Int64, validThrough: Int64 = .max, cutoff: Int64 = .max
    ) throws -> (
        ServingState, Timestamp?
    ) {
        var state = ServingState()
        var since: Timestamp?
        for row in try db.rows(
            """
            SELECT d.valid_from, n.ref, d.traffic FROM deployments d LEFT JOIN nodes n ON n.id = d.model_node
            WHERE d.endpoint_node = ? AND d.valid_from <= ? AND d.recorded_at <= ? ORDER BY d.valid_from, d.seq
            """, .int(endpointID), .int(validThrough), .int(cutoff))
        {
            state.apply(model: row[1].text, traffic: row[2].int.map(Int.init))
            since = Timestamp(microseconds: try row.int(0))
        }
        return (state, since)
    }

    func history(endpoint: GraphNode) throws -> [DeploymentEntry] {
        guard endpoint.summary.kind == "deployment" else {
            throw StoreError(.invalid, "\(endpoint.summary.ref) is not a deployment endpoint", field: "ref")
        }
        return try history(endpointID: endpoint.id)
    }

    /// Deployments of one endpoint in valid-time order, each with what the endpoint served until the next
    /// one: the periods of its history. What a deployment said beyond model and share is read from its event.
    func history(endpointID: Int64) throws -> [DeploymentEntry] {
        let rows = try db.rows(
            """
            SELECT d.valid_from, d.recorded_at, e.ref, n.ref, d.traffic, ev.body, ev.recorded_by
            FROM deployments d JOIN nodes e ON e.id = d.endpoint_node LEFT JOIN nodes n ON n.id = d.model_node JOIN events ev ON ev.seq = d.seq
            WHERE d.endpoint_node = ? AND d.recorded_at <= ? ORDER BY d.valid_from, d.seq
            """, .int(endpointID), .int(cutoff))
        var state = ServingState()
        return try rows.enumerated().map { i, row in
            let body = try JSONValue.parse(try row.text(5))
            var record = try DeploymentRecord(json: body["deployment"] ?? .null, path: "deployment", eventTime: nil)
            // The version the projection resolved (a deployment may name the latest version without @VERSION).
            if let model = row[3].text, case .artifact(let resolved) = try Reference(parsing: model) { record.model = resolved }
            state.apply(model: row[3].text, traffic: row[4].int.map(Int.init))
            let until = i + 1 < rows.count ? try rows[i + 1].int(0) : nil
            return DeploymentEntry(
                endpoint: try row.text(2), record: record, serving: state.shares, validUntil: until.map(Timestamp.init(microseconds:)),
                recordedAt: Timestamp(microseconds: try row.int(1)), recordedBy: try row.text(6))
        }
    }

    // MARK: Details

    /// The run's five dimensions as known at the cut-off: its events recorded by then, folded.
    func runRecord(_ node: GraphNode) throws -> RunRecord? {
        let rows = try db.rows(
            "SELECT digest, body, supersedes FROM events WHERE subject = ? AND recorded_at <= ? ORDER BY seq", .text(node.summary.ref), .int(cutoff))
        return RunFold.fold(try RunFold.effectiveParts(rows).map(\.run))
    }

    func detail(_ ref: Reference) throws -> NodeDetail {
        let node = try resolve(ref)
        var artifact: ArtifactSpec?
        var run: RunRecord?
        var history: [DeploymentEntry] = []
        switch node.summary.kind {
        case "run": run = try runRecord(node)
        case "deployment": history = try self.history(endpointID: node.id)
        default:
            let s = node.summary
            if let state = try db.row("SELECT state FROM nodes WHERE id = ?", .int(node.id))?.optionalText(0) {
                artifact = try ArtifactSpec(json: JSONValue.parse(state), path: "artifact", defaultNamespace: s.namespace)
            } else {
                // Only referenced, never registered: what the reference and the graph say of it.
                artifact = ArtifactSpec(ref: ArtifactRef(kind: s.kind, namespace: s.namespace, name: s.name, version: s.version), digest: s.digest)
            }
        }
        let upstreamNodes = try neighbours(of: node.id, .upstream)
        let upstream = upstreamNodes.map { NodeDetail.Link(node: $0.node.summary, role: $0.role) }
        let downstream = try neighbours(of: node.id, .downstream).map { NodeDetail.Link(node: $0.node.summary, role: $0.role) }
        // An artifact's record is its registrations, the version's own events (a retirement) and the events
        // of the runs that generated it.
        var subjects = [node.summary.ref]
        if node.summary.isArtifact {
            subjects =
                [ArtifactRef(kind: node.summary.kind, namespace: node.summary.namespace, name: node.summary.name).description, node.summary.ref]
                + upstream.filter { $0.node.kind == "run" }.map(\.node.ref)
        }
        let placeholders = subjects.map { _ in "?" }.joined(separator: ", ")
        let events = try db.rows(
            "SELECT \(StoredEvent.columns) FROM events WHERE subject IN (\(placeholders)) AND recorded_at <= ? ORDER BY seq",
            subjects.map(SQLValue.text) + [.int(cutoff)]
        )
        .map { try StoredEvent(row: $0).summary }
        // A model carries its lineage: the five dimensions of the run that generated this version.
        var generatedBy: NodeDetail.Provenance?
        if node.summary.isArtifact,
            let generator = upstreamNodes.filter({ $0.node.summary.kind == "run" }).max(by: { $0.node.id < $1.node.id }),
            let record = try runRecord(generator.node)
        {
            let inputs = try neighbours(of: generator.node.id, .upstream).map { NodeDetail.Link(node: $0.node.summary, role: $0.role) }
            generatedBy = NodeDetail.Provenance(run: generator.node.summary.ref, record: record, inputs: inputs)
        }
        let retirement = try retirement(of: node)
        var summary = node.summary
        if summary.status == Projector.retired, retirement == nil {
            // Retired after the cut-off: as of then, it was not.
            summary = NodeSummary(
                ref: summary.ref, kind: summary.kind, namespace: summary.namespace, name: summary.name, version: summary.version,
                digest: summary.digest, status: nil, recordedAt: summary.recordedAt)
        }
        return NodeDetail(
            summary: summary, artifact: artifact, run: run, generatedBy: generatedBy,
            upstream: upstream, downstream: downstream,
            history: history, events: events, retirement: retirement)
    }

    /// When, why and by whom a retired version was retired, from its retirement event.
    private func retirement(of node: GraphNode) throws -> NodeDetail.Retirement? {
        guard node.summary.status == Projector.retired,
            let row = try db.row(
                "SELECT body, recorded_by, recorded_at FROM events WHERE subject = ? AND type = 'retirement' AND recorded_at <= ? ORDER BY seq DESC LIMIT 1",
                .text(node.summary.ref), .int(cutoff)),
            case .retirement(let record) = try LineageEvent(json: JSONValue.parse(try row.text(0))).payload
        else { return nil }
        return NodeDetail.Retirement(
            reason: record.reason, at: record.validFrom, by: try row.text(1), recordedAt: Timestamp(microseconds: try row.int(2)))
    }

    // MARK: Model pedigree

    /// A model or dataset version with the run that generated it, or a run itself, for `LineageDiff`. `depth`
    /// bounds how many preparation runs up a data input's producers are followed (nil: all of them; a cycle
    /// stops the walk).
    func pedigree(_ ref: Reference, depth: Int?) throws -> ModelPedigree {
        let node = try resolve(ref)
        let s = node.summary
        guard s.kind != "deployment" else {
            throw StoreError(.invalid, "\(s.ref) is a deployment endpoint; diff compares model or dataset versions, or runs", field: "ref")
        }
        let subject =
            s.kind == "run"
            ? Reference.run(String(s.ref.dropFirst("run:".count)))
            : .artifact(ArtifactRef(kind: s.kind, namespace: s.namespace, name: s.name, version: s.version))
        let files = s.kind == "run" ? nil : try self.files(of: node.id)
        guard let run = s.kind == "run" ? node : try producer(of: node.id) else {
            return ModelPedigree(subject: subject, digest: s.digest, files: files, run: nil, inputs: [], parents: [])
        }
        var path: Set<Int64> = [run.id]
        var memo: [Int64: [ModelPedigree.ResolvedInput]] = [:]
        let resolved = try inputs(of: run.id, depth: depth, path: &path, memo: &memo)
        return ModelPedigree(
            subject: subject, digest: s.digest, files: files, run: try runRecord(run), runNamespace: run.summary.namespace,
            inputs: resolved.filter { $0.ref.kind != "model" }, parents: resolved.filter { $0.ref.kind == "model" })
    }

    /// The latest run that generated a node.
    private func producer(of id: Int64) throws -> GraphNode? {
        try neighbours(of: id, .upstream).filter { $0.node.summary.kind == "run" }.max { $0.node.id < $1.node.id }?.node
    }

    /// What a run used, each data input with its producer's preparation, its file manifest and, while
    /// `depth` allows, what its producer used in turn. A producer shared by several inputs is resolved once
    /// (`memo`) and shown under each; `path` holds the runs on the way here, so a cycle ends the walk.
    private func inputs(
        of run: Int64, depth: Int?, path: inout Set<Int64>, memo: inout [Int64: [ModelPedigree.ResolvedInput]]
    ) throws -> [ModelPedigree.ResolvedInput] {
        var out: [ModelPedigree.ResolvedInput] = []
        for (node, role) in try neighbours(of: run, .upstream) {
            let s = node.summary
            let ref = ArtifactRef(kind: s.kind, namespace: s.namespace, name: s.name, version: s.version)
            guard s.kind != "model" else {
                out.append(ModelPedigree.ResolvedInput(ref: ref, digest: s.digest, role: role))
                continue
            }
            let producer = try producer(of: node.id)
            let preparation = try producer.flatMap { try runRecord($0)?.data }.map { JSONValue.object($0.json) }
            var upstream: [ModelPedigree.ResolvedInput] = []
            if let producer, depth.map({ $0 > 0 }) ?? true, !path.contains(producer.id) {
                if let known = memo[producer.id], depth == nil {
                    upstream = known
                } else {
                    path.insert(producer.id)
                    upstream = try inputs(of: producer.id, depth: depth.map { $0 - 1 }, path: &path, memo: &memo)
                    path.remove(producer.id)
                    if depth == nil { memo[producer.id] = upstream }
                }
            }
            out.append(
                ModelPedigree.ResolvedInput(
                    ref: ref, digest: s.digest, role: role, preparation: preparation, files: try files(of: node.id), upstream: upstream,
                    producerNamespace: producer?.summary.namespace))
        }
        return out
    }

    /// A directory artifact's manifest (`files` facet: relative path → digest), when it was registered with one.
    private func files(of id: Int64) throws -> JSONValue? {
        guard let state = try db.row("SELECT state FROM nodes WHERE id = ?", .int(id))?.optionalText(0) else { return nil }
        return try JSONValue.parse(state)["facets"]?["files"]
    }
}
