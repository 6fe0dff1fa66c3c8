import PedigreeCore

/// The audit of a model version and the inventory of every model line, each in one read transaction.
extension GraphReader {
    /// `trustedKey`: the checkpoint signer the auditor trusts (PEM); without it a checkpoint is checked
    /// against the key it names, and the report says so.
    /// `mayRead` limits what it shows of other namespaces (a server token's scope): their runs' records, their
    /// endpoints and their events.
    func audit(_ ref: ArtifactRef, trustedKey: TrustedKey?, now: Timestamp, mayRead: (String) -> Bool) throws -> AuditReport {
        let node = try resolve(ref)
        guard node.summary.kind == "model" else {
            throw StoreError(.invalid, "\(node.summary.ref) is a \(node.summary.kind); audits are of model versions", field: "ref")
        }
        let reference = Reference.artifact(
            ArtifactRef(kind: "model", namespace: node.summary.namespace, name: node.summary.name, version: node.summary.version))
        let detail = try self.detail(reference)
        let pedigree = try self.pedigree(reference, depth: nil).visible(to: mayRead)

        // The line's change log, version to version, up to this one.
        var changeLog: [AuditReport.VersionChange] = []
        let versions = try db.rows(
            """
            SELECT n.version, n.recorded_at FROM nodes n JOIN nodes me ON me.id = ?
            WHERE n.kind = me.kind AND n.namespace = me.namespace AND n.name = me.name AND n.ordinal <= me.ordinal AND n.recorded_at <= ?
            ORDER BY n.ordinal
            """, .int(node.id), .int(cutoff))
        var previous: ModelPedigree?
        for row in versions {
            let version = ArtifactRef(kind: "model", namespace: node.summary.namespace, name: node.summary.name, version: try row.optionalText(0))
            let current = version.version == node.summary.version ? pedigree : try self.pedigree(.artifact(version), depth: nil).visible(to: mayRead)
            if let previous {
                changeLog.append(.init(recordedAt: Timestamp(microseconds: try row.int(1)), diff: LineageDiff(previous, current)))
            }
            previous = current
        }

        // Where it served: each endpoint's periods from its first to the one that replaced it last.
        var deployments: [AuditReport.EndpointHistory] = []
        for row in try db.rows(
            "SELECT DISTINCT d.endpoint_node, e.ref, e.namespace FROM deployments d JOIN nodes e ON e.id = d.endpoint_node WHERE d.model_node = ? AND d.recorded_at <= ? ORDER BY e.ref",
            .int(node.id), .int(cutoff))
        where mayRead(try row.text(2)) {
            let periods = try history(endpointID: try row.int(0))
            let serving = periods.indices.filter { periods[$0].share(of: node.summary.ref) > 0 || periods[$0].model == node.summary.ref }
            guard let first = serving.first, let last = serving.last else { continue }
            deployments.append(.init(endpoint: try row.text(1), periods: Array(periods[first...min(last + 1, periods.count - 1)])))
        }
        let deploymentSequences = try db.rows(
            "SELECT d.seq, e.namespace FROM deployments d JOIN nodes e ON e.id = d.endpoint_node WHERE d.model_node = ? AND d.recorded_at <= ? ORDER BY d.seq",
            .int(node.id), .int(cutoff)
        ).filter { mayRead(try $0.text(1)) }.map { try $0.int(0) }

        // The events behind it: the version's and its runs' (as `show` lists them) and its deployments.
        var sequences = Set(deploymentSequences)
        for event in detail.events where mayRead(event.namespace) {
            if let seq = try db.int("SELECT seq FROM events WHERE namespace = ? AND ns_seq = ?", .text(event.namespace), .int(event.sequence)) {
                sequences.insert(seq)
            }
        }
        let events = try storedEvents(sequences: sequences.sorted())
        let checkpoints = try self.checkpoints(trustedKey: trustedKey)
        let integrity = try checkIntegrity(events, checkpoints: checkpoints)
        let declared = try self.declared(node.summary, state: detail.artifact)
        return AuditReport(
            AuditEvidence(
                detail: detail, pedigree: pedigree, owner: declared.owner ?? detail.events.first?.recordedBy, riskTier: declared.riskTier,
                asOf: asOf, generatedAt: now, integrity: integrity, changeLog: changeLog, deployments: deployments))
    }

    /// Every model line's latest version with its score, owner, risk tier, live endpoints and the last
    /// checkpoint covering it: the SR 11-7 inventory.
    func inventory(trustedKey: TrustedKey?, mayRead: (String) -> Bool) throws -> [InventoryEntry] {
        // The signed heads that still hold, by namespace: a version is verified as of the latest one at or
        // after its newest event.
        var heads: [String: [(events: Int64, signedAt: Timestamp)]] = [:]
        for checkpoint in try self.checkpoints(trustedKey: trustedKey) where checkpoint.problem == nil {
            for head in checkpoint.record.heads where try headStillMatches(head) {
                heads[head.namespace, default: []].append((head.events, checkpoint.record.signedAt))
            }
        }
        // What every endpoint serves now, by model version.
        var servingByModel: [String: [String]] = [:]
        for row in try db.rows("SELECT id, ref, namespace FROM nodes WHERE kind = 'deployment' AND recorded_at <= ? ORDER BY ref", .int(cutoff))
        where mayRead(try row.text(2)) {
            let (state, _) = try currentServing(endpointID: try row.int(0))
            for share in state.shares { servingByModel[share.model, default: []].append(try row.text(1)) }
        }
        var entries: [InventoryEntry] = []
        let lines = try db.rows(
            """
            SELECT n.namespace, n.name, count(*), max(n.ordinal) FROM nodes n
            WHERE n.kind = 'model' AND n.recorded_at <= ? GROUP BY n.namespace, n.name ORDER BY n.namespace, n.name
            """, .int(cutoff))
        for line in lines {
            let namespace = try line.text(0), name = try line.text(1)
            guard mayRead(namespace),
                let latest = try fetchNode(
                    "SELECT \(GraphNode.columns) FROM nodes n WHERE n.kind = 'model' AND n.namespace = ? AND n.name = ? AND n.ordinal = ?",
                    .text(namespace), .text(name), .int(try line.int(3)))
            else { continue }
            let s = latest.summary
            let versionRefs = try db.texts(
                "SELECT ref FROM nodes WHERE kind = 'model' AND namespace = ? AND name = ? AND recorded_at <= ?", .text(namespace), .text(name),
                .int(cutoff))
            let state = try db.row("SELECT state FROM nodes WHERE id = ?", .int(latest.id))?.optionalText(0)
            let declared = try self.declared(
                s, state: try state.map { try ArtifactSpec(json: JSONValue.parse($0), path: "artifact", defaultNamespace: namespace) })
            let pedigree = try self.pedigree(.artifact(ArtifactRef(kind: "model", namespace: namespace, name: name, version: s.version)), depth: nil)
                .visible(to: mayRead)
            // The version's own record: the run that generated it, else the line's registrations.
            let lineRef = ArtifactRef(kind: "model", namespace: namespace, name: name).description
            // By subject alone, so the subject index answers (a namespace condition lets SQLite pick the
            // namespace's index and scan all of it, per line).
            let record = try db.rows(
                "SELECT namespace, ns_seq, recorded_by FROM events WHERE subject IN (?, ?) AND recorded_at <= ? ORDER BY seq",
                .text(pedigree.run.map { "run:\($0.id)" } ?? lineRef), .text(lineRef), .int(cutoff)
            ).filter { try $0.text(0) == namespace }
            // Without a declared owner, whoever recorded it first.
            let recorder = try record.first?.text(2)
            let newest = try record.map { try $0.int(1) }.max() ?? Int64.max
            let lastCheckpoint = heads[namespace]?.filter { $0.events >= newest }.map(\.signedAt).max()
            entries.append(
                InventoryEntry(
                    model: s, versions: Int(try line.int(2)), owner: declared.owner ?? recorder, riskTier: declared.riskTier,
                    score: InventoryEntry.score(pedigree),
                    serving: versionRefs.flatMap { servingByModel[$0] ?? [] }.sorted(), lastCheckpoint: lastCheckpoint,
                    retired: s.status == Projector.retired))
        }
        return entries
    }

    /// The owner and risk tier declared for a version: in the latest of its registrations that names them
    /// (registering the version again with `{"owner": …, "riskTier": …}` facets declares them later), else
    /// in its first registration.
    func declared(_ version: NodeSummary, state: ArtifactSpec?) throws -> (owner: String?, riskTier: String?) {
        var owner: String?, riskTier: String?
        for row in try db.rows(
            "SELECT body FROM events WHERE subject = ? AND type = 'artifact' AND recorded_at <= ? ORDER BY seq DESC",
            .text(ArtifactRef(kind: version.kind, namespace: version.namespace, name: version.name).description),
            .int(cutoff))
        {
            guard case .artifact(let spec)? = try? LineageEvent(json: JSONValue.parse(try row.text(0))).payload, spec.ref.version == version.version
            else { continue }
            owner = owner ?? AuditEvidence.declared("owner", in: spec)
            riskTier = riskTier ?? AuditEvidence.declared("riskTier", in: spec)
            if owner != nil, riskTier != nil { break }
        }
        return (owner ?? AuditEvidence.declared("owner", in: state), riskTier ?? AuditEvidence.declared("riskTier", in: state))
    }

    // MARK: Integrity of the events involved

    private func storedEvents(sequences: [Int64]) throws -> [(StoredEvent, String)] {
        var out: [(StoredEvent, String)] = []
        for start in stride(from: 0, to: sequences.count, by: 500) {
            let chunk = sequences[start..<min(start + 500, sequences.count)]
            let placeholders = chunk.map { _ in "?" }.joined(separator: ", ")
            out += try db.rows(
                "SELECT \(StoredEvent.columns), type FROM events WHERE seq IN (\(placeholders)) ORDER BY seq", chunk.map { SQLValue.int($0) }
            ).map { (try StoredEvent(row: $0), try $0.text(9)) }
        }
        return out
    }

    struct ParsedCheckpoint {
        let record: CheckpointRecord
        /// Why its signature is not accepted, or nil.
        let problem: String?
        let trusted: Bool
    }

    /// Every checkpoint recorded by the cut-off, with its signature checked.
    func checkpoints(trustedKey: TrustedKey?) throws -> [ParsedCheckpoint] {
        try db.rows(
            "SELECT body FROM events WHERE namespace = ? AND type = 'checkpoint' AND recorded_at <= ? ORDER BY seq",
            .text(CheckpointRecord.namespace),
            .int(cutoff)
        ).compactMap { row in
            guard case .checkpoint(let record) = try LineageEvent(json: JSONValue.parse(try row.text(0))).payload else { return nil }
            return ParsedCheckpoint(record: record, problem: record.signatureProblem(trusting: trustedKey), trusted: trustedKey != nil)
        }
    }

    /// Whether the event a checkpoint signed as a chain's head is still there with that hash.
    private func headStillMatches(_ head: CheckpointRecord.Head) throws -> Bool {
        try db.row("SELECT chain_hash FROM events WHERE namespace = ? AND ns_seq = ?", .text(head.namespace), .int(head.events))?.text(0) == head.head
    }

    /// Each event checked: its body against its digest, and every link of its chain from it to the head.
    private func checkIntegrity(_ events: [(StoredEvent, String)], checkpoints: [ParsedCheckpoint]) throws -> AuditReport.Integrity {
        var brokenAt: [String: (sequence: Int64, problem: String)] = [:]
        let redactions = try RedactionIndex(db, namespaces: Set(events.map(\.0.namespace)))
        for namespace in Set(events.map(\.0.namespace)) {
            let positions = events.filter { $0.0.namespace == namespace }.map(\.0.namespaceSequence)
            // A head signed with the pinned key and still in the chain vouches for everything before it: the walk
            // can stop there instead of at the chain's head.
            var stop: Int64?
            for checkpoint in checkpoints where checkpoint.trusted && checkpoint.problem == nil {
                guard let head = checkpoint.record.heads.first(where: { $0.namespace == namespace }), head.events >= positions.max()!,
                    head.events < stop ?? .max, try headStillMatches(head)
                else { continue }
                stop = head.events
            }
            if let problem = try latestBreak(namespace: namespace, from: positions.min()!, through: stop, redactions: redactions) {
                brokenAt[namespace] = problem
            }
        }
        var checkpointProblems: [String] = []
        var valid: [ParsedCheckpoint] = []
        let namespaces = Set(events.map(\.0.namespace))
        for checkpoint in checkpoints {
            if let problem = checkpoint.problem {
                checkpointProblems.append("the checkpoint signed \(checkpoint.record.signedAt) is not accepted: \(problem)")
                continue
            }
            var intact = true
            for head in checkpoint.record.heads where namespaces.contains(head.namespace) {
                guard try !headStillMatches(head) else { continue }
                intact = false
                checkpointProblems.append(
                    "namespace \(head.namespace), event #\(head.events): the checkpoint signed \(checkpoint.record.signedAt) holds head \(head.head), which is no longer in the chain: history was rewritten or truncated after it"
                )
            }
            if intact { valid.append(checkpoint) }
        }
        // A redaction after a checkpoint over its event must be signed with the checkpoint's key; otherwise
        // the checkpoint says nothing about the event's body.
        var uncovered: Set<String> = []
        for problem in CheckpointRules.unvouchedRedactions(redactions.all, checkpoints: valid.map(\.record))
        where events.contains(where: { $0.0.namespace == problem.namespace && $0.0.namespaceSequence == problem.sequence }) {
            uncovered.insert("\(problem.namespace)#\(problem.sequence)")
            checkpointProblems.append("namespace \(problem.namespace), event #\(problem.sequence) \(problem.message)")
        }
        let checks = events.map { stored, type -> AuditReport.EventCheck in
            let problem: String?
            if let broken = brokenAt[stored.namespace], broken.sequence >= stored.namespaceSequence {
                problem = "namespace \(stored.namespace), event #\(broken.sequence): \(broken.problem)"
            } else {
                problem = nil
            }
            let cover = valid.compactMap { checkpoint -> AuditReport.CheckpointCover? in
                guard let head = checkpoint.record.heads.first(where: { $0.namespace == stored.namespace }), head.events >= stored.namespaceSequence
                else { return nil }
                return .init(
                    signedAt: checkpoint.record.signedAt, keyId: checkpoint.record.keyID, events: head.events, trustedKey: checkpoint.trusted)
            }.first
            return AuditReport.EventCheck(
                digest: stored.digest.description, namespace: stored.namespace, sequence: stored.namespaceSequence, type: type,
                recordedAt: stored.recordedAt, recordedBy: stored.recordedBy, chainHash: stored.chainHash, verified: problem == nil, problem: problem,
                checkpoint: problem == nil && !uncovered.contains("\(stored.namespace)#\(stored.namespaceSequence)") ? cover : nil)
        }
        let signatures = events.compactMap { stored, type -> AuditReport.Signature? in
            guard type == "signature", case .signature(let record)? = try? LineageEvent(json: JSONValue.parse(stored.body)).payload else {
                return nil
            }
            return AuditReport.Signature(record, recordedBy: stored.recordedBy, event: stored.digest)
        }
        var removed: [AuditReport.Redaction] = []
        for (stored, _) in events {
            for row in try db.rows(
                "SELECT body, recorded_by, recorded_at, digest FROM events WHERE namespace = ? AND subject = ? AND type = 'redaction' ORDER BY seq",
                .text(stored.namespace), .text("event:\(stored.namespace)#\(stored.namespaceSequence)"))
            {
                guard case .redaction(let record)? = try? LineageEvent(json: JSONValue.parse(try row.text(0))).payload else { continue }
                removed.append(
                    AuditReport.Redaction(
                        event: stored.digest.description, fields: record.fields, reason: record.reason, by: try row.text(1),
                        at: Timestamp(microseconds: try row.int(2)), redaction: "sha256:" + (try row.text(3))))
            }
        }
        return AuditReport.Integrity(events: checks, checkpointProblems: checkpointProblems, signatures: signatures, redactions: removed)
    }

    /// The last broken link of a namespace's chain from event `first` to its head, if any: an event whose
    /// body, previous hash or chain hash does not check, or a head that the log does not end in.
    /// `through`: a signed head to stop at (nil: the chain's head).
    private func latestBreak(
        namespace: String, from first: Int64, through stop: Int64?, redactions: RedactionIndex
    ) throws -> (
        sequence: Int64, problem: String
    )? {
        var previous =
            first == 1
            ? EventChain.genesis
            : try db.row("SELECT chain_hash FROM events WHERE namespace = ? AND ns_seq = ?", .text(namespace), .int(first - 1))?.text(0)
                ?? "missing"
        var expected = first
        var broken: (Int64, String)?
        var after = first - 1
        while true {
            let page = try db.rows(
                "SELECT \(StoredEvent.columns) FROM events WHERE namespace = ? AND ns_seq > ? AND ns_seq <= ? ORDER BY ns_seq LIMIT 5000",
                .text(namespace), .int(after), .int(stop ?? .max))
            for row in page {
                let event = try StoredEvent(row: row)
                let digest = ContentDigest(hashing: Array(event.body.utf8))
                let link = EventChain.link(
                    previous: event.previousHash, namespace: namespace, sequence: event.namespaceSequence, recordedAt: event.recordedAt,
                    recordedBy: event.recordedBy, digest: event.digest)
                if event.namespaceSequence != expected {
                    broken = (expected, "events are missing or renumbered")
                } else if !redactions.accepts(event, bodyDigest: digest) {
                    broken = (event.namespaceSequence, "the stored body hashes to \(digest), not the recorded \(event.digest): the event was altered")
                } else if event.previousHash != previous {
                    broken = (event.namespaceSequence, "its previous hash does not match the event before it")
                } else if link != event.chainHash {
                    broken = (event.namespaceSequence, "its chain hash does not recompute: its sequence, time, namespace or recorder was altered")
                }
                previous = event.chainHash
                expected = event.namespaceSequence + 1
                after = event.namespaceSequence
            }
            if page.count < 5000 { break }
        }
        if let stop {
            // The walk ended at the signed head: the event there must be the last one walked.
            if expected - 1 != stop { broken = (expected, "events are missing before the signed head #\(stop)") }
            return broken
        }
        let head = try db.row("SELECT ns_seq, chain_hash FROM chain_heads WHERE namespace = ?", .text(namespace))
        if let head, try head.int(0) != expected - 1 || head.text(1) != previous {
            broken = (
                max(expected - 1, 1),
                "the chain head records \(try head.int(0)) events, the log holds \(expected - 1): events were removed or rewritten"
            )
        }
        return broken
    }
}
