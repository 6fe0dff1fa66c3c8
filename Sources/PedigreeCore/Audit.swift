import Foundation

/// The audit of one model version, for risk and compliance staff: how complete its five dimensions are
/// (field by field, with the command that fills each gap), whether the events behind it verify and are
/// covered by signed checkpoints, its signatures, a checklist against the EU AI Act (Annex IV, Art. 12, 19),
/// NIST AI RMF and SR 11-7 with the evidence for each item, the change log of its line and where it served.
///
/// The store gathers the evidence in one read transaction (`AuditEvidence`); the scoring and the
/// checklist are a pure function of it, here.
public struct AuditReport: QueryResult {
    public struct Field: Hashable, Sendable, Codable {
        public let name: String
        public let present: Bool
        /// What was recorded, or what is missing.
        public let detail: String
        /// The command or flag that would capture it.
        public let fix: String?
    }

    public struct Dimension: Hashable, Sendable, Codable {
        public let name: String
        public let fields: [Field]
        /// Present fields as a percentage of all.
        public var score: Int { fields.isEmpty ? 100 : fields.filter(\.present).count * 100 / fields.count }

        private enum CodingKeys: String, CodingKey { case name, fields, score }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(score, forKey: .score)
            try c.encode(fields, forKey: .fields)
        }
        public init(name: String, fields: [Field]) {
            self.name = name
            self.fields = fields
        }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(name: try c.decode(String.self, forKey: .name), fields: try c.decode([Field].self, forKey: .fields))
        }
    }

    public enum Status: String, Hashable, Sendable, Codable {
        case met, partial = "partly met", missing
    }

    /// One obligation, with the records that show it.
    public struct Requirement: Hashable, Sendable, Codable {
        public let id: String
        /// Where it comes from: "EU AI Act Annex IV 2(d); NIST AI RMF MAP 4.1".
        public let source: String
        public let title: String
        public let status: Status
        public let detail: String
        /// Digests of the events that are the evidence.
        public let evidence: [String]
    }

    /// The events behind the version, each checked against its chain.
    public struct EventCheck: Hashable, Sendable, Codable {
        public let digest: String
        public let namespace: String
        public let sequence: Int64
        public let type: String
        public let recordedAt: Timestamp
        public let recordedBy: String
        public let chainHash: String
        /// Its body hashes to its digest, its link to the previous event holds, and so does every link after it
        /// up to the chain head.
        public let verified: Bool
        public let problem: String?
        /// The earliest valid signed checkpoint whose head is at or after this event, if any.
        public let checkpoint: CheckpointCover?

        public init(
            digest: String, namespace: String, sequence: Int64, type: String, recordedAt: Timestamp, recordedBy: String, chainHash: String,
            verified: Bool, problem: String?, checkpoint: CheckpointCover?
        ) {
            self.digest = digest
            self.namespace = namespace
            self.sequence = sequence
            self.type = type
            self.recordedAt = recordedAt
            self.recordedBy = recordedBy
            self.chainHash = chainHash
            self.verified = verified
            self.problem = problem
            self.checkpoint = checkpoint
        }
    }

    public struct CheckpointCover: Hashable, Sendable, Codable {
        public let signedAt: Timestamp
        public let keyId: String
        /// The chain length the checkpoint signed.
        public let events: Int64
        /// Whether the key is the one the auditor trusts (`--public-key`), not only the one the checkpoint names.
        public let trustedKey: Bool

        public init(signedAt: Timestamp, keyId: String, events: Int64, trustedKey: Bool) {
            self.signedAt = signedAt
            self.keyId = keyId
            self.events = events
            self.trustedKey = trustedKey
        }
    }

    public struct Integrity: Sendable, Codable {
        public let events: [EventCheck]
        /// Checkpoints that did not verify or no longer match the chain, with why.
        public let checkpointProblems: [String]
        public let signatures: [Signature]
        /// Fields removed from these events (`pedigree redact`, `retention apply`), with who and why.
        public let redactions: [Redaction]

        public var eventsVerified: Bool { events.allSatisfy(\.verified) }
        public var eventsCheckpointed: Int { events.filter { $0.checkpoint != nil }.count }
        /// The events verify and no checkpoint is contradicted. (Model signatures are reported beside this: they
        /// are about the model's files, observed when they were checked, not about the log.)
        public var ok: Bool { eventsVerified && checkpointProblems.isEmpty }

        /// Each signature file's latest check.
        public var latestSignatures: [Signature] {
            var latest: [String: Signature] = [:]
            for signature in signatures { latest[signature.file] = signature }
            return latest.values.sorted { $0.file < $1.file }
        }

        public init(events: [EventCheck], checkpointProblems: [String], signatures: [Signature], redactions: [Redaction]) {
            self.events = events
            self.checkpointProblems = checkpointProblems
            self.signatures = signatures
            self.redactions = redactions
        }
    }

    public struct Redaction: Hashable, Sendable, Codable {
        /// The redacted event's digest.
        public let event: String
        public let fields: [String]
        public let reason: String
        public let by: String
        public let at: Timestamp
        /// The redaction event's digest.
        public let redaction: String

        public init(event: String, fields: [String], reason: String, by: String, at: Timestamp, redaction: String) {
            self.event = event
            self.fields = fields
            self.reason = reason
            self.by = by
            self.at = at
            self.redaction = redaction
        }
    }

    /// A model signature as observed — by whoever recorded it — with the event that recorded it.
    public struct Signature: Hashable, Sendable, Codable {
        public let format: String
        public let file: String
        public let verified: Bool
        public let filesMatch: Bool?
        public let keyId: String?
        public let problem: String?
        public let checkedAt: Timestamp
        public let recordedBy: String
        public let event: String

        public init(_ record: SignatureRecord, recordedBy: String, event: ContentDigest) {
            format = record.format
            file = record.file
            verified = record.verified
            filesMatch = record.filesMatch
            keyId = record.keyID
            problem = record.problem
            checkedAt = record.checkedAt
            self.recordedBy = recordedBy
            self.event = event.description
        }

        /// verified; signer not checked (the files match, no key was at hand); or FAILED.
        public var status: String { verified ? "verified" : filesMatch == true ? "signer not checked" : "FAILED" }
    }

    /// What changed from one version of the line to the next.
    public struct VersionChange: Sendable, Codable {
        /// When the later version was recorded.
        public let recordedAt: Timestamp
        public let diff: LineageDiff
        public init(recordedAt: Timestamp, diff: LineageDiff) {
            self.recordedAt = recordedAt
            self.diff = diff
        }
    }

    public struct EndpointHistory: Hashable, Sendable, Codable {
        public let endpoint: String
        public let periods: [DeploymentEntry]
        public init(endpoint: String, periods: [DeploymentEntry]) {
            self.endpoint = endpoint
            self.periods = periods
        }
    }

    public let model: NodeSummary
    public let owner: String?
    public let riskTier: String?
    public let asOf: Timestamp?
    public let generatedAt: Timestamp
    public let dimensions: [Dimension]
    public var score: Int { Self.score(dimensions) }

    /// The overall completeness: the mean of the dimensions' scores.
    static func score(_ dimensions: [Dimension]) -> Int {
        dimensions.isEmpty ? 0 : dimensions.map(\.score).reduce(0, +) / dimensions.count
    }
    public let integrity: Integrity
    public let checklist: [Requirement]
    public let changeLog: [VersionChange]
    public let deployments: [EndpointHistory]
    public let retirement: NodeDetail.Retirement?

    private enum CodingKeys: String, CodingKey {
        case model, owner, riskTier, asOf, generatedAt, score, dimensions, integrity, checklist, changeLog, deployments, retirement
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encodeIfPresent(owner, forKey: .owner)
        try c.encodeIfPresent(riskTier, forKey: .riskTier)
        try c.encodeIfPresent(asOf, forKey: .asOf)
        try c.encode(generatedAt, forKey: .generatedAt)
        try c.encode(score, forKey: .score)
        try c.encode(dimensions, forKey: .dimensions)
        try c.encode(integrity, forKey: .integrity)
        try c.encode(checklist, forKey: .checklist)
        try c.encode(changeLog, forKey: .changeLog)
        try c.encode(deployments, forKey: .deployments)
        try c.encodeIfPresent(retirement, forKey: .retirement)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decode(NodeSummary.self, forKey: .model)
        owner = try c.decodeIfPresent(String.self, forKey: .owner)
        riskTier = try c.decodeIfPresent(String.self, forKey: .riskTier)
        asOf = try c.decodeIfPresent(Timestamp.self, forKey: .asOf)
        generatedAt = try c.decode(Timestamp.self, forKey: .generatedAt)
        dimensions = try c.decode([Dimension].self, forKey: .dimensions)
        integrity = try c.decode(Integrity.self, forKey: .integrity)
        checklist = try c.decode([Requirement].self, forKey: .checklist)
        changeLog = try c.decode([VersionChange].self, forKey: .changeLog)
        deployments = try c.decode([EndpointHistory].self, forKey: .deployments)
        retirement = try c.decodeIfPresent(NodeDetail.Retirement.self, forKey: .retirement)
    }

    /// Scores the evidence and checks it against the obligations.
    public init(_ evidence: AuditEvidence) {
        let detail = evidence.detail
        model = detail.summary
        owner = evidence.owner
        riskTier = evidence.riskTier
        asOf = evidence.asOf
        generatedAt = evidence.generatedAt
        integrity = evidence.integrity
        changeLog = evidence.changeLog
        deployments = evidence.deployments
        retirement = detail.retirement
        dimensions = Self.dimensions(run: evidence.pedigree.run, pedigree: evidence.pedigree)
        checklist = Self.checklist(evidence, dimensions: dimensions)
    }
}

/// What the store gathers for an audit, in one snapshot.
public struct AuditEvidence: Sendable {
    public let detail: NodeDetail
    public let pedigree: ModelPedigree
    public let owner: String?
    public let riskTier: String?
    public let asOf: Timestamp?
    public let generatedAt: Timestamp
    public let integrity: AuditReport.Integrity
    public let changeLog: [AuditReport.VersionChange]
    public let deployments: [AuditReport.EndpointHistory]
    /// Events by type, for the checklist's evidence: `run`, `artifact`, `deployment`, `retirement`, `signature`.
    public var evidence: [String: [String]] {
        Dictionary(grouping: integrity.events, by: \.type).mapValues { $0.map(\.digest) }
    }

    public init(
        detail: NodeDetail, pedigree: ModelPedigree, owner: String?, riskTier: String?, asOf: Timestamp?, generatedAt: Timestamp,
        integrity: AuditReport.Integrity, changeLog: [AuditReport.VersionChange], deployments: [AuditReport.EndpointHistory]
    ) {
        self.detail = detail
        self.pedigree = pedigree
        self.owner = owner
        self.riskTier = riskTier
        self.asOf = asOf
        self.generatedAt = generatedAt
        self.integrity = integrity
        self.changeLog = changeLog
        self.deployments = deployments
    }

    /// The owner and risk tier a model line declares: the version's `owner` and `riskTier` facets, or its
    /// `tags` facet's `owner` and `risk-tier` (as MLflow and the registry keep tags).
    public static func declared(_ key: String, in artifact: ArtifactSpec?) -> String? {
        guard let facets = artifact?.facets else { return nil }
        let tagKey = key == "riskTier" ? "risk-tier" : key
        return facets[key]?.stringValue ?? facets["tags"]?[tagKey]?.stringValue ?? facets["tags"]?[key]?.stringValue
    }
}

// MARK: Scoring

extension AuditReport {
    static let captureRun = "pedigree run --model NAME -- COMMAND"

    static func dimensions(run: RunRecord?, pedigree: ModelPedigree) -> [Dimension] {
        func field(_ name: String, _ present: Bool, _ detail: String, fix: String?) -> Field {
            Field(name: name, present: present, detail: detail, fix: present ? nil : fix)
        }
        guard let run else {
            let fix = "record the training run: \(captureRun) (or an OpenLineage COMPLETE event naming this version as output)"
            return ["data", "code", "parents", "hyperparameters", "environment"].map {
                Dimension(name: $0, fields: [field("generating run", false, "no run that generated this version is recorded", fix: fix)])
            }
        }
        let roles = Set(pedigree.inputs.map(\.role))
        let train = pedigree.inputs.filter { ["train", "training", "input"].contains($0.role) }
        let evaluation = pedigree.inputs.filter { ["test", "validation", "holdout", "eval", "evaluation"].contains($0.role) }
        let undigested = pedigree.inputs.filter { $0.digest == nil }.map(\.ref.description)
        let prepared = pedigree.inputs.contains { !$0.upstream.isEmpty || $0.preparation != nil }
        let data = run.data
        let dataDimension = Dimension(
            name: "data",
            fields: [
                field(
                    "training data", !train.isEmpty,
                    train.isEmpty ? "no input with role train" : train.map(\.ref.description).joined(separator: ", "),
                    fix: "pedigree run --input train=PATH …"),
                field(
                    "content digests", !pedigree.inputs.isEmpty && undigested.isEmpty,
                    pedigree.inputs.isEmpty
                        ? "no inputs" : undigested.isEmpty ? "every input has a SHA-256" : "no digest for \(undigested.joined(separator: ", "))",
                    fix: "give inputs as files or directories (--input ROLE=PATH) so Pedigree fingerprints them"),
                field(
                    "validation or test data", !evaluation.isEmpty,
                    evaluation.isEmpty
                        ? "no input with role validation or test (roles: \(roles.sorted().joined(separator: ", ")))"
                        : evaluation.map { "\($0.role): \($0.ref)" }.joined(separator: ", "),
                    fix: "pedigree run --input test=PATH …"),
                field(
                    "preprocessing", !(data?.transformations.isEmpty ?? true) || prepared,
                    prepared ? "inputs produced by recorded preparation runs" : "\(data?.transformations.count ?? 0) transformations recorded",
                    fix: "record the preparation step as its own pedigree run, or list transformations in --data FILE"),
                field(
                    "feature selection", data?.featureSelection != nil,
                    data?.featureSelection.map { "recorded (\($0.typeName))" } ?? "not recorded", fix: "featureSelection in --data FILE"),
                field(
                    "data quality", !(data?.quality.isEmpty ?? true),
                    data.map { "\($0.quality.count) dataset(s) measured" } ?? "not recorded", fix: "quality in --data FILE"),
            ])
        let code = run.code
        let codeFix = "run the training through pedigree run inside its git checkout"
        let codeDimension = Dimension(
            name: "code",
            fields: [
                field("repository", code?.repository != nil, code?.repository ?? "not recorded", fix: codeFix),
                field("commit", code?.commit != nil, code?.commit ?? "not recorded", fix: codeFix),
                field("branch or tag", code?.branch != nil || code?.tag != nil, code?.branch ?? code?.tag ?? "not recorded", fix: codeFix),
                field(
                    "clean tree or diff", code?.dirty == false || code?.diffDigest != nil,
                    code?.dirty == false ? "clean" : code?.diffDigest.map { "dirty, diff \($0)" } ?? "unknown whether the tree was clean",
                    fix: "commit before training, or let pedigree run record the diff"),
            ])
        let parents = pedigree.parents.map(\.ref)
        let unpinned = parents.filter { $0.version == nil }.map(\.description)
        let parentDimension = Dimension(
            name: "parents",
            fields: [
                field(
                    "base models", true,
                    parents.isEmpty ? "none recorded: trained from scratch" : parents.map(\.description).joined(separator: ", "), fix: nil),
                field(
                    "pinned versions", unpinned.isEmpty,
                    unpinned.isEmpty ? "every parent names a version" : "unpinned: \(unpinned.joined(separator: ", "))",
                    fix: "pedigree run --parent hf://ORG/NAME@COMMIT (a revision, not a branch)"),
            ])
        let parameters = run.hyperparameters ?? [:]
        let environment = run.environment
        let seeded = Self.containsSeed(.object(parameters)) || !(environment?.seeds.isEmpty ?? true)
        let parameterDimension = Dimension(
            name: "hyperparameters",
            fields: [
                field(
                    "parameters", !parameters.isEmpty, parameters.isEmpty ? "none recorded" : "\(parameters.count) top-level parameters",
                    fix: "pedigree run --params config.yaml or --param KEY=VALUE"),
                field(
                    "random seed", seeded, seeded ? "recorded" : "no seed in the parameters or the environment",
                    fix: "--param seed=N, or set PYTHONHASHSEED"),
            ])
        let envFix = "capture with \(captureRun): it records the runtime, packages and machine"
        let gpu = environment?.gpu
        let environmentDimension = Dimension(
            name: "environment",
            fields: [
                field(
                    "runtime", environment?.runtime != nil, environment?.runtime.map { "\($0.name) \($0.version ?? "")" } ?? "not recorded",
                    fix: envFix),
                field(
                    "packages", !(environment?.packages.isEmpty ?? true), "\(environment?.packages.count ?? 0) packages with versions", fix: envFix),
                field("operating system", environment?.os != nil, environment?.os ?? "not recorded", fix: envFix),
                field(
                    "hardware", environment?.cpu != nil || gpu != nil,
                    [environment?.cpu, gpu?.model].compactMap { $0 }.joined(separator: ", ").nonEmpty ?? "not recorded", fix: envFix),
                field(
                    "accelerator stack", gpu == nil || environment?.cuda != nil,
                    gpu == nil ? "no GPU recorded" : environment?.cuda.map { "CUDA \($0)" } ?? "GPU without CUDA version",
                    fix: "run on the GPU host under pedigree run (reads nvidia-smi and the CUDA runtime)"),
            ])
        return [dataDimension, codeDimension, parentDimension, parameterDimension, environmentDimension]
    }

    static func containsSeed(_ value: JSONValue) -> Bool {
        switch value {
        case .object(let members): members.contains { $0.key.lowercased().contains("seed") || containsSeed($0.value) }
        case .array(let elements): elements.contains(where: containsSeed)
        default: false
        }
    }

    static func named(_ name: String, in dimensions: [Dimension]) -> Dimension {
        dimensions.first { $0.name == name } ?? Dimension(name: name, fields: [])
    }

    // swiftlint:disable:next function_body_length
    static func checklist(_ evidence: AuditEvidence, dimensions: [Dimension]) -> [Requirement] {
        let detail = evidence.detail, byType = evidence.evidence
        let runs = byType["run"] ?? [], registrations = byType["artifact"] ?? []
        func status(_ dimension: String, _ names: [String]) -> Status {
            let fields = named(dimension, in: dimensions).fields.filter { names.contains($0.name) }
            let present = fields.filter(\.present).count
            return present == fields.count ? .met : present == 0 ? .missing : .partial
        }
        func gaps(_ dimension: String, _ names: [String]) -> String {
            let missing = named(dimension, in: dimensions).fields.filter { names.contains($0.name) && !$0.present }
            return missing.isEmpty ? "recorded" : "missing: " + missing.map { "\($0.name) (\($0.fix ?? ""))" }.joined(separator: "; ")
        }
        let integrity = evidence.integrity
        var items: [Requirement] = []
        items.append(
            Requirement(
                id: "version-identity", source: "EU AI Act Annex IV 1(a); SR 11-7 model inventory", title: "Version identity",
                status: detail.summary.digest != nil ? .met : .partial,
                detail: detail.summary.digest.map { "\(detail.summary.ref), content \($0)" } ?? "\(detail.summary.ref) has no content digest",
                evidence: registrations + runs))
        items.append(
            Requirement(
                id: "earlier-versions", source: "EU AI Act Annex IV 1(a), 6", title: "Relation to earlier versions",
                status: .met,
                detail: evidence.changeLog.isEmpty
                    ? "the first version of its line" : "\(evidence.changeLog.count) version-to-version changes in the change log",
                evidence: runs))
        items.append(
            Requirement(
                id: "software-versions", source: "EU AI Act Annex IV 1(c)", title: "Software and package versions",
                status: status("environment", ["runtime", "packages"]), detail: gaps("environment", ["runtime", "packages"]), evidence: runs))
        items.append(
            Requirement(
                id: "pretrained-models", source: "EU AI Act Annex IV 2(a); NIST AI RMF MAP 4.1", title: "Pre-trained and third-party models",
                status: status("parents", ["base models", "pinned versions"]), detail: gaps("parents", ["pinned versions"]), evidence: runs))
        items.append(
            Requirement(
                id: "design-choices", source: "EU AI Act Annex IV 2(b)", title: "Design choices and parameters",
                status: [status("hyperparameters", ["parameters"]), status("code", ["commit"])].allSatisfy { $0 == .met }
                    ? .met : status("hyperparameters", ["parameters"]) == .missing && status("code", ["commit"]) == .missing ? .missing : .partial,
                detail: Set([gaps("hyperparameters", ["parameters"]), gaps("code", ["commit"])]).sorted().joined(separator: "; "), evidence: runs))
        items.append(
            Requirement(
                id: "compute", source: "EU AI Act Annex IV 2(c)", title: "Architecture and compute",
                status: status("environment", ["hardware", "operating system", "accelerator stack"]),
                detail: gaps("environment", ["hardware", "operating system", "accelerator stack"]), evidence: runs))
        let dataFields = ["training data", "content digests", "preprocessing", "feature selection", "data quality"]
        items.append(
            Requirement(
                id: "training-data", source: "EU AI Act Annex IV 2(d); NIST AI RMF MAP 2.3",
                title: "Training data provenance, selection and cleaning",
                status: status("data", ["training data", "content digests"]) == .met
                    ? status("data", dataFields) : status("data", ["training data"]) == .missing ? .missing : .partial,
                detail: gaps("data", dataFields), evidence: runs))
        let metrics = evidence.pedigree.run?.metrics ?? [:]
        let tested = status("data", ["validation or test data"]) == .met
        let signed = !runs.isEmpty && integrity.events.filter { $0.type == "run" }.allSatisfy { $0.checkpoint != nil }
        items.append(
            Requirement(
                id: "testing", source: "EU AI Act Annex IV 2(g); NIST AI RMF MEASURE 2.3",
                title: "Validation and test data, metrics, dated and signed logs",
                status: tested && !metrics.isEmpty && signed ? .met : tested || !metrics.isEmpty ? .partial : .missing,
                detail: [
                    tested ? "test data recorded" : "no validation or test data (pedigree run --input test=PATH)",
                    metrics.isEmpty ? "no metrics (pedigree run --metrics FILE)" : "\(metrics.count) metrics",
                    signed
                        ? "the run's events are under a signed checkpoint"
                        : "the run's events are not under a signed checkpoint (pedigree checkpoint)",
                ].joined(separator: "; "),
                evidence: runs))
        let signatures = integrity.latestSignatures
        items.append(
            Requirement(
                id: "cybersecurity", source: "EU AI Act Annex IV 2(h); NIST AI RMF MANAGE 2.4", title: "Integrity of the model artefact",
                status: signatures.isEmpty || signatures.contains { $0.status == "FAILED" }
                    ? .missing : signatures.allSatisfy(\.verified) ? .met : .partial,
                detail: signatures.isEmpty
                    ? "no model signature recorded (pedigree sign \(detail.summary.ref) --key KEY.pem)"
                    : signatures.map { "\($0.file): \($0.status) (checked \($0.checkedAt), recorded by \($0.recordedBy))" }.joined(separator: "; "),
                evidence: signatures.map(\.event)))
        let deployments = byType["deployment"] ?? []
        items.append(
            Requirement(
                id: "lifecycle", source: "EU AI Act Annex IV 6; SR 11-7 ongoing monitoring", title: "Lifecycle changes and decommissioning",
                status: .met,
                detail: [
                    evidence.deployments.isEmpty ? "never deployed" : "served at \(evidence.deployments.map(\.endpoint).joined(separator: ", "))",
                    detail.retirement.map { "retired \($0.at): \($0.reason)" } ?? "not retired",
                ].joined(separator: "; "),
                evidence: deployments + (byType["retirement"] ?? [])))
        items.append(
            Requirement(
                id: "event-logging", source: "EU AI Act Art. 12", title: "Automatic, tamper-evident event logging",
                status: integrity.events.isEmpty ? .missing : integrity.eventsVerified ? .met : .missing,
                detail: integrity.eventsVerified
                    ? "\(integrity.events.count) events, every one verified against its hash chain up to the head"
                    : "\(integrity.events.filter { !$0.verified }.count) events FAIL verification",
                evidence: integrity.events.map(\.digest)))
        let covered = integrity.eventsCheckpointed
        let pinned = integrity.events.allSatisfy { $0.checkpoint?.trustedKey ?? true }
        items.append(
            Requirement(
                id: "signed-checkpoints", source: "EU AI Act Art. 12, 19; NIST AI RMF MANAGE 4.1", title: "History signed against later rewriting",
                status: !integrity.checkpointProblems.isEmpty
                    ? .missing : covered == integrity.events.count && covered > 0 && pinned ? .met : covered > 0 ? .partial : .missing,
                detail: integrity.checkpointProblems.first
                    ?? "\(covered) of \(integrity.events.count) events under a signed checkpoint\(covered < integrity.events.count ? " (pedigree checkpoint)" : "")"
                    + (pinned ? "" : "; signed with the key the checkpoint names, not one the auditor pinned (--public-key)"),
                evidence: integrity.events.filter { $0.checkpoint != nil }.map(\.digest)))
        items.append(
            Requirement(
                id: "retention", source: "EU AI Act Art. 18, 19 (10 years)", title: "Documentation retained",
                status: .met,
                detail: "the log keeps every event since \(integrity.events.map(\.recordedAt).min()?.description ?? "—"); nothing is deleted"
                    + (integrity.redactions.isEmpty
                        ? "" : "; \(integrity.redactions.count) redactions removed fields and kept the digests, so the chains still verify"),
                evidence: integrity.redactions.map(\.redaction)))
        let declared = [evidence.owner.map { "owner \($0)" }, evidence.riskTier.map { "risk tier \($0)" }].compactMap { $0 }
        items.append(
            Requirement(
                id: "inventory", source: "SR 11-7 model inventory; MAS FEAT accountability", title: "Owner and risk tier",
                status: declared.count == 2 ? .met : declared.isEmpty ? .missing : .partial,
                detail: declared.count == 2
                    ? declared.joined(separator: ", ")
                    : "declare them by registering the version with facets {\"owner\": \"…\", \"riskTier\": \"high\"} (pedigree record)",
                evidence: registrations))
        return items
    }
}

/// One row of `pedigree audit --all`: every model line, with what an SR 11-7 inventory lists.
public struct InventoryEntry: Hashable, QueryResult {
    public let model: NodeSummary
    public let versions: Int
    public let owner: String?
    public let riskTier: String?
    /// The completeness score of the latest version (`AuditReport.score`).
    public let score: Int
    /// Endpoints serving any of its versions now.
    public let serving: [String]
    /// When the latest checkpoint was signed whose head (still in the chain) comes after the version's newest event:
    /// the time its record was last signed, not a verification of it (that is the audit's and `verify`'s).
    public let lastCheckpoint: Timestamp?
    public let retired: Bool

    public init(
        model: NodeSummary, versions: Int, owner: String?, riskTier: String?, score: Int, serving: [String], lastCheckpoint: Timestamp?, retired: Bool
    ) {
        self.model = model
        self.versions = versions
        self.owner = owner
        self.riskTier = riskTier
        self.score = score
        self.serving = serving
        self.lastCheckpoint = lastCheckpoint
        self.retired = retired
    }

    /// The score the inventory shows: the five dimensions of the generating run, as the audit scores them.
    public static func score(_ pedigree: ModelPedigree) -> Int {
        AuditReport.score(AuditReport.dimensions(run: pedigree.run, pedigree: pedigree))
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
