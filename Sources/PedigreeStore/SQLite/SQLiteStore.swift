import Foundation
import GRDB
import PedigreeCore

/// The embedded store: one SQLite file in WAL mode, safe to share between a server and CLI invocations.
///
/// Durability: `synchronous = FULL`, so an acknowledged append survives a crash of the process or of the
/// machine. Appends are IMMEDIATE transactions: one writer at a time, which is what keeps each
/// namespace's hash chain linear.
public final class SQLiteStore: LineageStore {
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
    func appendGroup(_ requests: [GroupCommit.Request]) async throws -> [Result<[AppendOutcome], any Error>] {
        try await pool.write { db in
            var log = EventLogWriter(db: db)
            var results: [Result<[AppendOutcome], any Error>] = []
            for request in requests {
                let checkpoint = log
                do {
                    var outcomes: [AppendOutcome] = []
                    try db.inSavepoint {
                        log.projector.authority = request.authority
                        outcomes = try request.events.map { try log.append($0, recordedBy: request.identity) }
                        return .commit
                    }
                    results.append(.success(outcomes))
                } catch {
                    log = checkpoint  // the savepoint rolled back: so do the writer's caches
                    results.append(.failure(error))
                }
            }
            try log.saveHeads()
            return results
        }
    }

    public func rebuildProjections() async throws {
        try await translatingErrors {
            try await pool.write { db in
                for table in SQLiteSchema.projectionTables { try db.execute(sql: "DELETE FROM \(table)") }
                try EventLogReplayer.replay(from: db, into: db)
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
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT \(GraphReader.nodeColumns) FROM nodes n WHERE n.digest = ? AND (? IS NULL OR n.kind = ?) ORDER BY n.id
                """, arguments: [digest.description, kind, kind]).map { GraphReader.node($0).summary }
        }
    }

    public func namespaces() async throws -> [String] {
        try await read { db in
            try String.fetchAll(db, sql: "SELECT namespace FROM chain_heads UNION SELECT DISTINCT namespace FROM nodes ORDER BY 1")
        }
    }

    public func artifacts(inNamespace namespace: String, limit: Int, offset: Int) async throws -> [NodeSummary] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT \(GraphReader.nodeColumns) FROM nodes n
                WHERE n.namespace = ? AND n.ordinal IS NOT NULL
                  AND n.ordinal = (SELECT max(m.ordinal) FROM nodes m WHERE m.kind = n.kind AND m.namespace = n.namespace AND m.name = n.name)
                ORDER BY n.kind, n.name LIMIT ? OFFSET ?
                """, arguments: [namespace, limit, offset]).map { GraphReader.node($0).summary }
        }
    }

    public func jobs(inNamespace namespace: String, limit: Int, offset: Int) async throws -> [JobSummary] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT \(GraphReader.nodeColumns), j.runs FROM
                    (SELECT name, count(*) AS runs, max(id) AS latest FROM nodes WHERE kind = 'run' AND namespace = ? GROUP BY name) j
                JOIN nodes n ON n.id = j.latest ORDER BY n.name LIMIT ? OFFSET ?
                """, arguments: [namespace, limit, offset]).map { row in
                JobSummary(namespace: namespace, name: row["name"], runCount: row["runs"], latestRun: GraphReader.node(row).summary)
            }
        }
    }

    public func statistics() async throws -> StoreStatistics {
        let bytes = ["", "-wal"].reduce(Int64(0)) { total, suffix in
            total + ((try? FileManager.default.attributesOfItem(atPath: path + suffix)[.size] as? Int64) ?? 0)
        }
        return try await read { db in
            StoreStatistics(
                events: try Int64.fetchOne(db, sql: "SELECT max(seq) FROM events") ?? 0,
                nodes: try Int64.fetchOne(db, sql: "SELECT count(*) FROM nodes") ?? 0,
                edges: try Int64.fetchOne(db, sql: "SELECT count(*) FROM edges") ?? 0, bytes: bytes)
        }
    }

    public func verify() async throws -> VerificationReport {
        try await read { try StoreVerifier(db: $0).run() }
    }

    public func events(afterSequence: Int64, limit: Int) async throws -> [StoredEvent] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [afterSequence, limit])
                .map(StoredEvent.init(row:))
        }
    }

    private func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await translatingErrors { try await pool.read(body) }
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

extension StoredEvent {
    init(row: Row) throws {
        guard let digest = ContentDigest(hex: row["digest"]) else {
            throw StoreError(.unavailable, "event \(row["seq"] as Int64) has a malformed digest; run `pedigree verify`")
        }
        self.init(
            sequence: row["seq"], namespace: row["namespace"], namespaceSequence: row["ns_seq"],
            recordedAt: Timestamp(microseconds: row["recorded_at"]), recordedBy: row["recorded_by"], digest: digest,
            previousHash: row["prev_hash"], chainHash: row["chain_hash"], body: row["body"])
    }
}

/// Appends events to their namespaces' chains inside one write transaction and projects each one.
struct EventLogWriter {
    struct Head {
        var sequence: Int64
        var hash: String
        var recordedAt: Timestamp
    }

    let db: Database
    var projector: Projector
    var heads: [String: Head] = [:]
    let now = Timestamp.now

    init(db: Database) {
        self.db = db
        projector = Projector(db: db, log: db)
    }

    mutating func append(_ event: LineageEvent, recordedBy identity: String) throws -> AppendOutcome {
        let namespace = event.namespace
        if let existing = try HotStatement(db, "SELECT ns_seq FROM events WHERE namespace = ? AND digest = ?").int(.text(namespace), .text(event.digest.hex)) {
            return AppendOutcome(digest: event.digest, namespace: namespace, sequence: existing, duplicate: true)
        }
        if let superseded = event.supersedes {
            let subject = try String.fetchOne(
                db.cachedStatement(sql: "SELECT subject FROM events WHERE namespace = ? AND digest = ?"), arguments: [namespace, superseded.hex])
            guard let subject else {
                throw StoreError(.notFound, "no event \(superseded) in namespace \(namespace) to correct", field: "supersedes")
            }
            guard subject == event.subject else {
                throw StoreError(.invalid, "\(superseded) is about \(subject), but this correction is about \(event.subject)", field: "supersedes")
            }
        }
        var head = try heads[namespace] ?? loadHead(namespace)
        // Recorded times never go backwards within a chain, so `--as-of` cuts every chain at one point.
        let recordedAt = max(now, head.recordedAt)
        let sequence = head.sequence + 1
        let chainHash = EventChain.link(
            previous: head.hash, namespace: namespace, sequence: sequence, recordedAt: recordedAt, recordedBy: identity, digest: event.digest)
        try HotStatement(db, """
            INSERT INTO events(namespace, ns_seq, type, subject, digest, body, recorded_at, recorded_by, prev_hash, chain_hash, supersedes)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(
                .text(namespace), .int(sequence), .text(event.typeName), .text(event.subject), .text(event.digest.hex),
                .text(String(decoding: event.canonicalBytes, as: UTF8.self)), .int(recordedAt.microseconds), .text(identity),
                .text(head.hash), .text(chainHash), .init(event.supersedes?.hex))
        try projector.apply(event, sequence: db.lastInsertedRowID, recordedAt: recordedAt)
        head = Head(sequence: sequence, hash: chainHash, recordedAt: recordedAt)
        heads[namespace] = head
        return AppendOutcome(digest: event.digest, namespace: namespace, sequence: sequence, duplicate: false)
    }

    func loadHead(_ namespace: String) throws -> Head {
        guard let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT ns_seq, chain_hash, recorded_at FROM chain_heads WHERE namespace = ?"), arguments: [namespace])
        else { return Head(sequence: 0, hash: EventChain.genesis, recordedAt: Timestamp(microseconds: 0)) }
        return Head(sequence: row["ns_seq"], hash: row["chain_hash"], recordedAt: Timestamp(microseconds: row["recorded_at"]))
    }

    func saveHeads() throws {
        for (namespace, head) in heads {
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO chain_heads(namespace, ns_seq, chain_hash, recorded_at) VALUES (?, ?, ?, ?)")
                .execute(arguments: [namespace, head.sequence, head.hash, head.recordedAt.microseconds])
        }
    }
}

/// Replays the log, in append order, through the projector.
enum EventLogReplayer {
    static func replay(from source: Database, into target: Database) throws {
        var projector = Projector(db: target, log: source)
        let rows = try Row.fetchCursor(source, sql: "SELECT seq, body, recorded_at FROM events ORDER BY seq")
        while let row = try rows.next() {
            let event = try LineageEvent(json: JSONValue.parse(row["body"] as String))
            try projector.apply(event, sequence: row["seq"], recordedAt: Timestamp(microseconds: row["recorded_at"]))
        }
    }
}

extension Row: RowLike {
    var digest: String { self["digest"] }
    var body: String { self["body"] }
    var supersedes: String? { self["supersedes"] }
}
