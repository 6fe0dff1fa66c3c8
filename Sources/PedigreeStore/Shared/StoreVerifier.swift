import PedigreeCore

/// `pedigree verify`: recomputes every namespace's hash chain from the stored bytes, then replays the
/// whole log into a scratch database (the engine's `withScratchProjections`) and compares the result with
/// the stored projections — the same check for either backend, since the replay runs the same projector.
struct StoreVerifier {
    let db: any SQLSession
    let scratch: any SQLEngine

    func run() throws -> VerificationReport {
        var problems: [VerificationReport.Problem] = []
        let redactions = try RedactionIndex(db)
        let (chains, count) = try verifyChains(&problems, redactions: redactions)
        let checkpoints = try verifyCheckpoints(&problems, redactions: redactions)
        try verifyProjections(&problems)
        return VerificationReport(chains: chains, eventCount: count, problems: problems, checkpoints: checkpoints)
    }

    // MARK: Checkpoints

    /// Each recorded checkpoint's signed heads must still be in their chains (one indexed lookup each), and
    /// each redaction after a checkpoint that covers its event must be signed with that checkpoint's key.
    /// The signatures themselves were checked when the checkpoints were recorded and are checked again as
    /// they are parsed; whether their key is the one to trust is the caller's to say (`verify --public-key`).
    private func verifyCheckpoints(
        _ problems: inout [VerificationReport.Problem], redactions: RedactionIndex
    ) throws -> [VerificationReport.Checkpoint] {
        var holding: [VerificationReport.Checkpoint] = []
        var records: [CheckpointRecord] = []
        for row in try db.rows(
            "SELECT ns_seq, body FROM events WHERE namespace = ? AND type = 'checkpoint' ORDER BY seq", .text(CheckpointRecord.namespace))
        {
            guard case .checkpoint(let record)? = try? LineageEvent(json: JSONValue.parse(try row.text(1))).payload else {
                problems.append(
                    .init(
                        namespace: CheckpointRecord.namespace, sequence: try row.int(0),
                        message: "the checkpoint does not parse or its signature does not verify"))
                continue
            }
            records.append(record)
            let before = problems.count
            for head in record.heads {
                let hash = try db.row("SELECT chain_hash FROM events WHERE namespace = ? AND ns_seq = ?", .text(head.namespace), .int(head.events))?
                    .text(0)
                if let problem = head.problem(found: hash, what: "the checkpoint signed \(record.signedAt)") { problems.append(problem) }
            }
            if problems.count == before { holding.append(.init(signedAt: record.signedAt, keyId: record.keyID)) }
        }
        for problem in CheckpointRules.unvouchedRedactions(redactions.all, checkpoints: records) {
            problems.append(.init(namespace: problem.namespace, sequence: problem.sequence, message: problem.message))
        }
        return holding
    }

    // MARK: Chains

    private struct ChainState {
        var expected: Int64 = 1
        var previousHash = EventChain.genesis
        var previousRecordedAt: Int64 = .min
        var broken = false
    }

    /// Walks the log in append order; within it, each namespace's events must follow each other in chain order.
    private func verifyChains(
        _ problems: inout [VerificationReport.Problem], redactions: RedactionIndex
    ) throws -> ([VerificationReport.Chain], Int64) {
        var states: [String: ChainState] = [:]
        var count: Int64 = 0
        try EventLogReplayer.forEachEvent(in: db, extraColumns: ", type, subject, supersedes") { row in
            count += 1
            guard let stored = try? StoredEvent(row: row) else {
                problems.append(
                    VerificationReport.Problem(namespace: row[1].text, sequence: row[2].int, message: "the stored event has a malformed digest"))
                return
            }
            var state = states[stored.namespace] ?? ChainState()
            defer { states[stored.namespace] = state }
            guard !state.broken else { return }
            if let problem = check(stored, columns: row.suffix(3).map(\.text), state: state, redactions: redactions) {
                problems.append(
                    VerificationReport.Problem(
                        namespace: stored.namespace, sequence: min(stored.namespaceSequence, state.expected), message: problem))
                state.broken = true
                return
            }
            state.expected = stored.namespaceSequence + 1
            state.previousHash = stored.chainHash
            state.previousRecordedAt = stored.recordedAt.microseconds
        }
        var chains: [VerificationReport.Chain] = []
        var headsSeen: Set<String> = []
        for head in try db.rows("SELECT namespace, ns_seq, chain_hash FROM chain_heads ORDER BY namespace") {
            let namespace = try head.text(0), headSequence = try head.int(1), headHash = try head.text(2)
            headsSeen.insert(namespace)
            let state = states[namespace] ?? ChainState()
            if !state.broken, headSequence != state.expected - 1 || headHash != state.previousHash {
                problems.append(
                    VerificationReport.Problem(
                        namespace: namespace, sequence: state.expected,
                        message:
                            "the chain head records \(headSequence) events ending in \(headHash), but the log holds \(state.expected - 1) ending in \(state.previousHash): events were removed or rewritten"
                    ))
            }
            chains.append(VerificationReport.Chain(namespace: namespace, events: headSequence, head: headHash))
        }
        for namespace in states.keys.sorted() where !headsSeen.contains(namespace) {
            problems.append(VerificationReport.Problem(namespace: namespace, sequence: nil, message: "events exist but the chain head is missing"))
        }
        return (chains, count)
    }

    /// The first thing wrong with one stored event, or nil.
    /// `columns`: the stored type, subject and supersedes, which must agree with the body.
    private func check(_ stored: StoredEvent, columns: [String?], state: ChainState, redactions: RedactionIndex) -> String? {
        let sequence = stored.namespaceSequence
        guard sequence == state.expected else {
            return "expected event #\(state.expected) next but found #\(sequence): events are missing or renumbered"
        }
        guard stored.previousHash == state.previousHash else {
            return "previous-hash \(stored.previousHash) does not match the chain hash of event #\(sequence - 1) (\(state.previousHash))"
        }
        let actualDigest = ContentDigest(hashing: Array(stored.body.utf8))
        guard redactions.accepts(stored, bodyDigest: actualDigest) else {
            return redactions.isRedacted(stored)
                ? "the stored event body hashes to \(actualDigest), neither the recorded \(stored.digest) nor what its redaction left: the event was altered"
                : "the stored event body hashes to \(actualDigest), not the recorded \(stored.digest): the event was altered"
        }
        let event: LineageEvent
        do {
            event = try LineageEvent(json: JSONValue.parse(stored.body))
        } catch {
            return "the stored event body no longer parses as an event: \(error)"
        }
        guard event.digest == actualDigest, event.namespace == stored.namespace else {
            return "the stored event body is not in canonical form or names another namespace"
        }
        guard columns == [event.typeName, event.subject, event.supersedes?.hex] else {
            return "the type, subject or supersedes column disagrees with the event body"
        }
        guard stored.recordedAt.microseconds >= state.previousRecordedAt else {
            return "recorded at \(stored.recordedAt), before event #\(sequence - 1)"
        }
        let expectedHash = EventChain.link(
            previous: stored.previousHash, namespace: stored.namespace, sequence: sequence, recordedAt: stored.recordedAt,
            recordedBy: stored.recordedBy, digest: stored.digest)
        guard expectedHash == stored.chainHash else {
            return "chain hash \(stored.chainHash) should be \(expectedHash): the sequence, time, namespace or recorder was altered"
        }
        return nil
    }

    // MARK: Projections

    /// Each table as rows in reference space (ids can differ), sorted, so a replay can be compared row by row.
    static let comparisons: [(table: String, sql: String)] = [
        ("nodes", "SELECT ref, kind, namespace, name, version, ordinal, digest, status, recorded_at, state FROM nodes ORDER BY ref"),
        (
            "edges",
            """
            SELECT s.ref, d.ref, e.role, e.recorded_at FROM edges e JOIN nodes s ON s.id = e.src JOIN nodes d ON d.id = e.dst
            ORDER BY s.ref, d.ref, e.role
            """
        ),
        (
            "deployments",
            """
            SELECT d.seq, e.ref, m.ref, d.valid_from, d.recorded_at, d.traffic
            FROM deployments d JOIN nodes e ON e.id = d.endpoint_node LEFT JOIN nodes m ON m.id = d.model_node ORDER BY d.seq
            """
        ),
        ("lines", "SELECT kind, namespace, name, recorded_at FROM lines ORDER BY kind, namespace, name"),
    ]

    private func verifyProjections(_ problems: inout [VerificationReport.Problem]) throws {
        let found = try scratch.withScratchProjections { replay -> [VerificationReport.Problem] in
            do {
                try EventLogReplayer.replay(from: db, into: replay)
            } catch let error as StoreError where error.code == .unavailable {
                throw error  // the database failed, not the log
            } catch {
                return [VerificationReport.Problem(namespace: nil, sequence: nil, message: "replaying the log failed: \(error)")]
            }
            var found: [VerificationReport.Problem] = []
            for comparison in Self.comparisons {
                let stored = try db.rows(comparison.sql), replayed = try replay.rows(comparison.sql)
                for i in 0..<max(stored.count, replayed.count) {
                    let a = i < stored.count ? stored[i] : nil, b = i < replayed.count ? replayed[i] : nil
                    if a == b { continue }
                    found.append(
                        VerificationReport.Problem(namespace: nil, sequence: nil, message: Self.describe(comparison.table, stored: a, replayed: b)))
                    break
                }
            }
            return found
        }
        problems += found
    }

    static func describe(_ table: String, stored: SQLRow?, replayed: SQLRow?) -> String {
        func text(_ row: SQLRow) -> String {
            row.map {
                switch $0 {
                case .null: "NULL"
                case .int(let n): String(n)
                case .text(let s): s
                }
            }.joined(separator: " | ")
        }
        switch (stored, replayed) {
        case (let s?, let r?): return "\(table) differ from a replay of the log: stored [\(text(s))], replay gives [\(text(r))]"
        case (let s?, nil): return "\(table) hold a row the log does not produce: [\(text(s))]"
        case (nil, let r?): return "\(table) lack a row the log produces: [\(text(r))]"
        default: return "\(table) differ"
        }
    }
}
