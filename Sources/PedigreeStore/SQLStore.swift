import PedigreeCore
import ServiceLifecycle

/// What a database engine gives the store: transactions, each handing the shared logic an `SQLSession`.
/// `PedigreeSQLite` (GRDB) and `PedigreePostgres` (PostgresNIO) implement it; everything else — the log
/// writer, the projector, the graph reader, the verifier, tokens — is `SQLStore`'s, written once.
///
/// Public because the engines live in their own modules (so an embedded-only user links no PostgreSQL
/// driver); applications use `SQLStore` through the `LineageStore` contract, not this.
public protocol SQLEngine: Sendable {
    /// Where the data is, for messages; passwords masked.
    var location: String { get }

    /// A consistent read-only snapshot for one query.
    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T

    /// A write transaction. `.log` writes (appends, restores, rebuilds) are serialised with every other
    /// one — the engine's write lock is what keeps `seq` gapless and each chain linear; `.outsideLog`
    /// writes (tokens) need no such order. Commits when `body` returns, rolls back when it throws.
    func write<T: Sendable>(_ kind: SQLWriteKind, _ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T

    /// The bytes the store occupies, for monitoring.
    func storageBytes(_ session: any SQLSession) throws -> Int64

    /// The engine's own errors as the store's (`StoreError`); the store's and validation errors unchanged.
    func storeError(_ error: any Error) -> StoreError

    /// Runs `body` on an empty, private database holding only the projection tables, which `verify`
    /// replays the log into and compares with the stored projections.
    func withScratchProjections<T>(_ body: (any SQLSession) throws -> T) throws -> T

    /// Runs what the engine needs while it is used (PostgreSQL: its connection pool) until cancelled or
    /// shut down gracefully; see `SQLStore.run()`.
    func run() async throws

    /// After a redaction: rewrites the files so that no copy of the removed bytes is left in free pages, a
    /// write-ahead log or dead rows.
    func eraseRemovedData() async throws
}

public enum SQLWriteKind: Sendable {
    case log, outsideLog
}

/// The lineage store over one database engine. Every backend has the same semantics because it runs this
/// same code; the contract tests and the parity test check it.
///
/// It is a `Service`: in a `ServiceGroup` (the server) it runs until shutdown; elsewhere use it inside
/// `withRunning(_:)`.
public final class SQLStore<Engine: SQLEngine>: LineageStore, LineageExporting, TokenStore, GroupCommitting, Service {
    public let engine: Engine
    private let groupCommit = GroupCommit()

    public init(engine: Engine) {
        self.engine = engine
        groupCommit.store = self
    }

    public var location: String { engine.location }

    /// As a service of a `ServiceGroup`: keeps the engine running until graceful shutdown.
    public func run() async throws {
        try await engine.run()
    }

    /// Runs `body` with the engine running, and stops it afterwards: for a command that uses the store
    /// for one job rather than as a service.
    public func withRunning<T: Sendable>(_ body: @Sendable (SQLStore) async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.engine.run() }
            defer { group.cancelAll() }
            return try await body(self)
        }
    }

    // MARK: Writing

    /// Concurrent appends are committed together (group commit): each keeps its all-or-nothing guarantee
    /// through a savepoint of its own, and they share one durable commit, so a server taking many small
    /// requests pays for one commit (and one fsync, or one lock) per group instead of one per request.
    public func append(_ events: [LineageEvent], recordedBy identity: String, authority: WriteAuthority) async throws -> [AppendOutcome] {
        guard !events.isEmpty else { return [] }
        do {
            return try await groupCommit.append(events, recordedBy: identity, authority: authority)
        } catch {
            throw engine.storeError(error)
        }
    }

    func appendGroup(_ requests: [AppendRequest]) async throws -> [Result<[AppendOutcome], any Error>] {
        try await write(.log) { db in
            var log = try EventLogWriter(db: db)
            return UncheckedResults(value: try log.appendGroup(requests))
        }.value
    }

    public func restore(_ events: [StoredEvent], redactions: [CheckpointRules.Redaction]) async throws {
        let index = try RedactionIndex(records: redactions)
        try await write(.log) { db in
            var log = try EventLogWriter(db: db)
            for event in events { try log.restore(event, redactions: index) }
            try log.saveHeads()
        }
    }

    public func redact(
        _ ref: Reference, fields: [String], reason: String, recordedBy identity: String, signer: SigningKey?, dryRun: Bool
    ) async throws -> [RedactionOutcome] {
        try await redacting(reason: reason, recordedBy: identity, signer: signer, dryRun: dryRun) {
            try GraphReader(db: $0, asOf: nil).redactionTargets(ref, fields: fields)
        }
    }

    public func applyRetention(
        _ keepYears: [String: Int], now: Timestamp, recordedBy identity: String, signer: SigningKey?, dryRun: Bool
    ) async throws -> [RedactionOutcome] {
        // One namespace at a time: each redaction states its own namespace's policy, and no other's.
        var outcomes: [RedactionOutcome] = []
        for (namespace, years) in keepYears.sorted(by: { $0.key < $1.key }) {
            let cutoff = Timestamp(microseconds: now.microseconds - Int64(years) * 365_250_000 * 86_400)
            outcomes += try await redacting(
                reason: "retention policy: \(namespace) keeps records in full for \(years) years", recordedBy: identity, signer: signer,
                dryRun: dryRun
            ) {
                try GraphReader(db: $0, asOf: nil).retentionTargets(namespace: namespace, before: cutoff)
            }
        }
        return outcomes
    }

    /// Redacts the targets in one transaction: each event's redaction appended and its body rewritten, then
    /// the projections rebuilt from the redacted log (so no projection keeps a removed value), then the
    /// files scrubbed of the old bytes.
    private func redacting(
        reason: String, recordedBy identity: String, signer: SigningKey?, dryRun: Bool,
        _ targets: @escaping @Sendable (any SQLSession) throws -> [(seq: Int64, fields: [String])]
    ) async throws -> [RedactionOutcome] {
        guard !reason.allSatisfy(\.isWhitespace) else { throw StoreError(.invalid, "say why the fields are removed", field: "--reason") }
        if dryRun {
            return try await read { db in
                try targets(db).map { target in
                    let row = try db.row("SELECT namespace, ns_seq, digest, type FROM events WHERE seq = ?", .int(target.seq))!
                    return RedactionOutcome(
                        namespace: try row.text(0), sequence: try row.int(1), digest: ContentDigest(hex: try row.text(2))!, type: try row.text(3),
                        fields: target.fields, redaction: nil)
                }
            }
        }
        let outcomes = try await write(.log) { db in
            var log = try EventLogWriter(db: db)
            let outcomes = try targets(db).map {
                try log.redact(seq: $0.seq, fields: $0.fields, reason: reason, recordedBy: identity, signer: signer)
            }
            try log.saveHeads()
            for table in Projector.tables { try db.execute("DELETE FROM \(table)") }
            try EventLogReplayer.replay(from: db, into: db)
            return outcomes
        }
        if !outcomes.isEmpty { try await engine.eraseRemovedData() }
        return outcomes
    }

    public func rebuildProjections() async throws {
        try await write(.log) { db in
            // DELETE, not TRUNCATE: readers keep their snapshots instead of waiting on an exclusive lock for
            // the whole replay.
            for table in Projector.tables { try db.execute("DELETE FROM \(table)") }
            try EventLogReplayer.replay(from: db, into: db)
        }
    }

    // MARK: Querying

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

    public func pedigree(_ ref: Reference, depth: Int?, asOf: Timestamp?) async throws -> ModelPedigree {
        try await read { try GraphReader(db: $0, asOf: asOf).pedigree(ref, depth: depth) }
    }

    public func deploymentHistory(namespace: String, endpoint: String, asOf: Timestamp?) async throws -> [DeploymentEntry] {
        try await read { db in
            let reader = GraphReader(db: db, asOf: asOf)
            return try reader.history(endpoint: reader.resolve(.deployment(namespace: namespace, endpoint: endpoint)))
        }
    }

    public func artifacts(matching filter: ArtifactFilter, limit: Int, offset: Int, asOf: Timestamp?) async throws -> [NodeSummary] {
        try await read { try StoreQueries(db: $0).artifacts(matching: filter, limit: limit, offset: offset, asOf: asOf) }
    }

    public func registry(
        _ filter: RegistryFilter, after: String?, limit: Int, asOf: Timestamp?, mayRead: @escaping @Sendable (String) -> Bool
    ) async throws -> [RegistryEntry] {
        try await read { try GraphReader(db: $0, asOf: asOf).registry(filter, after: after, limit: limit, mayRead: mayRead) }
    }

    public func export<T: Sendable>(
        _ selection: ExportSelection, asOf: Timestamp?, _ body: @escaping @Sendable (any ExportSource) throws -> T
    ) async throws -> T {
        try await read { db in try body(try ExportReader(reader: GraphReader(db: db, asOf: asOf), selection: selection)) }
    }

    public func artifacts(withDigest digest: ContentDigest, kind: String?) async throws -> [NodeSummary] {
        try await read { try StoreQueries(db: $0).artifacts(withDigest: digest, kind: kind) }
    }

    public func artifacts(withURI uri: String, kind: String?) async throws -> [NodeSummary] {
        try await read { try StoreQueries(db: $0).artifacts(withURI: uri, kind: kind) }
    }

    public func incident(
        namespace: String, endpoint: String, at: Timestamp, baseline: IncidentBaseline, asOf: Timestamp?,
        mayRead: @escaping @Sendable (String) -> Bool
    ) async throws -> IncidentReport {
        try await read {
            try GraphReader(db: $0, asOf: asOf).incident(namespace: namespace, endpoint: endpoint, at: at, baseline: baseline, mayRead: mayRead)
        }
    }

    public func audit(
        _ ref: ArtifactRef, trustedKey: TrustedKey?, asOf: Timestamp?, mayRead: @escaping @Sendable (String) -> Bool
    ) async throws -> AuditReport {
        try await read { try GraphReader(db: $0, asOf: asOf).audit(ref, trustedKey: trustedKey, now: .now, mayRead: mayRead) }
    }

    public func inventory(trustedKey: TrustedKey?, asOf: Timestamp?, mayRead: @escaping @Sendable (String) -> Bool) async throws -> [InventoryEntry] {
        try await read { try GraphReader(db: $0, asOf: asOf).inventory(trustedKey: trustedKey, mayRead: mayRead) }
    }

    public func events(afterSequence: Int64, limit: Int) async throws -> [StoredEvent] {
        try await read { try StoreQueries(db: $0).events(afterSequence: afterSequence, limit: limit) }
    }

    // MARK: Maintenance

    public func verify() async throws -> VerificationReport {
        try await read { [engine] in try StoreVerifier(db: $0, scratch: engine).run() }
    }

    public func statistics() async throws -> StoreStatistics {
        try await read { [engine] db in try StoreQueries(db: db).statistics(bytes: try engine.storageBytes(db)) }
    }

    // MARK: Marquez-compatible listings

    public func namespaces() async throws -> [String] {
        try await read { try StoreQueries(db: $0).namespaces() }
    }

    public func artifacts(inNamespace namespace: String, limit: Int, offset: Int) async throws -> [NodeSummary] {
        try await read { try StoreQueries(db: $0).artifacts(inNamespace: namespace, limit: limit, offset: offset) }
    }

    public func jobs(inNamespace namespace: String, limit: Int, offset: Int) async throws -> [JobSummary] {
        try await read { try StoreQueries(db: $0).jobs(inNamespace: namespace, limit: limit, offset: offset) }
    }

    // MARK: Tokens

    public func createToken(namespace: String, role: AccessRole, name: String?) async throws -> (token: AccessToken, secret: String) {
        let created = try await write(.outsideLog) { db in
            let (token, secret) = try TokenQueries(db: db).create(namespace: namespace, role: role, name: name)
            return CreatedToken(token: token, secret: secret)
        }
        return (created.token, created.secret)
    }

    public func token(secret: String) async throws -> AccessToken? {
        try await read { try TokenQueries(db: $0).token(secret: secret) }
    }

    public func tokens(namespace: String?) async throws -> [AccessToken] {
        try await read { try TokenQueries(db: $0).tokens(namespace: namespace) }
    }

    public func claimedNamespaces() async throws -> Set<String> {
        try await read { try TokenQueries(db: $0).claimedNamespaces() }
    }

    public func revokeToken(id: String) async throws -> Bool {
        try await write(.outsideLog) { try TokenQueries(db: $0).revoke(id: id) }
    }

    // MARK: Transactions

    private func read<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        do { return try await engine.read(body) } catch { throw engine.storeError(error) }
    }

    private func write<T: Sendable>(_ kind: SQLWriteKind, _ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        do { return try await engine.write(kind, body) } catch { throw engine.storeError(error) }
    }
}

extension StoreError {
    /// The errors the shared logic throws, as the store's: validation and JSON errors of stored records.
    /// Engines translate their drivers' errors and hand the rest to this.
    public static func translating(_ error: any Error, otherwise describe: (any Error) -> StoreError) -> StoreError {
        switch error {
        case let error as StoreError: error
        case let error as ValidationError: StoreError(error)
        case let error as JSONParseError:
            StoreError(.unavailable, "the store holds a record that is not valid JSON (\(error)); run `pedigree verify`")
        default: describe(error)
        }
    }
}

private struct CreatedToken: Sendable {
    let token: AccessToken
    let secret: String
}

/// Append results cross from the engine's transaction back to the caller; the errors in them are the
/// store's own (`StoreError`, `ValidationError`), which are Sendable, but `any Error` is not marked so.
private struct UncheckedResults: @unchecked Sendable {
    let value: [Result<[AppendOutcome], any Error>]
}
