import PedigreeCore

/// Reading query results back from their JSON, for clients of the server: the CLI with `--server` decodes
/// what the server sends and prints it exactly as it prints local results.
public struct ResultDecodingError: Error, CustomStringConvertible {
    public let description: String
    init(_ what: String) { description = "the server's answer is not a valid \(what)" }
}

private func string(_ value: JSONValue?, _ what: String) throws -> String {
    guard let text = value?.stringValue else { throw ResultDecodingError(what) }
    return text
}

private func time(_ value: JSONValue?, _ what: String) throws -> Timestamp {
    guard let text = value?.stringValue, let time = Timestamp(text) else { throw ResultDecodingError(what) }
    return time
}

private func int(_ value: JSONValue?) -> Int64? {
    if case .int(let n)? = value { return n }
    return nil
}

extension NodeSummary {
    public init(json: JSONValue) throws {
        self.init(
            ref: try string(json["ref"], "node"), kind: try string(json["kind"], "node"), namespace: try string(json["namespace"], "node"),
            name: try string(json["name"], "node"), version: json["version"]?.stringValue,
            digest: json["digest"]?.stringValue.flatMap { ContentDigest($0) }, status: json["status"]?.stringValue,
            recordedAt: try time(json["recordedAt"], "node"))
    }
}

extension LineageEdge {
    public init(json: JSONValue) throws {
        self.init(from: try string(json["from"], "edge"), to: try string(json["to"], "edge"), role: try string(json["role"], "edge"))
    }
}

extension LineageGraph {
    public init(json: JSONValue) throws {
        let entries = try (json["nodes"]?.arrayValue ?? []).map { Entry(node: try NodeSummary(json: $0), depth: Int(int($0["depth"]) ?? 0)) }
        guard let root = entries.first?.node, let direction = json["direction"]?.stringValue.flatMap(LineageDirection.init) else {
            throw ResultDecodingError("lineage graph")
        }
        self.init(
            root: root, direction: direction, depthLimit: int(json["depth"]).map(Int.init), nodes: entries,
            edges: try (json["edges"]?.arrayValue ?? []).map(LineageEdge.init(json:)))
    }
}

extension TrainedOnReport {
    public init(json: JSONValue) throws {
        try self.init(
            datasets: (json["datasets"]?.arrayValue ?? []).map(NodeSummary.init(json:)),
            models: (json["models"]?.arrayValue ?? []).map { model in
                let runRef = try string(model["run"], "trained-on report")
                let run = NodeSummary(ref: runRef, kind: "run", namespace: "", name: "", version: nil, digest: nil, status: nil, recordedAt: Timestamp(microseconds: 0))
                return Entry(model: try NodeSummary(json: model), run: run, hops: Int(int(model["hops"]) ?? 0))
            })
    }
}

extension ImpactReport {
    public init(json: JSONValue) throws {
        var affected: [LineageGraph.Entry] = []
        for key in ["models", "artifacts", "runs"] {
            affected += try (json[key]?.arrayValue ?? []).map { LineageGraph.Entry(node: try NodeSummary(json: $0), depth: 0) }
        }
        let rootRef = try string(json["root"], "impact report")
        let root = NodeSummary(ref: rootRef, kind: "", namespace: "", name: "", version: nil, digest: nil, status: nil, recordedAt: Timestamp(microseconds: 0))
        let byRef = Dictionary(affected.map { ($0.node.ref, $0.node) }, uniquingKeysWith: { a, _ in a })
        let serving = try (json["deployments"]?.arrayValue ?? []).map { deployment in
            let endpoint = NodeSummary(
                ref: try string(deployment["ref"], "impact report"), kind: "deployment", namespace: try string(deployment["namespace"], "impact report"),
                name: try string(deployment["endpoint"], "impact report"), version: nil, digest: nil, status: nil, recordedAt: Timestamp(microseconds: 0))
            let modelRef = try string(deployment["model"], "impact report")
            let model = byRef[modelRef]
                ?? NodeSummary(ref: modelRef, kind: "model", namespace: "", name: "", version: nil, digest: nil, status: nil, recordedAt: Timestamp(microseconds: 0))
            return Serving(endpoint: endpoint, model: model, since: try time(deployment["since"], "impact report"))
        }
        self.init(root: root, affected: affected, serving: serving)
    }
}

extension DeploymentEntry {
    public init(json: JSONValue) throws {
        let modelRef = try string(json["model"], "deployment")
        self.init(
            endpoint: try string(json["ref"], "deployment"),
            model: NodeSummary(ref: modelRef, kind: "model", namespace: "", name: "", version: nil, digest: nil, status: nil, recordedAt: Timestamp(microseconds: 0)),
            validFrom: try time(json["validFrom"], "deployment"), validUntil: json["validUntil"]?.stringValue.flatMap(Timestamp.init),
            config: json["config"]?.objectValue ?? [:], recordedAt: try time(json["recordedAt"], "deployment"))
    }
}

extension VerificationReport {
    public init(json: JSONValue) throws {
        self.init(
            chains: try (json["chains"]?.arrayValue ?? []).map {
                Chain(namespace: try string($0["namespace"], "verification"), events: int($0["events"]) ?? 0, head: try string($0["head"], "verification"))
            },
            eventCount: int(json["events"]) ?? 0,
            problems: (json["problems"]?.arrayValue ?? []).map {
                Problem(namespace: $0["namespace"]?.stringValue, sequence: int($0["sequence"]), message: $0["message"]?.stringValue ?? "")
            })
    }
}

extension AppendOutcome {
    public init(json: JSONValue) throws {
        guard let digest = json["digest"]?.stringValue.flatMap({ ContentDigest($0) }), let sequence = int(json["sequence"]),
            case .bool(let duplicate)? = json["duplicate"]
        else { throw ResultDecodingError("append result") }
        self.init(digest: digest, namespace: try string(json["namespace"], "append result"), sequence: sequence, duplicate: duplicate)
    }
}

extension NodeDetail {
    public init(json: JSONValue) throws {
        let summary = try NodeSummary(json: json)
        func links(_ key: String) throws -> [Link] {
            try (json[key]?.arrayValue ?? []).map { Link(node: try NodeSummary(json: $0), role: try string($0["role"], "node")) }
        }
        var run: RunRecord?
        var artifact: ArtifactSpec?
        var members = json.objectValue ?? [:]
        if summary.kind == "run" {
            for key in ["ref", "kind", "namespace", "name", "recordedAt", "upstream", "downstream", "events", "history"] { members.removeValue(forKey: key) }
            members["id"] = .string(String(summary.ref.dropFirst("run:".count)))
            run = try RunRecord(json: .object(members), path: "run", namespace: summary.namespace)
        } else if summary.isArtifact {
            var spec: [String: JSONValue] = ["kind": .string(summary.kind), "namespace": .string(summary.namespace), "name": .string(summary.name)]
            for key in ["version", "digest", "aliasDigests", "uri", "facets"] { spec[key] = members[key] }
            artifact = try ArtifactSpec(json: .object(spec.filter { $0.value != .null }), path: "artifact", defaultNamespace: summary.namespace)
        }
        let events = (json["events"]?.arrayValue ?? []).compactMap { event -> StoredEvent? in
            guard let digest = event["digest"]?.stringValue.flatMap({ ContentDigest($0) }), let at = event["recordedAt"]?.stringValue.flatMap(Timestamp.init) else { return nil }
            return StoredEvent(
                sequence: 0, namespace: summary.namespace, namespaceSequence: int(event["sequence"]) ?? 0, recordedAt: at,
                recordedBy: event["recordedBy"]?.stringValue ?? "", digest: digest, previousHash: "", chainHash: "", body: "")
        }
        self.init(
            summary: summary, artifact: artifact, run: run, upstream: try links("upstream"), downstream: try links("downstream"),
            history: try (json["history"]?.arrayValue ?? []).map(DeploymentEntry.init(json:)), events: events)
    }
}
