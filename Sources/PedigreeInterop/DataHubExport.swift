import PedigreeCore

/// DataHub metadata change proposals, as the JSON file DataHub's file source ingests (`datahub ingest` with
/// `source.type: file`) and `datahub check metadata-file` checks: each dataset version a `dataset` with its
/// properties and upstream lineage through the runs that made it; each model version an `mlModel` with its
/// hyperparameters and training metrics (from the run that trained it), its training job, its group (the
/// model's line, an `mlModelGroup`), its deployments and its `versionProperties`; each run a
/// `dataProcessInstance` with its inputs and outputs; each endpoint an `mlModelDeployment`. URNs are built
/// as DataHub builds them (platform `pedigree`, environment `PROD`, reserved characters percent-encoded), the
/// name being the reference without its kind (`team/features@2`).
enum DataHubExport {
    static let platform = "urn:li:dataPlatform:pedigree"

    static func write(_ source: any ExportSource, to write: (String) throws -> Void) throws {
        try write("[")
        var first = true
        func emit(_ entityType: String, _ urn: String, _ aspectName: String, _ aspect: [String: JSONValue]) throws {
            let proposal: JSONValue = [
                "entityType": .string(entityType), "entityUrn": .string(urn), "changeType": "UPSERT", "aspectName": .string(aspectName),
                "aspect": ["value": .string(JSONValue.object(aspect).canonicalString), "contentType": "application/json"],
            ]
            try write((first ? "\n" : ",\n") + proposal.canonicalString)
            first = false
        }
        var groups: Set<String> = []
        try source.forEachNode(.all) { node in
            let s = node.summary
            let urn = Self.urn(s.ref, kind: s.kind)
            let properties = JSONValue.object(NodeProperties.values(node).mapValues(JSONValue.string))
            let created: JSONValue = ["time": .int(s.recordedAt.microseconds / 1000), "actor": .string(actor(node.recordedBy))]
            switch s.kind {
            case "run":
                let id = s.ref.dropFirst("run:".count)
                try emit(
                    "dataProcessInstance", urn, "dataProcessInstanceProperties",
                    ["name": .string(s.name), "created": created, "customProperties": properties, "type": "BATCH_AD_HOC"])
                let inputs = try source.neighbours(of: s.ref, .upstream).map { Self.urn($0.ref, kind: $0.kind) }
                let outputs = try source.neighbours(of: s.ref, .downstream).map { Self.urn($0.ref, kind: $0.kind) }
                try emit("dataProcessInstance", urn, "dataProcessInstanceInput", ["inputs": .array(inputs.map(JSONValue.string))])
                try emit("dataProcessInstance", urn, "dataProcessInstanceOutput", ["outputs": .array(outputs.map(JSONValue.string))])
                try emit(
                    "dataProcessInstance", urn, "mlTrainingRunProperties",
                    [
                        "id": .string(String(id)), "hyperParams": namedValues(node.run?.hyperparameters),
                        "trainingMetrics": namedValues(node.run?.metrics),
                    ])
            case "model":
                let group = "urn:li:mlModelGroup:(\(platform),\(encoded(s.namespace + "/" + s.name)),PROD)"
                if groups.insert(group).inserted {
                    try emit(
                        "mlModelGroup", group, "mlModelGroupProperties",
                        [
                            "name": .string(s.name),
                            "customProperties": ["line": .string(ArtifactRef(kind: s.kind, namespace: s.namespace, name: s.name).description)],
                        ])
                }
                let generators = try source.neighbours(of: s.ref, .upstream).filter { $0.kind == "run" }
                let training = try generators.last.flatMap { try source.node($0.ref)?.run }
                let deployments = try source.neighbours(of: s.ref, .downstream).filter { $0.kind == "deployment" }
                try emit(
                    "mlModel", urn, "mlModelProperties",
                    [
                        "name": .string(s.name + (s.version.map { "@" + $0 } ?? "")), "version": ["versionTag": .string(s.version ?? "")],
                        "created": ["time": .int(s.recordedAt.microseconds / 1000)], "customProperties": properties,
                        "hyperParams": namedValues(training?.hyperparameters),
                        "trainingMetrics": namedValues(training?.metrics),
                        "trainingJobs": .array(generators.map { .string(Self.urn($0.ref, kind: $0.kind)) }),
                        "deployments": .array(deployments.map { .string(Self.urn($0.ref, kind: $0.kind)) }), "groups": [.string(group)],
                    ])
                let line = JSONValue.string(ArtifactRef(kind: s.kind, namespace: s.namespace, name: s.name).description).digest.hex.prefix(32)
                let ordinal = String(node.ordinal ?? 0)
                try emit(
                    "mlModel", urn, "versionProperties",
                    [
                        "versionSet": .string("urn:li:versionSet:(\(line),mlModel)"), "version": ["versionTag": .string(s.version ?? "")],
                        "sortId": .string(String(repeating: "0", count: max(0, 10 - ordinal.count)) + ordinal),
                        "versioningScheme": "LEXICOGRAPHIC_STRING",
                    ])
            case "deployment":
                try emit(
                    "mlModelDeployment", urn, "mlModelDeploymentProperties",
                    [
                        "description": .string("Pedigree endpoint \(s.namespace)/\(s.name)"), "customProperties": properties,
                        "createdAt": .int(s.recordedAt.microseconds / 1000),
                    ])
            default:
                try emit(
                    "dataset", urn, "datasetProperties",
                    ["name": .string(s.name + (s.version.map { "@" + $0 } ?? "")), "qualifiedName": .string(s.ref), "customProperties": properties])
                // Upstream datasets: what the runs that made this version read (models cannot be a dataset's upstream).
                var upstreams: [String] = []
                for run in try source.neighbours(of: s.ref, .upstream) where run.kind == "run" {
                    for input in try source.neighbours(of: run.ref, .upstream) where input.kind != "model" && input.kind != "deployment" {
                        let upstream = Self.urn(input.ref, kind: input.kind)
                        if !upstreams.contains(upstream) { upstreams.append(upstream) }
                    }
                }
                if !upstreams.isEmpty {
                    try emit(
                        "dataset", urn, "upstreamLineage",
                        ["upstreams": .array(upstreams.map { ["dataset": .string($0), "type": "TRANSFORMED"] })])
                }
            }
        }
        try write(first ? "]\n" : "\n]\n")
    }

    /// The URN DataHub gives a node of this kind: the name is the reference without its kind.
    static func urn(_ ref: String, kind: String) -> String {
        let name = encoded(String(ref.drop(while: { $0 != ":" }).dropFirst()))
        switch kind {
        case "run": return "urn:li:dataProcessInstance:" + JSONValue.string(ref).digest.hex.prefix(32)
        case "model": return "urn:li:mlModel:(\(platform),\(name),PROD)"
        case "deployment": return "urn:li:mlModelDeployment:(\(platform),\(name),PROD)"
        default: return "urn:li:dataset:(\(platform),\(name),PROD)"
        }
    }

    /// DataHub's URN encoding: its reserved characters (`,`, `(`, `)`, `␟`) percent-encoded, as `UrnEncoder` does.
    static func encoded(_ name: String) -> String {
        var out = ""
        for character in name {
            switch character {
            case ",": out += "%2C"
            case "(": out += "%28"
            case ")": out += "%29"
            case "␟": out += "%E2%90%9F"
            default: out.append(character)
            }
        }
        return out
    }

    static func actor(_ recordedBy: String?) -> String { "urn:li:corpuser:" + encoded(recordedBy ?? "pedigree") }

    /// Nested parameters or metrics as DataHub's named values (`optimizer.lr`), in key order.
    static func namedValues(_ values: [String: JSONValue]?) -> JSONValue {
        .array(dottedLeaves(values ?? [:]).map { ["name": .string($0.0), "value": .string($0.1)] })
    }
}
