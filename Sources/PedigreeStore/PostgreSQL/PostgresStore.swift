import Foundation
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
    /// How long a request waits for a connection before the store answers "unavailable".
    private let connectTimeout: Duration

    /// Key of the advisory lock appends take; any constant unlikely to collide with another application's.
    static let appendLockKey: Int64 = 0x7065_6469_6772_6565  // "pedigree"
    static let migrationLockKey: Int64 = 0x7065_6469_676d_6967  // "pedigmig"

    /// Connections, and threads to run their sessions on: as many of each, so a request that has a
    /// connection never waits for a thread (and the connect timeout bounds the whole wait).
    static let connections = 8

    /// Connects lazily: the first query opens the first connection. Use `open(_:)` to also check the schema.
    /// `connectTimeout`: how long a request waits for a connection (a database that is down or unreachable
    /// fails requests after it, rather than holding them — or a training run — indefinitely).
    public init(location: PostgresLocation, connectTimeout: Duration = .seconds(10), logger: Logger = PostgresStore.defaultLogger) {
        self.location = location
        self.logger = logger
        self.connectTimeout = connectTimeout
        var configuration = location.configuration
        configuration.options.maximumConnections = Self.connections
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        clientTask = Task { [client] in await client.run() }
        workers = NIOThreadPool(numberOfThreads: Self.connections)
        workers.start()
        groupCommit.store = self
    }

    /// Connection failures are reported as the store's errors; the driver's own retries stay quiet.
    public static var defaultLogger: Logger {
        var logger = Logger(label: "pedigree.postgres")
        logger.logLevel = .error
        return logger
    }

    /// Opens the store and checks that its schema is the one this build of Pedigree expects.
    public static func open(_ url: String, connectTimeout: Duration = .seconds(10)) async throws -> PostgresStore {
        let store = PostgresStore(location: try PostgresLocation(url), connectTimeout: connectTimeout)
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
        await clientTask.value
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

    /// Applies the migrations the database lacks, all in one transaction (PostgreSQL's DDL is
    /// transactional: a failed upgrade leaves the schema as it was), under a lock so replicas starting
    /// together migrate once. Returns the ones applied.
    @discardableResult
    public func migrate() async throws -> [String] {
        try await transaction(.migrate) { db in
            try db.executeVerbatim(PostgresSchema.migrationsTable)
            let current = try db.int("SELECT coalesce(max(version), 0) FROM schema_migrations") ?? 0
            guard current <= PostgresSchema.latestVersion else {
                throw StoreError(.unavailable, "the database has schema version \(current), newer than this Pedigree understands; upgrade Pedigree")
            }
            var applied: [String] = []
            for migration in PostgresSchema.migrations where migration.version > current {
                for statement in migration.statements { try db.executeVerbatim(statement) }
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
        do {
            return try await groupCommit.append(events, recordedBy: identity, authority: authority)
        } catch {
            throw Self.storeError(error, location: location)
        }
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
            // DELETE, not TRUNCATE: readers on other replicas keep their snapshots instead of waiting on an
            // exclusive lock for the whole replay.
            for table in ["nodes", "edges", "deployments"] { try db.execute("DELETE FROM \(table)") }
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
            // Explicitly, whatever the database's default: each statement after the lock must see every
            // append committed before the lock was granted.
            case .write, .plainWrite, .migrate: "BEGIN ISOLATION LEVEL READ COMMITTED"
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
            return try await withConnection { [workers, logger] connection in
                try await workers.runIfActive {
                    let session = PostgresSession(connection: connection, logger: logger)
                    session.send(kind.begin)
                    if let key = kind.lock { session.send("SELECT pg_advisory_xact_lock(?)", .int(key)) }
                    do {
                        let result = try body(session)
                        try session.sendGathered()
                        if kind == .read {
                            session.send("COMMIT")  // nothing to make durable; the connection runs it before its next use
                        } else {
                            try session.execute("COMMIT")
                        }
                        return result
                    } catch {
                        try? session.execute("ROLLBACK")
                        throw error
                    }
                }
            }
        } catch {
            throw Self.storeError(error, location: location)
        }
    }

    /// Every error the store throws is a `StoreError`, as SQLite's are.
    static func storeError(_ error: any Error, location: PostgresLocation) -> StoreError {
        switch error {
        case let error as StoreError: error
        case let error as PSQLError: storeError(error)
        case let error as ValidationError: StoreError(error)
        case let error as JSONParseError: StoreError(.unavailable, "the store holds a record that is not valid JSON (\(error)); run `pedigree verify`")
        default: StoreError(.unavailable, "PostgreSQL at \(location): \(error)")
        }
    }

    /// Leases a connection for `body`. When none comes within a second, one direct connection attempt
    /// says why (refused, unknown host or database, bad password…) and the request fails at once with that
    /// reason; when the database is fine but every connection is busy, it waits up to `connectTimeout`. A
    /// connection that arrives after the request failed is not used: the caller has been told the store is
    /// unavailable, so nothing may happen on its behalf.
    private func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let lease = LeaseState()
        let deadline = ContinuousClock.now + connectTimeout
        return try await withThrowingTaskGroup(of: T?.self) { [client, connectTimeout, location] group in
            group.addTask {
                try await client.withConnection { connection in
                    guard lease.claim() else { throw CancellationError() }
                    return try await body(connection)
                }
            }
            group.addTask {
                try await Task.sleep(for: min(.seconds(1), connectTimeout))
                guard !lease.isClaimed else { return nil }
                if let reason = await self.whyUnreachable() {
                    guard lease.expire() else { return nil }
                    throw StoreError(.unavailable, "cannot connect to PostgreSQL at \(location): \(reason)")
                }
                try await Task.sleep(until: deadline)
                guard lease.expire() else { return nil }
                throw StoreError(
                    .unavailable, "no connection to PostgreSQL at \(location) within \(connectTimeout): all \(Self.connections) connections are busy")
            }
            while let result = try await group.next() {
                if let result {
                    group.cancelAll()
                    return result
                }
            }
            throw CancellationError()
        }
    }

    /// Why a direct connection fails, or nil when it succeeds.
    private func whyUnreachable() async -> String? {
        do {
            let connection = try await PostgresConnection.connect(
                on: PostgresClient.defaultEventLoopGroup.any(), configuration: location.singleConnection, id: 0, logger: logger
            ).get()
            try? await connection.close()
            return nil
        } catch let error as PSQLError {
            return Self.storeError(error).message
        } catch {
            return "\(error)"
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

/// Whichever comes first: the connection (`claim`) or the deadline (`expire`); the other then fails.
private final class LeaseState: @unchecked Sendable {
    private let lock = NSLock()
    private var claimed = false
    private var expired = false

    func claim() -> Bool {
        lock.withLock {
            if !expired { claimed = true }
            return claimed
        }
    }

    var isClaimed: Bool { lock.withLock { claimed } }

    func expire() -> Bool {
        lock.withLock {
            if !claimed { expired = true }
            return expired
        }
    }
}

/// Append results cross from the worker thread back to the caller; errors in them are the store's own
/// (`StoreError`, `ValidationError`), which are Sendable, but `any Error` is not marked so.
private struct UncheckedResults: @unchecked Sendable {
    let value: [Result<[AppendOutcome], any Error>]
}
