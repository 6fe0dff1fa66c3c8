import PedigreeCore

/// OpenLineage events, one a line: a RunEvent for every run (its inputs and outputs as versioned datasets, with
/// the standard facets where one exists — `sourceCodeLocation`, `executionParameters`, `version`,
/// `datasetType` — and Pedigree's own facets for what the standard ones cannot say: `pedigree_run` the run's
/// record (nested hyperparameters, environment, data preparation, metrics, code with its dirty state),
/// `pedigree_artifact` an artifact version as registered (kind, digest, URI), `pedigree_use` the role), and a
/// DatasetEvent for every artifact version, in the order the store recorded them. Sent back to Pedigree
/// (`pedigree record`, `POST /api/v1/lineage`), they give the same graph; any other consumer reads the
/// standard parts. Endpoints and deployments have no OpenLineage form and are not exported. Run ids that are
/// not UUIDs (OpenLineage requires them) travel as a UUID derived from the id, the id itself in `pedigree_run`.
enum OpenLineageExport {
    static let producer = "https://pedigree.dev/pedigree"
    static let runEventSchema = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
    static let datasetEventSchema = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent"
    static let facetSchemas = [
        "version": "https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet",
        "datasetType": "https://openlineage.io/spec/facets/1-0-1/DatasetTypeDatasetFacet.json#/$defs/DatasetTypeDatasetFacet",
        "sourceCodeLocation": "https://openlineage.io/spec/facets/1-1-0/SourceCodeLocationJobFacet.json#/$defs/SourceCodeLocationJobFacet",
        "executionParameters": "https://openlineage.io/spec/facets/1-0-0/ExecutionParametersRunFacet.json#/$defs/ExecutionParametersRunFacet",
        "pedigree_run": "https://pedigree.dev/spec/facets/1-0-0/PedigreeRunFacet.json#/$defs/PedigreeRunFacet",
        "pedigree_artifact": "https://pedigree.dev/spec/facets/1-0-0/PedigreeArtifactDatasetFacet.json#/$defs/PedigreeArtifactDatasetFacet",
        "pedigree_use": "https://pedigree.dev/spec/facets/1-0-0/PedigreeUseFacet.json#/$defs/PedigreeUseFacet",
    ]

    static func write(_ source: any ExportSource, to write: (String) throws -> Void) throws {
        try source.forEachNode(.all) { node in
            switch node.summary.kind {
            case "deployment": return
            case "run": try write(try runEvent(node, source).canonicalString + "\n")
            default:
                let event: JSONValue = [
                    "eventTime": .string(node.summary.recordedAt.description), "producer": .string(producer),
                    "schemaURL": .string(datasetEventSchema),
                    "dataset": dataset(node),
                ]
                try write(event.canonicalString + "\n")
            }
        }
    }

    static func runEvent(_ node: ExportNode, _ source: any ExportSource) throws -> JSONValue {
        let s = node.summary
        let record = node.run ?? RunRecord(id: String(s.ref.dropFirst("run:".count)), job: s.name)
        var native = record.json.objectValue ?? [:]
        for key in ["id", "job", "status", "inputs", "outputs", "parents"] { native[key] = nil }
        var runFacets: [String: JSONValue] = ["pedigree_run": facet("pedigree_run", ["id": .string(record.id), "record": .object(native)])]
        if let hyperparameters = record.hyperparameters, !hyperparameters.isEmpty {
            runFacets["executionParameters"] = facet(
                "executionParameters", ["parameters": .array(dottedLeaves(hyperparameters).map { ["key": .string($0.0), "value": .string($0.1)] })])
        }
        var jobFacets: [String: JSONValue] = [:]
        if let code = record.code, let repository = code.repository {
            var location: [String: JSONValue] = ["type": "git", "url": .string(repository), "repoUrl": .string(repository)]
            let fields = code.json
            if let commit = fields["commit"]?.stringValue { location["version"] = .string(commit) }
            for key in ["branch", "tag", "path"] { if let value = fields[key]?.stringValue { location[key] = .string(value) } }
            jobFacets["sourceCodeLocation"] = facet("sourceCodeLocation", location)
        }
        func datasets(_ direction: LineageDirection, useFacets: String) throws -> JSONValue {
            .array(
                try source.neighbours(of: s.ref, direction).filter { $0.kind != "run" && $0.kind != "deployment" }.compactMap { link in
                    guard let artifact = try source.node(link.ref) else { return nil }
                    guard case .object(var members) = dataset(artifact) else { return nil }
                    members[useFacets] = ["pedigree_use": facet("pedigree_use", ["role": .string(link.role)])]
                    return .object(members)
                })
        }
        let time = record.endedAt ?? record.startedAt ?? s.recordedAt
        return [
            "eventType": .string(record.status?.rawValue ?? "OTHER"), "eventTime": .string(time.description), "producer": .string(producer),
            "schemaURL": .string(runEventSchema), "run": ["runId": .string(uuid(record.id)), "facets": .object(runFacets)],
            "job": ["namespace": .string(s.namespace), "name": .string(record.job), "facets": .object(jobFacets)],
            "inputs": try datasets(.upstream, useFacets: "inputFacets"), "outputs": try datasets(.downstream, useFacets: "outputFacets"),
        ]
    }

    /// An artifact version as an OpenLineage dataset: its namespace and name, the version, MODEL for a model,
    /// and the registration itself.
    static func dataset(_ node: ExportNode) -> JSONValue {
        let s = node.summary
        let spec = node.artifact ?? ArtifactSpec(ref: ArtifactRef(kind: s.kind, namespace: s.namespace, name: s.name, version: s.version))
        var facets: [String: JSONValue] = ["pedigree_artifact": facet("pedigree_artifact", ["artifact": spec.json])]
        if let version = s.version { facets["version"] = facet("version", ["datasetVersion": .string(version)]) }
        if s.kind == "model" { facets["datasetType"] = facet("datasetType", ["datasetType": "MODEL"]) }
        return ["namespace": .string(s.namespace), "name": .string(s.name), "facets": .object(facets)]
    }

    static func facet(_ name: String, _ fields: [String: JSONValue]) -> JSONValue {
        var members = fields
        members["_producer"] = .string(producer)
        members["_schemaURL"] = .string(facetSchemas[name]!)
        return .object(members)
    }

    /// The run id when it is a UUID; otherwise a UUID derived from it (the SHA-256 of `pedigree:run:ID`, shaped
    /// as a version 8 UUID), so the same run always has the same OpenLineage id.
    static func uuid(_ id: String) -> String {
        let hex = Array(id.utf8)
        let isUUID =
            hex.count == 36
            && hex.enumerated().allSatisfy { i, c in
                [8, 13, 18, 23].contains(i) ? c == UInt8(ascii: "-") : (c >= 48 && c <= 57) || (c >= 97 && c <= 102)
            }
        if isUUID { return id }
        var digits = Array(JSONValue.string("pedigree:run:" + id).digest.hex.prefix(32))
        digits[12] = "8"
        digits[16] = ["8", "9", "a", "b"][Int(String(digits[16]), radix: 16)! % 4]
        let text = String(digits)
        let parts = [text.prefix(8), text.dropFirst(8).prefix(4), text.dropFirst(12).prefix(4), text.dropFirst(16).prefix(4), text.dropFirst(20)]
        return parts.joined(separator: "-")
    }
}
