import PedigreeCore

extension GraphReader {
    /// The registry page: candidates come from `lines` (one row per dataset, model or endpoint line, tens of
    /// thousands where `nodes` has millions of versions) in (kind, namespace, name) order after the cursor, a
    /// chunk at a time, so paging and a name search cost the lines and not every version of them; each line's
    /// latest version as of the cutoff is then one indexed lookup. What SQL cannot say cheaply (whether a line
    /// serves now: a fold of each endpoint's deployments, canaries included) is decided per candidate.
    func registry(_ filter: RegistryFilter, after: String?, limit: Int, mayRead: (String) -> Bool) throws -> [RegistryEntry] {
        let pattern = filter.nameGlob.map(StoreQueries.likePattern)
        let parts = after.map { $0.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init) }
        var cursor = parts.flatMap { $0.count == 3 ? ($0[0], $0[1], $0[2]) : nil } ?? ("", "", "")
        // Lines that never served anything are ruled out (or in) by SQL; the rest are checked one by one.
        let everDeployed = """
            (EXISTS (SELECT 1 FROM nodes m JOIN deployments d ON d.model_node = m.id
                     WHERE m.kind = l.kind AND m.namespace = l.namespace AND m.name = l.name AND d.recorded_at <= ?)
             OR EXISTS (SELECT 1 FROM nodes e JOIN deployments d ON d.endpoint_node = e.id
                        WHERE l.kind = 'deployment' AND e.kind = 'deployment' AND e.namespace = l.namespace AND e.name = l.name
                          AND d.recorded_at <= ?))
            """
        let deployedCondition = filter.deployed == true ? "AND \(everDeployed)" : ""
        var entries: [RegistryEntry] = []
        let chunk = max(limit * 2, 50)
        while entries.count < limit {
            let rows = try db.rows(
                """
                SELECT l.kind, l.namespace, l.name FROM lines l
                WHERE l.recorded_at <= ? AND (l.kind, l.namespace, l.name) > (?, ?, ?)
                  AND (CAST(? AS TEXT) IS NULL OR l.kind = ?) AND (CAST(? AS TEXT) IS NULL OR l.namespace = ?)
                  AND (CAST(? AS TEXT) IS NULL OR lower(l.name) LIKE lower(?) ESCAPE '\\')
                  \(deployedCondition)
                ORDER BY l.kind, l.namespace, l.name LIMIT ?
                """,
                [
                    .int(cutoff), .text(cursor.0), .text(cursor.1), .text(cursor.2), .init(filter.kind), .init(filter.kind), .init(filter.namespace),
                    .init(filter.namespace), .init(pattern), .init(pattern),
                ] + (filter.deployed == true ? [.int(cutoff), .int(cutoff)] : []) + [.int(Int64(chunk))])
            for row in rows {
                cursor = (try row.text(0), try row.text(1), try row.text(2))
                guard mayRead(cursor.1), let latest = try latestVersion(kind: cursor.0, namespace: cursor.1, name: cursor.2) else { continue }
                let entry = try registryEntry(latest.node, state: latest.state, mayRead: mayRead)
                if let deployed = filter.deployed, deployed == entry.serving.isEmpty { continue }
                entries.append(entry)
                if entries.count == limit { break }
            }
            if rows.count < chunk { break }
        }
        return entries
    }

    /// A line's latest version as of the cutoff (an endpoint's one node).
    private func latestVersion(kind: String, namespace: String, name: String) throws -> (node: GraphNode, state: String?)? {
        let row = try db.row(
            """
            SELECT \(GraphNode.columns), n.state FROM nodes n WHERE n.kind = ? AND n.namespace = ? AND n.name = ? AND n.recorded_at <= ?
            ORDER BY n.ordinal DESC LIMIT 1
            """, .text(kind), .text(namespace), .text(name), .int(cutoff))
        return try row.map { (try GraphNode(row: $0), try $0.optionalText(GraphNode.columnCount)) }
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
