import Foundation
import GRDB
import Logging
import PedigreePostgres
import PedigreeSQLite
import PedigreeStore
import PedigreeTestSupport
import PostgresNIO
import Testing

/// Checks, when a PostgreSQL server is configured, that it is reachable and a fresh database migrates to
/// the version this build expects; says how to configure one otherwise (as do the PostgreSQL cases of
/// every parameterized suite, each shown as skipped).
@Suite("PostgreSQL setup", .dropsTestDatabases)
struct PostgresSetup {
    @Test("the PostgreSQL cases of the contract suite run", .enabled(if: TestPostgres.serverURL != nil, postgresSkipReason))
    func postgresReachable() async throws {
        let store = PostgresStore(location: try PostgresLocation(try await TestPostgres.freshDatabase()))
        try await store.withRunning { store in
            #expect(try await store.schemaVersion().current == 0)
            await #expect(throws: StoreError.self) { try await store.checkSchema() }
            #expect(try await store.migrate().count == 5)
            #expect(try await store.migrate().isEmpty, "migrating again changes nothing")
            let version = try await store.schemaVersion()
            #expect(version.current == version.expected)
        }
    }
}

/// Raw SQL against the store's database, bypassing Pedigree and its immutability triggers: how an attacker
/// or a bug would touch it. `?` placeholders on both backends.
func tamper(_ store: any LineageStore, _ sql: String, _ arguments: [DatabaseValue] = []) async throws {
    switch store {
    case let sqlite as SQLiteStore: try tamper(sqlite, sql, StatementArguments(arguments))
    case let postgres as PostgresStore:
        try await TestPostgres.withClient(postgres.postgresLocation) { client in
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
        try await TestPostgres.withClient(postgres.postgresLocation) { client in
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
        return try await TestPostgres.withClient(postgres.postgresLocation) { client in
            var rows: [[String: DatabaseValue]] = []
            for try await row in try await client.query(PostgresQuery(unsafeSQL: sql), logger: TestPostgres.logger) {
                var values: [String: DatabaseValue] = [:]
                for cell in row {
                    values[cell.columnName] =
                        switch (cell.bytes, cell.dataType) {
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
