import PedigreeCore

/// The store contract, split by role: what the ways in need (`LineageWriting`), what queries and the UI
/// need (`LineageQuerying`), what operators run (`StoreMaintenance`) and what exists only to answer like
/// Marquez (`MarquezListings`). A component asks for the role it uses. Both backends implement all of it
/// with the same code (`SQLStore`), and the same contract tests run against each.
///
/// Writes go through `append` only: validate → append to the namespace's hash chain → project into the
/// graph tables, in one transaction. Queries read the projections; `asOf` answers as the store knew it at
/// that time (transaction time: when events were recorded, not when they say things happened).
public protocol LineageStore: LineageWriting, LineageQuerying, StoreMaintenance, MarquezListings {}

/// The one write path.
public protocol LineageWriting: Sendable {
    /// Appends events atomically: all are stored, or (on any error) none. A re-delivered event (same digest
    /// in the same namespace) is acknowledged as a duplicate and stored once. `authority` decides in which
    /// namespaces the writer may register, change or generate artifacts (referencing existing ones is always
    /// allowed). Every event is re-validated first: nothing is stored that cannot be read back.
    func append(_ events: [LineageEvent], recordedBy identity: String, authority: WriteAuthority) async throws -> [AppendOutcome]
}

/// The graph as other tools' formats need it: every node with its five dimensions and every relation of a
/// selection, read from one snapshot and handed to `body` a row at a time (`ExportSource`). Local stores
/// only: an export of a whole store is a job for the machine that holds it, not for the HTTP API.
public protocol LineageExporting: Sendable {
    func export<T: Sendable>(
        _ selection: ExportSelection, asOf: Timestamp?, _ body: @escaping @Sendable (any ExportSource) throws -> T
    ) async throws -> T
}

/// Questions about the graph and the log.
public protocol LineageQuerying: Sendable {
    /// One artifact, run or deployment endpoint with everything known about it.
    func show(_ ref: Reference, asOf: Timestamp?) async throws -> NodeDetail

    /// The subgraph upstream or downstream of a node, breadth first, cycle-safe; `depth` nil means unbounded.
    func lineage(_ ref: Reference, direction: LineageDirection, depth: Int?, asOf: Timestamp?) async throws -> LineageGraph

    /// Model versions whose training data includes the dataset (any version when `ref` has none), directly
    /// or through preprocessing runs.
    func modelsTrainedOn(_ ref: ArtifactRef, asOf: Timestamp?) async throws -> TrainedOnReport

    /// Everything downstream of a node, and the deployments serving any affected model.
    func impact(_ ref: Reference, asOf: Timestamp?) async throws -> ImpactReport

    /// A model or dataset version with its generating run, or a run, with resolved inputs and parents, for
    /// `LineageDiff`; data inputs are followed up through their producing runs, `depth` runs at most (nil: all).
    func pedigree(_ ref: Reference, depth: Int?, asOf: Timestamp?) async throws -> ModelPedigree

    /// The latest version of every artifact the filter matches, by namespace, kind and name; paged.
    func artifacts(matching filter: ArtifactFilter, limit: Int, offset: Int, asOf: Timestamp?) async throws -> [NodeSummary]

    /// The registry: the latest version of each line (and each endpoint) the filter matches, with its owner
    /// and where it serves now, ordered by kind, namespace and name; `after` is the previous page's last
    /// `cursor`. Only namespaces `mayRead` allows are listed.
    func registry(
        _ filter: RegistryFilter, after: String?, limit: Int, asOf: Timestamp?, mayRead: @escaping @Sendable (String) -> Bool
    ) async throws
        -> [RegistryEntry]

    /// Artifact versions with this content digest (content identity beats names), oldest first.
    func artifacts(withDigest digest: ContentDigest, kind: String?) async throws -> [NodeSummary]

    /// Artifact versions registered with this URI (`s3://…`, `file://…`; a trailing '/' does not count), oldest first.
    func artifacts(withURI uri: String, kind: String?) async throws -> [NodeSummary]

    /// Which model versions an endpoint served, period by period, oldest first.
    func deploymentHistory(namespace: String, endpoint: String, asOf: Timestamp?) async throws -> [DeploymentEntry]

    /// The root-cause report for an endpoint at a time; `mayRead` limits what it shows of other namespaces.
    func incident(
        namespace: String, endpoint: String, at: Timestamp, baseline: IncidentBaseline, asOf: Timestamp?,
        mayRead: @escaping @Sendable (String) -> Bool
    ) async throws -> IncidentReport

    /// A model version's audit: completeness, the integrity of its events (chains, signed checkpoints,
    /// model signatures), the obligations checklist, its line's change log and where it served; `mayRead` limits
    /// what it shows of other namespaces.
    func audit(
        _ ref: ArtifactRef, trustedKey: TrustedKey?, asOf: Timestamp?, mayRead: @escaping @Sendable (String) -> Bool
    ) async throws
        -> AuditReport

    /// Every model line the reader may see, with what a model inventory lists.
    func inventory(trustedKey: TrustedKey?, asOf: Timestamp?, mayRead: @escaping @Sendable (String) -> Bool) async throws -> [InventoryEntry]

    /// Stored events in append order, for export and audit.
    func events(afterSequence: Int64, limit: Int) async throws -> [StoredEvent]
}

/// What operators run on the store itself.
public protocol StoreMaintenance: Sendable {
    /// Recomputes every hash chain and the projections.
    func verify() async throws -> VerificationReport

    /// Throws away the projections and replays the log into them.
    func rebuildProjections() async throws

    /// Appends events exactly as another store recorded them (`pedigree import`): original sequence
    /// numbers, times, recorders and chain hashes. Each must continue its namespace's chain in this store,
    /// so history can be moved between backends but not altered on the way.
    /// `redactions`: the redactions recorded later in the same export, read ahead (a redacted event keeps
    /// its original digest; its body is accepted only as one of them left it).
    func restore(_ events: [StoredEvent], redactions: [CheckpointRules.Redaction]) async throws

    /// Removes fields from the events behind a node (as `show` lists them): each event keeps its digest, so
    /// its chain still verifies; a redaction event records who, why and which fields; the projections and
    /// the files keep no copy. An event under a signed checkpoint needs `signer`, that checkpoint's key.
    /// `dryRun`: what would be redacted, changing nothing.
    func redact(
        _ ref: Reference, fields: [String], reason: String, recordedBy: String, signer: SigningKey?, dryRun: Bool
    ) async throws
        -> [RedactionOutcome]

    /// Redacts the payloads of events older than each namespace's policy (years), keeping the graph.
    func applyRetention(
        _ keepYears: [String: Int], now: Timestamp, recordedBy: String, signer: SigningKey?, dryRun: Bool
    ) async throws
        -> [RedactionOutcome]

    /// Sizes, for monitoring.
    func statistics() async throws -> StoreStatistics
}

/// Listings in the shape Marquez's read API has (`/api/v1/namespaces/…`).
public protocol MarquezListings: Sendable {
    /// Every namespace that owns events or nodes, sorted.
    func namespaces() async throws -> [String]

    /// The latest version of each artifact in a namespace, by kind and name.
    func artifacts(inNamespace namespace: String, limit: Int, offset: Int) async throws -> [NodeSummary]

    /// The jobs whose runs are in a namespace, each with its latest run.
    func jobs(inNamespace namespace: String, limit: Int, offset: Int) async throws -> [JobSummary]
}

extension StoreMaintenance {
    /// Restores events none of which was redacted.
    public func restore(_ events: [StoredEvent]) async throws { try await restore(events, redactions: []) }
}

extension LineageWriting {
    /// Appends with full authority: the CLI on its own store, importers, tests.
    public func append(_ events: [LineageEvent], recordedBy identity: String) async throws -> [AppendOutcome] {
        try await append(events, recordedBy: identity, authority: .unrestricted)
    }
}

/// Where a writer may change artifacts. A run in one team's namespace may use another team's dataset
/// versions, but registering a new version there (which would change what "latest" means for that team),
/// changing what is known about one, or claiming to have generated one needs write access there.
public struct WriteAuthority: Sendable {
    public let mayWrite: @Sendable (_ namespace: String) -> Bool

    public init(mayWrite: @escaping @Sendable (String) -> Bool) {
        self.mayWrite = mayWrite
    }

    public static let unrestricted = WriteAuthority { _ in true }
}

/// Domain errors every backend throws, so the CLI and the HTTP layer map them in one place.
public struct StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The referenced node does not exist (HTTP 404).
        case notFound = "not_found"
        /// The write contradicts what is stored (HTTP 409).
        case conflict
        /// The input is malformed (HTTP 400/422).
        case invalid
        /// The store itself cannot be used (HTTP 503).
        case unavailable
        /// The writer may not do this (HTTP 403).
        case forbidden
    }

    public let code: Code
    public let message: String
    public let field: String?

    public init(_ code: Code, _ message: String, field: String? = nil) {
        self.code = code
        self.message = message
        self.field = field
    }

    public init(_ error: ValidationError) {
        self.init(.invalid, error.message, field: error.field)
    }

    public var description: String { field.map { "\($0): \(message)" } ?? message }
}
