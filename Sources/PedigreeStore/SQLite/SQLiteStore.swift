import Foundation
import GRDB
import PedigreeCore

/// The embedded store: one SQLite file in WAL mode, safe to share between a server and CLI invocations.
///
/// Durability: `synchronous = FULL`, so an acknowledged append survives a crash of the process or of the
/// machine. Appends are IMMEDIATE transactions: one writer at a time, which is what keeps each
/// namespace's hash chain linear.
public final class SQLiteStore: LineageStore, GroupCommitting {
    let pool: DatabasePool
    public let path: String
    private let groupCommit = GroupCommit()

    /// `busyTimeout`: how long to wait for another writer (a server, another CLI) before giving up.
    public init(path: String, busyTimeout: TimeInterval = 30) throws {
        self.path = path
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreError(.unavailable, "cannot create the store's directory \(directory.path): \(error.localizedDescription)")
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Graph walks and ingest touch index pages all over the file: keep them in memory.
            try db.execute(sql: "PRAGMA cache_size = -65536")  // 64 MiB per connection
            try db.execute(sql: "PRAGMA mmap_size = 4294967296")
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            // The shared SQL uses RETURNING and row values.
            let version = try pool.read { try String.fetchOne($0, sql: "SELECT sqlite_version()") } ?? "0"
            guard version.split(separator: ".").compactMap({ Int($0) }).lexicographicallyPrecedes([3, 35]) == false else {
                throw StoreError(.unavailable, "SQLite \(version) is too old for Pedigree; it needs 3.35 or later (install a newer libsqlite3)")
            }
            try SQLiteSchema.migrator.migrate(pool)
            groupCommit.store = self
        } catch let error as DatabaseError {
            throw StoreError(.unavailable, "cannot open the store at \(path): \(error.message ?? error.description)")
        }
    }

    // MARK: Writing

    /// Concurrent appends are committed together (group commit): each keeps its all-or-nothing guarantee
    /// through a savepoint of its own, and they share one durable commit, so a server taking many small
    /// requests pays for one fsync per group instead of one per request.
    public func append(_ events: [LineageEvent], recordedBy identity: String, authority: WriteAuthority) async throws -> [AppendOutcome] {
        guard !events.isEmpty else { return [] }
        return try await translatingErrors { try await groupCommit.append(events, recordedBy: identity, authority: authority) }
    }

    /// Appends one group of requests in one transaction; the result of each, in order.
    func appendGroup(_ requests: [AppendRequest]) async throws -> [Result<[AppendOutcome], any Error>] {
        try await pool.write { db in
            var log = try EventLogWriter(db: SQLiteSession(db: db))
            return try log.appendGroup(requests)
        }
    }

    public func restore(_ events: [StoredEvent]) async throws {
        try await translatingErrors {
            try await pool.write { db in
                var log = try EventLogWriter(db: SQLiteSession(db: db))
                for event in events { try log.restore(event) }
                try log.saveHeads()
            }
        }
    }

    public func rebuildProjections() async throws {
        try await translatingErrors {
            try await pool.write { db in
                for table in SQLiteSchema.projectionTables { try db.execute(sql: "DELETE FROM \(table)") }
                let session = SQLiteSession(db: db)
                try EventLogReplayer.replay(from: session, into: session)
            }
        }
    }

    // MARK: Reading

    public func show(_ ref: Reference, asOf: Timestamp?) async throws -> NodeDetail {
        try await read { try GraphReader(db: $0, asOf: asOf).detail(ref) }
    }

    public func lineage(_ ref: Reference, direction: LineageDirection, depth: Int?, asOf: Timestamp?) async throws -> LineageGraph {
        try await read { try GraphReader(db: $0, asOf: asOf).lineage(ref, direction: direction, depth: depth) }
    }

    public func modelsTrainedOn(_ ref: ArtifactRef, asOf: Timestamp?) async throws -> TrainedOnReport {
        try await read { try GraphReader(db: $0, asOf: asOf).modelsTrainedOn(ref) }
    }

    public func impact(_ ref: Reference, asOf: Timestamp?) async throws -> ImpactReport {
        try await read { try GraphReader(db: $0, asOf: asOf).impact(ref) }
    }

    public func modelPedigree(_ ref: ArtifactRef, asOf: Timestamp?) async throws -> ModelPedigree {
        try await read { try GraphReader(db: $0, asOf: asOf).modelPedigree(ref) }
    }

    public func deploymentHistory(namespace: String, endpoint: String, asOf: Timestamp?) async throws -> [DeploymentEntry] {
        try await read { db in
            let reader = GraphReader(db: db, asOf: asOf)
            let node = try reader.resolve(.deployment(namespace: namespace, endpoint: endpoint))
            return try reader.history(endpoint: node)
        }
    }

    public func artifacts(withDigest digest: ContentDigest, kind: String?) async throws -> [NodeSummary] {
        try await read { try StoreQueries(db: $0).artifacts(withDigest: digest, kind: kind) }
    }

    public func namespaces() async throws -> [String] {
        try await read { try StoreQueries(db: $0).namespaces() }
    }

    public func artifacts(inNamespace namespace: String, limit: Int, offset: Int) async throws -> [NodeSummary] {
        try await read { try StoreQueries(db: $0).artifacts(inNamespace: namespace, limit: limit, offset: offset) }
    }

    public func jobs(inNamespace namespace: String, limit: Int, offset: Int) async throws -> [JobSummary] {
        try await read { try StoreQueries(db: $0).jobs(inNamespace: namespace, limit: limit, offset: offset) }
    }

    public func statistics() async throws -> StoreStatistics {
        let bytes = ["", "-wal"].reduce(Int64(0)) { total, suffix in
            total + ((try? FileManager.default.attributesOfItem(atPath: path + suffix)[.size] as? Int64) ?? 0)
        }
        return try await read { try StoreQueries(db: $0).statistics(bytes: bytes) }
    }

    public func verify() async throws -> VerificationReport {
        try await read { try StoreVerifier(db: $0).run() }
    }

    public func events(afterSequence: Int64, limit: Int) async throws -> [StoredEvent] {
        try await read { try StoreQueries(db: $0).events(afterSequence: afterSequence, limit: limit) }
    }

    private func read<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await translatingErrors { try await pool.read { try body(SQLiteSession(db: $0)) } }
    }

    private func translatingErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as DatabaseError {
            throw StoreError(.unavailable, "SQLite error on \(path): \(error.message ?? error.description)")
        } catch let error as ValidationError {
            throw StoreError(error)
        } catch let error as JSONParseError {
            throw StoreError(.unavailable, "the store holds a record that is not valid JSON (\(error)); run `pedigree verify`")
        }
    }
}
