import Foundation

/// Maps OpenLineage events (spec 2-0-2, as the official clients send them) onto Pedigree events.
///
/// - The job's namespace is the event's namespace; the run keeps OpenLineage's `runId`.
/// - A dataset with the `datasetType` facet `MODEL` is a `model` artifact, any other a `dataset`.
/// - The `version` facet's `datasetVersion` is the artifact version, kept as the client sent it.
/// - A model among a run's inputs is that run's parent model (role `base-model`).
/// - Run facets: `executionParameters` → hyperparameters, `environmentVariables` (secrets redacted) and
///   `processing_engine` → environment, `parent` → parent run; job facet `sourceCodeLocation` → code;
///   input facet `dataQualityMetrics` → data quality of that input.
/// - Every other facet is kept, verbatim, under the run's or artifact's `facets` (job facets as `job.NAME`).
/// - Pedigree's own facets, which `pedigree export --format openlineage` writes, say what the standard ones
///   cannot, and win over them: `pedigree_run` (run facet: the run's id and its record — nested
///   hyperparameters, environment, data, metrics, code, times), `pedigree_artifact` (dataset facet: the
///   artifact version as registered — kind, digest, URI, facets) and `pedigree_use` (input or output facet:
///   the role). So an exported history sent back gives the same graph.
/// - A JobEvent (design-time lineage, no run) becomes a run whose id is derived from the job's name, so
///   repeated JobEvents for one job accumulate on one node. A DatasetEvent registers its dataset.
public enum OpenLineageMapping {
    public static func events(from value: JSONValue, path: String = "") throws(ValidationError) -> [LineageEvent] {
        let reader = try FieldReader(value, path: path)
        let eventTime = try readTimestamp(reader, "eventTime")
        guard eventTime != nil else {
            throw ValidationError(field: reader.fieldPath("eventTime"), "is required in an OpenLineage event (RFC 3339 time)")
        }
        let producer = try reader.string("producer", hint: "the URI of the integration that emitted the event")
        let schemaURL = try reader.optionalString("schemaURL") ?? ""
        if let dataset = reader.value("dataset"), !reader.has("job") {
            let spec = try artifact(dataset, path: reader.fieldPath("dataset"))
            return [LineageEvent(namespace: spec.ref.namespace, eventTime: eventTime, producer: producer, payload: .artifact(spec))]
        }
        let job = try FieldReader(reader.value("job") ?? .null, path: reader.fieldPath("job"))
        let jobNamespace = try job.string("namespace")
        try validateNamespace(jobNamespace, field: job.fieldPath("namespace"))
        let jobName = try job.string("name")

        var run: RunRecord
        var native: RunRecord?
        if let runValue = reader.value("run") {
            let runReader = try FieldReader(runValue, path: reader.fieldPath("run"))
            let runID = try Reference.validRunID(try runReader.string("runId", hint: "a UUID"), field: runReader.fieldPath("runId"))
            var facets = try runReader.optionalObject("facets") ?? [:]
            if let facet = facets.removeValue(forKey: "pedigree_run") {
                native = try nativeRun(facet, job: jobName, namespace: jobNamespace, path: runReader.fieldPath("facets") + ".pedigree_run")
                // The record says what these standard facets say, without their loss (nested values, types).
                facets["executionParameters"] = nil
            }
            run = native ?? RunRecord(id: runID, job: jobName)
            try mapRunFacets(facets, into: &run, path: runReader.fieldPath("facets"))
        } else if schemaURL.hasSuffix("JobEvent") || !reader.has("eventType") {
            let staticID = "job-" + JSONValue.string("\(jobNamespace)/\(jobName)").digest.hex.prefix(32)
            run = RunRecord(id: String(staticID), job: jobName)
            run.facets["staticLineage"] = true
        } else {
            throw ValidationError(field: reader.fieldPath("run"), "is required in a RunEvent")
        }

        if let typeText = try reader.optionalString("eventType") {
            guard let status = RunStatus(rawValue: typeText.uppercased()) else {
                throw ValidationError(
                    field: reader.fieldPath("eventType"), "'\(typeText)' is not one of \(RunStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            run.status = status
            if native == nil {
                if status == .start { run.startedAt = eventTime }
                if status.isTerminal { run.endedAt = eventTime }
            }
        }

        for (key, facet) in try job.optionalObject("facets") ?? [:] {
            if key == "sourceCodeLocation" {
                guard native == nil else { continue }
                run.code = try codeFacet(from: facet, path: "\(job.fieldPath("facets")).\(key)")
            } else {
                run.facets["job.\(key)"] = facet
            }
        }

        var quality: [String: JSONValue] = [:]
        for (i, input) in try reader.array("inputs").enumerated() {
            let inputPath = "\(reader.fieldPath("inputs"))[\(i)]"
            let spec = try artifact(input, path: inputPath)
            var inputFacets = try FieldReader(input, path: inputPath).optionalObject("inputFacets") ?? [:]
            if let metrics = inputFacets.removeValue(forKey: "dataQualityMetrics") {
                quality[spec.ref.description] = stripFacetMetadata(metrics)
            }
            let role = try nativeRole(&inputFacets, path: inputPath + ".inputFacets") ?? (spec.ref.kind == "model" ? "base-model" : "input")
            run.inputs.append(ArtifactUse(artifact: spec, role: role, facets: inputFacets))
        }
        if !quality.isEmpty {
            var data = run.data?.json ?? [:]
            data["quality"] = .object(quality)
            run.data = try DataFacet(json: .object(data), path: reader.fieldPath("inputs"))
        }
        for (i, output) in try reader.array("outputs").enumerated() {
            let outputPath = "\(reader.fieldPath("outputs"))[\(i)]"
            let spec = try artifact(output, path: outputPath)
            var outputFacets = try FieldReader(output, path: outputPath).optionalObject("outputFacets") ?? [:]
            let role = try nativeRole(&outputFacets, path: outputPath + ".outputFacets") ?? (spec.ref.kind == "model" ? "model" : "output")
            run.outputs.append(ArtifactUse(artifact: spec, role: role, facets: outputFacets))
        }
        return [LineageEvent(namespace: jobNamespace, eventTime: eventTime, producer: producer, payload: .run(run))]
    }

    static func artifact(_ value: JSONValue, path: String) throws(ValidationError) -> ArtifactSpec {
        let reader = try FieldReader(value, path: path)
        let namespace = try reader.string("namespace")
        try validateNamespace(namespace, field: reader.fieldPath("namespace"))
        var facets = try reader.optionalObject("facets") ?? [:]
        if let facet = facets["pedigree_artifact"] {
            return try nativeArtifact(
                facet, namespace: namespace, name: try reader.string("name"), path: reader.fieldPath("facets") + ".pedigree_artifact")
        }
        var kind = "dataset"
        if let type = facets["datasetType"]?["datasetType"]?.stringValue {
            if type.uppercased() == "MODEL" { kind = "model" }
            facets.removeValue(forKey: "datasetType")
        }
        var version: String?
        if let versionFacet = facets.removeValue(forKey: "version") {
            guard let text = versionFacet["datasetVersion"]?.stringValue, !text.isEmpty else {
                throw ValidationError(field: "\(reader.fieldPath("facets")).version.datasetVersion", "must be a non-empty string")
            }
            version = text
        }
        return ArtifactSpec(ref: ArtifactRef(kind: kind, namespace: namespace, name: try reader.string("name"), version: version), facets: facets)
    }

    static func mapRunFacets(_ facets: [String: JSONValue], into run: inout RunRecord, path: String) throws(ValidationError) {
        var environment: [String: JSONValue] = [:]
        for (key, facet) in facets {
            let facetPath = "\(path).\(key)"
            switch key {
            case "executionParameters":
                var parameters: [String: JSONValue] = [:]
                for (i, p) in try FieldReader(facet, path: facetPath).array("parameters").enumerated() {
                    let param = try FieldReader(p, path: "\(facetPath).parameters[\(i)]")
                    let name = try param.string("key")
                    parameters[name] = .string(SecretRedactor.redact(name: name, value: param.value("value")?.displayText ?? ""))
                }
                run.hyperparameters = parameters
            case "environmentVariables":
                var variables: [String: JSONValue] = [:]
                for (i, v) in try FieldReader(facet, path: facetPath).array("environmentVariables").enumerated() {
                    let variable = try FieldReader(v, path: "\(facetPath).environmentVariables[\(i)]")
                    let name = try variable.string("name")
                    variables[name] = .string(SecretRedactor.redact(name: name, value: variable.value("value")?.displayText ?? ""))
                }
                environment["variables"] = .object(variables)
            case "processing_engine":
                let engine = try FieldReader(facet, path: facetPath)
                var runtime: [String: JSONValue] = ["name": .string(try engine.string("name"))]
                if let version = try engine.optionalString("version") { runtime["version"] = .string(version) }
                environment["runtime"] = .object(runtime)
            case "parent":
                let parentRun = try FieldReader(try FieldReader(facet, path: facetPath).value("run") ?? .null, path: "\(facetPath).run")
                run.parentRun = "run:" + (try Reference.validRunID(try parentRun.string("runId"), field: parentRun.fieldPath("runId")))
                run.facets[key] = facet
            default:
                run.facets[key] = facet
            }
        }
        if !environment.isEmpty { run.environment = try EnvironmentFacet(json: .object(environment), path: path) }
    }

    static func codeFacet(from facet: JSONValue, path: String) throws(ValidationError) -> CodeFacet {
        let reader = try FieldReader(facet, path: path)
        var code: [String: JSONValue] = [:]
        let url = try reader.optionalString("url")
        if let repo = try reader.optionalString("repoUrl") ?? url {
            code["repository"] = .string(SecretRedactor.stripURLCredentials(repo))
        }
        if let commit = try reader.optionalString("version") { code["commit"] = .string(commit) }
        for key in ["branch", "tag", "path"] {
            if let value = try reader.optionalString(key) { code[key] = .string(value) }
        }
        return try CodeFacet(json: .object(code), path: path)
    }

    /// A run's record from its `pedigree_run` facet: the id Pedigree knew it by (OpenLineage's `runId` may be a
    /// UUID derived from it) and everything but what it used and made, which the event's datasets say.
    static func nativeRun(_ facet: JSONValue, job: String, namespace: String, path: String) throws(ValidationError) -> RunRecord {
        let reader = try FieldReader(facet, path: path)
        let id = try reader.string("id")
        guard case .object(let record) = reader.value("record") ?? .object([:]) else {
            throw ValidationError(field: reader.fieldPath("record"), "must be an object: the run's record")
        }
        for key in ["id", "job", "status", "inputs", "outputs", "parents"] where record[key] != nil {
            throw ValidationError(field: "\(reader.fieldPath("record")).\(key)", "is not part of the record here: the event itself says it")
        }
        // The same redaction as the standard facets get: secret-named parameters and environment variables
        // lose their values, URLs their credentials, wherever they are in the record.
        guard case .object(var redacted) = SecretRedactor.redactSecrets(.object(record)) else { preconditionFailure("an object stays an object") }
        redacted["id"] = .string(id)
        redacted["job"] = .string(job)
        return try RunRecord(json: .object(redacted), path: reader.fieldPath("record"), namespace: namespace, requireOrderedTimes: false)
    }

    /// An artifact version from its `pedigree_artifact` facet, which must name the dataset it is attached to.
    static func nativeArtifact(_ facet: JSONValue, namespace: String, name: String, path: String) throws(ValidationError) -> ArtifactSpec {
        let reader = try FieldReader(facet, path: path)
        let spec = try ArtifactSpec(json: reader.value("artifact") ?? .null, path: reader.fieldPath("artifact"), defaultNamespace: namespace)
        guard spec.ref.namespace == namespace, spec.ref.name == name, spec.ref.version != nil else {
            throw ValidationError(
                field: reader.fieldPath("artifact"), "must be a version of the dataset it describes (\(namespace)/\(name)), with its version")
        }
        return spec
    }

    /// The role a `pedigree_use` facet gives an input or output (removed from the facets it came with).
    static func nativeRole(_ facets: inout [String: JSONValue], path: String) throws(ValidationError) -> String? {
        guard let facet = facets.removeValue(forKey: "pedigree_use") else { return nil }
        let reader = try FieldReader(facet, path: path + ".pedigree_use")
        return try Role(try reader.string("role"), field: reader.fieldPath("role")).rawValue
    }

    /// Drops `_producer` and `_schemaURL`, which describe the facet rather than the data.
    static func stripFacetMetadata(_ facet: JSONValue) -> JSONValue {
        guard case .object(var members) = facet else { return facet }
        members.removeValue(forKey: "_producer")
        members.removeValue(forKey: "_schemaURL")
        return .object(members)
    }
}
