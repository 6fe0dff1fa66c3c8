import Foundation
import PedigreeCapture
import PedigreeCore
import PedigreeMLflow

/// A ClearML offline session as one run with ClearML's task id: hyperparameters by section (typed as ClearML
/// declared them), configuration objects as a facet, the script's repository, commit, branch, entry point and
/// uncommitted diff (by digest) as its code, the installed packages as its environment, the last value of
/// each reported scalar as its metrics (`title/series`; single values by name), its artifacts as outputs (or
/// inputs) versioned by the SHA-256 ClearML recorded — checked against the file when the session holds it —
/// and its output models as outputs digested from the weights the session kept; an input model the task
/// names is its parent. ClearML's ids are `clearml.*` facets. The run is a function of the session's files,
/// so the folder and its zip import as the same events.
public enum ClearMLImport {
    /// ClearML's "single value" iteration (`report_single_value`).
    static let summaryIteration: Int64 = -2_147_483_648

    public static func events(_ session: ClearMLSession, namespace: String) throws(ValidationError) -> ImportResult {
        let task = session.task
        let file = "\(session.location): task.json"
        guard let id = task["id"]?.stringValue, !id.isEmpty else {
            throw ValidationError(field: "\(file): id", "is missing: every ClearML task has one")
        }
        guard let name = task["name"]?.stringValue, !name.isEmpty else { throw ValidationError(field: "\(file): name", "is missing") }
        let project = task["project_name"]?.stringValue ?? ""
        var result = ImportResult()
        var run = RunRecord(
            id: id, job: project.isEmpty ? name : "\(project)/\(name)", status: status(task["status"]?.stringValue, closed: session.closed))
        let times = (session.metricEvents + session.logEvents).compactMap { $0["timestamp"]?.intValue }.filter { $0 > 0 }
        run.startedAt = times.min().flatMap(SourceTime.milliseconds)
        if run.status?.isTerminal == true { run.endedAt = times.max().flatMap(SourceTime.milliseconds) }

        var sections: [String: JSONValue] = [:]
        for (section, parameters) in task["hyperparams"]?.objectValue ?? [:] {
            var values: [String: JSONValue] = [:]
            for (key, parameter) in parameters.objectValue ?? [:] {
                values[parameter["name"]?.stringValue ?? key] = typed(parameter["value"]?.stringValue ?? "", parameter["type"]?.stringValue)
            }
            if !values.isEmpty { sections[section] = .object(values) }
        }
        if !sections.isEmpty { run.hyperparameters = SecretRedactor.redactSecrets(.object(sections)).objectValue }
        if let configuration = task["configuration"]?.objectValue, !configuration.isEmpty {
            run.facets["clearml.configuration"] = SecretRedactor.redactSecrets(
                .object(
                    configuration.mapValues {
                        ["type": $0["type"] ?? .null, "value": .string(SecretRedactor.redactText($0["value"]?.stringValue ?? ""))]
                    }))
        }
        let script = task["script"]
        run.code = try code(script, field: "\(file): script")
        if let pip = script?["requirements"]?["pip"]?.stringValue, !pip.isEmpty {
            let python = pip.split(whereSeparator: \.isNewline).first { $0.hasPrefix("# Python ") }
                .flatMap { $0.dropFirst("# Python ".count).split(separator: " ").first.map(String.init) }
            run.environment = MLflowService.environment { name in
                name == "requirements.txt" ? pip : name == "python_env.yaml" ? python.map { "python: \($0)" } : nil
            }
        }
        run.metrics = metrics(session.metricEvents)

        for (i, artifact) in (task["execution"]?["artifacts"]?.arrayValue ?? []).enumerated() {
            let use = try artifactUse(
                artifact, session: session, project: project, task: name, namespace: namespace, field: "\(file): execution.artifacts[\(i)]")
            if artifact["mode"]?.stringValue == "input" { run.inputs.append(use) } else { run.outputs.append(use) }
        }
        for (i, model) in (task["offline_output_models"]?.arrayValue ?? []).enumerated() {
            run.outputs.append(
                try outputModel(
                    model, session: session, namespace: namespace, field: "\(file): offline_output_models[\(i)]", skipped: &result.skipped))
        }
        if let input = task["execution"]?["model"]?.stringValue, !input.isEmpty {
            run.parents.append(ArtifactRef(kind: "model", namespace: namespace, name: "clearml-model", version: input))
        }
        run.facets["clearml.task_id"] = .string(id)
        if !project.isEmpty { run.facets["clearml.project"] = .string(project) }
        if let type = task["type"]?.stringValue { run.facets["clearml.type"] = .string(type) }
        result.events.append(LineageEvent(namespace: namespace, eventTime: run.endedAt ?? run.startedAt, payload: .run(run)))
        return result
    }

    /// ClearML keeps every parameter as text beside the type it was connected with.
    static func typed(_ text: String, _ type: String?) -> JSONValue {
        switch type {
        case "int": Int64(text).map(JSONValue.int) ?? .string(text)
        case "float": Double(text).map(JSONValue.init(number:)) ?? .string(text)
        case "bool": text == "True" || text == "true" ? .bool(true) : text == "False" || text == "false" ? .bool(false) : .string(text)
        case "list", "dict", "tuple": (try? JSONValue.parse(text.replacingOccurrences(of: "'", with: "\""))) ?? .string(text)
        default: .string(text)
        }
    }

    static func status(_ recorded: String?, closed: Bool) -> RunStatus? {
        switch recorded {
        case "completed", "published", "closed": .complete
        case "failed": .fail
        case "stopped": .abort
        case "in_progress", "queued": .running
        case "created": .start
        default: closed ? .complete : nil
        }
    }

    static func code(_ script: JSONValue?, field: String) throws(ValidationError) -> CodeFacet? {
        guard let script else { return nil }
        var json: [String: JSONValue] = [:]
        if let repository = script["repository"]?.stringValue, !repository.isEmpty {
            json["repository"] = .string(SecretRedactor.stripURLCredentials(repository))
        }
        if let commit = script["version_num"]?.stringValue, !commit.isEmpty { json["commit"] = .string(commit) }
        if let branch = script["branch"]?.stringValue, !branch.isEmpty { json["branch"] = .string(branch) }
        if let entry = script["entry_point"]?.stringValue, !entry.isEmpty {
            let directory = script["working_dir"]?.stringValue ?? "."
            json["path"] = .string(directory == "." || directory.isEmpty ? entry : "\(directory)/\(entry)")
        }
        if json["commit"] != nil {
            let diff = script["diff"]?.stringValue ?? ""
            json["dirty"] = .bool(!diff.isEmpty)
            if !diff.isEmpty { json["diffDigest"] = .string(ContentDigest(hashing: Array(diff.utf8)).description) }
        }
        return json.isEmpty ? nil : try CodeFacet(json: .object(json), path: field)
    }

    /// The last value of each scalar series, by iteration: `title/series`, or the name of a single value.
    static func metrics(_ events: [JSONValue]) -> [String: JSONValue]? {
        var latest: [String: (iteration: Int64, value: JSONValue)] = [:]
        for event in events where event["type"]?.stringValue == "training_stats_scalar" {
            guard let metric = event["metric"]?.stringValue, let variant = event["variant"]?.stringValue, let value = event["value"] else { continue }
            let iteration = event["iter"]?.intValue ?? 0
            let key = iteration == summaryIteration ? variant : metric == variant ? metric : "\(metric)/\(variant)"
            if latest[key].map({ iteration >= $0.iteration }) ?? true { latest[key] = (iteration, value) }
        }
        return latest.isEmpty ? nil : latest.mapValues(\.value)
    }

    static func artifactUse(
        _ artifact: JSONValue, session: ClearMLSession, project: String, task: String, namespace: String, field: String
    ) throws(ValidationError) -> ArtifactUse {
        guard let key = artifact["key"]?.stringValue, !key.isEmpty else { throw ValidationError(field: "\(field).key", "is missing") }
        var digest: ContentDigest? = nil
        if let hash = artifact["hash"]?.stringValue, !hash.isEmpty {
            guard let recorded = ContentDigest(hex: hash) else { throw ValidationError(field: "\(field).hash", "'\(hash)' is not a SHA-256 in hex") }
            digest = recorded
        }
        let uri = artifact["uri"]?.stringValue
        if let uri, let inside = session.sessionPath(of: uri), let bytes = session.file(inside) {
            let actual = ContentDigest(hashing: bytes)
            if let digest, digest != actual {
                throw ValidationError(
                    field: "\(field).hash", "is \(digest.hex) but the session's \(inside) hashes to \(actual.hex): the session is altered")
            }
            digest = actual
        }
        let extensionName = URL(fileURLWithPath: uri ?? key).pathExtension.lowercased()
        let kind = DVCImport.modelExtensions.contains(extensionName) ? "model" : "dataset"
        let version = digest.map { String($0.hex.prefix(12)) } ?? session.task["id"]?.stringValue ?? "unknown"
        var spec = ArtifactSpec(
            ref: ArtifactRef(
                kind: kind, namespace: namespace, name: [project, task, key].filter { !$0.isEmpty }.joined(separator: "/"), version: version),
            digest: digest, uri: uri.map(SecretRedactor.stripURLCredentials))
        spec.facets["clearml.artifact_key"] = .string(key)
        if let type = artifact["type"]?.stringValue { spec.facets["clearml.artifact_type"] = .string(type) }
        if let size = artifact["content_size"]?.intValue { spec.facets["clearml.content_size"] = .int(size) }
        return ArtifactUse(artifact: spec, role: artifact["mode"]?.stringValue == "input" ? "input" : "output")
    }

    static func outputModel(
        _ model: JSONValue, session: ClearMLSession, namespace: String, field: String, skipped: inout [String]
    ) throws(ValidationError) -> ArtifactUse {
        guard let id = model["id"]?.stringValue, !id.isEmpty else { throw ValidationError(field: "\(field).id", "is missing") }
        let name = model["init"]?["name"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? id
        var digest: ContentDigest? = nil
        var uri = model["weights"]?["register_uri"]?.stringValue
        if let weights = model["weights"]?["weights_filename"]?.stringValue {
            let kept = "models/" + URL(fileURLWithPath: weights).lastPathComponent
            if let bytes = session.file(kept) {
                digest = ContentDigest(hashing: bytes)
            } else {
                skipped.append("output model \(name): the session does not hold its weights (\(kept)); imported without a digest")
            }
            uri = uri ?? weights
        }
        var spec = ArtifactSpec(
            ref: ArtifactRef(kind: "model", namespace: namespace, name: name, version: digest.map { String($0.hex.prefix(12)) } ?? id),
            digest: digest,
            uri: uri.map(SecretRedactor.stripURLCredentials))
        spec.facets["clearml.model_id"] = .string(id)
        if let framework = model["init"]?["framework"]?.stringValue { spec.facets["clearml.framework"] = .string(framework) }
        return ArtifactUse(artifact: spec, role: "model")
    }
}
