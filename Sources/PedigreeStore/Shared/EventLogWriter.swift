import PedigreeCore

/// Appends events to their namespaces' chains inside one write transaction and projects each one.
///
/// The caller holds the store's write lock for the transaction (SQLite: the one writer; PostgreSQL: an
/// advisory lock, see `PostgresEngine`), so `seq` is assigned here, gapless and in commit order.
struct EventLogWriter {
    struct Head {
        var sequence: Int64
        var hash: String
        var recordedAt: Timestamp
    }

    let db: any SQLSession
    var projector: Projector
    var heads: [String: Head] = [:]
    private var lastSequence: Int64
    let now = Timestamp.now

    private struct DuplicateKey: Hashable {
        let namespace: String
        let digest: String
    }

    /// Chain positions of events appended in this transaction, and of stored events looked up in advance
    /// (`prefetchStored`): with these, a duplicate check reads nothing, so the log's inserts can be batched.
    private var appended: [DuplicateKey: Int64] = [:]
    private var prefetched: Set<DuplicateKey> = []

    init(db: any SQLSession) throws {
        self.db = db
        projector = Projector(db: db, log: db)
        lastSequence = try db.int("SELECT max(seq) FROM events") ?? 0
    }

    /// Looks up at once which of these events are stored already: per namespace, a few hundred digests per
    /// query, along the (namespace, digest) unique index.
    private mutating func prefetchStored(_ events: [LineageEvent]) throws {
        let keys = Set(events.map { DuplicateKey(namespace: $0.namespace, digest: $0.digest.hex) }).subtracting(prefetched)
        for (namespace, group) in Dictionary(grouping: keys, by: \.namespace) {
            let digests = group.map(\.digest)
            for start in stride(from: 0, to: digests.count, by: 500) {
                let chunk = digests[start..<min(start + 500, digests.count)]
                let placeholders = chunk.map { _ in "?" }.joined(separator: ", ")
                for row in try db.rows(
                    "SELECT digest, ns_seq FROM events WHERE namespace = ? AND digest IN (\(placeholders))",
                    [.text(namespace)] + chunk.map(SQLValue.text))
                {
                    appended[DuplicateKey(namespace: namespace, digest: try row.text(0))] = try row.int(1)
                }
            }
        }
        prefetched.formUnion(keys)
    }

    /// Where the event is in its namespace's chain, if it is stored.
    private func storedSequence(of event: LineageEvent) throws -> Int64? {
        let key = DuplicateKey(namespace: event.namespace, digest: event.digest.hex)
        if let known = appended[key] { return known }
        if prefetched.contains(key) { return nil }
        return try db.int("SELECT ns_seq FROM events WHERE namespace = ? AND digest = ?", .text(key.namespace), .text(key.digest))
    }

    /// `redacting`: the caller is `redact`, which rewrites the redacted event's body with its redaction. A
    /// redaction recorded any other way would claim a removal that never happened.
    mutating func append(_ unchecked: LineageEvent, recordedBy identity: String, redacting: Bool = false) throws -> AppendOutcome {
        // Whatever built the event, it is stored only if it reads back as itself.
        let event = try unchecked.validated()
        if case .redaction = event.payload, !redacting {
            throw StoreError(
                .invalid, "a redaction is made with `pedigree redact` (which removes the fields as it records it); it cannot be recorded on its own",
                field: "type")
        }
        let namespace = event.namespace
        if let existing = try storedSequence(of: event) {
            return AppendOutcome(digest: event.digest, namespace: namespace, sequence: existing, duplicate: true)
        }
        if let superseded = event.supersedes {
            guard
                let subject = try db.row("SELECT subject FROM events WHERE namespace = ? AND digest = ?", .text(namespace), .text(superseded.hex))?
                    .optionalText(0)
            else {
                throw StoreError(.notFound, "no event \(superseded) in namespace \(namespace) to correct", field: "supersedes")
            }
            guard subject == event.subject else {
                throw StoreError(.invalid, "\(superseded) is about \(subject), but this correction is about \(event.subject)", field: "supersedes")
            }
        }
        let head = try heads[namespace] ?? loadHead(namespace)
        // Recorded times never go backwards within a chain, so `--as-of` cuts every chain at one point.
        let recordedAt = max(now, head.recordedAt)
        let stored = StoredEvent(
            sequence: lastSequence + 1, namespace: namespace, namespaceSequence: head.sequence + 1, recordedAt: recordedAt, recordedBy: identity,
            digest: event.digest, previousHash: head.hash,
            chainHash: EventChain.link(
                previous: head.hash, namespace: namespace, sequence: head.sequence + 1, recordedAt: recordedAt, recordedBy: identity,
                digest: event.digest),
            body: String(decoding: event.canonicalBytes, as: UTF8.self))
        try insert(stored, event)
        return AppendOutcome(digest: event.digest, namespace: namespace, sequence: stored.namespaceSequence, duplicate: false)
    }

    /// Appends an event exactly as another store recorded it (`pedigree import`): same sequence numbers,
    /// times, recorder and hashes. It must continue its namespace's chain and hash correctly, so an import
    /// cannot smuggle in a history that `verify` would reject.
    mutating func restore(_ stored: StoredEvent, redactions: RedactionIndex) throws {
        let event: LineageEvent
        do {
            event = try LineageEvent(json: JSONValue.parse(stored.body))
        } catch {
            throw StoreError(.invalid, "event \(stored.sequence) does not parse as an event: \(error)", field: "body")
        }
        let head = try heads[stored.namespace] ?? loadHead(stored.namespace)
        let expectedHash = EventChain.link(
            previous: head.hash, namespace: stored.namespace, sequence: head.sequence + 1, recordedAt: stored.recordedAt,
            recordedBy: stored.recordedBy, digest: stored.digest)
        let bodyDigest = ContentDigest(hashing: Array(stored.body.utf8))
        // A redacted event keeps its original digest; its redaction, later in the export, was read ahead.
        guard redactions.accepts(stored, bodyDigest: bodyDigest), event.digest == bodyDigest, event.namespace == stored.namespace
        else {
            throw StoreError(
                .invalid,
                "event \(stored.sequence)'s body does not hash to its recorded digest \(stored.digest), or is not in canonical form: it was altered"
                    + (stored.body.contains(RedactionRecord.placeholder) && !redactions.isRedacted(stored)
                        ? " (if it was redacted, import the export from a file, not standard input, so its redaction is read first)" : ""),
                field: "body")
        }
        guard stored.sequence == lastSequence + 1, stored.namespaceSequence == head.sequence + 1, stored.previousHash == head.hash,
            stored.chainHash == expectedHash, stored.recordedAt >= head.recordedAt
        else {
            throw StoreError(
                .invalid,
                "event \(stored.sequence) (\(stored.namespace) #\(stored.namespaceSequence)) does not continue the log this store holds (event \(lastSequence); \(stored.namespace) #\(head.sequence) ending in \(head.hash)): events are missing, reordered or altered",
                field: "events")
        }
        try insert(stored, event)
    }

    private mutating func insert(_ stored: StoredEvent, _ event: LineageEvent) throws {
        try db.insert(
            into: .events,
            [
                .int(stored.sequence), .text(stored.namespace), .int(stored.namespaceSequence), .text(event.typeName), .text(event.subject),
                .text(stored.digest.hex), .text(stored.body), .int(stored.recordedAt.microseconds), .text(stored.recordedBy),
                .text(stored.previousHash), .text(stored.chainHash), .init(event.supersedes?.hex),
            ])
        try projector.apply(event, sequence: stored.sequence, recordedAt: stored.recordedAt)
        appended[DuplicateKey(namespace: stored.namespace, digest: stored.digest.hex)] = stored.namespaceSequence
        lastSequence = stored.sequence
        heads[stored.namespace] = Head(sequence: stored.namespaceSequence, hash: stored.chainHash, recordedAt: stored.recordedAt)
    }

    func loadHead(_ namespace: String) throws -> Head {
        guard let row = try db.row("SELECT ns_seq, chain_hash, recorded_at FROM chain_heads WHERE namespace = ?", .text(namespace))
        else { return Head(sequence: 0, hash: EventChain.genesis, recordedAt: Timestamp(microseconds: 0)) }
        return Head(sequence: try row.int(0), hash: try row.text(1), recordedAt: Timestamp(microseconds: try row.int(2)))
    }

    func saveHeads() throws {
        for (namespace, head) in heads {
            try db.execute(
                """
                INSERT INTO chain_heads(namespace, ns_seq, chain_hash, recorded_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (namespace) DO UPDATE SET ns_seq = excluded.ns_seq, chain_hash = excluded.chain_hash, recorded_at = excluded.recorded_at
                """,
                .text(namespace), .int(head.sequence), .text(head.hash), .int(head.recordedAt.microseconds))
        }
    }

    /// Runs each request in a savepoint of its own, so one failing request leaves the others' events in
    /// the transaction; the result of each, in order. Saves the chain heads at the end.
    mutating func appendGroup(_ requests: [AppendRequest]) throws -> [Result<[AppendOutcome], any Error>] {
        var results: [Result<[AppendOutcome], any Error>] = []
        let db = self.db
        let events = requests.flatMap(\.events)
        try prefetchStored(events)
        try projector.prefetch(events)
        for request in requests {
            let checkpoint = self
            do {
                let outcomes = try db.savepoint {
                    projector.authority = request.authority
                    return try request.events.map { try append($0, recordedBy: request.identity) }
                }
                results.append(.success(outcomes))
            } catch {
                self = checkpoint  // the savepoint rolled back: so do the writer's caches
                results.append(.failure(error))
            }
        }
        try saveHeads()
        return results
    }
}

/// One caller's events, appended all or nothing.
struct AppendRequest {
    let events: [LineageEvent]
    let identity: String
    let authority: WriteAuthority
}

/// Replays the log, in append order, through the projector.
enum EventLogReplayer {
    /// Events are read a page at a time, so a replay of a large store does not hold the whole log in memory.
    static let pageSize = 5_000

    static func replay(from source: any SQLSession, into target: any SQLSession) throws {
        var projector = Projector(db: target, log: source)
        try forEachEvent(in: source) { row in
            let stored = try StoredEvent(row: row)
            try projector.apply(LineageEvent(json: JSONValue.parse(stored.body)), sequence: stored.sequence, recordedAt: stored.recordedAt)
        }
    }

    /// Every stored event in append order: the columns `StoredEvent(row:)` reads, then `extraColumns`.
    static func forEachEvent(in source: any SQLSession, extraColumns: String = "", _ body: (SQLRow) throws -> Void) throws {
        var after: Int64 = 0
        while true {
            let page = try source.rows(
                "SELECT \(StoredEvent.columns)\(extraColumns) FROM events WHERE seq > ? ORDER BY seq LIMIT ?", .int(after), .int(Int64(pageSize)))
            for row in page { try body(row) }
            guard page.count == pageSize, let last = page.last else { return }
            after = try last.int(0)
        }
    }
}

extension StoredEvent {
    static let columns = "seq, namespace, ns_seq, recorded_at, recorded_by, digest, prev_hash, chain_hash, body"

    init(row: SQLRow) throws {
        guard let digest = ContentDigest(hex: try row.text(5)) else {
            throw StoreError(.unavailable, "event \(try row.int(0)) has a malformed digest; run `pedigree verify`")
        }
        self.init(
            sequence: try row.int(0), namespace: try row.text(1), namespaceSequence: try row.int(2),
            recordedAt: Timestamp(microseconds: try row.int(3)), recordedBy: try row.text(4), digest: digest,
            previousHash: try row.text(6), chainHash: try row.text(7), body: try row.text(8))
    }
}
