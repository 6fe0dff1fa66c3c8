import Foundation

/// Opens the store a location names: a `postgres://` URL is a PostgreSQL store (whose schema must be
/// migrated already), anything else the path of an embedded SQLite file (migrated on open). `busyTimeout`
/// bounds the wait for another SQLite writer, or for a PostgreSQL connection.
public enum StoreLocation {
    public static func open(_ location: String, busyTimeout: TimeInterval = 30) async throws -> any LineageStore & TokenStore {
        if PostgresLocation.isPostgresURL(location) {
            return try await PostgresStore.open(location, connectTimeout: .milliseconds(Int64(busyTimeout * 1000)))
        }
        return try SQLiteStore(path: location, busyTimeout: busyTimeout)
    }
}
