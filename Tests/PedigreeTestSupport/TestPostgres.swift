import Foundation
import Logging
import PedigreePostgres
import PedigreeStore
import PostgresNIO

/// A PostgreSQL server for tests: `PEDIGREE_TEST_POSTGRES_URL`, which `scripts/test` sets to a throwaway
/// server it starts. Each test gets a database of its own.
public enum TestPostgres {
    public static let logger = Logger(label: "pedigree.tests")

    public static var serverURL: String? {
        ProcessInfo.processInfo.environment["PEDIGREE_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The URL of a new database on the test server, named uniquely, for one test.
    public static func freshDatabase() async throws -> String {
        guard let serverURL, var url = URLComponents(string: serverURL) else {
            throw StoreError(.unavailable, "PEDIGREE_TEST_POSTGRES_URL is not set to a postgres:// URL")
        }
        let name = "pedigree_t_\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))"
        try await withClient(try PostgresLocation(serverURL)) { client in
            try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        }
        url.path = "/\(name)"
        created?.add(database: name)
        return url.string ?? serverURL
    }

    /// What the running test created, to drop when it ends (`.dropsTestDatabases`).
    @TaskLocal public static var created: Created?

    public final class Created: @unchecked Sendable {
        private let lock = NSLock()
        private var databases: [String] = []
        private var stores: [PostgresStore] = []

        public init() {}

        func add(database: String) { lock.withLock { databases.append(database) } }
        func add(_ store: PostgresStore) { lock.withLock { stores.append(store) } }

        /// Stops the stores, then drops the databases (WITH FORCE: a connection left open does not keep one).
        func dropAll() async {
            let (stores, databases) = lock.withLock {
                defer { self.stores = []; self.databases = [] }
                return (self.stores, self.databases)
            }
            for store in stores { await store.engine.stop() }
            guard let serverURL = TestPostgres.serverURL, !databases.isEmpty else { return }
            for name in databases { try? await TestPostgres.execute(serverURL, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
        }
    }

    /// Runs `body` with a client of its own, closed afterwards.
    public static func withClient<T: Sendable>(_ location: PostgresLocation, _ body: @Sendable (PostgresClient) async throws -> T) async throws -> T {
        let client = PostgresClient(configuration: location.configuration)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }

    /// Runs one statement on a database, outside Pedigree.
    public static func execute(_ url: String, _ sql: String) async throws {
        try await withClient(try PostgresLocation(url)) { client in
            try await client.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        }
    }
}
