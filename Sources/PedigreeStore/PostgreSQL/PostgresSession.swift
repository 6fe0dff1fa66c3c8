import Logging
import NIOCore
import PostgresNIO

/// The shared store logic's view of one PostgreSQL connection inside a transaction.
///
/// Blocking: a query waits for its round trip. It runs only on a `PostgresStore` worker thread, never on
/// an event loop or in the Swift concurrency pool, so the wait ties up nothing else. That is what lets
/// the projector, the graph reader and the verifier — synchronous because SQLite transactions are — run
/// unchanged on PostgreSQL.
///
/// Statements that return nothing are pipelined: sent at once, waited for at the next query, savepoint
/// release or commit (PostgreSQL runs a connection's statements in order, so a query sees every write
/// before it). Ingest is mostly such writes, so most of its round trips overlap. The first failure among
/// them is the one reported; later statements fail only because the transaction was aborted.
final class PostgresSession: SQLSession {
    private let connection: PostgresConnection
    private let logger: Logger
    private var savepointDepth = 0
    private var inFlight: [EventLoopFuture<PostgresQueryResult>] = []

    init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    func rows(_ sql: String, _ values: [SQLValue]) throws -> [SQLRow] {
        try run(PostgresQuery(unsafeSQL: Self.numberingPlaceholders(sql), binds: Self.bindings(values))).rows.map(Self.decode)
    }

    func execute(_ sql: String, _ values: [SQLValue]) throws {
        inFlight.append(connection.query(PostgresQuery(unsafeSQL: Self.numberingPlaceholders(sql), binds: Self.bindings(values)), logger: logger))
        if inFlight.count >= 512 { try settle() }
    }

    /// Runs a statement and waits for it and everything sent before it.
    func executeNow(_ sql: String, _ values: SQLValue...) throws {
        try execute(sql, values)
        try settle()
    }

    func savepoint<T>(_ body: () throws -> T) throws -> T {
        savepointDepth += 1
        defer { savepointDepth -= 1 }
        let name = "request_\(savepointDepth)"
        try execute("SAVEPOINT \(name)")
        do {
            let result = try body()
            try executeNow("RELEASE SAVEPOINT \(name)")
            return result
        } catch {
            try? settle()
            try executeNow("ROLLBACK TO SAVEPOINT \(name)")
            throw error
        }
    }

    /// Waits for every pipelined statement; throws the first one's failure.
    func settle() throws {
        let waiting = inFlight
        inFlight = []
        var failure: (any Error)?
        for statement in waiting {
            do { _ = try statement.wait() } catch { failure = failure ?? error }
        }
        if let error = failure as? PSQLError { throw PostgresStore.storeError(error) }
        if let failure { throw failure }
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

    private func run(_ query: PostgresQuery) throws -> PostgresQueryResult {
        try settle()
        do {
            return try connection.query(query, logger: logger).wait()
        } catch let error as PSQLError {
            throw PostgresStore.storeError(error)
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
