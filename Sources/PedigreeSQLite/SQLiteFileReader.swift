import Foundation
import GRDB
import PedigreeCore

/// Reads another tool's SQLite database (an ML Metadata store, say) read-only and as an immutable snapshot, so
/// importing from it can neither change it nor wait on its writer: each named table's rows, as JSON values by
/// column (a blob as its bytes' text).
public enum SQLiteFileReader {
    /// Whether the file starts with SQLite's header.
    public static func isSQLite(_ url: URL) -> Bool {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return false }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: 16)) == Data("SQLite format 3\0".utf8)
    }

    /// The rows of each table that exists among `names` (absent tables are left out).
    public static func tables(at url: URL, _ names: [String]) throws -> [String: [[String: JSONValue]]] {
        let queue = try SQLiteEngine.immutableSnapshot(url.path)
        return try queue.read { db in
            var out: [String: [[String: JSONValue]]] = [:]
            for name in names where try db.tableExists(name) {
                out[name] = try Row.fetchAll(db, sql: "SELECT * FROM \(name.quotedDatabaseIdentifier)").map { row in
                    var values: [String: JSONValue] = [:]
                    for (column, value) in row {
                        values[column] =
                            switch value.storage {
                            case .null: .null
                            case .int64(let int): .int(int)
                            case .double(let double): JSONValue(number: double)
                            case .string(let string): .string(string)
                            case .blob(let data): .string(String(decoding: data, as: UTF8.self))
                            }
                    }
                    return values
                }
            }
            return out
        }
    }
}
