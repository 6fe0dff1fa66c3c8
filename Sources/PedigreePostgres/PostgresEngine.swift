import Foundation
import Logging
import NIOCore
import NIOPosix
import PedigreeCore
import PedigreeSQLite
import PedigreeStore
import PostgresNIO
import ServiceLifecycle

/// The shared store: PostgreSQL, for several stateless `pedigree serve` replicas.
public typealias PostgresStore = SQLStore<PostgresEngine>

/// PostgreSQL through PostgresNIO. The log writer, projector, graph reader and verifier are the ones
/// SQLite uses (`SQLStore`), so both backends give the same answers. What differs is below.
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
public final class PostgresEngine: SQLEngine {
    public let postgresLocation: PostgresLocation
    private let client: PostgresClient
    /// Threads the blocking sessions run on (see `PostgresSession`).
    private let workers: NIOThreadPool
    private let logger: Logger
    /// For callers that cannot scope the store (`startInBackground()`): the task running the client.
    private let background = BackgroundRun()
    /// How long a request waits for a connection before the store answers "unavailable".
    private let connectTimeout: Duration

    /// Key of the advisory lock appends take; any constant unlikely to collide with another application's.
    static let appendLockKey: Int64 = 0x7065_6469_6772_6565  // "pedigree"
    static let migrationLockKey: Int64 = 0x7065_6469_676d_6967  // "pedigmig"

    /// Connections, and threads to run their sessions on: as many of each, so a request that has a
    /// connection never waits for a thread (and the connect timeout bounds the whole wait).
    static let connections = 8

    /// Nothing connects until the engine runs (`run()`, as a service or inside `SQLStore.withRunning`); then
    /// the first query opens the first connection. `connectTimeout`: how long a request waits for a
    /// connection (a database that is down or unreachable fails requests after it, rather than holding them —
    /// or a training run — indefinitely).
    public init(location: PostgresLocation, connectTimeout: Duration = .seconds(10), logger: Logger = PostgresEngine.defaultLogger) {
        self.postgresLocation = location
        self.logger = logger
        self.connectTimeout = connectTimeout
        var configuration = location.configuration
        configuration.options.maximumConnections = Self.connections
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        workers = NIOThreadPool(numberOfThreads: Self.connections)
        workers.start()
    }

    public var location: String { postgresLocation.description }

    /// Connection failures are reported as the store's errors; the driver's own retries stay quiet.
    public static var defaultLogger: Logger {
        var logger = Logger(label: "pedigree.postgres")
        logger.logLevel = .error
        return logger
    }

    deinit {
        background.cancel()
        workers.shutdownGracefully { _ in }
    }

    /// Runs the connection pool until cancelled or, in a `ServiceGroup`, until graceful shutdown (after the
    /// services started later — the HTTP server — have finished their requests).
    public func run() async throws {
        await cancelWhenGracefulShutdown { [client] in await client.run() }
    }

    /// For callers that cannot scope the store to a block (tests, benchmarks): runs the pool in a task the
    /// engine owns until `stop()`. Servers run the store as a service, commands use `withRunning`.
    public func startInBackground() {
        background.start { [client] in await client.run() }
    }

    /// Stops a pool started with `startInBackground()` and the worker threads.
    public func stop() async {
        await background.stop()
        try? await workers.shutdownGracefully()
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
                "the database at \(postgresLocation) has schema version \(version.current), this Pedigree needs \(version.expected); run `pedigree migrate --store URL` first"
            )
        }
        if version.current > version.expected {
            throw StoreError(
                .unavailable,
                "the database at \(postgresLocation) has schema version \(version.current), newer than this Pedigree understands (\(version.expected)); upgrade Pedigree"
            )
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

    // MARK: SQLEngine

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await transaction(.read) { try body($0) }
    }

    public func write<T: Sendable>(_ kind: SQLWriteKind, _ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await transaction(kind == .log ? .write : .plainWrite) { try body($0) }
    }

    /// VACUUM FULL rewrites the tables a redaction changed, so the old row versions are gone from disk
    /// (PostgreSQL keeps them until then). It needs the tables to itself for a moment.
    public func eraseRemovedData() async throws {
        do {
            try await withConnection { [workers, logger] connection in
                try await workers.runIfActive {
                    let session = PostgresSession(connection: connection, logger: logger)
                    for table in ["events", "nodes", "edges", "deployments"] { try session.executeVerbatim("VACUUM FULL \(table)") }
                }
            }
        } catch {
            throw Self.storeError(error, location: postgresLocation)
        }
    }

    public func storageBytes(_ session: any SQLSession) throws -> Int64 {
        try session.int("SELECT pg_database_size(current_database())") ?? 0
    }

    public func storeError(_ error: any Error) -> StoreError {
        Self.storeError(error, location: postgresLocation)
    }

    /// Replays into an in-memory SQLite database: a replay over the network would cost a round trip per
    /// statement, and the comparison needs only the rows.
    public func withScratchProjections<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        try SQLiteEngine.withScratchProjections(body)
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
            case .write: PostgresEngine.appendLockKey
            case .migrate: PostgresEngine.migrationLockKey
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
            throw Self.storeError(error, location: postgresLocation)
        }
    }

    /// Every error the store throws is a `StoreError`, as SQLite's are.
    static func storeError(_ error: any Error, location: PostgresLocation) -> StoreError {
        StoreError.translating(error) { error in
            if let error = error as? PSQLError { return storeError(error) }
            return StoreError(.unavailable, "PostgreSQL at \(location): \(error)")
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
        return try await withThrowingTaskGroup(of: T?.self) { [client, connectTimeout, postgresLocation] group in
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
                    throw StoreError(.unavailable, "cannot connect to PostgreSQL at \(postgresLocation): \(reason)")
                }
                try await Task.sleep(until: deadline)
                guard lease.expire() else { return nil }
                throw StoreError(
                    .unavailable,
                    "no connection to PostgreSQL at \(postgresLocation) within \(connectTimeout): all \(Self.connections) connections are busy")
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
                on: PostgresClient.defaultEventLoopGroup.any(), configuration: postgresLocation.singleConnection, id: 0, logger: logger
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

/// The task running a pool started with `startInBackground()`.
private final class BackgroundRun: @unchecked Sendable {
    private let lock = NSLock()
    private var task: Task<Void, Never>?

    func start(_ body: @escaping @Sendable () async -> Void) {
        lock.withLock {
            guard task == nil else { return }
            task = Task { await body() }
        }
    }

    func cancel() { lock.withLock { task?.cancel() } }

    func stop() async {
        let task = lock.withLock { self.task }
        task?.cancel()
        await task?.value
    }
}

extension SQLStore where Engine == PostgresEngine {
    /// A store on the database `location` names. Nothing connects until it runs (see `PostgresEngine`).
    public convenience init(location: PostgresLocation, connectTimeout: Duration = .seconds(10)) {
        self.init(engine: PostgresEngine(location: location, connectTimeout: connectTimeout))
    }

    public var postgresLocation: PostgresLocation { engine.postgresLocation }

    public func schemaVersion() async throws -> (current: Int, expected: Int) { try await engine.schemaVersion() }
    public func checkSchema() async throws { try await engine.checkSchema() }
    @discardableResult public func migrate() async throws -> [String] { try await engine.migrate() }
}
