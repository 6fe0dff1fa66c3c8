import PedigreeCore

/// A node of the lineage graph as listed in query results. `ref` is its canonical reference.
public struct NodeSummary: Hashable, Sendable {
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

    public init(ref: String, kind: String, namespace: String, name: String, version: String?, digest: ContentDigest?, status: String?, recordedAt: Timestamp) {
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

    public var json: JSONValue {
        var out: [String: JSONValue] = [
            "ref": .string(ref), "kind": .string(kind), "namespace": .string(namespace), "name": .string(name),
            "recordedAt": .string(recordedAt.description),
        ]
        if let version { out["version"] = .string(version) }
        if let digest { out["digest"] = .string(digest.description) }
        if let status { out["status"] = .string(status) }
        return .object(out)
    }
}

/// A directed edge in data-flow direction: artifact → run (used), run → artifact (generated),
/// model → deployment (deployed).
public struct LineageEdge: Hashable, Sendable {
    public let from: String
    public let to: String
    public let role: String

    public init(from: String, to: String, role: String) {
        self.from = from
        self.to = to
        self.role = role
    }

    public var json: JSONValue { ["from": .string(from), "to": .string(to), "role": .string(role)] }
}

public struct LineageGraph: Sendable {
    public struct Entry: Hashable, Sendable {
        public let node: NodeSummary
        /// Hops from the root along the shortest path.
        public let depth: Int
        public init(node: NodeSummary, depth: Int) {
            self.node = node
            self.depth = depth
        }
    }

    public let root: NodeSummary
    public let direction: LineageDirection
    public let depthLimit: Int?
    /// Every node reached, the root first, in breadth-first order.
    public let nodes: [Entry]
    public let edges: [LineageEdge]

    public init(root: NodeSummary, direction: LineageDirection, depthLimit: Int?, nodes: [Entry], edges: [LineageEdge]) {
        self.root = root
        self.direction = direction
        self.depthLimit = depthLimit
        self.nodes = nodes
        self.edges = edges
    }

    public var json: JSONValue {
        [
            "root": .string(root.ref), "direction": .string(direction.rawValue),
            "depth": depthLimit.map { .int(Int64($0)) } ?? .null,
            "nodes": .array(nodes.map { entry in
                guard case .object(var o) = entry.node.json else { return entry.node.json }
                o["depth"] = .int(Int64(entry.depth))
                return .object(o)
            }),
            "edges": .array(edges.map(\.json)),
        ]
    }
}

public struct TrainedOnReport: Sendable {
    public struct Entry: Hashable, Sendable {
        public let model: NodeSummary
        /// The run that generated the model.
        public let run: NodeSummary
        /// Hops from the dataset to the model: 2 when trained on it directly, more through preprocessing.
        public let hops: Int
        public init(model: NodeSummary, run: NodeSummary, hops: Int) {
            self.model = model
            self.run = run
            self.hops = hops
        }
    }

    /// The dataset versions searched from.
    public let datasets: [NodeSummary]
    public let models: [Entry]

    public init(datasets: [NodeSummary], models: [Entry]) {
        self.datasets = datasets
        self.models = models
    }

    public var json: JSONValue {
        [
            "datasets": .array(datasets.map(\.json)),
            "models": .array(models.map { entry in
                guard case .object(var o) = entry.model.json else { return entry.model.json }
                o["run"] = .string(entry.run.ref)
                o["hops"] = .int(Int64(entry.hops))
                o["direct"] = .bool(entry.hops == 2)
                return .object(o)
            }),
        ]
    }
}

public struct ImpactReport: Sendable {
    public struct Serving: Hashable, Sendable {
        public let endpoint: NodeSummary
        public let model: NodeSummary
        public let since: Timestamp
        public init(endpoint: NodeSummary, model: NodeSummary, since: Timestamp) {
            self.endpoint = endpoint
            self.model = model
            self.since = since
        }
    }

    public let root: NodeSummary
    /// Every node downstream of the root, breadth first, with its distance.
    public let affected: [LineageGraph.Entry]
    /// Endpoints whose current model is affected.
    public let serving: [Serving]

    public init(root: NodeSummary, affected: [LineageGraph.Entry], serving: [Serving]) {
        self.root = root
        self.affected = affected
        self.serving = serving
    }

    public func affected(kind: String) -> [NodeSummary] { affected.map(\.node).filter { $0.kind == kind } }

    public var json: JSONValue {
        func list(_ kind: String) -> JSONValue { .array(affected(kind: kind).map(\.json)) }
        let otherArtifacts = affected.map(\.node).filter { $0.isArtifact && $0.kind != "model" }
        return [
            "root": .string(root.ref),
            "runs": list("run"),
            "models": list("model"),
            "artifacts": .array(otherArtifacts.map(\.json)),
            "deployments": .array(serving.map {
                ["ref": .string($0.endpoint.ref), "endpoint": .string($0.endpoint.name), "namespace": .string($0.endpoint.namespace),
                 "model": .string($0.model.ref), "since": .string($0.since.description)]
            }),
        ]
    }
}

public struct DeploymentEntry: Hashable, Sendable {
    public let endpoint: String
    public let model: NodeSummary
    public let validFrom: Timestamp
    /// When the next deployment of the endpoint took over, if one did.
    public let validUntil: Timestamp?
    public let config: [String: JSONValue]
    public let recordedAt: Timestamp

    public init(endpoint: String, model: NodeSummary, validFrom: Timestamp, validUntil: Timestamp?, config: [String: JSONValue], recordedAt: Timestamp) {
        self.endpoint = endpoint
        self.model = model
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.config = config
        self.recordedAt = recordedAt
    }

    public var json: JSONValue {
        var out: [String: JSONValue] = [
            "ref": .string(endpoint), "model": .string(model.ref), "validFrom": .string(validFrom.description),
            "recordedAt": .string(recordedAt.description),
        ]
        out["validUntil"] = validUntil.map { .string($0.description) } ?? .null
        if !config.isEmpty { out["config"] = .object(config) }
        return .object(out)
    }
}

/// Everything known about one node.
public struct NodeDetail: Sendable {
    public struct Link: Hashable, Sendable {
        public let node: NodeSummary
        public let role: String
        public init(node: NodeSummary, role: String) {
            self.node = node
            self.role = role
        }
        public var json: JSONValue {
            guard case .object(var o) = node.json else { return node.json }
            o["role"] = .string(role)
            return .object(o)
        }
    }

    public let summary: NodeSummary
    /// For artifacts: what was registered about this version.
    public let artifact: ArtifactSpec?
    /// For runs: all events about the run folded together (the five dimensions).
    public let run: RunRecord?
    /// Upstream neighbours: a run's inputs and parents; an artifact's generating runs; an endpoint's models.
    public let upstream: [Link]
    /// Downstream neighbours: a run's outputs; the runs that used an artifact; a model's deployments.
    public let downstream: [Link]
    /// For deployment endpoints: what they served.
    public let history: [DeploymentEntry]
    /// The events about this node, oldest first.
    public let events: [StoredEvent]

    public init(summary: NodeSummary, artifact: ArtifactSpec?, run: RunRecord?, upstream: [Link], downstream: [Link], history: [DeploymentEntry], events: [StoredEvent]) {
        self.summary = summary
        self.artifact = artifact
        self.run = run
        self.upstream = upstream
        self.downstream = downstream
        self.history = history
        self.events = events
    }

    public var json: JSONValue {
        guard case .object(var out) = summary.json else { return summary.json }
        if let artifact {
            if !artifact.aliasDigests.isEmpty { out["aliasDigests"] = .array(artifact.aliasDigests.map(JSONValue.string)) }
            if let uri = artifact.uri { out["uri"] = .string(uri) }
            if !artifact.facets.isEmpty { out["facets"] = .object(artifact.facets) }
        }
        if let run {
            out["job"] = .string(run.job)
            for (key, value) in run.json.objectValue ?? [:] where !["id", "job", "inputs", "outputs", "parents", "status"].contains(key) {
                out[key] = value
            }
        }
        out["upstream"] = .array(upstream.map(\.json))
        out["downstream"] = .array(downstream.map(\.json))
        if summary.kind == "deployment" { out["history"] = .array(history.map(\.json)) }
        out["events"] = .array(events.map { ["digest": .string($0.digest.description), "sequence": .int($0.namespaceSequence), "recordedAt": .string($0.recordedAt.description), "recordedBy": .string($0.recordedBy)] })
        return .object(out)
    }
}

public struct VerificationReport: Sendable {
    public struct Chain: Hashable, Sendable {
        public let namespace: String
        public let events: Int64
        public let head: String
        public init(namespace: String, events: Int64, head: String) {
            self.namespace = namespace
            self.events = events
            self.head = head
        }
    }

    public struct Problem: Hashable, Sendable, CustomStringConvertible {
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
    }

    public let chains: [Chain]
    public let eventCount: Int64
    public let problems: [Problem]

    public init(chains: [Chain], eventCount: Int64, problems: [Problem]) {
        self.chains = chains
        self.eventCount = eventCount
        self.problems = problems
    }

    public var ok: Bool { problems.isEmpty }

    public var json: JSONValue {
        [
            "ok": .bool(ok), "events": .int(eventCount),
            "chains": .array(chains.map { ["namespace": .string($0.namespace), "events": .int($0.events), "head": .string($0.head)] }),
            "problems": .array(problems.map {
                ["namespace": $0.namespace.map(JSONValue.string) ?? .null, "sequence": $0.sequence.map(JSONValue.int) ?? .null, "message": .string($0.message)]
            }),
        ]
    }
}
