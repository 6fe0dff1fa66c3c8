import PedigreeCore

/// Which stored events were redacted, and the body each redaction vouches for: what lets `verify` and the
/// audit accept a body that no longer hashes to its event's (original) digest. Read from the redaction
/// events in the log, which are themselves in their namespaces' chains.
struct RedactionIndex {
    private var latest: [String: [Int64: RedactionRecord]] = [:]
    /// Every redaction with its own chain position, for `CheckpointRules`.
    private(set) var all: [CheckpointRules.Redaction] = []

    /// `namespaces`: only these (an audit reads the few it involves); nil: all.
    init(_ db: any SQLSession, namespaces: Set<String>? = nil) throws {
        let sql = "SELECT namespace, ns_seq, body FROM events WHERE type = 'redaction'"
        let rows =
            try namespaces.map { names in
                try names.sorted().flatMap { try db.rows(sql + " AND namespace = ? ORDER BY seq", .text($0)) }
            } ?? db.rows(sql + " ORDER BY seq")
        try self.init(
            records: rows.compactMap { row in
                guard let event = try? LineageEvent(json: JSONValue.parse(try row.text(2))), case .redaction(let record) = event.payload,
                    event.namespace == (try row.text(0))
                else { return nil }
                return CheckpointRules.Redaction(record: record, sequence: try row.int(1))
            })
    }

    /// Redactions in log order. One counts only when it comes after the event it redacts, in the same
    /// namespace, and continues that event's redactions (its previous digest is what the last one left).
    init(records: [CheckpointRules.Redaction]) throws {
        for redaction in records {
            let record = redaction.record
            guard redaction.sequence > record.sequence else { continue }
            let before = latest[record.namespace]?[record.sequence]
            guard record.previousDigest == (before?.redactedDigest ?? record.digest), before.map({ $0.digest == record.digest }) ?? true else {
                continue
            }
            latest[record.namespace, default: [:]][record.sequence] = record
            all.append(redaction)
        }
    }

    /// Whether `body` is the stored event's body: unchanged, or exactly as its latest redaction left it — the
    /// digest it recorded, of this event, with the placeholder at every field it names.
    func accepts(_ stored: StoredEvent, bodyDigest: ContentDigest) -> Bool {
        if bodyDigest == stored.digest { return true }
        guard let record = latest[stored.namespace]?[stored.namespaceSequence], record.digest == stored.digest,
            record.redactedDigest == bodyDigest, let body = try? JSONValue.parse(stored.body)
        else { return false }
        return record.isApplied(to: body)
    }

    func isRedacted(_ stored: StoredEvent) -> Bool { latest[stored.namespace]?[stored.namespaceSequence] != nil }
}

/// One event redacted (or, in a dry run, that would be).
public struct RedactionOutcome: Hashable, QueryResult {
    public let namespace: String
    public let sequence: Int64
    public let digest: ContentDigest
    public let type: String
    public let fields: [String]
    /// The redaction event's own position, nil in a dry run.
    public let redaction: Int64?

    public init(namespace: String, sequence: Int64, digest: ContentDigest, type: String, fields: [String], redaction: Int64?) {
        self.namespace = namespace
        self.sequence = sequence
        self.digest = digest
        self.type = type
        self.fields = fields
        self.redaction = redaction
    }
}

extension EventLogWriter {
    /// Redacts `fields` of the stored event at `seq`: appends the redaction event, then rewrites the body
    /// (the one update the log's triggers allow, and only while a grant for that event exists).
    /// An event under a signed checkpoint is redacted only with a signature by that checkpoint's key
    /// (`CheckpointRules`): `signer`.
    mutating func redact(seq: Int64, fields: [String], reason: String, recordedBy identity: String, signer: SigningKey?) throws -> RedactionOutcome {
        guard let row = try db.row("SELECT \(StoredEvent.columns), type FROM events WHERE seq = ?", .int(seq)) else {
            throw StoreError(.notFound, "no event \(seq)", field: "event")
        }
        let stored = try StoredEvent(row: row)
        let type = try row.text(9)
        let redacted: JSONValue
        do { redacted = try Redactor.redact(try JSONValue.parse(stored.body), fields: fields) } catch let error as ValidationError {
            throw StoreError(.invalid, "\(stored.namespace) #\(stored.namespaceSequence): \(error.message)", field: "--field")
        }
        // The redacted body must still read as an event, in canonical form, in the same namespace.
        let reread: LineageEvent
        do { reread = try LineageEvent(json: redacted) } catch {
            throw StoreError(
                .invalid,
                "removing \(fields.joined(separator: ", ")) leaves \(stored.namespace) #\(stored.namespaceSequence) unreadable (\(error.message)); redact the object that holds it",
                field: "--field")
        }
        let body = String(decoding: reread.canonicalBytes, as: UTF8.self)
        var record = RedactionRecord(
            namespace: stored.namespace, sequence: stored.namespaceSequence, digest: stored.digest, fields: fields, reason: reason,
            redactedDigest: ContentDigest(hashing: reread.canonicalBytes), previousDigest: ContentDigest(hashing: Array(stored.body.utf8)))
        let covering = try checkpoints(covering: stored)
        if let signer {
            record = try record.signed(with: signer)
        }
        for checkpoint in covering where record.signatureProblem(checkpoint: checkpoint) != nil {
            throw StoreError(
                .forbidden,
                "\(stored.namespace) #\(stored.namespaceSequence) is under the checkpoint signed \(checkpoint.signedAt) with key \(checkpoint.keyID): sign the redaction with that key (--key, default $PEDIGREE_HOME/checkpoint-key.pem)",
                field: "--key")
        }
        let outcome = try append(LineageEvent(namespace: stored.namespace, payload: .redaction(record)), recordedBy: identity, redacting: true)
        try db.execute("INSERT INTO redaction_grants(seq) VALUES (?)", .int(seq))
        try db.execute("UPDATE events SET body = ? WHERE seq = ?", .text(body), .int(seq))
        try db.execute("DELETE FROM redaction_grants WHERE seq = ?", .int(seq))
        return RedactionOutcome(
            namespace: stored.namespace, sequence: stored.namespaceSequence, digest: stored.digest, type: type, fields: fields,
            redaction: outcome.sequence)
    }
}

extension EventLogWriter {
    /// The recorded checkpoints whose head for the event's namespace is at or after it.
    func checkpoints(covering stored: StoredEvent) throws -> [CheckpointRecord] {
        try db.rows("SELECT body FROM events WHERE namespace = ? AND type = 'checkpoint' ORDER BY seq", .text(CheckpointRecord.namespace)).compactMap
        {
            guard case .checkpoint(let record)? = try? LineageEvent(json: JSONValue.parse(try $0.text(0))).payload,
                let head = record.heads.first(where: { $0.namespace == stored.namespace }), head.events >= stored.namespaceSequence
            else { return nil }
            return record
        }
    }
}

extension GraphReader {
    /// The events behind a node (as `show` lists them) that hold at least one of `fields`, with the ones each holds.
    func redactionTargets(_ ref: Reference, fields: [String]) throws -> [(seq: Int64, fields: [String])] {
        let detail = try self.detail(ref)
        var targets: [(Int64, [String])] = []
        for event in detail.events {
            guard
                let row = try db.row(
                    "SELECT seq, body FROM events WHERE namespace = ? AND ns_seq = ? AND type <> 'redaction'", .text(event.namespace),
                    .int(event.sequence))
            else { continue }
            let present = Redactor.presentFields(in: try JSONValue.parse(try row.text(1)), prefixes: fields)
            if !present.isEmpty { targets.append((try row.int(0), present)) }
        }
        guard !targets.isEmpty else {
            throw StoreError(
                .notFound, "no event of \(detail.summary.ref) holds \(fields.joined(separator: " or ")) (or it is redacted already)", field: "--field"
            )
        }
        return targets
    }

    /// The events of a namespace recorded before the cut-off, with the payloads they still hold; read a page
    /// at a time.
    func retentionTargets(namespace: String, before cutoff: Timestamp) throws -> [(seq: Int64, fields: [String])] {
        var targets: [(Int64, [String])] = []
        var after: Int64 = 0
        while true {
            let page = try db.rows(
                """
                SELECT seq, type, body FROM events WHERE namespace = ? AND recorded_at < ? AND type IN ('run', 'artifact', 'deployment') AND seq > ?
                ORDER BY seq LIMIT 1000
                """, .text(namespace), .int(cutoff.microseconds), .int(after))
            for row in page {
                let prefixes = Redactor.redactable.filter { $0.hasPrefix(try! row.text(1) + ".") }
                let present = Redactor.presentFields(in: try JSONValue.parse(try row.text(2)), prefixes: prefixes)
                if !present.isEmpty { targets.append((try row.int(0), present)) }
            }
            guard page.count == 1000, let last = page.last else { return targets }
            after = try last.int(0)
        }
    }
}
