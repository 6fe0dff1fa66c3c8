import Logging
import NIOCore
import NIOPosix
import PedigreeCore
import PostgresNIO
import ServiceLifecycle

/// The shared store: PostgreSQL, for several stateless `pedigree serve` replicas.
///
/// The log writer, projector, graph reader and verifier are the ones SQLite uses (see `SQLSession`),
/// so both backends give the same answers. What differs is below.
///
/// Writers: every append transaction first takes one transaction-scoped advisory lock
/// (`pg_advisory_xact_lock`), so appends from all replicas are serialised. A per-namespace head-row lock
/// would keep each chain linear but not the rest: `seq` must be assigned in commit order (or a reader of
/// `events(afterSequence:)` could pass a gap that fills later), and the projections are a function of the
/// log in `seq` order — a run in one namespace resolving "the latest version" of another namespace's
/// dataset depends on everything committed before it — so `verify`'s replay matches only if commits are
/// totally ordered. Under the lock each statement (READ COMMITTED) sees every earlier commit, so a retry
/// that reaches another replica finds the first delivery and is acknowledged as a duplicate. Each
/// replica batches concurrent requests into one transaction (group commit), so the lock is taken once per
/// group, not once per request.
///
/// Readers: REPEATABLE READ, READ ONLY transactions, a consistent snapshot per query, never blocked by
/// writers.
public final class PostgresStore: LineageStore, TokenStore, GroupCommitting, Service {
    public let location: PostgresLocation
    private let client: PostgresClient
    private let clientTask: Task<Void, Never>
    /// Threads the blocking sessions run on (see `PostgresSession`).
    private let workers: NIOThreadPool
    private let logger: Logger
    private let groupCommit = GroupCommit()

    /// Key of the advisory lock appends take; any constant unlikely to collide with another application's.
    static let appendLockKey: Int64 = 0x7065_6469_6772_6565  // "pedigree"
    static let migrationLockKey: Int64 = 0x7065_6469_676d_6967  // "pedigmig"

    /// Connects lazily: the first query opens the first connection. Use `open(_:)` to also check the schema.
    public init(location: PostgresLocation, logger: Logger = Logger(label: "pedigree.postgres")) {
        self.location = location
        self.logger = logger
        client = PostgresClient(configuration: location.configuration, backgroundLogger: logger)
        clientTask = Task { [client] in await client.run() }
        workers = NIOThreadPool(numberOfThreads: max(4, 2 * System.coreCount))
        workers.start()
        groupCommit.store = self
    }

    /// Opens the store and checks that its schema is the one this build of Pedigree expects.
    public static func open(_ url: String) async throws -> PostgresStore {
        let store = PostgresStore(location: try PostgresLocation(url))
        do {
            try await store.checkSchema()
        } catch {
            await store.close()
            throw error
        }
        return store
    }

    deinit {
        clientTask.cancel()
        workers.shutdownGracefully { _ in }
    }

    /// Closes the connections and stops the worker threads.
    public func close() async {
        clientTask.cancel()
        try? await workers.shutdownGracefully()
    }

    /// As a service of the server's `ServiceGroup`: runs until shutdown, then closes the connections.
    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }

    // MARK: Schema

    /// The schema version the database is at (0 for an empty database) and the one this build expects.
    public func schemaVersion() async throws -> (current: Int, expected: Int) {
        let current = try await transaction(.read) { db in
            guard try db.row("SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'schema_migrations'") != nil
            else { return 0 }
            return Int(try db.int("SELECT coalesce(max(version), 0) FROM schema_migrations") ?? 0)
        }
        return (current, PostgresSchema.latestVersion)
    }

    /// Refuses a database whose schema is behind (run `pedigree migrate`) or ahead (a newer Pedigree
    /// migrated it) of this build, rather than misreading it.
    public func checkSchema() async throws {
        let version = try await schemaVersion()
        if version.current < version.expected {
            throw StoreError(
                .unavailable,
                "the database at \(location) has schema version \(version.current), this Pedigree needs \(version.expected); run `pedigree migrate --store URL` first")
        }
        if version.current > version.expected {
            throw StoreError(
                .unavailable,
                "the database at \(location) has schema version \(version.current), newer than this Pedigree understands (\(version.expected)); upgrade Pedigree")
        }
    }

    /// Applies the migrations the database lacks, each in its own transaction, under a lock so replicas
    /// starting together migrate once. Returns the ones applied.
    @discardableResult
    public func migrate() async throws -> [String] {
        try await transaction(.migrate) { db in
            try db.execute(PostgresSchema.migrationsTable)
            let current = try db.int("SELECT coalesce(max(version), 0) FROM schema_migrations") ?? 0
            guard current <= PostgresSchema.latestVersion else {
                throw StoreError(.unavailable, "the database has schema version \(current), newer than this Pedigree understands; upgrade Pedigree")
            }
            var applied: [String] = []
            for migration in PostgresSchema.migrations where migration.version > current {
                for statement in migration.statements { try db.execute(statement) }
                try db.execute(
                    "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
                    .int(Int64(migration.version)), .text(migration.name), .int(Timestamp.now.microseconds))
                applied.append("\(migration.version): \(migration.name)")
            }
            return applied
        }
    }

    // MARK: Writing

    public func append(_ events: [LineageEvent], recordedBy identity: String, authority: WriteAuthority) async throws -> [AppendOutcome] {
        guard !events.isEmpty else { return [] }
        return try await groupCommit.append(events, recordedBy: identity, authority: authority)
    }

    func appendGroup(_ requests: [AppendRequest]) async throws -> [Result<[AppendOutcome], any Error>] {
        let results = try await transaction(.write) { db in
            var log = try EventLogWriter(db: db)
            return UncheckedResults(value: try log.appendGroup(requests))
        }
        return results.value
    }

    public func restore(_ events: [StoredEvent]) async throws {
        try await transaction(.write) { db in
            var log = try EventLogWriter(db: db)
            for event in events { try log.restore(event) }
            try log.saveHeads()
        }
    }

    public func rebuildProjections() async throws {
        try await transaction(.write) { db in
            try db.execute("TRUNCATE nodes, edges, deployments RESTART IDENTITY")
            try EventLogReplayer.replay(from: db, into: db)
        }
    }

    // MARK: Reading

    public func show(_ ref: Reference, asOf: Timestamp?) async throws -> NodeDetail {
        try await transaction(.read) { try GraphReader(db: $0, asOf: asOf).detail(ref) }
    }

    public func lineage(_ ref: Reference, direction: LineageDirection, depth: Int?, asOf: Timestamp?) async throws -> LineageGraph {
        try await transaction(.read) { try GraphReader(db: $0, asOf: asOf).lineage(ref, direction: direction, depth: depth) }
    }

    public func modelsTrainedOn(_ ref: ArtifactRef, asOf: Timestamp?) async throws -> TrainedOnReport {
        try await transaction(.read) { try GraphReader(db: $0, asOf: asOf).modelsTrainedOn(ref) }
    }

    public func impact(_ ref: Reference, asOf: Timestamp?) async throws -> ImpactReport {
        try await transaction(.read) { try GraphReader(db: $0, asOf: asOf).impact(ref) }
    }

    public func modelPedigree(_ ref: ArtifactRef, asOf: Timestamp?) async throws -> ModelPedigree {
        try await transaction(.read) { try GraphReader(db: $0, asOf: asOf).modelPedigree(ref) }
    }

    public func deploymentHistory(namespace: String, endpoint: String, asOf: Timestamp?) async throws -> [DeploymentEntry] {
        try await transaction(.read) { db in
            let reader = GraphReader(db: db, asOf: asOf)
            return try reader.history(endpoint: reader.resolve(.deployment(namespace: namespace, endpoint: endpoint)))
        }
    }

    public func artifacts(withDigest digest: ContentDigest, kind: String?) async throws -> [NodeSummary] {
        try await transaction(.read) { try StoreQueries(db: $0).artifacts(withDigest: digest, kind: kind) }
    }

    public func namespaces() async throws -> [String] {
        try await transaction(.read) { try StoreQueries(db: $0).namespaces() }
    }

    public func artifacts(inNamespace namespace: String, limit: Int, offset: Int) async throws -> [NodeSummary] {
        try await transaction(.read) { try StoreQueries(db: $0).artifacts(inNamespace: namespace, limit: limit, offset: offset) }
    }

    public func jobs(inNamespace namespace: String, limit: Int, offset: Int) async throws -> [JobSummary] {
        try await transaction(.read) { try StoreQueries(db: $0).jobs(inNamespace: namespace, limit: limit, offset: offset) }
    }

    public func statistics() async throws -> StoreStatistics {
        try await transaction(.read) { db in
            try StoreQueries(db: db).statistics(bytes: try db.int("SELECT pg_database_size(current_database())") ?? 0)
        }
    }

    public func verify() async throws -> VerificationReport {
        try await transaction(.read) { try StoreVerifier(db: $0).run() }
    }

    public func events(afterSequence: Int64, limit: Int) async throws -> [StoredEvent] {
        try await transaction(.read) { try StoreQueries(db: $0).events(afterSequence: afterSequence, limit: limit) }
    }

    // MARK: Tokens

    public func createToken(namespace: String, role: Role, name: String?) async throws -> (token: AccessToken, secret: String) {
        try await transaction(.plainWrite) { try TokenQueries(db: $0).create(namespace: namespace, role: role, name: name) }
    }

    public func token(secret: String) async throws -> AccessToken? {
        try await transaction(.read) { try TokenQueries(db: $0).token(secret: secret) }
    }

    public func tokens(namespace: String?) async throws -> [AccessToken] {
        try await transaction(.read) { try TokenQueries(db: $0).tokens(namespace: namespace) }
    }

    public func revokeToken(id: String) async throws -> Bool {
        try await transaction(.plainWrite) { try TokenQueries(db: $0).revoke(id: id) }
    }

    // MARK: Transactions

    enum TransactionKind {
        /// A snapshot for one query.
        case read
        /// An append, rebuild or import: serialised with every other one by the append lock.
        case write
        /// A write outside the log (tokens).
        case plainWrite
        /// Schema changes, serialised by their own lock.
        case migrate

        var begin: String {
            switch self {
            case .read: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
            case .write, .plainWrite, .migrate: "BEGIN"
            }
        }

        var lock: Int64? {
            switch self {
            case .write: PostgresStore.appendLockKey
            case .migrate: PostgresStore.migrationLockKey
            case .read, .plainWrite: nil
            }
        }
    }

    /// Runs `body` in a transaction on a worker thread; commits if it returns, rolls back if it throws.
    private func transaction<T: Sendable>(_ kind: TransactionKind, _ body: @escaping @Sendable (PostgresSession) throws -> T) async throws -> T {
        do {
            return try await client.withConnection { [workers, logger] connection in
                try await workers.runIfActive {
                    let session = PostgresSession(connection: connection, logger: logger)
                    try session.execute(kind.begin)
                    do {
                        if let key = kind.lock { try session.execute("SELECT pg_advisory_xact_lock(?)", .int(key)) }
                        let result = try body(session)
                        try session.executeNow("COMMIT")
                        return result
                    } catch {
                        try? session.settle()
                        try? session.executeNow("ROLLBACK")
                        throw error
                    }
                }
            }
        } catch let error as PSQLError {
            throw Self.storeError(error)
        } catch let error as ValidationError {
            throw StoreError(error)
        } catch let error as JSONParseError {
            throw StoreError(.unavailable, "the store holds a record that is not valid JSON (\(error)); run `pedigree verify`")
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.unavailable, "PostgreSQL at \(location): \(error)")
        }
    }

    /// PostgresNIO hides the server's message from `description` (it may contain data); the store's
    /// errors are for the operator, so they carry it.
    static func storeError(_ error: PSQLError) -> StoreError {
        if let message = error.serverInfo?[.message] {
            let state = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            return StoreError(.unavailable, "PostgreSQL: \(message)\(state)")
        }
        let cause = error.underlying.map { ": \($0)" } ?? ""
        return StoreError(.unavailable, "cannot reach PostgreSQL (\(error.code))\(cause)")
    }
}

/// Append results cross from the worker thread back to the caller; errors in them are the store's own
/// (`StoreError`, `ValidationError`), which are Sendable, but `any Error` is not marked so.
private struct UncheckedResults: @unchecked Sendable {
    let value: [Result<[AppendOutcome], any Error>]
}
