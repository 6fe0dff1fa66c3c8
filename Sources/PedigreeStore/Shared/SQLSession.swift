import PedigreeCore

/// A value bound to or read from a statement. The schema needs no other types: integers (ids, sequences,
/// microsecond times) and text (references, digests, canonical JSON).
public enum SQLValue: Hashable, Sendable {
    case null
    case int(Int64)
    case text(String)

    public init(_ text: String?) { self = text.map(SQLValue.text) ?? .null }
    public init(_ int: Int64?) { self = int.map(SQLValue.int) ?? .null }

    public var int: Int64? { if case .int(let n) = self { n } else { nil } }
    public var text: String? { if case .text(let s) = self { s } else { nil } }
}

public typealias SQLRow = [SQLValue]

/// One connection inside one transaction, as the logic both backends share sees it: the log writer, the
/// projector, the graph reader and the verifier are written once against this, so the same events give the
/// same graph and the same answers on SQLite and PostgreSQL. SQL here uses `?` placeholders and only what
/// both dialects accept (`ON CONFLICT`, row values, `COALESCE`).
///
/// It is synchronous because SQLite transactions are (GRDB runs them on the connection's own queue); the
/// PostgreSQL session runs on a thread of its own and waits on each round trip.
public protocol SQLSession {
    func rows(_ sql: String, _ values: [SQLValue]) throws -> [SQLRow]
    func execute(_ sql: String, _ values: [SQLValue]) throws
    /// Runs an `INSERT` into a table with an integer `id` key and returns the new row's id.
    func insertReturningID(_ sql: String, _ values: [SQLValue]) throws -> Int64
    /// Inserts a row of one of the tables ingest fills fastest, now or later in the transaction but before
    /// any query that reads that table: PostgreSQL gathers them and sends each table's rows as one
    /// multi-row statement (every statement costs a network round trip); SQLite inserts at once (in
    /// process, a statement costs microseconds).
    func insert(into table: BatchedTable, _ values: [SQLValue]) throws
    /// Inserts a node (the columns of `BatchedTable.nodes` after its id) and returns its id. PostgreSQL takes
    /// ids from the identity sequence in blocks and gathers the rows like edges, so a batch's nodes cost a
    /// round trip per block rather than one each; SQLite inserts at once.
    func insertNode(_ values: [SQLValue]) throws -> Int64
    /// Runs `body` in a savepoint, rolled back when it throws.
    func savepoint<T>(_ body: () throws -> T) throws -> T
    /// The part of the graph a walk can reach, fetched at once; nil makes the walk look up each node's
    /// neighbours as it goes (cheap in-process, a round trip each over a network).
    func reachableSubgraph(_ walk: WalkSpecification) throws -> Subgraph?
}

extension SQLSession {
    public func reachableSubgraph(_ walk: WalkSpecification) throws -> Subgraph? { nil }

    public func insertNode(_ values: [SQLValue]) throws -> Int64 { try insertReturningID(nodeInsertSQL, values) }

    public func rows(_ sql: String, _ values: SQLValue...) throws -> [SQLRow] { try rows(sql, values) }
    public func execute(_ sql: String, _ values: SQLValue...) throws { try execute(sql, values) }
    public func row(_ sql: String, _ values: SQLValue...) throws -> SQLRow? { try rows(sql, values).first }
    /// The first column of the first row; nil when there is no row or it is NULL.
    public func int(_ sql: String, _ values: SQLValue...) throws -> Int64? { try rows(sql, values).first?.first?.int }
    public func texts(_ sql: String, _ values: SQLValue...) throws -> [String] { try rows(sql, values).compactMap { $0.first?.text } }
}

extension [SQLValue] {
    public func int(_ column: Int) throws -> Int64 {
        guard let value = self[column].int else { throw unexpected(column, "an integer") }
        return value
    }

    public func text(_ column: Int) throws -> String {
        guard let value = self[column].text else { throw unexpected(column, "text") }
        return value
    }

    public func optionalText(_ column: Int) -> String? { self[column].text }
    public func optionalInt(_ column: Int) -> Int64? { self[column].int }

    private func unexpected(_ column: Int, _ expected: String) -> StoreError {
        StoreError(.unavailable, "the store returned \(self[column]) where \(expected) was expected (column \(column)); run `pedigree verify`")
    }
}

/// A node's insert with its id left to the engine, built once: it is the hottest statement of ingest.
private let nodeInsertSQL: String = {
    let columns = BatchedTable.nodes.columns.dropFirst().map(\.name)
    return "INSERT INTO nodes(\(columns.joined(separator: ", "))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))"
}()

/// The tables whose rows `SQLSession.insert(into:_:)` may batch.
public enum BatchedTable: String, CaseIterable, Sendable {
    case events, edges, lines, nodes

    /// Columns in insert order: integer (else text), and whether NULL occurs.
    public var columns: [(name: String, integer: Bool, nullable: Bool)] {
        switch self {
        case .events:
            [
                ("seq", true, false), ("namespace", false, false), ("ns_seq", true, false), ("type", false, false), ("subject", false, false),
                ("digest", false, false), ("body", false, false), ("recorded_at", true, false), ("recorded_by", false, false),
                ("prev_hash", false, false), ("chain_hash", false, false), ("supersedes", false, true),
            ]
        case .edges: [("src", true, false), ("dst", true, false), ("role", false, false), ("recorded_at", true, false)]
        case .lines: [("kind", false, false), ("namespace", false, false), ("name", false, false), ("recorded_at", true, false)]
        case .nodes:
            [
                ("id", true, false), ("ref", false, false), ("kind", false, false), ("namespace", false, false), ("name", false, false),
                ("version", false, true), ("ordinal", true, true), ("digest", false, true), ("status", false, true), ("recorded_at", true, false),
                ("state", false, true),
            ]
        }
    }

    /// Edges and lines are sets: adding one that exists changes nothing (a line keeps its first version's time).
    public var conflictClause: String {
        switch self {
        case .events, .nodes: ""
        case .edges, .lines: " ON CONFLICT DO NOTHING"
        }
    }

    public var singleRowSQL: String {
        "INSERT INTO \(rawValue)(\(columns.map(\.name).joined(separator: ", "))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))\(conflictClause)"
    }
}

/// A breadth-first walk: from where, which way, how far, and what it passes through.
public struct WalkSpecification {
    public let root: Int64
    public let direction: LineageDirection
    public let depth: Int?
    /// Transaction-time cut-off (microseconds): edges recorded later are invisible.
    public let cutoff: Int64
    /// Kinds of node the walk reaches but does not continue past (the root is always expanded).
    public let stopKinds: Set<String>
    /// Edge roles the walk does not follow.
    public let skipRoles: Set<String>
}

/// For each node a walk expands, its neighbours (in the walk's direction) with the connecting edge's role,
/// ordered by neighbour id and role: the order in which a walk visits them on every backend.
public typealias Subgraph = [Int64: [(node: GraphNode, role: String)]]

/// A node as queries list it: its row id (for further lookups) and its public summary.
public struct GraphNode {
    public let id: Int64
    public let summary: NodeSummary

    /// The columns `init(row:at:)` reads, prefixed with the alias `n`.
    public static let columns = "n.id, n.ref, n.kind, n.namespace, n.name, n.version, n.digest, n.status, n.recorded_at"
    public static let columnCount = 9

    public init(row: SQLRow, at offset: Int = 0) throws {
        id = try row.int(offset)
        summary = NodeSummary(
            ref: try row.text(offset + 1), kind: try row.text(offset + 2), namespace: try row.text(offset + 3), name: try row.text(offset + 4),
            version: row.optionalText(offset + 5), digest: row.optionalText(offset + 6).flatMap { ContentDigest($0) },
            status: row.optionalText(offset + 7), recordedAt: Timestamp(microseconds: try row.int(offset + 8)))
    }
}
