import Foundation
import GRDB
import Logging
import PedigreeStore
import PedigreeTestSupport
import PostgresNIO
import Testing

/// The store contract runs against each backend.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }

    /// The backends this run can test: PostgreSQL only when a server is configured (see `PostgresSetup`).
    static var available: [StoreKind] { TestPostgres.serverURL == nil ? [.sqlite] : allCases }
}

/// Says, as a skipped test, how to run the PostgreSQL cases when they cannot run; when they can, checks
/// the server is reachable and a fresh database migrates to the version this build expects.
@Suite("PostgreSQL setup")
struct PostgresSetup {
    @Test(
        "the PostgreSQL cases of the contract suite run",
        .enabled(
            if: TestPostgres.serverURL != nil,
            "set PEDIGREE_TEST_POSTGRES_URL=postgres://USER@HOST/DATABASE (a user who may create databases), or run scripts/test, which starts a throwaway PostgreSQL"))
    func postgresReachable() async throws {
        let store = PostgresStore(location: try PostgresLocation(try await TestPostgres.freshDatabase()))
        #expect(try await store.schemaVersion().current == 0)
        await #expect(throws: StoreError.self) { try await store.checkSchema() }
        #expect(try await store.migrate().count == 2)
        #expect(try await store.migrate().isEmpty, "migrating again changes nothing")
        let version = try await store.schemaVersion()
        #expect(version.current == version.expected)
    }
}

/// A fresh, empty store: SQLite in a temporary directory; PostgreSQL in a new database, migrated, on the
/// server `PEDIGREE_TEST_POSTGRES_URL` names. Without that variable the PostgreSQL case is skipped.
func makeStore(_ kind: StoreKind) async throws -> any LineageStore & TokenStore {
    switch kind {
    case .sqlite: return try makeStore()
    case .postgres:
        let store = PostgresStore(location: try PostgresLocation(try await TestPostgres.freshDatabase()))
        try await store.migrate()
        return store
    }
}

/// The same store, opened again from its location: what another process or a restarted server sees.
func reopen(_ store: any LineageStore) async throws -> any LineageStore {
    switch store {
    case let sqlite as SQLiteStore: return try SQLiteStore(path: sqlite.path)
    case let postgres as PostgresStore:
        let reopened = PostgresStore(location: postgres.location)
        try await reopened.checkSchema()
        return reopened
    default: throw StoreError(.invalid, "unknown store type \(type(of: store))")
    }
}

/// Raw SQL against the store's database, bypassing Pedigree and its immutability triggers: how an attacker
/// or a bug would touch it. `?` placeholders on both backends.
func tamper(_ store: any LineageStore, _ sql: String, _ arguments: [DatabaseValue] = []) async throws {
    switch store {
    case let sqlite as SQLiteStore: try tamper(sqlite, sql, StatementArguments(arguments))
    case let postgres as PostgresStore:
        try await TestPostgres.withClient(postgres.location) { client in
            try await client.withConnection { connection in
                try await connection.query("ALTER TABLE events DISABLE TRIGGER USER", logger: TestPostgres.logger)
                try await connection.query(TestPostgres.query(sql, arguments), logger: TestPostgres.logger)
                try await connection.query("ALTER TABLE events ENABLE TRIGGER USER", logger: TestPostgres.logger)
            }
        }
    default: throw StoreError(.invalid, "unknown store type \(type(of: store))")
    }
}

/// Raw SQL through the store's own database connection rules (triggers on): for checking what the
/// database itself refuses.
func execute(_ store: any LineageStore, _ sql: String) async throws {
    switch store {
    case let sqlite as SQLiteStore: try await DatabaseQueue(path: sqlite.path).write { try $0.execute(sql: sql) }
    case let postgres as PostgresStore:
        try await TestPostgres.withClient(postgres.location) { client in
            try await client.query(PostgresQuery(unsafeSQL: sql), logger: TestPostgres.logger)
        }
    default: throw StoreError(.invalid, "unknown store type \(type(of: store))")
    }
}

/// Rows of a raw query, by column name, as GRDB values on both backends.
func rawRows(_ store: any LineageStore, _ sql: String) async throws -> [[String: DatabaseValue]] {
    switch store {
    case let sqlite as SQLiteStore:
        return try await DatabaseQueue(path: sqlite.path).read { db in
            try Row.fetchAll(db, sql: sql).map { row in Dictionary(uniqueKeysWithValues: row.columnNames.map { ($0, row[$0] as DatabaseValue) }) }
        }
    case let postgres as PostgresStore:
        return try await TestPostgres.withClient(postgres.location) { client in
            var rows: [[String: DatabaseValue]] = []
            for try await row in try await client.query(PostgresQuery(unsafeSQL: sql), logger: TestPostgres.logger) {
                var values: [String: DatabaseValue] = [:]
                for cell in row {
                    values[cell.columnName] = switch (cell.bytes, cell.dataType) {
                    case (nil, _): .null
                    case (_, .int8): (try cell.decode(Int64.self)).databaseValue
                    case (_, .int4): Int64(try cell.decode(Int32.self)).databaseValue
                    default: (try cell.decode(String.self)).databaseValue
                    }
                }
                rows.append(values)
            }
            return rows
        }
    default: throw StoreError(.invalid, "unknown store type \(type(of: store))")
    }
}

extension TestPostgres {
    /// `?` placeholders numbered for PostgreSQL, with GRDB values bound.
    static func query(_ sql: String, _ arguments: [DatabaseValue]) -> PostgresQuery {
        var numbered = "", index = 0
        for character in sql {
            if character == "?" { index += 1; numbered += "$\(index)" } else { numbered.append(character) }
        }
        var binds = PostgresBindings()
        for value in arguments {
            switch value.storage {
            case .int64(let n): binds.append(n)
            case .string(let s): binds.append(s)
            default: binds.appendNull()
            }
        }
        return PostgresQuery(unsafeSQL: numbered, binds: binds)
    }
}
