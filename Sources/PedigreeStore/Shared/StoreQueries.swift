import Foundation
import PedigreeCore

/// The listing and export queries of the store contract, on either backend.
struct StoreQueries {
    let db: any SQLSession

    func artifacts(withDigest digest: ContentDigest, kind: String?) throws -> [NodeSummary] {
        try db.rows(
            "SELECT \(GraphNode.columns) FROM nodes n WHERE n.digest = ? AND (CAST(? AS TEXT) IS NULL OR n.kind = ?) ORDER BY n.id",
            .text(digest.description), .init(kind), .init(kind)
        ).map { try GraphNode(row: $0).summary }
    }

    /// Versions whose registered spec has this URI. The canonical JSON spells `"uri":"…"` one way, so LIKE
    /// narrows the scan; each hit is then checked exactly (LIKE ignores case on SQLite).
    func artifacts(withURI uri: String, kind: String?) throws -> [NodeSummary] {
        let wanted = Self.normalised(uri)
        var found: [NodeSummary] = []
        for spelling in Set([wanted, wanted + "/"]) {
            let needle = "\"uri\":" + JSONValue.string(spelling).canonicalString
            let pattern =
                "%"
                + needle.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                .replacingOccurrences(of: "_", with: "\\_") + "%"
            for row in try db.rows(
                """
                SELECT \(GraphNode.columns), n.state FROM nodes n
                WHERE n.state LIKE ? ESCAPE '\\' AND (CAST(? AS TEXT) IS NULL OR n.kind = ?) ORDER BY n.id
                """, .text(pattern), .init(kind), .init(kind))
            {
                guard let state = row[GraphNode.columnCount].text, let recorded = try JSONValue.parse(state)["uri"]?.stringValue,
                    Self.normalised(recorded) == wanted
                else { continue }
                found.append(try GraphNode(row: row).summary)
            }
        }
        return found.sorted { $0.recordedAt < $1.recordedAt || ($0.recordedAt == $1.recordedAt && $0.ref < $1.ref) }
    }

    /// A name glob (`*`, `?`) as a LIKE pattern with `\\` as the escape character.
    static func likePattern(_ glob: String) -> String {
        glob.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_").replacingOccurrences(of: "*", with: "%").replacingOccurrences(of: "?", with: "_")
    }

    static func normalised(_ uri: String) -> String {
        var text = uri
        while text.count > 1, text.hasSuffix("/"), !text.hasSuffix("://") { text.removeLast() }
        return text
    }

    func namespaces() throws -> [String] {
        // Every node's namespace without reading every node: a run's is its events' (so it has a chain head),
        // every other node's is its line's.
        try db.texts("SELECT namespace FROM chain_heads UNION SELECT namespace FROM lines ORDER BY 1")
    }

    func artifacts(inNamespace namespace: String, limit: Int, offset: Int) throws -> [NodeSummary] {
        try db.rows(
            """
            SELECT \(GraphNode.columns) FROM nodes n
            WHERE n.namespace = ? AND n.ordinal IS NOT NULL
              AND n.ordinal = (SELECT max(m.ordinal) FROM nodes m WHERE m.kind = n.kind AND m.namespace = n.namespace AND m.name = n.name)
            ORDER BY n.kind, n.name LIMIT ? OFFSET ?
            """, .text(namespace), .int(Int64(limit)), .int(Int64(offset))
        ).map { try GraphNode(row: $0).summary }
    }

    func artifacts(matching filter: ArtifactFilter, limit: Int, offset: Int, asOf: Timestamp?) throws -> [NodeSummary] {
        let cutoff = asOf?.microseconds ?? Int64.max
        // A glob as LIKE, lower-cased on both sides by the database (ASCII letters on either engine), so
        // SQLite and PostgreSQL agree on case.
        let pattern = filter.name.map(Self.likePattern)
        return try db.rows(
            """
            SELECT \(GraphNode.columns) FROM nodes n
            WHERE n.ordinal IS NOT NULL AND n.recorded_at <= ?
              AND (CAST(? AS TEXT) IS NULL OR n.kind = ?) AND (CAST(? AS TEXT) IS NULL OR n.namespace = ?)
              AND (CAST(? AS TEXT) IS NULL OR lower(n.name) LIKE lower(?) ESCAPE '\\')
              AND n.ordinal = (SELECT max(m.ordinal) FROM nodes m
                               WHERE m.kind = n.kind AND m.namespace = n.namespace AND m.name = n.name AND m.recorded_at <= ?)
            ORDER BY n.namespace, n.kind, n.name LIMIT ? OFFSET ?
            """, .int(cutoff), .init(filter.kind), .init(filter.kind), .init(filter.namespace), .init(filter.namespace), .init(pattern),
            .init(pattern), .int(cutoff), .int(Int64(limit)), .int(Int64(offset))
        ).map { try GraphNode(row: $0).summary }
    }

    func jobs(inNamespace namespace: String, limit: Int, offset: Int) throws -> [JobSummary] {
        try db.rows(
            """
            SELECT \(GraphNode.columns), j.runs FROM
                (SELECT name, count(*) AS runs, max(id) AS latest FROM nodes WHERE kind = 'run' AND namespace = ? GROUP BY name) j
            JOIN nodes n ON n.id = j.latest ORDER BY n.name LIMIT ? OFFSET ?
            """, .text(namespace), .int(Int64(limit)), .int(Int64(offset))
        ).map { row in
            let node = try GraphNode(row: row)
            return JobSummary(
                namespace: namespace, name: node.summary.name, runCount: Int(try row.int(GraphNode.columnCount)), latestRun: node.summary)
        }
    }

    func statistics(bytes: Int64) throws -> StoreStatistics {
        StoreStatistics(
            events: try db.int("SELECT max(seq) FROM events") ?? 0,
            nodes: try db.int("SELECT count(*) FROM nodes") ?? 0,
            edges: try db.int("SELECT count(*) FROM edges") ?? 0, bytes: bytes)
    }

    func events(afterSequence: Int64, limit: Int) throws -> [StoredEvent] {
        try db.rows("SELECT \(StoredEvent.columns) FROM events WHERE seq > ? ORDER BY seq LIMIT ?", .int(afterSequence), .int(Int64(limit)))
            .map(StoredEvent.init(row:))
    }
}
