import PedigreeCore

/// What an export covers: the whole store, or the lineage of one node (upstream, downstream or both, to a
/// depth).
public enum ExportSelection: Sendable {
    case all
    case lineage(Reference, directions: Set<LineageDirection>, depth: Int?)
}

/// The store as an export reads it, inside one read transaction: nodes in id order and edges in key order,
/// a page at a time (keyset paging, so every page is an index range and only a page is held). A lineage
/// selection is walked first; its node ids and edges (bounded by the walk) are the filter.
struct ExportReader: ExportSource {
    let reader: GraphReader
    /// The walked subgraph of a lineage selection; nil for the whole store.
    private let subgraph: (ids: [Int64], edges: [LineageEdge], kinds: [String: String])?
    static let pageSize = 1_000

    init(reader: GraphReader, selection: ExportSelection) throws {
        self.reader = reader
        guard case .lineage(let ref, let directions, let depth) = selection else {
            subgraph = nil
            return
        }
        var kinds: [String: String] = [:]
        var edges: [LineageEdge] = []
        var seenEdges: Set<LineageEdge> = []
        for direction in LineageDirection.allCases where directions.contains(direction) {
            let graph = try reader.lineage(ref, direction: direction, depth: depth)
            for entry in graph.nodes { kinds[entry.node.ref] = entry.node.kind }
            for edge in graph.edges where seenEdges.insert(edge).inserted { edges.append(edge) }
        }
        var ids: [Int64] = []
        for refs in Array(kinds.keys).chunked(500) {
            let placeholders = refs.map { _ in "?" }.joined(separator: ", ")
            ids += try reader.db.rows("SELECT id FROM nodes WHERE ref IN (\(placeholders))", refs.map(SQLValue.text)).map { try $0.int(0) }
        }
        subgraph = (ids.sorted(), edges.sorted { ($0.from, $0.to, $0.role) < ($1.from, $1.to, $1.role) }, kinds)
    }

    func forEachNode(_ kinds: ExportNodeKinds, records: Bool, _ body: (ExportNode) throws -> Void) throws {
        let kindCondition =
            switch kinds {
            case .all: ""
            // `kind || ''`: compared as an expression, so the planner walks the id range instead of taking every
            // run from the versions index and sorting them for each page.
            case .runs: "AND n.kind || '' = 'run'"
            case .entities: "AND n.kind <> 'run'"
            }
        // Who recorded the node: its own first event (a run's, an endpoint's) or its line's first registration.
        let select = Self.nodeSelect
        func emit(_ rows: [SQLRow]) throws {
            // A page's runs are folded from one query for all their events.
            let runs = records ? try runRecords(try rows.filter { try $0.text(2) == "run" }.map { try $0.text(1) }) : [:]
            for row in rows { try body(try node(row, run: runs[try row.text(1)], recorder: records)) }
        }
        if let subgraph {
            for ids in subgraph.ids.chunked(Self.pageSize) {
                let placeholders = ids.map { _ in "?" }.joined(separator: ", ")
                try emit(
                    try reader.db.rows(
                        "\(select) WHERE n.id IN (\(placeholders)) \(kindCondition) ORDER BY n.id", ids.map(SQLValue.int)))
            }
            return
        }
        var after: Int64 = 0
        while true {
            let rows = try reader.db.rows(
                "\(select) WHERE n.id > ? AND n.recorded_at <= ? \(kindCondition) ORDER BY n.id LIMIT ?", .int(after), .int(reader.cutoff),
                .int(Int64(Self.pageSize)))
            try emit(rows)
            guard rows.count == Self.pageSize, let last = rows.last else { return }
            after = try last.int(0)
        }
    }

    /// A node's columns, its state and its ordinal.
    private static let nodeSelect = "SELECT \(GraphNode.columns), n.state, n.ordinal FROM nodes n"

    func node(_ ref: String) throws -> ExportNode? {
        if let subgraph, subgraph.kinds[ref] == nil { return nil }
        guard let row = try reader.db.row("\(Self.nodeSelect) WHERE n.ref = ? AND n.recorded_at <= ?", .text(ref), .int(reader.cutoff)) else {
            return nil
        }
        return try node(row, run: try row.text(2) == "run" ? try runRecords([ref])[ref] : nil)
    }

    /// The folded records of these runs, as of the cutoff, from one query.
    private func runRecords(_ refs: [String]) throws -> [String: RunRecord] {
        guard !refs.isEmpty else { return [:] }
        let placeholders = refs.map { _ in "?" }.joined(separator: ", ")
        let rows = try reader.db.rows(
            "SELECT digest, body, supersedes, subject FROM events WHERE subject IN (\(placeholders)) AND recorded_at <= ? ORDER BY seq",
            refs.map(SQLValue.text) + [.int(reader.cutoff)])
        return try Dictionary(grouping: rows) { try $0.text(3) }.compactMapValues { try RunFold.fold(RunFold.effectiveParts($0).map(\.run)) }
    }

    func neighbours(of ref: String, _ direction: LineageDirection) throws -> [ExportLink] {
        if let subgraph {
            // The walk's own edges, as the relations of the selection are: every format sees the same graph.
            return subgraph.edges.compactMap { edge in
                let (here, there) = direction == .upstream ? (edge.to, edge.from) : (edge.from, edge.to)
                guard here == ref, let kind = subgraph.kinds[there] else { return nil }
                return ExportLink(ref: there, kind: kind, role: edge.role)
            }
        }
        let (here, there) = direction == .upstream ? ("dst", "src") : ("src", "dst")
        let rows = try reader.db.rows(
            """
            SELECT n.ref, n.kind, e.role FROM nodes m JOIN edges e ON e.\(here) = m.id JOIN nodes n ON n.id = e.\(there)
            WHERE m.ref = ? AND e.recorded_at <= ? ORDER BY n.id, e.role
            """, .text(ref), .int(reader.cutoff))
        return try rows.map { ExportLink(ref: try $0.text(0), kind: try $0.text(1), role: try $0.text(2)) }
    }

    /// Who recorded the node: a run's or an endpoint's first event; for an artifact version, the registration
    /// that created it (its line's event of the same transaction time), else the recorder of the run that
    /// generated it; nil for a version that was only referenced.
    private func recorder(of node: GraphNode) throws -> String? {
        let s = node.summary
        guard s.isArtifact else {
            return try reader.db.row("SELECT recorded_by FROM events WHERE subject = ? ORDER BY seq LIMIT 1", .text(s.ref))?.optionalText(0)
        }
        let line = ArtifactRef(kind: s.kind, namespace: s.namespace, name: s.name).description
        if let registrant = try reader.db.row(
            "SELECT recorded_by FROM events WHERE subject = ? AND recorded_at = ? ORDER BY seq LIMIT 1", .text(line), .int(s.recordedAt.microseconds))
        {
            return registrant.optionalText(0)
        }
        return try reader.db.row(
            """
            SELECT e.recorded_by FROM edges g JOIN nodes r ON r.id = g.src JOIN events e ON e.subject = r.ref
            WHERE g.dst = ? AND r.kind || '' = 'run' ORDER BY e.seq LIMIT 1
            """, .int(node.id)
        )?.optionalText(0)
    }

    /// The node of a row of `nodeSelect`, with its run's record when it is a run and the caller folded it, and
    /// who recorded it unless the pass asked for names only.
    private func node(_ row: SQLRow, run: RunRecord?, recorder withRecorder: Bool = true) throws -> ExportNode {
        let graphNode = try GraphNode(row: row)
        let s = graphNode.summary
        let recordedBy = withRecorder ? try recorder(of: graphNode) : nil
        let ordinal = row.optionalInt(GraphNode.columnCount + 1)
        switch s.kind {
        case "run":
            return ExportNode(summary: s, ordinal: nil, recordedBy: recordedBy, artifact: nil, run: run)
        case "deployment":
            return ExportNode(summary: s, ordinal: nil, recordedBy: recordedBy, artifact: nil, run: nil)
        default:
            let spec =
                try row.optionalText(GraphNode.columnCount).map {
                    try ArtifactSpec(json: JSONValue.parse($0), path: "artifact", defaultNamespace: s.namespace)
                }
                // Only referenced, never registered: what the reference and the graph say of it.
                ?? ArtifactSpec(ref: ArtifactRef(kind: s.kind, namespace: s.namespace, name: s.name, version: s.version), digest: s.digest)
            return ExportNode(summary: s, ordinal: ordinal, recordedBy: recordedBy, artifact: spec, run: nil)
        }
    }

    func forEachRelation(_ types: Set<ExportRelation.RelationType>, _ body: (ExportRelation) throws -> Void) throws {
        if types.contains(.used) || types.contains(.generated) || types.contains(.serves) {
            try forEachEdge { edge in
                if let relation = Self.relation(edge), types.contains(relation.type) { try body(relation) }
            }
        }
        if types.contains(.derivedFrom) { try forEachDerivation(body) }
    }

    /// An edge in the graph's direction (data flow) as the relation it stands for.
    private static func relation(_ edge: (from: String, fromKind: String, to: String, toKind: String, role: String, time: Int64)) -> ExportRelation? {
        let time = Timestamp(microseconds: edge.time)
        if edge.toKind == "run" {
            return ExportRelation(
                type: .used, subject: edge.to, subjectKind: edge.toKind, object: edge.from, objectKind: edge.fromKind, role: edge.role, time: time)
        }
        if edge.fromKind == "run" {
            return ExportRelation(
                type: .generated, subject: edge.from, subjectKind: edge.fromKind, object: edge.to, objectKind: edge.toKind, role: edge.role,
                time: time)
        }
        if edge.toKind == "deployment" {
            return ExportRelation(
                type: .serves, subject: edge.to, subjectKind: edge.toKind, object: edge.from, objectKind: edge.fromKind, role: edge.role, time: time)
        }
        return nil
    }

    private func forEachEdge(_ body: ((from: String, fromKind: String, to: String, toKind: String, role: String, time: Int64)) throws -> Void) throws
    {
        let select = """
            SELECT s.ref, s.kind, d.ref, d.kind, e.role, e.recorded_at, e.src, e.dst FROM edges e
            JOIN nodes s ON s.id = e.src JOIN nodes d ON d.id = e.dst
            """
        if let subgraph {
            // The walk's edges, in reference order; their recorded times from the table.
            for edge in subgraph.edges {
                guard let fromKind = subgraph.kinds[edge.from], let toKind = subgraph.kinds[edge.to] else { continue }
                let time =
                    try reader.db.row("\(select) WHERE s.ref = ? AND d.ref = ? AND e.role = ?", .text(edge.from), .text(edge.to), .text(edge.role))?
                    .int(5) ?? 0
                try body((edge.from, fromKind, edge.to, toKind, edge.role, time))
            }
            return
        }
        var after: (Int64, Int64, String) = (0, 0, "")
        while true {
            let rows = try reader.db.rows(
                "\(select) WHERE (e.src, e.dst, e.role) > (?, ?, ?) AND e.recorded_at <= ? ORDER BY e.src, e.dst, e.role LIMIT ?", .int(after.0),
                .int(after.1), .text(after.2), .int(reader.cutoff), .int(Int64(Self.pageSize)))
            for row in rows {
                try body((try row.text(0), try row.text(1), try row.text(2), try row.text(3), try row.text(4), try row.int(5)))
            }
            guard rows.count == Self.pageSize, let last = rows.last else { return }
            after = (try last.int(6), try last.int(7), try last.text(4))
        }
    }

    /// A model version derives from each parent model its generating run used as a base model.
    private func forEachDerivation(_ body: (ExportRelation) throws -> Void) throws {
        let select = """
            SELECT o.ref, o.kind, p.ref, p.kind, r.ref, og.recorded_at, og.dst, pg.src, og.src FROM edges pg
            JOIN edges og ON og.src = pg.dst JOIN nodes r ON r.id = pg.dst AND r.kind || '' = 'run'
            JOIN nodes o ON o.id = og.dst AND o.kind || '' = 'model' JOIN nodes p ON p.id = pg.src
            WHERE pg.role = 'base-model'
            """
        // The kinds are compared as expressions so that no plan starts from every run in the versions index:
        // each query starts from the page's models.
        func emit(_ row: SQLRow) throws {
            try body(
                ExportRelation(
                    type: .derivedFrom, subject: try row.text(0), subjectKind: try row.text(1), object: try row.text(2), objectKind: try row.text(3),
                    role: try row.text(4), time: Timestamp(microseconds: try row.int(5))))
        }
        if let subgraph {
            // Derivations inside the walk: both models and the run between them were reached.
            for ids in subgraph.ids.chunked(Self.pageSize) {
                let placeholders = ids.map { _ in "?" }.joined(separator: ", ")
                for row in try reader.db.rows(
                    "\(select) AND og.dst IN (\(placeholders)) AND og.recorded_at <= ? AND pg.recorded_at <= ? ORDER BY og.dst, pg.src, og.src",
                    ids.map(SQLValue.int) + [.int(reader.cutoff), .int(reader.cutoff)])
                {
                    let (parent, run) = (try row.text(2), try row.text(4))
                    if subgraph.kinds[parent] != nil && subgraph.kinds[run] != nil { try emit(row) }
                }
            }
            return
        }
        // A page of models at a time (an id range of the nodes table), each page's derivations by indexed
        // lookups from the model back through its run: a keyset over the join itself would sort the whole join
        // for every page.
        var after: Int64 = 0
        while true {
            let models = try reader.db.rows(
                "SELECT id FROM nodes WHERE id > ? AND kind || '' = 'model' AND recorded_at <= ? ORDER BY id LIMIT ?", .int(after),
                .int(reader.cutoff),
                .int(Int64(Self.pageSize))
            ).map { try $0.int(0) }
            guard let last = models.last else { return }
            let placeholders = models.map { _ in "?" }.joined(separator: ", ")
            for row in try reader.db.rows(
                "\(select) AND og.dst IN (\(placeholders)) AND og.recorded_at <= ? AND pg.recorded_at <= ? ORDER BY og.dst, pg.src, og.src",
                models.map(SQLValue.int) + [.int(reader.cutoff), .int(reader.cutoff)])
            {
                try emit(row)
            }
            after = last
        }
    }
}

extension Array {
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
