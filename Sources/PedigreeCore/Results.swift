/// The answers to lineage queries, shared by the store (which builds them), the server (which sends them),
/// the client (which reads them back) and the renderers (which print them). Each type holds exactly what
/// its JSON carries, so decoding a server's answer gives the result the store built (the store tests check
/// every query's result reads back from its JSON unchanged).

public enum LineageDirection: String, Sendable, CaseIterable, Codable {
    case upstream, downstream
}

/// Which artifacts to list: all of a kind, in a namespace, or whose name matches a glob (`*`, `?`), in any
/// combination; nil matches everything.
public struct ArtifactFilter: Hashable, Sendable {
    public var kind: String?
    public var namespace: String?
    /// `*` matches any run of characters, `?` one character; ASCII letters match in either case.
    public var name: String?

    public init(kind: String? = nil, namespace: String? = nil, name: String? = nil) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }
}

/// A node of the lineage graph as listed in query results. `ref` is its canonical reference.
public struct NodeSummary: Hashable, QueryResult {
    public let ref: String
    /// `dataset`, `model`, other artifact kinds, `run` or `deployment`.
    public let kind: String
    public let namespace: String
    /// The artifact's name, the run's job, or the endpoint.
    public let name: String
    public let version: String?
    public let digest: ContentDigest?
    /// For runs: START, COMPLETE, FAIL, …
    public let status: String?
    public let recordedAt: Timestamp

    public init(
        ref: String, kind: String, namespace: String, name: String, version: String?, digest: ContentDigest?, status: String?, recordedAt: Timestamp
    ) {
        self.ref = ref
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.version = version
        self.digest = digest
        self.status = status
        self.recordedAt = recordedAt
    }

    public var isArtifact: Bool { kind != "run" && kind != "deployment" }
}

/// A directed edge in data-flow direction: artifact → run (used), run → artifact (generated),
/// model → deployment (deployed).
public struct LineageEdge: Hashable, QueryResult {
    public let from: String
    public let to: String
    public let role: String

    public init(from: String, to: String, role: String) {
        self.from = from
        self.to = to
        self.role = role
    }
}

public struct LineageGraph: QueryResult {
    /// A node reached, with its distance: on the wire, the node's fields and `depth` side by side.
    public struct Entry: Hashable, Sendable, Codable {
        public let node: NodeSummary
        /// Hops from the root along the shortest path.
        public let depth: Int

        public init(node: NodeSummary, depth: Int) {
            self.node = node
            self.depth = depth
        }

        private enum CodingKeys: String, CodingKey { case depth }

        public init(from decoder: any Decoder) throws {
            node = try NodeSummary(from: decoder)
            depth = try decoder.container(keyedBy: CodingKeys.self).decode(Int.self, forKey: .depth)
        }

        public func encode(to encoder: any Encoder) throws {
            try node.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(depth, forKey: .depth)
        }
    }

    public let direction: LineageDirection
    public let depthLimit: Int?
    /// Every node reached, the root first, in breadth-first order.
    public let nodes: [Entry]
    public let edges: [LineageEdge]

    public init(root: NodeSummary, direction: LineageDirection, depthLimit: Int?, nodes: [Entry], edges: [LineageEdge]) {
        precondition(nodes.first?.node == root, "a lineage graph lists its root first")
        self.direction = direction
        self.depthLimit = depthLimit
        self.nodes = nodes
        self.edges = edges
    }

    public var root: NodeSummary { nodes[0].node }

    private enum CodingKeys: String, CodingKey { case root, direction, depth, nodes, edges }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        direction = try container.decode(LineageDirection.self, forKey: .direction)
        depthLimit = try container.decodeIfPresent(Int.self, forKey: .depth)
        nodes = try container.decode([Entry].self, forKey: .nodes)
        edges = try container.decode([LineageEdge].self, forKey: .edges)
        guard nodes.first?.node.ref == (try container.decode(String.self, forKey: .root)) else {
            throw DecodingError.dataCorruptedError(forKey: .nodes, in: container, debugDescription: "the root is not the first node")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(root.ref, forKey: .root)
        try container.encode(direction, forKey: .direction)
        try container.encode(depthLimit, forKey: .depth)  // null: unbounded
        try container.encode(nodes, forKey: .nodes)
        try container.encode(edges, forKey: .edges)
    }
}

public struct TrainedOnReport: QueryResult {
    /// A model version, how far it is from the dataset, and the run that trained it.
    public struct Entry: Hashable, Sendable, Codable {
        public let model: NodeSummary
        /// The reference of the run that generated the model, and the run's namespace.
        public let run: String
        public let runNamespace: String
        /// Hops from the dataset to the model: 2 when trained on it directly, more through preprocessing.
        public let hops: Int

        public init(model: NodeSummary, run: String, runNamespace: String, hops: Int) {
            self.model = model
            self.run = run
            self.runNamespace = runNamespace
            self.hops = hops
        }

        public var direct: Bool { hops == 2 }

        private enum CodingKeys: String, CodingKey { case run, runNamespace, hops, direct }

        public init(from decoder: any Decoder) throws {
            model = try NodeSummary(from: decoder)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            run = try container.decode(String.self, forKey: .run)
            runNamespace = try container.decode(String.self, forKey: .runNamespace)
            hops = try container.decode(Int.self, forKey: .hops)
        }

        public func encode(to encoder: any Encoder) throws {
            try model.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(run, forKey: .run)
            try container.encode(runNamespace, forKey: .runNamespace)
            try container.encode(hops, forKey: .hops)
            try container.encode(direct, forKey: .direct)
        }
    }

    /// The dataset versions searched from.
    public let datasets: [NodeSummary]
    public let models: [Entry]

    public init(datasets: [NodeSummary], models: [Entry]) {
        self.datasets = datasets
        self.models = models
    }
}

public struct ImpactReport: QueryResult {
    /// An endpoint whose current model is affected.
    public struct Serving: Hashable, Sendable, Codable {
        /// The endpoint's reference, `deployment:NAMESPACE/ENDPOINT`.
        public let ref: String
        public let namespace: String
        public let endpoint: String
        /// The reference of the affected model version it serves.
        public let model: String
        public let since: Timestamp

        public init(ref: String, namespace: String, endpoint: String, model: String, since: Timestamp) {
            self.ref = ref
            self.namespace = namespace
            self.endpoint = endpoint
            self.model = model
            self.since = since
        }
    }

    /// The reference the impact was computed from, and its namespace (who may see the report).
    public let root: String
    public let namespace: String
    /// Every node downstream of the root with its distance, grouped — runs, models, other artifacts,
    /// deployment endpoints — each group in walk (breadth-first) order.
    public let affected: [LineageGraph.Entry]
    public let serving: [Serving]

    public init(root: NodeSummary, affected: [LineageGraph.Entry], serving: [Serving]) {
        self.init(root: root.ref, namespace: root.namespace, affected: affected, serving: serving)
    }

    public init(root: String, namespace: String, affected: [LineageGraph.Entry], serving: [Serving]) {
        self.root = root
        self.namespace = namespace
        self.affected = Group.allCases.flatMap { group in affected.filter { group.contains($0.node) } }
        self.serving = serving
    }

    /// The groups `affected` is listed in, as the JSON keys them.
    private enum Group: String, CaseIterable, CodingKey {
        case runs, models, artifacts, endpoints

        func contains(_ node: NodeSummary) -> Bool {
            switch self {
            case .runs: node.kind == "run"
            case .models: node.kind == "model"
            case .artifacts: node.isArtifact && node.kind != "model"
            case .endpoints: node.kind == "deployment"
            }
        }
    }

    public func affected(kind: String) -> [NodeSummary] { affected.map(\.node).filter { $0.kind == kind } }
    public var otherArtifacts: [NodeSummary] { affected.map(\.node).filter { $0.isArtifact && $0.kind != "model" } }

    /// On the wire: `root`, `namespace`, the affected nodes under `runs`, `models`, `artifacts` and
    /// `endpoints`, and the serving endpoints under `deployments`.
    private enum CodingKeys: String, CodingKey { case root, namespace, deployments }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        root = try container.decode(String.self, forKey: .root)
        namespace = try container.decode(String.self, forKey: .namespace)
        let groups = try decoder.container(keyedBy: Group.self)
        affected = try Group.allCases.flatMap { try groups.decodeIfPresent([LineageGraph.Entry].self, forKey: $0) ?? [] }
        serving = try container.decode([Serving].self, forKey: .deployments)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(root, forKey: .root)
        try container.encode(namespace, forKey: .namespace)
        var groups = encoder.container(keyedBy: Group.self)
        for group in Group.allCases { try groups.encode(affected.filter { group.contains($0.node) }, forKey: group) }
        try container.encode(serving, forKey: .deployments)
    }
}

/// One period of an endpoint's history: what one deployment (or undeploy) made it serve, until the next
/// one changed that. With a canary, two versions serve side by side and `serving` gives their shares.
public struct DeploymentEntry: Hashable, QueryResult {
    /// A model version and its share of the endpoint's traffic, in percent.
    public struct Share: Hashable, Sendable, Codable {
        public let model: String
        public let percent: Int

        public init(model: String, percent: Int) {
            self.model = model
            self.percent = percent
        }
    }

    /// The endpoint's reference.
    public let endpoint: String
    public let action: DeploymentRecord.Action
    /// The model version this deployment deployed (nil for an undeploy).
    public let model: String?
    /// The canary share it asked for; nil: all traffic.
    public let traffic: Int?
    /// What the endpoint served during this period: the stable model first, then a canary beside it.
    public let serving: [Share]
    public let validFrom: Timestamp
    /// When the next deployment of the endpoint took over, if one did.
    public let validUntil: Timestamp?
    public let config: [String: JSONValue]
    /// The serving configuration file's format, name and digest (its text is in the event).
    public let manifest: ServingManifest?
    public let code: CodeFacet?
    public let environment: [String: JSONValue]?
    /// Whether a retired version was deployed anyway.
    public let forced: Bool
    public let recordedAt: Timestamp
    /// Who recorded the deployment (the token's or the user's identity).
    public let recordedBy: String

    public init(
        endpoint: String, record: DeploymentRecord, serving: [Share], validUntil: Timestamp?, recordedAt: Timestamp, recordedBy: String
    ) {
        self.endpoint = endpoint
        action = record.action
        model = record.model?.description
        traffic = record.traffic
        self.serving = serving
        validFrom = record.validFrom
        self.validUntil = validUntil
        config = record.config
        manifest = record.manifest.map { ServingManifest(format: $0.format, file: $0.file, digest: $0.digest, text: nil, redacted: $0.redacted) }
        code = record.code
        environment = record.environment
        forced = record.force
        self.recordedAt = recordedAt
        self.recordedBy = recordedBy
    }

    /// Whether this period includes `time` (valid time: from `validFrom` until the next deployment).
    public func isServing(at time: Timestamp) -> Bool {
        validFrom <= time && (validUntil.map { time < $0 } ?? true)
    }

    /// The share of traffic `model` had in this period (0 if it did not serve).
    public func share(of model: String) -> Int { serving.first { $0.model == model }?.percent ?? 0 }

    /// The stable model: the one that had all the traffic before a canary joined it, whatever their shares.
    public var primary: String? { serving.first?.model }

    /// The serving side of the deployment that started this period, for comparing two of them.
    public var servingDocument: JSONValue {
        var out: [String: JSONValue] = [:]
        if !config.isEmpty { out["config"] = .object(config) }
        if let manifest { out["manifest"] = .string(manifest.digest.description) }
        if let code { out["code"] = .object(code.json) }
        if let environment { out["environment"] = .object(environment) }
        return .object(out)
    }

    private enum CodingKeys: String, CodingKey {
        case endpoint = "ref", action, model, traffic, serving, validFrom, validUntil, config, manifest, code, environment, forced, recordedAt,
            recordedBy
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        endpoint = try container.decode(String.self, forKey: .endpoint)
        let actionText = try container.decodeIfPresent(String.self, forKey: .action) ?? "deploy"
        guard let action = DeploymentRecord.Action(rawValue: actionText) else {
            throw DecodingError.dataCorruptedError(forKey: .action, in: container, debugDescription: "'\(actionText)' is not deploy or undeploy")
        }
        self.action = action
        model = try container.decodeIfPresent(String.self, forKey: .model)
        traffic = try container.decodeIfPresent(Int.self, forKey: .traffic)
        serving = try container.decode([Share].self, forKey: .serving)
        validFrom = try container.decode(Timestamp.self, forKey: .validFrom)
        validUntil = try container.decodeIfPresent(Timestamp.self, forKey: .validUntil)
        config = try container.decodeIfPresent([String: JSONValue].self, forKey: .config) ?? [:]
        manifest = try container.decodeIfPresent(JSONValue.self, forKey: .manifest).map { try ServingManifest(json: $0, path: "manifest") }
        code = try container.decodeIfPresent(JSONValue.self, forKey: .code).map { try CodeFacet(json: $0, path: "code") }
        environment = try container.decodeIfPresent([String: JSONValue].self, forKey: .environment)
        forced = try container.decodeIfPresent(Bool.self, forKey: .forced) ?? false
        recordedAt = try container.decode(Timestamp.self, forKey: .recordedAt)
        recordedBy = try container.decode(String.self, forKey: .recordedBy)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(endpoint, forKey: .endpoint)
        try container.encode(action.rawValue, forKey: .action)
        try container.encode(model, forKey: .model)  // null: an undeploy
        try container.encodeIfPresent(traffic, forKey: .traffic)
        try container.encode(serving, forKey: .serving)
        try container.encode(validFrom, forKey: .validFrom)
        try container.encode(validUntil, forKey: .validUntil)  // null: still serving
        if !config.isEmpty { try container.encode(config, forKey: .config) }
        try container.encodeIfPresent(manifest?.json, forKey: .manifest)
        try container.encodeIfPresent(code.map { JSONValue.object($0.json) }, forKey: .code)
        try container.encodeIfPresent(environment, forKey: .environment)
        if forced { try container.encode(true, forKey: .forced) }
        try container.encode(recordedAt, forKey: .recordedAt)
        try container.encode(recordedBy, forKey: .recordedBy)
    }
}

/// An event about a node, as `show` lists it (`pedigree log` and `StoredEvent` have the whole record).
public struct EventSummary: Hashable, Sendable, Codable {
    public let digest: ContentDigest
    public let namespace: String
    /// Its position in its namespace's chain.
    public let sequence: Int64
    public let recordedAt: Timestamp
    public let recordedBy: String

    public init(digest: ContentDigest, namespace: String, sequence: Int64, recordedAt: Timestamp, recordedBy: String) {
        self.digest = digest
        self.namespace = namespace
        self.sequence = sequence
        self.recordedAt = recordedAt
        self.recordedBy = recordedBy
    }
}

/// Everything known about one node.
public struct NodeDetail: QueryResult {
    public struct Link: Hashable, Sendable, Codable {
        public let node: NodeSummary
        public let role: String

        public init(node: NodeSummary, role: String) {
            self.node = node
            self.role = role
        }

        private enum CodingKeys: String, CodingKey { case role }

        public init(from decoder: any Decoder) throws {
            node = try NodeSummary(from: decoder)
            role = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .role)
        }

        public func encode(to encoder: any Encoder) throws {
            try node.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(role, forKey: .role)
        }
    }

    /// Where an artifact version came from: the run that generated it, with its five dimensions. This is
    /// the lineage a model carries: what `show model:…` presents. On the wire: `run` (its reference) and
    /// `inputs` (what it used, datasets and parent models, as nodes with roles) beside the record's fields.
    public struct Provenance: Sendable, Codable {
        /// The generating run's reference.
        public let run: String
        /// The run's code, parameters, environment, data preparation and metrics; its uses are `inputs`.
        public let record: RunRecord
        public let inputs: [Link]

        public init(run: String, record: RunRecord, inputs: [Link]) {
            self.run = run
            self.record = record.withoutUses
            self.inputs = inputs
        }

        private enum CodingKeys: String, CodingKey { case run, inputs }

        public init(from decoder: any Decoder) throws {
            var members = try JSONValue(from: decoder).objectValue ?? [:]
            guard let run = members.removeValue(forKey: "run")?.stringValue else {
                throw DecodingError.keyNotFound(CodingKeys.run, .init(codingPath: decoder.codingPath, debugDescription: "the generating run"))
            }
            self.run = run
            inputs = try decoder.container(keyedBy: CodingKeys.self).decode([Link].self, forKey: .inputs)
            members["inputs"] = nil
            members["id"] = .string(String(run.dropFirst("run:".count)))
            record = try RunRecord.decoding(.object(members), at: decoder.codingPath)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: DynamicKey.self)
            for (key, value) in record.json.objectValue ?? [:] where key != "id" {
                try container.encode(value, forKey: DynamicKey(key))
            }
            try container.encode(run, forKey: DynamicKey("run"))
            try container.encode(inputs, forKey: DynamicKey("inputs"))
        }
    }

    public let summary: NodeSummary
    /// For artifacts: what was registered about this version.
    public let artifact: ArtifactSpec?
    /// For runs: all events about the run folded together (the five dimensions); what it used and generated
    /// is in `upstream` and `downstream`, resolved to versions.
    public let run: RunRecord?
    /// For artifacts: the run that generated this version, if one did.
    public let generatedBy: Provenance?
    /// Upstream neighbours: a run's inputs and parents; an artifact's generating runs; an endpoint's models.
    public let upstream: [Link]
    /// Downstream neighbours: a run's outputs; the runs that used an artifact; a model's deployments.
    public let downstream: [Link]
    /// For deployment endpoints: what they served.
    public let history: [DeploymentEntry]
    /// The events about this node, oldest first.
    public let events: [EventSummary]
    /// For a retired model version: when, why and by whom.
    public let retirement: Retirement?

    /// A version's retirement as the audit trail shows it.
    public struct Retirement: Hashable, Sendable, Codable {
        public let reason: String
        /// When it was retired (valid time).
        public let at: Timestamp
        /// Who recorded the retirement.
        public let by: String
        public let recordedAt: Timestamp

        public init(reason: String, at: Timestamp, by: String, recordedAt: Timestamp) {
            self.reason = reason
            self.at = at
            self.by = by
            self.recordedAt = recordedAt
        }
    }

    public init(
        summary: NodeSummary, artifact: ArtifactSpec?, run: RunRecord?, generatedBy: Provenance? = nil, upstream: [Link], downstream: [Link],
        history: [DeploymentEntry], events: [EventSummary], retirement: Retirement? = nil
    ) {
        self.retirement = retirement
        self.summary = summary
        self.artifact = artifact
        self.run = run?.withoutUses
        self.generatedBy = generatedBy
        self.upstream = upstream
        self.downstream = downstream
        self.history = history
        self.events = events
    }

    /// On the wire, one object: the summary's fields; an artifact's aliases, URI and facets; a run's record
    /// fields (all but its id and status, which the summary has); then the structure below.
    private static let summaryKeys: Set<String> = ["ref", "kind", "namespace", "name", "version", "digest", "status", "recordedAt"]
    private static let structureKeys: Set<String> = ["generatedBy", "upstream", "downstream", "history", "events", "retirement"]

    public init(from decoder: any Decoder) throws {
        summary = try NodeSummary(from: decoder)
        let container = try decoder.container(keyedBy: DynamicKey.self)
        var members: [String: JSONValue] = [:]
        for key in container.allKeys where !Self.summaryKeys.contains(key.stringValue) && !Self.structureKeys.contains(key.stringValue) {
            members[key.stringValue] = try container.decode(JSONValue.self, forKey: key)
        }
        var artifact: ArtifactSpec?, run: RunRecord?
        if summary.isArtifact {
            var spec = members.filter { ["aliasDigests", "uri", "facets"].contains($0.key) }
            spec["kind"] = .string(summary.kind)
            spec["namespace"] = .string(summary.namespace)
            spec["name"] = .string(summary.name)
            spec["version"] = summary.version.map(JSONValue.string)
            spec["digest"] = summary.digest.map { .string($0.description) }
            artifact = try ArtifactSpec.decoding(.object(spec), namespace: summary.namespace, at: decoder.codingPath)
        } else if summary.kind == "run" {
            members["id"] = .string(String(summary.ref.dropFirst("run:".count)))
            members["status"] = summary.status.map(JSONValue.string)
            run = try RunRecord.decoding(.object(members), at: decoder.codingPath)
        }
        self.artifact = artifact
        self.run = run
        generatedBy = try container.decodeIfPresent(Provenance.self, forKey: DynamicKey("generatedBy"))
        upstream = try container.decode([Link].self, forKey: DynamicKey("upstream"))
        downstream = try container.decode([Link].self, forKey: DynamicKey("downstream"))
        history = try container.decodeIfPresent([DeploymentEntry].self, forKey: DynamicKey("history")) ?? []
        events = try container.decode([EventSummary].self, forKey: DynamicKey("events"))
        retirement = try container.decodeIfPresent(Retirement.self, forKey: DynamicKey("retirement"))
    }

    public func encode(to encoder: any Encoder) throws {
        try summary.encode(to: encoder)
        var container = encoder.container(keyedBy: DynamicKey.self)
        if let artifact {
            if !artifact.aliasDigests.isEmpty { try container.encode(artifact.aliasDigests, forKey: DynamicKey("aliasDigests")) }
            try container.encodeIfPresent(artifact.uri, forKey: DynamicKey("uri"))
            if !artifact.facets.isEmpty { try container.encode(artifact.facets, forKey: DynamicKey("facets")) }
        }
        if let run {
            for (key, value) in run.json.objectValue ?? [:] where key != "id" && key != "status" {
                try container.encode(value, forKey: DynamicKey(key))
            }
        }
        try container.encodeIfPresent(generatedBy, forKey: DynamicKey("generatedBy"))
        try container.encode(upstream, forKey: DynamicKey("upstream"))
        try container.encode(downstream, forKey: DynamicKey("downstream"))
        if summary.kind == "deployment" { try container.encode(history, forKey: DynamicKey("history")) }
        try container.encode(events, forKey: DynamicKey("events"))
        try container.encodeIfPresent(retirement, forKey: DynamicKey("retirement"))
    }
}

/// A key named at run time, for objects whose members are another type's fields.
struct DynamicKey: CodingKey {
    let stringValue: String
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    var intValue: Int? { nil }
    init?(intValue: Int) { nil }
}

extension RunRecord {
    /// The record without its inputs, outputs and parents: results show those as resolved nodes.
    var withoutUses: RunRecord {
        var record = self
        record.inputs = []
        record.outputs = []
        record.parents = []
        return record
    }

    /// A run record read from a result, validated as the event format validates it.
    static func decoding(_ json: JSONValue, at path: [any CodingKey]) throws -> RunRecord {
        do {
            return try RunRecord(json: json, path: "run", namespace: Reference.defaultNamespace, requireOrderedTimes: false)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: error.description))
        }
    }
}

extension ArtifactSpec {
    static func decoding(_ json: JSONValue, namespace: String, at path: [any CodingKey]) throws -> ArtifactSpec {
        do {
            return try ArtifactSpec(json: json, path: "artifact", defaultNamespace: namespace)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: error.description))
        }
    }
}

public struct VerificationReport: QueryResult {
    public struct Chain: Hashable, Sendable, Codable {
        public let namespace: String
        public let events: Int64
        public let head: String

        public init(namespace: String, events: Int64, head: String) {
            self.namespace = namespace
            self.events = events
            self.head = head
        }
    }

    public struct Problem: Hashable, Sendable, Codable, CustomStringConvertible {
        /// The namespace whose chain is broken, or nil for a projection problem.
        public let namespace: String?
        /// The first broken position in that chain.
        public let sequence: Int64?
        public let message: String

        public init(namespace: String?, sequence: Int64?, message: String) {
            self.namespace = namespace
            self.sequence = sequence
            self.message = message
        }

        public var description: String {
            switch (namespace, sequence) {
            case (let ns?, let seq?): "namespace \(ns), event #\(seq): \(message)"
            case (let ns?, nil): "namespace \(ns): \(message)"
            default: "projections: \(message)"
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(namespace, forKey: .namespace)  // null for a projection problem
            try container.encode(sequence, forKey: .sequence)
            try container.encode(message, forKey: .message)
        }
    }

    public let chains: [Chain]
    public let eventCount: Int64
    public let problems: [Problem]
    /// The signed checkpoints recorded in the store whose heads are still in their chains.
    public let checkpoints: [Checkpoint]

    public struct Checkpoint: Hashable, Sendable, Codable {
        public let signedAt: Timestamp
        public let keyId: String
        public init(signedAt: Timestamp, keyId: String) {
            self.signedAt = signedAt
            self.keyId = keyId
        }
    }

    public init(chains: [Chain], eventCount: Int64, problems: [Problem], checkpoints: [Checkpoint] = []) {
        self.chains = chains
        self.eventCount = eventCount
        self.problems = problems
        self.checkpoints = checkpoints
    }

    public var ok: Bool { problems.isEmpty }

    private enum CodingKeys: String, CodingKey { case ok, eventCount = "events", chains, problems, checkpoints }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        chains = try container.decode([Chain].self, forKey: .chains)
        eventCount = try container.decode(Int64.self, forKey: .eventCount)
        problems = try container.decode([Problem].self, forKey: .problems)
        checkpoints = try container.decodeIfPresent([Checkpoint].self, forKey: .checkpoints) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(ok, forKey: .ok)
        try container.encode(eventCount, forKey: .eventCount)
        try container.encode(chains, forKey: .chains)
        try container.encode(problems, forKey: .problems)
        if !checkpoints.isEmpty { try container.encode(checkpoints, forKey: .checkpoints) }
    }
}

/// The result of appending one event.
public struct AppendOutcome: Hashable, QueryResult {
    public let digest: ContentDigest
    public let namespace: String
    /// The event's position in its namespace's chain (the earlier position for a duplicate).
    public let sequence: Int64
    public let duplicate: Bool

    public init(digest: ContentDigest, namespace: String, sequence: Int64, duplicate: Bool) {
        self.digest = digest
        self.namespace = namespace
        self.sequence = sequence
        self.duplicate = duplicate
    }
}

/// One event as stored, with its place in the chain: everything its chain hash covers.
public struct StoredEvent: Hashable, QueryResult {
    public let sequence: Int64
    public let namespace: String
    public let namespaceSequence: Int64
    public let recordedAt: Timestamp
    public let recordedBy: String
    public let digest: ContentDigest
    public let previousHash: String
    public let chainHash: String
    /// The event's canonical JSON, exactly as stored and hashed.
    public let body: String

    public init(
        sequence: Int64, namespace: String, namespaceSequence: Int64, recordedAt: Timestamp, recordedBy: String, digest: ContentDigest,
        previousHash: String, chainHash: String, body: String
    ) {
        self.sequence = sequence
        self.namespace = namespace
        self.namespaceSequence = namespaceSequence
        self.recordedAt = recordedAt
        self.recordedBy = recordedBy
        self.digest = digest
        self.previousHash = previousHash
        self.chainHash = chainHash
        self.body = body
    }

    /// On the wire the body is the event object itself; its canonical serialisation is the stored body.
    private enum CodingKeys: String, CodingKey {
        case sequence, namespace, namespaceSequence, recordedAt, recordedBy, digest, previousHash, chainHash, event
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        sequence = try container.decode(Int64.self, forKey: .sequence)
        namespace = try container.decode(String.self, forKey: .namespace)
        namespaceSequence = try container.decode(Int64.self, forKey: .namespaceSequence)
        recordedAt = try container.decode(Timestamp.self, forKey: .recordedAt)
        recordedBy = try container.decode(String.self, forKey: .recordedBy)
        digest = try container.decode(ContentDigest.self, forKey: .digest)
        previousHash = try container.decode(String.self, forKey: .previousHash)
        chainHash = try container.decode(String.self, forKey: .chainHash)
        body = try container.decode(JSONValue.self, forKey: .event).canonicalString
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(sequence, forKey: .sequence)
        try container.encode(namespace, forKey: .namespace)
        try container.encode(namespaceSequence, forKey: .namespaceSequence)
        try container.encode(recordedAt, forKey: .recordedAt)
        try container.encode(recordedBy, forKey: .recordedBy)
        try container.encode(digest, forKey: .digest)
        try container.encode(previousHash, forKey: .previousHash)
        try container.encode(chainHash, forKey: .chainHash)
        try container.encode((try? JSONValue.parse(body)) ?? .string(body), forKey: .event)
    }

    public var summary: EventSummary {
        EventSummary(digest: digest, namespace: namespace, sequence: namespaceSequence, recordedAt: recordedAt, recordedBy: recordedBy)
    }
}

public struct JobSummary: Hashable, Sendable {
    public let namespace: String
    public let name: String
    public let runCount: Int
    public let latestRun: NodeSummary

    public init(namespace: String, name: String, runCount: Int, latestRun: NodeSummary) {
        self.namespace = namespace
        self.name = name
        self.runCount = runCount
        self.latestRun = latestRun
    }
}

public struct StoreStatistics: Hashable, Sendable {
    public let events: Int64
    public let nodes: Int64
    public let edges: Int64
    public let bytes: Int64

    public init(events: Int64, nodes: Int64, edges: Int64, bytes: Int64) {
        self.events = events
        self.nodes = nodes
        self.edges = edges
        self.bytes = bytes
    }
}
