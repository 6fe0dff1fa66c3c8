import PedigreeCore

/// Projects events into the graph tables. Used for every append and, unchanged, for rebuilds and for the
/// fresh replay `verify` compares against, so the projections are by construction a function of the log.
struct Projector {
    /// The projection tables, which `rebuild` empties and replays into.
    static let tables = ["nodes", "edges", "deployments", "lines"]

    /// Where the projections are written.
    let db: any SQLSession
    /// Where the event log is read, for corrections: the same database, except when `verify` replays the
    /// log into a scratch database.
    let log: any SQLSession
    /// Node ids by canonical reference, for the life of one transaction.
    private var nodeIDs: [String: Int64] = [:]
    /// Run nodes' ids and namespaces by reference, for the life of one transaction.
    private var runNodes: [String: (id: Int64, namespace: String)] = [:]
    /// References looked up in advance (`prefetch`) and not stored: lookups of them skip the database.
    private var absent: Set<String> = []
    /// The largest ordinal of each artifact's versions, once looked up, by unversioned reference.
    private var maxOrdinals: [String: Int64] = [:]
    private var artifacts: [String: KnownArtifact] = [:]
    /// Checked whenever a new artifact version would be created.
    var authority = WriteAuthority.unrestricted

    init(db: any SQLSession, log: any SQLSession) {
        self.db = db
        self.log = log
    }

    mutating func apply(_ event: LineageEvent, sequence: Int64, recordedAt: Timestamp) throws {
        if let superseded = event.supersedes {
            try applyCorrection(event, superseded: superseded, sequence: sequence, recordedAt: recordedAt)
            return
        }
        switch event.payload {
        case .run(let run): try applyRun(run, namespace: event.namespace, recordedAt: recordedAt)
        case .artifact(let spec): try registerArtifact(spec, recordedAt: recordedAt, correcting: false)
        case .deployment(let deployment):
            try applyDeployment(deployment, namespace: event.namespace, sequence: sequence, recordedAt: recordedAt)
        case .retirement(let retirement): try applyRetirement(retirement)
        // A checkpoint changes no graph: it is evidence about the log, read from the log.
        case .checkpoint: break
        // A signature is about a version that must exist; `show` and the audit read it from the log.
        case .signature(let signature): _ = try existingArtifact(signature.model, field: "signature.model")
        // A redaction names an event of its namespace that precedes it; the body it vouches for is checked by
        // the redaction itself (`SQLStore.redact`) and by `verify`.
        case .redaction(let redaction):
            guard
                try log.row(
                    "SELECT 1 FROM events WHERE namespace = ? AND ns_seq = ? AND digest = ? AND seq < ?", .text(event.namespace),
                    .int(redaction.sequence), .text(redaction.digest.hex), .int(sequence)) != nil
            else {
                throw StoreError(
                    .notFound, "no event #\(redaction.sequence) with digest \(redaction.digest) in namespace \(event.namespace) to redact",
                    field: "redaction.event")
            }
        }
    }

    // MARK: Runs

    /// Runs keep no folded copy of themselves: their five dimensions are folded from their events when read
    /// (`RunFold`), which is also how `--as-of` sees them. Only what graph walks list is kept here.
    private mutating func applyRun(_ run: RunRecord, namespace: String, recordedAt: Timestamp) throws {
        let ref = "run:\(run.id)"
        let runID: Int64
        if let (id, existingNamespace) = try runNode(ref) {
            guard existingNamespace == namespace else {
                throw StoreError(
                    .conflict, "run \(run.id) belongs to another namespace; a run's events must all use the namespace of its first event",
                    field: "namespace")
            }
            runID = id
            try db.execute(
                "UPDATE nodes SET name = ?, status = coalesce(?, status) WHERE id = ?", .text(run.job), .init(run.status?.rawValue), .int(runID))
        } else {
            runID = try insertNode(
                ref: ref, kind: "run", namespace: namespace, name: run.job, version: nil, ordinal: nil, digest: nil,
                status: run.status?.rawValue, recordedAt: recordedAt, state: nil)
            runNodes[ref] = (runID, namespace)
        }
        try addRunEdges(run, runID: runID, recordedAt: recordedAt)
    }

    private mutating func addRunEdges(_ run: RunRecord, runID: Int64, recordedAt: Timestamp) throws {
        for use in run.inputs {
            let input = try resolveArtifact(use.artifact, generatedBy: nil, recordedAt: recordedAt)
            try addEdge(from: input, to: runID, role: use.role, recordedAt: recordedAt)
        }
        for parent in run.parents {
            let model = try resolveArtifact(ArtifactSpec(ref: parent), generatedBy: nil, recordedAt: recordedAt)
            try addEdge(from: model, to: runID, role: "base-model", recordedAt: recordedAt)
        }
        for use in run.outputs {
            // Claiming to have generated an artifact is writing to its namespace.
            try requireAuthority(use.artifact.ref.namespace, use.artifact.ref.description, "record a run as generating")
            let output = try resolveArtifact(use.artifact, generatedBy: runID, recordedAt: recordedAt)
            try addEdge(from: runID, to: output, role: use.role, recordedAt: recordedAt)
        }
    }

    // MARK: Artifacts

    /// Finds or creates the node of an artifact version:
    /// an explicit version is that version; else the version with the same digest; else, for an output, the
    /// version this run already generated; for an input, the latest version; else a new integer version.
    private mutating func resolveArtifact(_ spec: ArtifactSpec, generatedBy run: Int64?, recordedAt: Timestamp) throws -> Int64 {
        let ref = spec.ref
        if ref.version != nil {
            return try registerArtifact(spec, recordedAt: recordedAt, correcting: false)
        }
        if let digest = spec.digest,
            let id = try db.int(
                "SELECT id FROM nodes WHERE digest = ? AND kind = ? AND namespace = ? AND name = ? ORDER BY ordinal LIMIT 1",
                .text(digest.description), .text(ref.kind), .text(ref.namespace), .text(ref.name))
        {
            return id
        }
        if spec.digest == nil {
            let existing: Int64?
            if let run {
                existing = try db.int(
                    """
                    SELECT n.id FROM edges e JOIN nodes n ON n.id = e.dst
                    WHERE e.src = ? AND n.kind = ? AND n.namespace = ? AND n.name = ? ORDER BY n.ordinal DESC LIMIT 1
                    """, .int(run), .text(ref.kind), .text(ref.namespace), .text(ref.name))
            } else {
                existing = try db.int(
                    "SELECT id FROM nodes WHERE kind = ? AND namespace = ? AND name = ? ORDER BY ordinal DESC LIMIT 1",
                    .text(ref.kind), .text(ref.namespace), .text(ref.name))
            }
            if let existing { return existing }
        }
        var versioned = spec
        versioned.ref.version = try nextVersionName(ref)
        return try registerArtifact(versioned, recordedAt: recordedAt, correcting: false)
    }

    /// Registers an explicit artifact version. A version's content never changes: registering it again with
    /// another digest is a conflict unless the event is a correction.
    @discardableResult
    private mutating func registerArtifact(_ spec: ArtifactSpec, recordedAt: Timestamp, correcting: Bool) throws -> Int64 {
        guard spec.ref.version != nil else {
            return try resolveArtifact(spec, generatedBy: nil, recordedAt: recordedAt)
        }
        let ref = spec.ref.description
        if let known = try knownArtifact(ref) {
            let newDigest = spec.digest?.description
            if let storedDigest = known.digest, let newDigest, storedDigest != newDigest, !correcting {
                throw StoreError(
                    .conflict,
                    "\(ref) is registered with digest \(storedDigest), not \(newDigest); a version's content cannot change: register a new version, or send a correction event with \"supersedes\"",
                    field: "digest")
            }
            let learnsDigest = known.digest == nil && newDigest != nil
            let learnsMetadata = !known.hasState && !spec.isBare
            if correcting || learnsDigest || learnsMetadata {
                try requireAuthority(spec.ref.namespace, ref, "change what is registered about")
                let state = spec.isBare ? nil : spec.json.canonicalString
                try db.execute("UPDATE nodes SET digest = ?, state = ? WHERE id = ?", .init(newDigest ?? known.digest), .init(state), .int(known.id))
                artifacts[ref] = KnownArtifact(id: known.id, digest: newDigest ?? known.digest, hasState: state != nil)
            }
            return known.id
        }
        try requireAuthority(spec.ref.namespace, ref, "register")
        let state = spec.isBare ? nil : spec.json.canonicalString
        let id = try insertNode(
            ref: ref, kind: spec.ref.kind, namespace: spec.ref.namespace, name: spec.ref.name, version: spec.ref.version,
            ordinal: try nextOrdinal(spec.ref), digest: spec.digest?.description, status: nil, recordedAt: recordedAt, state: state)
        artifacts[ref] = KnownArtifact(id: id, digest: spec.digest?.description, hasState: state != nil)
        return id
    }

    /// What the projection holds about an artifact version, cached for the transaction: inputs name the
    /// same few versions over and over.
    private struct KnownArtifact {
        let id: Int64
        let digest: String?
        let hasState: Bool
    }

    private mutating func knownArtifact(_ ref: String) throws -> KnownArtifact? {
        if let known = artifacts[ref] { return known }
        if absent.contains(ref) { return nil }
        guard let row = try db.row("SELECT id, digest, CASE WHEN state IS NULL THEN 0 ELSE 1 END FROM nodes WHERE ref = ?", .text(ref))
        else { return nil }
        let known = KnownArtifact(id: try row.int(0), digest: row.optionalText(1), hasState: try row.int(2) == 1)
        artifacts[ref] = known
        return known
    }

    /// Writes to another team's namespace — new versions, changed digests or details, generating edges —
    /// need the writer's authority there; referencing what exists does not.
    private func requireAuthority(_ namespace: String, _ ref: String, _ action: String) throws {
        guard authority.mayWrite(namespace) else {
            throw StoreError(
                .forbidden,
                "this writer may not \(action) \(ref): namespace \(namespace) belongs to another team; reference an existing version instead",
                field: "namespace")
        }
    }

    private mutating func nextOrdinal(_ ref: ArtifactRef) throws -> Int64 {
        let key = ref.unversioned.description
        if let max = maxOrdinals[key] { return max + 1 }
        let max = try db.int(
            "SELECT max(ordinal) FROM nodes WHERE kind = ? AND namespace = ? AND name = ?", .text(ref.kind), .text(ref.namespace), .text(ref.name))
        maxOrdinals[key] = max ?? 0
        return (max ?? 0) + 1
    }

    /// Automatic versions are 1, 2, 3, … in registration order, skipping names already taken explicitly.
    private mutating func nextVersionName(_ ref: ArtifactRef) throws -> String {
        var candidate = try nextOrdinal(ref)
        while try db.row(
            "SELECT 1 FROM nodes WHERE ref = ?",
            .text(ArtifactRef(kind: ref.kind, namespace: ref.namespace, name: ref.name, version: String(candidate)).description)) != nil
        {
            candidate += 1
        }
        return String(candidate)
    }

    // MARK: Deployments

    private mutating func applyDeployment(_ deployment: DeploymentRecord, namespace: String, sequence: Int64, recordedAt: Timestamp) throws {
        let endpointRef = Reference.deployment(namespace: namespace, endpoint: deployment.endpoint).description
        var model: Int64?
        if let ref = deployment.model {
            let id = try existingArtifact(ref, field: "deployment.model")
            // Any deployment recorded after the retirement needs `force`, backdated or not: otherwise a
            // deployment dated a second before it would keep a retired version serving with nothing in the trail.
            if !deployment.force, let retirement = try retirement(of: id, before: sequence) {
                throw StoreError(
                    .conflict,
                    "\(retirement.model) was retired at \(retirement.validFrom) (\(retirement.reason)) and cannot be deployed; deploy it anyway with --force (\"force\": true), which the trail records",
                    field: "deployment.model")
            }
            model = id
        }
        let existing = try nodeID(ref: endpointRef)
        try checkTransition(deployment, endpoint: existing, endpointRef: endpointRef, model: model)
        let endpoint =
            try existing
            ?? insertNode(
                ref: endpointRef, kind: "deployment", namespace: namespace, name: deployment.endpoint, version: nil, ordinal: nil,
                digest: nil, status: nil, recordedAt: recordedAt, state: nil)
        try db.execute(
            "INSERT INTO deployments(seq, endpoint_node, model_node, valid_from, recorded_at, traffic) VALUES (?, ?, ?, ?, ?, ?)",
            .int(sequence), .int(endpoint), .init(model), .int(deployment.validFrom.microseconds), .int(recordedAt.microseconds),
            .init(deployment.traffic.map(Int64.init)))
        if let model { try addEdge(from: model, to: endpoint, role: "deployed", recordedAt: recordedAt) }
    }

    /// A canary needs another model serving beside it, and an undeploy something to end, at the deployment's
    /// valid time (by what the endpoint's history holds when it is recorded).
    private func checkTransition(_ deployment: DeploymentRecord, endpoint: Int64?, endpointRef: String, model: Int64?) throws {
        guard deployment.traffic != nil || deployment.action == .undeploy else { return }
        let state =
            try endpoint.map { try GraphReader.serving(db, endpointID: $0, validThrough: deployment.validFrom.microseconds).0 } ?? ServingState()
        if deployment.action == .undeploy {
            guard !state.shares.isEmpty else {
                throw StoreError(
                    .invalid, "\(endpointRef) serves nothing at \(deployment.validFrom): there is nothing to undeploy", field: "deployment")
            }
        } else if let model {
            guard let stable = state.stable else {
                throw StoreError(
                    .invalid,
                    "\(endpointRef) serves nothing at \(deployment.validFrom), so a canary has no model to share traffic with; deploy without a traffic share first",
                    field: "deployment.traffic")
            }
            guard stable != (try db.row("SELECT ref FROM nodes WHERE id = ?", .int(model))?.text(0)) else {
                throw StoreError(
                    .invalid,
                    "\(stable) already has the rest of \(endpointRef)'s traffic; a canary is another version (to end a canary, deploy this one without a share)",
                    field: "deployment.traffic")
            }
        }
    }

    /// The status a retired model version's node has.
    static let retired = "RETIRED"

    private mutating func applyRetirement(_ retirement: RetirementRecord) throws {
        let id = try existingArtifact(retirement.model, field: "retirement.model")
        if try db.row("SELECT 1 FROM nodes WHERE id = ? AND status = ?", .int(id), .text(Self.retired)) != nil {
            throw StoreError(.conflict, "\(retirement.model) is already retired", field: "retirement.model")
        }
        try db.execute("UPDATE nodes SET status = ? WHERE id = ?", .text(Self.retired), .int(id))
    }

    /// The retirement of a retired version, from the log as it stood before event `sequence` (so a replay
    /// decides exactly as the original append did).
    private func retirement(of model: Int64, before sequence: Int64) throws -> RetirementRecord? {
        guard let ref = try db.row("SELECT ref FROM nodes WHERE id = ? AND status = ?", .int(model), .text(Self.retired))?.text(0),
            let body = try log.row(
                "SELECT body FROM events WHERE subject = ? AND type = 'retirement' AND seq < ? ORDER BY seq DESC LIMIT 1", .text(ref),
                .int(sequence))?.text(0),
            case .retirement(let record) = try LineageEvent(json: JSONValue.parse(body)).payload
        else { return nil }
        return record
    }

    private func existingArtifact(_ ref: ArtifactRef, field: String) throws -> Int64 {
        let id: Int64?
        if ref.version != nil {
            id = try db.int("SELECT id FROM nodes WHERE ref = ?", .text(ref.description))
        } else {
            id = try db.int(
                "SELECT id FROM nodes WHERE kind = ? AND namespace = ? AND name = ? ORDER BY ordinal DESC LIMIT 1",
                .text(ref.kind), .text(ref.namespace), .text(ref.name))
        }
        guard let id else { throw StoreError(.notFound, "\(ref) is not registered; record the model version first", field: field) }
        return id
    }

    // MARK: Corrections

    /// A correction replaces the contribution of the event it supersedes: the subject's projection is
    /// recomputed from its events, leaving out every superseded one.
    private mutating func applyCorrection(_ event: LineageEvent, superseded: ContentDigest, sequence: Int64, recordedAt: Timestamp) throws {
        switch event.payload {
        case .artifact(let spec):
            guard spec.ref.version != nil else {
                throw StoreError(.invalid, "a correction of an artifact must name the version it corrects", field: "artifact.version")
            }
            try registerArtifact(spec, recordedAt: recordedAt, correcting: true)
        case .deployment(let deployment):
            let endpointRef = Reference.deployment(namespace: event.namespace, endpoint: deployment.endpoint).description
            let supersededSequence = try log.int(
                "SELECT seq FROM events WHERE namespace = ? AND digest = ?", .text(event.namespace), .text(superseded.hex))
            try db.execute("DELETE FROM deployments WHERE seq = ?", .init(supersededSequence))
            if let endpoint = try nodeID(ref: endpointRef) {
                try db.execute("DELETE FROM edges WHERE dst = ?", .int(endpoint))
                try db.execute(
                    """
                    INSERT INTO edges(src, dst, role, recorded_at)
                    SELECT model_node, endpoint_node, 'deployed', min(recorded_at) FROM deployments WHERE endpoint_node = ? AND model_node IS NOT NULL
                    GROUP BY model_node, endpoint_node
                    ON CONFLICT DO NOTHING
                    """, .int(endpoint))
            }
            try applyDeployment(deployment, namespace: event.namespace, sequence: sequence, recordedAt: recordedAt)
        case .retirement:
            throw StoreError(
                .invalid, "a retirement is final and cannot be corrected; deploy the version with --force if it must serve again",
                field: "supersedes")
        case .checkpoint, .signature, .redaction:
            throw StoreError(
                .invalid, "a \(event.typeName) is evidence as it was observed and cannot be corrected; record a new one", field: "supersedes")
        case .run(let run):
            let ref = "run:\(run.id)"
            guard let runID = try nodeID(ref: ref) else {
                throw StoreError(.notFound, "\(ref) has no events to correct", field: "supersedes")
            }
            // The run's edges stay while its remaining events are re-applied, so an output without version or
            // digest resolves to the version the run already generated instead of minting a new one; edges
            // only the superseded events contributed are removed afterwards.
            let previous = try db.rows("SELECT src, dst, role FROM edges WHERE src = ? OR dst = ?", .int(runID), .int(runID))
                .map { EdgeKey(src: try $0.int(0), dst: try $0.int(1), role: try $0.text(2)) }
            touchedEdges = []
            defer { touchedEdges = nil }
            // Only events up to this one: during a replay the log already holds later events.
            let rows = try log.rows(
                "SELECT digest, body, supersedes FROM events WHERE subject = ? AND seq <= ? ORDER BY seq", .text(ref), .int(sequence))
            let parts = try RunFold.effectiveParts(rows)
            for part in parts {
                try addRunEdges(
                    part.run, runID: runID, recordedAt: Timestamp(microseconds: try recordedTime(ofDigest: part.digest, namespace: event.namespace)))
            }
            for edge in previous where !(touchedEdges ?? []).contains(edge) {
                try db.execute("DELETE FROM edges WHERE src = ? AND dst = ? AND role = ?", .int(edge.src), .int(edge.dst), .text(edge.role))
            }
            guard let folded = RunFold.fold(parts.map(\.run)) else { return }
            try db.execute("UPDATE nodes SET name = ?, status = ? WHERE id = ?", .text(folded.job), .init(folded.status?.rawValue), .int(runID))
        }
    }

    private func recordedTime(ofDigest digest: String, namespace: String) throws -> Int64 {
        try log.int("SELECT recorded_at FROM events WHERE namespace = ? AND digest = ?", .text(namespace), .text(digest)) ?? 0
    }

    // MARK: Nodes and edges

    private mutating func nodeID(ref: String) throws -> Int64? {
        if let id = nodeIDs[ref] { return id }
        if absent.contains(ref) { return nil }
        let id = try db.int("SELECT id FROM nodes WHERE ref = ?", .text(ref))
        if let id { nodeIDs[ref] = id }
        return id
    }

    private mutating func insertNode(
        ref: String, kind: String, namespace: String, name: String, version: String?, ordinal: Int64?, digest: String?,
        status: String?, recordedAt: Timestamp, state: String?
    ) throws -> Int64 {
        let id = try db.insertNode([
            .text(ref), .text(kind), .text(namespace), .text(name), .init(version), .init(ordinal), .init(digest), .init(status),
            .int(recordedAt.microseconds), .init(state),
        ])
        nodeIDs[ref] = id
        absent.remove(ref)
        if kind != "run" {
            try db.insert(into: .lines, [.text(kind), .text(namespace), .text(name), .int(recordedAt.microseconds)])
        }
        if let ordinal {
            let key = ArtifactRef(kind: kind, namespace: namespace, name: name).description
            if let max = maxOrdinals[key] { maxOrdinals[key] = Swift.max(max, ordinal) }
        }
        return id
    }

    private mutating func runNode(_ ref: String) throws -> (id: Int64, namespace: String)? {
        if let node = runNodes[ref] { return node }
        if absent.contains(ref) { return nil }
        guard let row = try db.row("SELECT id, namespace FROM nodes WHERE ref = ?", .text(ref)) else { return nil }
        let node = (id: try row.int(0), namespace: try row.text(1))
        runNodes[ref] = node
        return node
    }

    /// Looks up at once the stored nodes these events name by full reference (runs, versioned artifacts,
    /// endpoints), so projecting a batch does not ask the database about each one — a round trip each on
    /// PostgreSQL.
    mutating func prefetch(_ events: [LineageEvent]) throws {
        var refs: Set<String> = []
        for event in events {
            switch event.payload {
            case .run(let run):
                refs.insert("run:\(run.id)")
                let artifacts = (run.inputs + run.outputs).map(\.artifact.ref) + run.parents
                refs.formUnion(artifacts.filter { $0.version != nil }.map(\.description))
            case .artifact(let spec):
                if spec.ref.version != nil { refs.insert(spec.ref.description) }
            case .deployment(let deployment):
                refs.insert(Reference.deployment(namespace: event.namespace, endpoint: deployment.endpoint).description)
                if let model = deployment.model, model.version != nil { refs.insert(model.description) }
            case .retirement(let retirement): refs.insert(retirement.model.description)
            case .signature(let signature): refs.insert(signature.model.description)
            case .checkpoint, .redaction: break
            }
        }
        let unknown = Array(refs.filter { nodeIDs[$0] == nil && !absent.contains($0) })
        for start in stride(from: 0, to: unknown.count, by: 500) {
            let chunk = unknown[start..<min(start + 500, unknown.count)]
            var found: Set<String> = []
            let placeholders = chunk.map { _ in "?" }.joined(separator: ", ")
            for row in try db.rows(
                "SELECT id, ref, kind, namespace, digest, CASE WHEN state IS NULL THEN 0 ELSE 1 END FROM nodes WHERE ref IN (\(placeholders))",
                chunk.map(SQLValue.text))
            {
                let id = try row.int(0), ref = try row.text(1), kind = try row.text(2)
                found.insert(ref)
                nodeIDs[ref] = id
                switch kind {
                case "run": runNodes[ref] = (id, try row.text(3))
                case "deployment": break
                default: artifacts[ref] = KnownArtifact(id: id, digest: row.optionalText(4), hasState: try row.int(5) == 1)
                }
            }
            absent.formUnion(Set(chunk).subtracting(found))
        }
    }

    private struct EdgeKey: Hashable {
        let src: Int64
        let dst: Int64
        let role: String
    }

    /// While a run is re-projected, the edges its remaining events produce.
    private var touchedEdges: Set<EdgeKey>?

    private mutating func addEdge(from src: Int64, to dst: Int64, role: String, recordedAt: Timestamp) throws {
        touchedEdges?.insert(EdgeKey(src: src, dst: dst, role: role))
        try db.insert(into: .edges, [.int(src), .int(dst), .text(role), .int(recordedAt.microseconds)])
    }
}

extension ArtifactSpec {
    /// Only a reference: nothing registered about the content.
    var isBare: Bool { digest == nil && aliasDigests.isEmpty && uri == nil && facets.isEmpty }
}
