/// What an export reads: the nodes of a selection (the whole store, or one node's lineage) with what was
/// recorded about each, and the relations between them, in a stable order, read from one snapshot. Every
/// exporter is a function of this and nothing else, so the same store always gives the same bytes; an
/// exporter that needs several passes (PROV groups its records by kind) asks for them, and nothing is held
/// in memory but the row at hand.
public protocol ExportSource {
    /// Calls `body` with every node of the selection of the given kinds, in the store's order; with `records`
    /// false, nodes come without what a drawing does not show — a run's folded record, who recorded a node.
    func forEachNode(_ kinds: ExportNodeKinds, records: Bool, _ body: (ExportNode) throws -> Void) throws
    /// Calls `body` with every relation of the given types between nodes of the selection.
    func forEachRelation(_ types: Set<ExportRelation.RelationType>, _ body: (ExportRelation) throws -> Void) throws
    /// The selection's nodes next to `ref`, in the graph's direction (upstream of a run: what it used; of an
    /// artifact: the runs that generated it; of an endpoint: the models it served), in node order. For formats
    /// that describe a node with its neighbours (a run's inputs, a dataset's upstream datasets).
    func neighbours(of ref: String, _ direction: LineageDirection) throws -> [ExportLink]
    /// One node of the selection with its recorded facts; nil when the selection does not hold it.
    func node(_ ref: String) throws -> ExportNode?
}

/// A neighbour: the node, its kind, and the role on the edge between them.
public struct ExportLink: Hashable, Sendable {
    public let ref: String
    public let kind: String
    public let role: String

    public init(ref: String, kind: String, role: String) {
        self.ref = ref
        self.kind = kind
        self.role = role
    }
}

extension ExportSource {
    /// Every node of the given kinds with its recorded facts.
    public func forEachNode(_ kinds: ExportNodeKinds, _ body: (ExportNode) throws -> Void) throws {
        try forEachNode(kinds, records: true, body)
    }
}

/// Which nodes an export pass reads.
public enum ExportNodeKinds: Sendable {
    case all
    case runs
    /// Everything but runs: artifact versions and deployment endpoints.
    case entities
}

/// A node with the five dimensions as recorded: an artifact version's registration, a run's folded record.
public struct ExportNode: Sendable {
    public let summary: NodeSummary
    /// An artifact version's place among its line's versions, in registration order (1 is the first).
    public let ordinal: Int64?
    /// Who recorded the node's first event (the token's name on a server, the user in the CLI).
    public let recordedBy: String?
    /// For artifact versions: what was registered (URI, aliases, owner, facets); the reference alone for a
    /// version that was only referenced.
    public let artifact: ArtifactSpec?
    /// For runs: every event about the run folded together (code, hyperparameters, environment, data, metrics).
    public let run: RunRecord?

    public init(summary: NodeSummary, ordinal: Int64?, recordedBy: String?, artifact: ArtifactSpec?, run: RunRecord?) {
        self.summary = summary
        self.ordinal = ordinal
        self.recordedBy = recordedBy
        self.artifact = artifact
        self.run = run
    }
}

/// A relation in the vocabulary the other tools share (PROV, OpenLineage, a property graph): read from the
/// graph's edges, which point the way data flows, and turned to point from the one that acts.
public struct ExportRelation: Hashable, Sendable {
    public enum RelationType: String, CaseIterable, Sendable {
        /// A run used an artifact version (`role`: train, test, input, base-model …).
        case used
        /// A run generated an artifact version (`role`: model, output …).
        case generated
        /// A model version was derived from a parent model: the run that made it fine-tuned the parent.
        case derivedFrom
        /// A deployment endpoint served a model version.
        case serves
    }

    public let type: RelationType
    /// The run (used, generated), the derived model (derivedFrom), the endpoint (serves).
    public let subject: String
    public let subjectKind: String
    /// The artifact version used or generated, the parent model, the model served.
    public let object: String
    public let objectKind: String
    /// The role recorded on the edge; for derivedFrom, the run through which the model was derived.
    public let role: String
    /// When the edge was recorded (transaction time; for serves, when the first deployment of the model to the
    /// endpoint was recorded).
    public let time: Timestamp

    public init(type: RelationType, subject: String, subjectKind: String, object: String, objectKind: String, role: String, time: Timestamp) {
        self.type = type
        self.subject = subject
        self.subjectKind = subjectKind
        self.object = object
        self.objectKind = objectKind
        self.role = role
        self.time = time
    }
}
