import Foundation
import GRDB
import Logging
import PedigreeCore
import PedigreePostgres
import PedigreeSQLite
import PedigreeStore
import PostgresNIO

/// A store under benchmark, with the baselines measured on the same database engine.
protocol BenchBackend {
    var name: String { get }
    func freshStore() async throws -> any LineageStore
    /// The floor for ingest: hash each event's bytes and insert them into one plain table, with the store's
    /// durability settings, in the same batches. Events per second.
    func baselineIngest(lines: [String]) async throws -> Double
    /// The floor for a walk: one recursive CTE over the edges, depth 50, node ids only.
    func recursiveCTE(from ref: String) async throws
    func dispose(_ store: any LineageStore) async throws
}

struct SQLiteBench: BenchBackend {
    let path: String
    let batch: Int
    var name: String { "SQLite" }

    func freshStore() async throws -> any LineageStore {
        remove(path)
        return try SQLiteStore(path: path)
    }

    func baselineIngest(lines: [String]) async throws -> Double {
        let path = self.path + ".baseline"
        remove(path)
        defer { remove(path) }
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        let pool = try DatabasePool(path: path, configuration: configuration)
        try await pool.write { try $0.execute(sql: "CREATE TABLE events (seq INTEGER PRIMARY KEY, digest TEXT NOT NULL UNIQUE, body TEXT NOT NULL)") }
        let clock = ContinuousClock()
        let t0 = clock.now
        for start in stride(from: 0, to: lines.count, by: batch) {
            try await pool.write { db in
                let statement = try db.cachedStatement(sql: "INSERT INTO events(digest, body) VALUES (?, ?)")
                for line in lines[start..<min(start + batch, lines.count)] {
                    try statement.execute(arguments: [ContentDigest(hashing: Array(line.utf8)).hex, line])
                }
            }
        }
        return Double(lines.count) / (clock.now - t0).seconds
    }

    func recursiveCTE(from ref: String) async throws {
        _ = try await DatabasePool(path: path).read { db in
            try Row.fetchAll(
                db,
                sql: """
                    WITH RECURSIVE walk(id, depth) AS (
                        SELECT id, 0 FROM nodes WHERE ref = ?
                        UNION SELECT e.src, w.depth + 1 FROM walk w JOIN edges e ON e.dst = w.id WHERE w.depth < 50)
                    SELECT n.ref, min(w.depth) FROM walk w JOIN nodes n ON n.id = w.id GROUP BY w.id
                    """, arguments: [ref])
        }
    }

    func dispose(_ store: any LineageStore) async throws { remove(path) }

    private func remove(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
}

/// PostgreSQL: a database of its own per size, created and dropped here. The server's durability settings
/// are its own (the default `synchronous_commit = on`: each commit is flushed to the WAL).
struct PostgresBench: BenchBackend {
    let server: PostgresLocation
    let url: String
    let database: String
    let batch: Int
    private let client: PostgresClient
    private static let logger = Logger(label: "pedigree.bench")

    var name: String { "PostgreSQL" }

    init(server: String, database: String, batch: Int) throws {
        self.server = try PostgresLocation(server)
        guard var components = URLComponents(string: server) else { throw StoreError(.invalid, "not a URL: \(server)") }
        components.path = "/\(database)"
        url = components.string ?? server
        self.database = database
        self.batch = batch
        client = PostgresClient(configuration: try PostgresLocation(url).configuration)
        Task { [client] in await client.run() }
    }

    func freshStore() async throws -> any LineageStore {
        try await admin("DROP DATABASE IF EXISTS \(database)")
        try await admin("CREATE DATABASE \(database)")
        let store = PostgresStore(location: try PostgresLocation(url))
        store.engine.startInBackground()
        try await store.migrate()
        return store
    }

    func baselineIngest(lines: [String]) async throws -> Double {
        try await client.query("DROP TABLE IF EXISTS baseline_events", logger: Self.logger)
        try await client.query(
            "CREATE TABLE baseline_events (seq bigserial PRIMARY KEY, digest text NOT NULL UNIQUE, body text NOT NULL)", logger: Self.logger)
        let clock = ContinuousClock()
        let t0 = clock.now
        for start in stride(from: 0, to: lines.count, by: batch) {
            let slice = lines[start..<min(start + batch, lines.count)]
            let digests = slice.map { ContentDigest(hashing: Array($0.utf8)).hex }, bodies = Array(slice)
            try await client.query(
                "INSERT INTO baseline_events(digest, body) SELECT * FROM unnest(\(digests)::text[], \(bodies)::text[])", logger: Self.logger)
        }
        let rate = Double(lines.count) / (clock.now - t0).seconds
        try await client.query("DROP TABLE baseline_events", logger: Self.logger)
        return rate
    }

    func recursiveCTE(from ref: String) async throws {
        let rows = try await client.query(
            """
            WITH RECURSIVE walk(id, depth) AS (
                SELECT id, 0 FROM nodes WHERE ref = \(ref)
                UNION SELECT e.src, w.depth + 1 FROM walk w JOIN edges e ON e.dst = w.id WHERE w.depth < 50)
            SELECT n.ref, min(w.depth) FROM walk w JOIN nodes n ON n.id = w.id GROUP BY n.ref
            """, logger: Self.logger)
        for try await _ in rows {}
    }

    func dispose(_ store: any LineageStore) async throws {
        await (store as? PostgresStore)?.engine.stop()
        try await Task.sleep(for: .milliseconds(200))
        try await admin("DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
    }

    private func admin(_ sql: String) async throws {
        let admin = PostgresClient(configuration: server.configuration)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await admin.run() }
            defer { group.cancelAll() }
            try await admin.query(PostgresQuery(unsafeSQL: sql), logger: Self.logger)
        }
    }
}
