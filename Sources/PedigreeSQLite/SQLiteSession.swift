import GRDB
import GRDBSQLite
import PedigreeStore

/// The shared store logic's view of a GRDB connection inside a transaction. Statements are GRDB-cached and
/// driven through the SQLite C API: GRDB's general-purpose argument handling costs a few microseconds per
/// call, which at a dozen statements per ingested event was most of the ingest time; binding directly
/// brings each call close to SQLite's own cost.
struct SQLiteSession: SQLSession {
    let db: Database

    func rows(_ sql: String, _ values: [SQLValue]) throws -> [SQLRow] {
        let handle = try prepare(sql, values)
        defer { sqlite3_reset(handle) }
        var rows: [SQLRow] = []
        while true {
            switch sqlite3_step(handle) {
            case SQLITE_ROW: rows.append(Self.row(handle))
            case SQLITE_DONE: return rows
            case let code: throw error(code, handle)
            }
        }
    }

    func execute(_ sql: String, _ values: [SQLValue]) throws {
        _ = try rows(sql, values)
    }

    /// Not `RETURNING`: inside a large savepoint SQLite's RETURNING walks the in-memory statement journal
    /// from its start on every call, which made ingest quadratic (measured: 7× slower at 100k nodes).
    func insertReturningID(_ sql: String, _ values: [SQLValue]) throws -> Int64 {
        try execute(sql, values)
        return db.lastInsertedRowID
    }

    func insert(into table: BatchedTable, _ values: [SQLValue]) throws {
        try execute(Self.insertSQL[table]!, values)
    }

    /// Built once: inserts are the hottest statements of ingest.
    private static let insertSQL = Dictionary(uniqueKeysWithValues: BatchedTable.allCases.map { ($0, $0.singleRowSQL) })

    func savepoint<T>(_ body: () throws -> T) throws -> T {
        var result: T?
        try db.inSavepoint {
            result = try body()
            return .commit
        }
        return result!
    }

    private func prepare(_ sql: String, _ values: [SQLValue]) throws -> OpaquePointer {
        let handle = try db.cachedStatement(sql: sql).sqliteStatement
        for (i, value) in values.enumerated() {
            let index = Int32(i + 1)
            let code: Int32 =
                switch value {
                case .int(let n): sqlite3_bind_int64(handle, index, n)
                case .null: sqlite3_bind_null(handle, index)
                case .text(let s): s.withCString { sqlite3_bind_text(handle, index, $0, -1, transient) }
                }
            guard code == SQLITE_OK else { throw error(code, handle) }
        }
        return handle
    }

    private static func row(_ handle: OpaquePointer) -> SQLRow {
        (0..<sqlite3_column_count(handle)).map { i in
            switch sqlite3_column_type(handle, i) {
            case SQLITE_NULL: .null
            case SQLITE_INTEGER: .int(sqlite3_column_int64(handle, i))
            default: .text(String(cString: sqlite3_column_text(handle, i)))
            }
        }
    }

    private func error(_ code: Int32, _ handle: OpaquePointer) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage, sql: String(cString: sqlite3_sql(handle)))
    }
}

/// SQLite copies the bytes during the bind call (SQLITE_TRANSIENT).
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
