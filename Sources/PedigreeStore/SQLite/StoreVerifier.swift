import GRDB
import PedigreeCore

/// `pedigree verify`: recomputes every namespace's hash chain from the stored bytes, then replays the
/// whole log into a scratch database and compares the result with the stored projections.
struct StoreVerifier {
    let db: Database

    func run() throws -> VerificationReport {
        var problems: [VerificationReport.Problem] = []
        let chains = try verifyChains(&problems)
        try verifyProjections(&problems)
        let count = try Int64.fetchOne(db, sql: "SELECT count(*) FROM events") ?? 0
        return VerificationReport(chains: chains, eventCount: count, problems: problems)
    }

    // MARK: Chains

    private struct ChainState {
        var expected: Int64 = 1
        var previousHash = EventChain.genesis
        var previousRecordedAt: Int64 = .min
        var broken = false
    }

    private func verifyChains(_ problems: inout [VerificationReport.Problem]) throws -> [VerificationReport.Chain] {
        var states: [String: ChainState] = [:]
        let rows = try Row.fetchCursor(db, sql: "SELECT * FROM events ORDER BY namespace, ns_seq")
        while let row = try rows.next() {
            let namespace: String = row["namespace"]
            var state = states[namespace] ?? ChainState()
            defer { states[namespace] = state }
            guard !state.broken else { continue }
            let sequence: Int64 = row["ns_seq"]
            if let problem = check(row, namespace: namespace, sequence: sequence, state: state) {
                problems.append(VerificationReport.Problem(namespace: namespace, sequence: min(sequence, state.expected), message: problem))
                state.broken = true
                continue
            }
            state.expected = sequence + 1
            state.previousHash = row["chain_hash"]
            state.previousRecordedAt = row["recorded_at"]
        }
        var chains: [VerificationReport.Chain] = []
        var headsSeen: Set<String> = []
        for head in try Row.fetchAll(db, sql: "SELECT namespace, ns_seq, chain_hash FROM chain_heads ORDER BY namespace") {
            let namespace: String = head["namespace"]
            headsSeen.insert(namespace)
            let state = states[namespace] ?? ChainState()
            let headSequence: Int64 = head["ns_seq"]
            if !state.broken, headSequence != state.expected - 1 || (head["chain_hash"] as String) != state.previousHash {
                problems.append(VerificationReport.Problem(
                    namespace: namespace, sequence: state.expected,
                    message: "the chain head records \(headSequence) events ending in \(head["chain_hash"] as String), but the log holds \(state.expected - 1) ending in \(state.previousHash): events were removed or rewritten"))
            }
            chains.append(VerificationReport.Chain(namespace: namespace, events: headSequence, head: head["chain_hash"]))
        }
        for namespace in states.keys.sorted() where !headsSeen.contains(namespace) {
            problems.append(VerificationReport.Problem(namespace: namespace, sequence: nil, message: "events exist but the chain head is missing"))
        }
        return chains
    }

    /// The first thing wrong with one stored event, or nil.
    private func check(_ row: Row, namespace: String, sequence: Int64, state: ChainState) -> String? {
        guard sequence == state.expected else {
            return "expected event #\(state.expected) next but found #\(sequence): events are missing or renumbered"
        }
        let previous: String = row["prev_hash"]
        guard previous == state.previousHash else {
            return "previous-hash \(previous) does not match the chain hash of event #\(sequence - 1) (\(state.previousHash))"
        }
        let body: String = row["body"]
        let storedDigest: String = row["digest"]
        let actualDigest = ContentDigest(hashing: Array(body.utf8))
        guard actualDigest.hex == storedDigest else {
            return "the stored event body hashes to \(actualDigest), not the recorded \(ContentDigest.prefix)\(storedDigest): the event was altered"
        }
        let event: LineageEvent
        do {
            event = try LineageEvent(json: JSONValue.parse(body))
        } catch {
            return "the stored event body no longer parses as an event: \(error)"
        }
        guard event.digest.hex == storedDigest, event.namespace == namespace else {
            return "the stored event body is not in canonical form or names another namespace"
        }
        guard (row["type"] as String) == event.typeName, (row["subject"] as String) == event.subject,
            (row["supersedes"] as String?) == event.supersedes?.hex
        else {
            return "the type, subject or supersedes column disagrees with the event body"
        }
        let recordedAt: Int64 = row["recorded_at"]
        guard recordedAt >= state.previousRecordedAt else {
            return "recorded at \(Timestamp(microseconds: recordedAt)), before event #\(sequence - 1)"
        }
        let expectedHash = EventChain.link(
            previous: previous, namespace: namespace, sequence: sequence, recordedAt: Timestamp(microseconds: recordedAt),
            recordedBy: row["recorded_by"], digest: actualDigest)
        guard expectedHash == (row["chain_hash"] as String) else {
            return "chain hash \(row["chain_hash"] as String) should be \(expectedHash): the sequence, time, namespace or recorder was altered"
        }
        return nil
    }

    // MARK: Projections

    /// Each table as rows in reference space (ids can differ), sorted, so a replay can be compared row by row.
    static let comparisons: [(table: String, key: String, sql: String)] = [
        ("nodes", "ref", "SELECT ref, kind, namespace, name, version, ordinal, digest, status, recorded_at, state FROM nodes ORDER BY ref"),
        ("edges", "from, to, role", """
            SELECT s.ref, d.ref, e.role, e.recorded_at FROM edges e JOIN nodes s ON s.id = e.src JOIN nodes d ON d.id = e.dst
            ORDER BY s.ref, d.ref, e.role
            """),
        ("deployments", "event", """
            SELECT d.seq, e.ref, m.ref, d.valid_from, d.recorded_at, d.config
            FROM deployments d JOIN nodes e ON e.id = d.endpoint_node JOIN nodes m ON m.id = d.model_node ORDER BY d.seq
            """),
    ]

    private func verifyProjections(_ problems: inout [VerificationReport.Problem]) throws {
        let scratch = try DatabaseQueue()
        do {
            try scratch.write { replayDB in
                try replayDB.execute(sql: SQLiteSchema.projectionSQL(schema: "main"))
                try EventLogReplayer.replay(from: db, into: replayDB)
            }
        } catch {
            problems.append(VerificationReport.Problem(namespace: nil, sequence: nil, message: "replaying the log failed: \(error)"))
            return
        }
        try scratch.read { replayDB in
            for comparison in Self.comparisons {
                let stored = try Row.fetchCursor(db, sql: comparison.sql)
                let replayed = try Row.fetchCursor(replayDB, sql: comparison.sql)
                while true {
                    let a = try stored.next(), b = try replayed.next()
                    if a == nil && b == nil { break }
                    if a == b { continue }
                    problems.append(VerificationReport.Problem(namespace: nil, sequence: nil, message: Self.describe(comparison.table, stored: a, replayed: b)))
                    break
                }
            }
        }
    }

    static func describe(_ table: String, stored: Row?, replayed: Row?) -> String {
        func text(_ row: Row) -> String { row.databaseValues.map { $0.isNull ? "NULL" : $0.description }.joined(separator: " | ") }
        switch (stored, replayed) {
        case (let s?, let r?): return "\(table) differ from a replay of the log: stored [\(text(s))], replay gives [\(text(r))]"
        case (let s?, nil): return "\(table) hold a row the log does not produce: [\(text(s))]"
        case (nil, let r?): return "\(table) lack a row the log produces: [\(text(r))]"
        default: return "\(table) differ"
        }
    }
}
