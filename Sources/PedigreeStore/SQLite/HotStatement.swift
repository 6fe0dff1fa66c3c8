import GRDB
import GRDBSQLite

/// A GRDB-cached statement driven through the SQLite C API, for the statements that run several times per
/// ingested event. GRDB's general-purpose argument handling costs a few microseconds per call, which at
/// a dozen statements per event was most of the ingest time; binding directly brings each call close to
/// SQLite's own cost. Everything else uses GRDB as usual.
struct HotStatement {
    enum Value {
        case int(Int64)
        case text(String)
        case null

        init(_ text: String?) { self = text.map(Value.text) ?? .null }
        init(_ int: Int64?) { self = int.map(Value.int) ?? .null }
    }

    private let handle: OpaquePointer
    private let db: Database

    init(_ db: Database, _ sql: String) throws {
        self.db = db
        handle = try db.cachedStatement(sql: sql).sqliteStatement
    }

    /// Runs a statement that returns no rows.
    func execute(_ values: Value...) throws {
        try bind(values)
        defer { sqlite3_reset(handle) }
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE else { throw error(code) }
    }

    /// The first column of the first row, as an integer; nil when there is no row or it is NULL.
    func int(_ values: Value...) throws -> Int64? {
        try bind(values)
        defer { sqlite3_reset(handle) }
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return sqlite3_column_type(handle, 0) == SQLITE_NULL ? nil : sqlite3_column_int64(handle, 0)
        case SQLITE_DONE: return nil
        case let code: throw error(code)
        }
    }

    /// The first row's columns as optional text, or nil when there is no row.
    func row(_ values: Value...) throws -> [String?]? {
        try bind(values)
        defer { sqlite3_reset(handle) }
        switch sqlite3_step(handle) {
        case SQLITE_ROW:
            return (0..<sqlite3_column_count(handle)).map { i in
                sqlite3_column_text(handle, i).map { String(cString: $0) }
            }
        case SQLITE_DONE: return nil
        case let code: throw error(code)
        }
    }

    private func bind(_ values: [Value]) throws {
        for (i, value) in values.enumerated() {
            let index = Int32(i + 1)
            let code: Int32 = switch value {
            case .int(let n): sqlite3_bind_int64(handle, index, n)
            case .null: sqlite3_bind_null(handle, index)
            case .text(let s): s.withCString { sqlite3_bind_text(handle, index, $0, -1, hotTransient) }
            }
            guard code == SQLITE_OK else { throw error(code) }
        }
    }

    private func error(_ code: Int32) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage, sql: String(cString: sqlite3_sql(handle)))
    }
}

/// SQLite copies the bytes during the bind call (SQLITE_TRANSIENT).
private let hotTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
