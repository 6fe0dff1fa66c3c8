import Logging
import NIOCore
import PedigreeCore
import PedigreeStore
import PostgresNIO

/// The shared store logic's view of one PostgreSQL connection inside a transaction.
///
/// Blocking: a statement waits for its round trip. It runs only on a `PostgresEngine` worker thread, never
/// on an event loop or in the Swift concurrency pool, so the wait ties up nothing else. That is what lets
/// the projector, the graph reader and the verifier — synchronous because SQLite transactions are — run
/// unchanged on PostgreSQL.
///
/// Every statement costs a round trip (PostgresNIO sends the next only after the previous completes), so
/// the rows ingest writes most — log entries, nodes and edges — are gathered (`insert(into:_:)`) and sent as
/// one multi-row `INSERT … SELECT FROM unnest(…)` per table: before any statement that mentions the table,
/// and at the end of each savepoint (each client request), so a failure is still that request's. A node's id
/// is taken ahead of its insert from ids reserved from the identity sequence in blocks (`insertNode`).
final class PostgresSession: SQLSession {
    private let connection: PostgresConnection
    private let logger: Logger
    private var savepointDepth = 0
    private var gathered: [BatchedTable: [[SQLValue]]] = [:]
    /// Transaction control sent without waiting (see `send`); the next statement waits for them.
    private var unanswered: [EventLoopFuture<PostgresQueryResult>] = []
    /// Rows per multi-row insert: large enough to amortise the round trip, small enough to bound a message.
    private static let batchRows = 1_000
    /// Node ids reserved from the sequence and not yet used, smallest last (so they are used in order).
    private var reservedNodeIDs: [Int64] = []
    /// The next block to reserve: it doubles from a few ids, so a one-event request wastes few and a batch
    /// of thousands takes few round trips.
    private var nextReservation = 8

    init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    func rows(_ sql: String, _ values: [SQLValue]) throws -> [SQLRow] {
        try sendGathered(readBy: sql)
        return try run(PostgresQuery(unsafeSQL: Self.numberingPlaceholders(sql), binds: Self.bindings(values))).rows.map(Self.decode)
    }

    func execute(_ sql: String, _ values: [SQLValue]) throws {
        try sendGathered(readBy: sql)
        _ = try run(PostgresQuery(unsafeSQL: Self.numberingPlaceholders(sql), binds: Self.bindings(values)))
    }

    func insertReturningID(_ sql: String, _ values: [SQLValue]) throws -> Int64 {
        guard let id = try rows(sql + " RETURNING id", values).first?.first?.int else {
            throw StoreError(.unavailable, "PostgreSQL returned no id for an insert")
        }
        return id
    }

    func insertNode(_ values: [SQLValue]) throws -> Int64 {
        if reservedNodeIDs.isEmpty {
            let reserved = try run(
                PostgresQuery(unsafeSQL: "SELECT nextval(pg_get_serial_sequence('nodes', 'id')) FROM generate_series(1, \(nextReservation))"))
            reservedNodeIDs = try reserved.rows.map(Self.decode).compactMap { $0.first?.int }.sorted(by: >)
            nextReservation = min(nextReservation * 2, Self.batchRows)
        }
        guard let id = reservedNodeIDs.popLast() else { throw StoreError(.unavailable, "PostgreSQL reserved no node ids") }
        try insert(into: .nodes, [.int(id)] + values)
        return id
    }

    /// Runs SQL as written: `?` is not a placeholder here (schema migrations).
    func executeVerbatim(_ sql: String) throws {
        try sendGathered()
        _ = try run(PostgresQuery(unsafeSQL: sql))
    }

    func insert(into table: BatchedTable, _ values: [SQLValue]) throws {
        gathered[table, default: []].append(values)
        if gathered[table, default: []].count >= Self.batchRows { try send(table) }
    }

    func savepoint<T>(_ body: () throws -> T) throws -> T {
        savepointDepth += 1
        defer { savepointDepth -= 1 }
        let name = "request_\(savepointDepth)"
        try sendGathered()
        try execute("SAVEPOINT \(name)")
        do {
            let result = try body()
            try sendGathered()
            try execute("RELEASE SAVEPOINT \(name)")
            return result
        } catch {
            // Rows the failed request gathered are dropped with it, unsent.
            gathered = [:]
            try execute("ROLLBACK TO SAVEPOINT \(name)")
            try execute("RELEASE SAVEPOINT \(name)")
            throw error
        }
    }

    /// Sends every gathered row; called before commit.
    func sendGathered() throws {
        for table in BatchedTable.allCases { try send(table) }
    }

    private func sendGathered(readBy sql: String) throws {
        for table in BatchedTable.allCases where gathered[table]?.isEmpty == false && sql.contains(table.rawValue) { try send(table) }
    }

    private func send(_ table: BatchedTable) throws {
        guard let rows = gathered[table], !rows.isEmpty else { return }
        gathered[table] = []
        let columns = table.columns
        let names = columns.map(\.name).joined(separator: ", ")
        // NULL travels as '' in text columns and as the smallest bigint in integer ones: values neither holds.
        let selected = columns.enumerated().map { i, column in
            column.nullable ? "NULLIF(c\(i), \(column.integer ? "'-9223372036854775808'::bigint" : "''"))" : "c\(i)"
        }.joined(separator: ", ")
        let arrays = columns.enumerated().map { i, column in "$\(i + 1)::\(column.integer ? "bigint" : "text")[]" }.joined(separator: ", ")
        let aliases = columns.indices.map { "c\($0)" }.joined(separator: ", ")
        let sql = "INSERT INTO \(table.rawValue)(\(names)) SELECT \(selected) FROM unnest(\(arrays)) AS u(\(aliases))\(table.conflictClause)"
        for start in stride(from: 0, to: rows.count, by: Self.batchRows) {
            let chunk = rows[start..<min(start + Self.batchRows, rows.count)]
            var binds = PostgresBindings(capacity: columns.count)
            for (i, column) in columns.enumerated() {
                if column.integer {
                    binds.append(chunk.map { $0[i].int ?? Int64.min })
                } else {
                    binds.append(chunk.map { $0[i].text ?? "" })
                }
            }
            _ = try run(PostgresQuery(unsafeSQL: sql, binds: binds))
        }
    }

    /// One recursive query finds every node the walk can reach and returns the neighbours of each node it
    /// expands. The recursion is a `UNION` (not `UNION ALL`): PostgreSQL discards rows it has produced
    /// before, so the working set is a visited set and cycles end the recursion. Unbounded walks recurse
    /// over node ids alone, visiting each node once; bounded walks over (id, depth) pairs, at most
    /// nodes × depth rows, and expand the nodes first reached within the bound.
    func reachableSubgraph(_ walk: WalkSpecification) throws -> Subgraph? {
        let (here, there) = walk.direction == .upstream ? ("dst", "src") : ("src", "dst")
        let step = "e.recorded_at <= $2 AND NOT (e.role = ANY($3)) AND (k.id = $1 OR NOT (k.kind = ANY($4)))"
        let reach: String
        var binds = PostgresBindings()
        binds.append(walk.root)
        binds.append(walk.cutoff)
        binds.append(walk.skipRoles.sorted())
        binds.append(walk.stopKinds.sorted())
        if let depth = walk.depth {
            binds.append(Int64(depth))
            reach = """
                reach(id, depth) AS (
                    SELECT $1::bigint, 0
                    UNION
                    SELECT e.\(there), r.depth + 1 FROM reach r JOIN nodes k ON k.id = r.id JOIN edges e ON e.\(here) = r.id
                    WHERE r.depth < $5 AND \(step)
                ),
                expanded AS (SELECT DISTINCT id FROM reach WHERE depth < $5)
                """
        } else {
            reach = """
                reach(id) AS (
                    SELECT $1::bigint
                    UNION
                    SELECT e.\(there) FROM reach r JOIN nodes k ON k.id = r.id JOIN edges e ON e.\(here) = r.id WHERE \(step)
                ),
                expanded AS (SELECT id FROM reach)
                """
        }
        let sql = """
            WITH RECURSIVE \(reach)
            SELECT x.id, \(GraphNode.columns), e.role
            FROM expanded x JOIN nodes k ON k.id = x.id JOIN edges e ON e.\(here) = x.id JOIN nodes n ON n.id = e.\(there)
            WHERE \(step)
            ORDER BY x.id, n.id, e.role
            """
        var subgraph: Subgraph = [:]
        for row in try run(PostgresQuery(unsafeSQL: sql, binds: binds)).rows.map(Self.decode) {
            subgraph[try row.int(0), default: []].append((try GraphNode(row: row, at: 1), try row.text(1 + GraphNode.columnCount)))
        }
        return subgraph
    }

    /// Sends transaction control (`BEGIN`, the lock, a read's `COMMIT`) without waiting for the answer.
    /// PostgresNIO queues statements on the connection in order, so the next one still runs after it; what
    /// is saved is waking this thread for an answer that carries nothing. A failure surfaces at the next
    /// statement, which cannot succeed after it anyway.
    func send(_ sql: String, _ values: SQLValue...) {
        unanswered.append(connection.query(PostgresQuery(unsafeSQL: Self.numberingPlaceholders(sql), binds: Self.bindings(values)), logger: logger))
    }

    private func run(_ query: PostgresQuery) throws -> PostgresQueryResult {
        do {
            let earlier = unanswered
            unanswered = []
            for statement in earlier { _ = try statement.wait() }
            return try connection.query(query, logger: logger).wait()
        } catch let error as PSQLError {
            throw PostgresEngine.storeError(error)
        }
    }

    /// `?` placeholders become `$1`, `$2`, …; the shared SQL has no `?` anywhere else.
    static func numberingPlaceholders(_ sql: String) -> String {
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16)
        var index = 0
        for character in sql {
            if character == "?" {
                index += 1
                out += "$\(index)"
            } else {
                out.append(character)
            }
        }
        return out
    }

    private static func bindings(_ values: [SQLValue]) -> PostgresBindings {
        var binds = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case .null: binds.appendNull()
            case .int(let n): binds.append(n)
            case .text(let s): binds.append(s)
            }
        }
        return binds
    }

    private static func decode(_ row: PostgresRow) throws -> SQLRow {
        try row.map { cell in
            guard cell.bytes != nil else { return .null }
            switch cell.dataType {
            case .int8: return .int(try cell.decode(Int64.self))
            case .int4: return .int(Int64(try cell.decode(Int32.self)))
            case .int2: return .int(Int64(try cell.decode(Int16.self)))
            case .bool: return .int(try cell.decode(Bool.self) ? 1 : 0)
            default: return .text(try cell.decode(String.self))
            }
        }
    }
}
