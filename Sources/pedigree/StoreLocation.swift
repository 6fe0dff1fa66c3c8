import Foundation
import PedigreeCore
import PedigreePostgres
import PedigreeSQLite
import PedigreeStore
import ServiceLifecycle

/// Opens the store a location names: a `postgres://` URL is a PostgreSQL store (whose schema must be
/// migrated already), anything else the path of an embedded SQLite file (migrated on open). `busyTimeout`
/// bounds the wait for another SQLite writer, or for a PostgreSQL connection.
///
/// The store runs for the duration of `body` (a PostgreSQL store's connection pool is a service that must
/// run while it is used) and stops afterwards.
enum StoreLocation {
    static func withStore<T: Sendable>(
        _ location: String, busyTimeout: TimeInterval = 30, _ body: @Sendable (any LineageStore & TokenStore) async throws -> T
    ) async throws -> T {
        if PostgresLocation.isPostgresURL(location) {
            let store = PostgresStore(location: try PostgresLocation(location), connectTimeout: .milliseconds(Int64(busyTimeout * 1000)))
            return try await store.withRunning { store in
                try await store.checkSchema()
                return try await body(store)
            }
        }
        return try await body(SQLiteStore(path: location, busyTimeout: busyTimeout))
    }
}

extension StoreLocation {
    /// The store, not yet running: for a server, which runs it as a service of its `ServiceGroup`.
    static func open(_ location: String) throws -> any LineageStore & TokenStore & Service {
        if PostgresLocation.isPostgresURL(location) { return PostgresStore(location: try PostgresLocation(location)) }
        return try SQLiteStore(path: location)
    }
}
