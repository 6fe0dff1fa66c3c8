import Foundation
import PedigreePostgres
import PedigreeSQLite
import PedigreeStore
import Testing

/// The store contract, and the server on top of it, run against each engine.
public enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    public var testDescription: String { rawValue }
}

/// Why a PostgreSQL case did not run, shown on the test itself.
public let postgresSkipReason: Comment =
    "set PEDIGREE_TEST_POSTGRES_URL=postgres://USER@HOST/DATABASE (a user who may create databases), or run scripts/test, which starts a throwaway PostgreSQL"

/// A fresh SQLite store in its own temporary directory.
public func makeSQLiteStore() throws -> SQLiteStore {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pedigree-tests-\(UUID().uuidString)")
    return try SQLiteStore(path: directory.appendingPathComponent("pedigree.db").path)
}

/// A fresh, empty store: SQLite in a temporary directory; PostgreSQL in a new database, migrated, on the
/// server `PEDIGREE_TEST_POSTGRES_URL` names. Without that variable a PostgreSQL case is cancelled, with a
/// warning on the case giving the reason, rather than left out of the run. Inside `.dropsTestDatabases`, the
/// database is dropped when the test ends.
public func makeStore(_ kind: StoreKind) async throws -> any LineageStore & TokenStore {
    switch kind {
    case .sqlite: return try makeSQLiteStore()
    case .postgres:
        guard TestPostgres.serverURL != nil else {
            // Shown on the case itself (a cancelled case alone reads as passed in the console).
            Issue.record("skipped: \(postgresSkipReason)", severity: .warning)
            try Test.cancel(postgresSkipReason)
        }
        return try await makePostgresStore(url: try await TestPostgres.freshDatabase())
    }
}

/// A PostgreSQL store on an existing database, migrated, its pool running until the test's scope ends.
public func makePostgresStore(url: String) async throws -> PostgresStore {
    let store = PostgresStore(location: try PostgresLocation(url))
    store.engine.startInBackground()
    TestPostgres.created?.add(store)
    try await store.migrate()
    return store
}

/// The same store, opened again from its location: what another process or a restarted server sees.
public func reopen(_ store: any LineageStore) async throws -> any LineageStore {
    switch store {
    case let sqlite as SQLiteStore: return try SQLiteStore(path: sqlite.path)
    case let postgres as PostgresStore:
        let reopened = PostgresStore(location: postgres.postgresLocation)
        reopened.engine.startInBackground()
        TestPostgres.created?.add(reopened)
        try await reopened.checkSchema()
        return reopened
    default: throw StoreError(.invalid, "unknown store type \(type(of: store))")
    }
}

/// Drops the PostgreSQL databases a test created (after stopping the stores on them), so a server the
/// tests are pointed at does not fill up with them.
public struct DropsTestDatabases: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        guard testCase != nil || !test.isSuite, TestPostgres.created == nil else { return try await function() }
        let created = TestPostgres.Created()
        do {
            try await TestPostgres.$created.withValue(created) { try await function() }
        } catch {
            await created.dropAll()
            throw error
        }
        await created.dropAll()
    }
}

extension Trait where Self == DropsTestDatabases {
    public static var dropsTestDatabases: Self { DropsTestDatabases() }
}
