import PedigreeCore

/// Which stored events were redacted, and the body each redaction vouches for: what lets `verify` and the
/// audit accept a body that no longer hashes to its event's (original) digest. Read from the redaction
/// events in the log, which are themselves in their namespaces' chains.
struct RedactionIndex {
    private var bodies: [String: [Int64: ContentDigest]] = [:]

    /// `namespaces`: only these (an audit reads the few it involves); nil: all.
    init(_ db: any SQLSession, namespaces: Set<String>? = nil) throws {
        let rows =
            try namespaces.map { names in
                try names.sorted().flatMap {
                    try db.rows("SELECT namespace, body FROM events WHERE namespace = ? AND type = 'redaction' ORDER BY seq", .text($0))
                }
            } ?? db.rows("SELECT namespace, body FROM events WHERE type = 'redaction' ORDER BY seq")
        for row in rows {
            guard case .redaction(let record)? = try? LineageEvent(json: JSONValue.parse(try row.text(1))).payload else { continue }
            bodies[try row.text(0), default: [:]][record.sequence] = record.redactedDigest  // the latest redaction wins
        }
    }

    /// Whether `body` is the stored event's body: unchanged, or as its latest redaction left it.
    func accepts(_ stored: StoredEvent, bodyDigest: ContentDigest) -> Bool {
        bodyDigest == stored.digest || bodies[stored.namespace]?[stored.namespaceSequence] == bodyDigest
    }

    func isRedacted(_ stored: StoredEvent) -> Bool { bodies[stored.namespace]?[stored.namespaceSequence] != nil }
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

/// What a retention policy removes from an expired event: every free-form payload, keeping the ids,
/// references and times the graph is made of.
enum RetentionFields {
    static let byType: [String: [String]] = [
        "run": ["run.hyperparameters", "run.metrics", "run.facets", "run.data", "run.environment", "run.code"],
        "artifact": ["artifact.facets", "artifact.uri"],
        "deployment": ["deployment.config", "deployment.environment", "deployment.code", "deployment.manifest.text"],
    ]
}

extension EventLogWriter {
    /// Redacts `fields` of the stored event at `seq`: appends the redaction event, then rewrites the body
    /// (the one update the log's triggers allow, and only while a grant for that event exists).
    mutating func redact(seq: Int64, fields: [String], reason: String, recordedBy identity: String) throws -> RedactionOutcome {
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
        let record = RedactionRecord(
            namespace: stored.namespace, sequence: stored.namespaceSequence, digest: stored.digest, fields: fields, reason: reason,
            redactedDigest: ContentDigest(hashing: reread.canonicalBytes))
        let outcome = try append(LineageEvent(namespace: stored.namespace, payload: .redaction(record)), recordedBy: identity, redacting: true)
        try db.execute("INSERT INTO redaction_grants(seq) VALUES (?)", .int(seq))
        try db.execute("UPDATE events SET body = ? WHERE seq = ?", .text(body), .int(seq))
        try db.execute("DELETE FROM redaction_grants WHERE seq = ?", .int(seq))
        return RedactionOutcome(
            namespace: stored.namespace, sequence: stored.namespaceSequence, digest: stored.digest, type: type, fields: fields,
            redaction: outcome.sequence)
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

    /// The events of the namespaces a policy covers recorded before its cut-off, with the payloads they still hold.
    func retentionTargets(_ cutoffs: [String: Timestamp]) throws -> [(seq: Int64, fields: [String])] {
        var targets: [(Int64, [String])] = []
        for (namespace, cutoff) in cutoffs.sorted(by: { $0.key < $1.key }) {
            for row in try db.rows(
                "SELECT seq, type, body FROM events WHERE namespace = ? AND recorded_at < ? AND type IN ('run', 'artifact', 'deployment') ORDER BY seq",
                .text(namespace), .int(cutoff.microseconds))
            {
                let present = Redactor.presentFields(
                    in: try JSONValue.parse(try row.text(2)), prefixes: RetentionFields.byType[try row.text(1)] ?? [])
                if !present.isEmpty { targets.append((try row.int(0), present)) }
            }
        }
        return targets
    }
}
