import PedigreeCore

extension GraphReader {
    /// The registry page: candidates come from the versions index in (kind, namespace, name) order, after
    /// the cursor, a chunk at a time; what SQL cannot say cheaply (whether a line serves now: a fold of each
    /// endpoint's deployments, canaries included) is decided per candidate, so a page costs its own rows and
    /// not the size of the store.
    func registry(_ filter: RegistryFilter, after: String?, limit: Int, mayRead: (String) -> Bool) throws -> [RegistryEntry] {
        let pattern = filter.nameGlob.map(StoreQueries.likePattern)
        let parts = after.map { $0.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init) }
        var cursor = parts.flatMap { $0.count == 3 ? ($0[0], $0[1], $0[2]) : nil } ?? ("", "", "")
        // Lines that never served anything are ruled out (or in) by SQL; the rest are checked one by one.
        let everDeployed = """
            (EXISTS (SELECT 1 FROM deployments d JOIN nodes m ON m.id = d.model_node
                     WHERE m.kind = n.kind AND m.namespace = n.namespace AND m.name = n.name AND d.recorded_at <= ?)
             OR EXISTS (SELECT 1 FROM deployments d WHERE d.endpoint_node = n.id AND d.recorded_at <= ?))
            """
        let deployedCondition =
            switch filter.deployed {
            case true?: "AND \(everDeployed)"
            default: ""
            }
        var entries: [RegistryEntry] = []
        let chunk = max(limit * 2, 50)
        while entries.count < limit {
            let rows = try db.rows(
                """
                SELECT \(GraphNode.columns), n.state FROM nodes n
                WHERE n.kind <> 'run' AND n.recorded_at <= ? AND (n.kind, n.namespace, n.name) > (?, ?, ?)
                  AND (CAST(? AS TEXT) IS NULL OR n.kind = ?) AND (CAST(? AS TEXT) IS NULL OR n.namespace = ?)
                  AND (CAST(? AS TEXT) IS NULL OR lower(n.name) LIKE lower(?) ESCAPE '\\')
                  AND (n.ordinal IS NULL OR n.ordinal = (SELECT max(m.ordinal) FROM nodes m
                       WHERE m.kind = n.kind AND m.namespace = n.namespace AND m.name = n.name AND m.recorded_at <= ?))
                  \(deployedCondition)
                ORDER BY n.kind, n.namespace, n.name LIMIT ?
                """,
                [
                    .int(cutoff), .text(cursor.0), .text(cursor.1), .text(cursor.2), .init(filter.kind), .init(filter.kind), .init(filter.namespace),
                    .init(filter.namespace), .init(pattern), .init(pattern), .int(cutoff),
                ] + (filter.deployed == true ? [.int(cutoff), .int(cutoff)] : []) + [.int(Int64(chunk))])
            for row in rows {
                let node = try GraphNode(row: row)
                let s = node.summary
                cursor = (s.kind, s.namespace, s.name)
                guard mayRead(s.namespace) else { continue }
                let entry = try registryEntry(node, state: row.optionalText(GraphNode.columnCount), mayRead: mayRead)
                if let deployed = filter.deployed, deployed == entry.serving.isEmpty { continue }
                entries.append(entry)
                if entries.count == limit { break }
            }
            if rows.count < chunk { break }
        }
        return entries
    }

    private func registryEntry(_ node: GraphNode, state: String?, mayRead: (String) -> Bool) throws -> RegistryEntry {
        let s = node.summary
        if s.kind == "deployment" {
            let (serving, _) = try currentServing(endpointID: node.id)
            let owner = try db.row(
                "SELECT recorded_by FROM events WHERE subject = ? AND recorded_at <= ? ORDER BY seq LIMIT 1", .text(s.ref), .int(cutoff))?.text(0)
            return RegistryEntry(
                latest: s, versions: 0, owner: owner,
                serving: serving.shares.map { .init(endpoint: s.ref, model: $0.model, percent: $0.percent) }, retired: false)
        }
        let versions =
            try db.int(
                "SELECT count(*) FROM nodes WHERE kind = ? AND namespace = ? AND name = ? AND recorded_at <= ?", .text(s.kind), .text(s.namespace),
                .text(s.name), .int(cutoff)) ?? 1
        let spec = try state.map { try ArtifactSpec(json: JSONValue.parse($0), path: "artifact", defaultNamespace: s.namespace) }
        var owner = try declared(s, state: spec).owner
        if owner == nil {
            // Who recorded the line first: its registration, else the run that generated its first version.
            let line = ArtifactRef(kind: s.kind, namespace: s.namespace, name: s.name).description
            owner = try db.row(
                """
                SELECT e.recorded_by FROM events e WHERE e.subject = ? AND e.recorded_at <= ?
                UNION ALL
                SELECT e.recorded_by FROM nodes v JOIN edges g ON g.dst = v.id JOIN nodes r ON r.id = g.src AND r.kind = 'run'
                  JOIN events e ON e.subject = r.ref
                WHERE v.kind = ? AND v.namespace = ? AND v.name = ? AND v.ordinal = 1 AND e.recorded_at <= ?
                LIMIT 1
                """, .text(line), .int(cutoff), .text(s.kind), .text(s.namespace), .text(s.name), .int(cutoff))?.text(0)
        }
        var serving: [RegistryEntry.Serving] = []
        for row in try db.rows(
            """
            SELECT DISTINCT e.id, e.ref, e.namespace FROM deployments d JOIN nodes m ON m.id = d.model_node JOIN nodes e ON e.id = d.endpoint_node
            WHERE m.kind = ? AND m.namespace = ? AND m.name = ? AND d.recorded_at <= ? ORDER BY e.ref
            """, .text(s.kind), .text(s.namespace), .text(s.name), .int(cutoff))
        where mayRead(try row.text(2)) {
            let (state, _) = try currentServing(endpointID: try row.int(0))
            let prefix = ArtifactRef(kind: s.kind, namespace: s.namespace, name: s.name).description + "@"
            for share in state.shares where share.model.hasPrefix(prefix) {
                serving.append(.init(endpoint: try row.text(1), model: share.model, percent: share.percent))
            }
        }
        return RegistryEntry(latest: s, versions: Int(versions), owner: owner, serving: serving, retired: s.status == Projector.retired)
    }
}
