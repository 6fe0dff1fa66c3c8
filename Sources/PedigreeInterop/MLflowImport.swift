import PedigreeCore
import PedigreeMLflow

/// What an MLflow tracking server answered, as its REST API's JSON (`MLflowServerReader` in PedigreeClient
/// reads it): the input of `MLflowImport`, which needs nothing else.
public struct MLflowServerSnapshot: Sendable {
    public enum ModelFiles: Sendable, Hashable {
        case files([ModelFile])
        case unavailable(String)
    }
    public struct ModelFile: Sendable, Hashable {
        public var path: String
        public var digest: ContentDigest
        public var size: Int64
        /// The content of a small text file at the model's top level (its environment files).
        public var text: String?
        public init(path: String, digest: ContentDigest, size: Int64, text: String?) {
            self.path = path
            self.digest = digest
            self.size = size
            self.text = text
        }
    }

    public var experiments: [JSONValue] = []
    public var runs: [JSONValue] = []
    public var loggedModels: [JSONValue] = []
    public var registeredModels: [JSONValue] = []
    public var modelVersions: [JSONValue] = []
    /// The files at each model location (`modelLocations`), as far as the server serves them.
    public var modelFiles: [String: ModelFiles] = [:]

    public init() {}

    /// Where each logged model's and each registered version's files are.
    public var modelLocations: [String] {
        loggedModels.compactMap { $0["info"]?["artifact_uri"]?.stringValue } + modelVersions.compactMap { location(ofVersion: $0) }
    }

    /// A registered version's files: its logged model's (`models:/m-…`), or the artifact location it names.
    func location(ofVersion version: JSONValue) -> String? {
        guard let source = version["source"]?.stringValue else { return nil }
        if source.hasPrefix("models:/") {
            let id = source.dropFirst("models:/".count).split(separator: "/").first.map(String.init)
            return loggedModels.first { $0["info"]?["model_id"]?.stringValue == id }?["info"]?["artifact_uri"]?.stringValue
        }
        if source.hasPrefix("runs:/") {
            let parts = source.dropFirst("runs:/".count).split(separator: "/", maxSplits: 1).map(String.init)
            guard let run = runs.first(where: { $0["info"]?["run_id"]?.stringValue == parts.first }),
                let root = run["info"]?["artifact_uri"]?.stringValue
            else { return nil }
            return parts.count == 2 ? root + "/" + parts[1] : root
        }
        return source
    }
}

/// An MLflow tracking server's history as Pedigree events. Each run is a run with MLflow's id: params are its
/// hyperparameters (typed and nested as Pedigree's own MLflow API does), the latest metrics its metrics,
/// `mlflow.source.git.*` its code, logged datasets its inputs (versioned by MLflow's digest, kept as an alias
/// `mlflow:…`), logged input models its parents, its logged models its outputs. A model's content digest is
/// the manifest digest of its files, downloaded where the server serves them, so a registered version and the
/// logged model it came from are one content. Each registered version is an output of its source run (an event
/// of its own, so versions registered later add events without changing earlier ones); each alias and stage is a
/// deployment of `alias/NAME/ALIAS` or `stage/NAME/STAGE`, as the MLflow API records them, so `pedigree history`
/// answers what they point to. Only the current alias and stage are known to the server: each is valid from
/// its version's last update. MLflow's ids are kept as facets (`mlflow.run_id`, `mlflow.experiment_id`,
/// `mlflow.model_id`, `mlflow.registered_model`, `mlflow.version`).
///
/// Every event is a function of what the server answered, so importing again adds only what changed.
public enum MLflowImport {
    public static func events(_ snapshot: MLflowServerSnapshot, namespace: String) throws(ValidationError) -> ImportResult {
        var result = ImportResult()
        let experiments = Dictionary(
            snapshot.experiments.compactMap { e in e["experiment_id"]?.stringValue.map { ($0, e) } }, uniquingKeysWith: { a, _ in a })
        var loggedModels: [String: (use: ArtifactUse, runID: String?, environment: EnvironmentFacet?)] = [:]
        for (i, model) in snapshot.loggedModels.enumerated() {
            let field = "logged-models[\(i)].info"
            guard let info = model["info"], let id = info["model_id"]?.stringValue, !id.isEmpty else {
                throw ValidationError(field: "\(field).model_id", "is missing: every logged model has an id (m-…)")
            }
            let name = info["name"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? id
            var spec = ArtifactSpec(ref: try ref("model", namespace, name, id, field: field), uri: info["artifact_uri"]?.stringValue)
            spec.facets["mlflow.model_id"] = .string(id)
            let files = info["artifact_uri"]?.stringValue.flatMap { snapshot.modelFiles[$0] }
            spec.digest = digest(files, of: "logged model \(id)", skipped: &result.skipped)
            loggedModels[id] = (ArtifactUse(artifact: spec, role: "model"), info["source_run_id"]?.stringValue, environment(files))
        }

        for (i, entry) in snapshot.runs.enumerated() {
            let field = "runs[\(i)]"
            guard let info = entry["info"], let id = info["run_id"]?.stringValue ?? info["run_uuid"]?.stringValue, !id.isEmpty else {
                throw ValidationError(field: "\(field).info.run_id", "is missing: every MLflow run has an id")
            }
            if info["lifecycle_stage"]?.stringValue == "deleted" {
                result.skipped.append("run \(id): deleted in MLflow; not imported")
                continue
            }
            let experimentID = info["experiment_id"]?.stringValue ?? ""
            let experiment = experiments[experimentID]?["name"]?.stringValue ?? "experiment-\(experimentID)"
            var run = RunRecord(id: id, job: experiment, status: MLflowService.statuses[info["status"]?.stringValue ?? ""] ?? .other)
            run.startedAt = time(info["start_time"])
            run.endedAt = time(info["end_time"]).flatMap { end in run.startedAt.map { max($0, end) } ?? end }
            let tags = try pairs(entry["data"]?["tags"], field: "\(field).data.tags")
            let params = MLflowService.redacted(try pairs(entry["data"]?["params"], field: "\(field).data.params"))
            if !params.isEmpty { run.hyperparameters = MLflowService.hyperparameters(params) }
            var metrics: [String: JSONValue] = [:]
            for metric in entry["data"]?["metrics"]?.arrayValue ?? [] {
                guard let key = metric["key"]?.stringValue, let value = metric["value"] else { continue }
                metrics[key] = value
            }
            if !metrics.isEmpty { run.metrics = metrics }
            run.code = MLflowService.code(from: tags)
            for (j, input) in (entry["inputs"]?["dataset_inputs"]?.arrayValue ?? []).enumerated() {
                run.inputs.append(try datasetUse(input, namespace: namespace, field: "\(field).inputs.dataset_inputs[\(j)]"))
            }
            for input in entry["inputs"]?["model_inputs"]?.arrayValue ?? [] {
                guard let modelID = input["model_id"]?.stringValue else { continue }
                if let parent = loggedModels[modelID] {
                    run.parents.append(parent.use.artifact.ref)
                } else {
                    result.skipped.append("run \(id): its input model \(modelID) is not on the server; parent not recorded")
                }
            }
            let produced = loggedModels.filter { $0.value.runID == id }.sorted { $0.key < $1.key }
            run.outputs = produced.map(\.value.use)
            run.environment = produced.lazy.compactMap(\.value.environment).first
            run.facets["mlflow.run_id"] = .string(id)
            run.facets["mlflow.experiment_id"] = .string(experimentID)
            if let name = info["run_name"]?.stringValue, !name.isEmpty { run.facets["mlflow.run_name"] = .string(name) }
            if let user = info["user_id"]?.stringValue, !user.isEmpty { run.facets["mlflow.user"] = .string(user) }
            let ownTags = MLflowService.redacted(tags.filter { !$0.key.hasPrefix("mlflow.") })
            if !ownTags.isEmpty { run.facets["mlflow.tags"] = .object(Dictionary(ownTags.map { ($0.key, .string($0.value)) }) { a, _ in a }) }
            if let parent = tags.first(where: { $0.key == "mlflow.parentRunId" })?.value { run.parentRun = parent }
            result.events.append(LineageEvent(namespace: namespace, eventTime: run.endedAt ?? run.startedAt, payload: .run(run)))
        }
        // Logged models no run produced (or whose run was not imported) are registrations of their own.
        let importedRuns = Set(result.events.compactMap { event -> String? in if case .run(let run) = event.payload { run.id } else { nil } })
        for (_, model) in loggedModels.sorted(by: { $0.key < $1.key }) where !(model.runID.map(importedRuns.contains) ?? false) {
            result.events.append(LineageEvent(namespace: namespace, payload: .artifact(model.use.artifact)))
        }

        try registry(snapshot, namespace: namespace, runs: importedRuns, into: &result)
        return result
    }

    /// Registered versions (each an output of its source run, or a registration of its own), then their
    /// aliases and stages as deployments.
    static func registry(
        _ snapshot: MLflowServerSnapshot, namespace: String, runs: Set<String>, into result: inout ImportResult
    ) throws(ValidationError) {
        var jobs: [String: String] = [:]
        for event in result.events { if case .run(let run) = event.payload { jobs[run.id] = run.job } }
        var versions: [String: [String: (ref: ArtifactRef, updated: Timestamp?)]] = [:]
        // In registration order (the server lists newest first), so each name's latest version is its highest.
        let registrationOrder = snapshot.modelVersions.enumerated().sorted {
            let (left, right) = ($0.element, $1.element)
            let (leftName, rightName) = (left["name"]?.stringValue ?? "", right["name"]?.stringValue ?? "")
            if leftName != rightName { return leftName < rightName }
            return Int(left["version"]?.stringValue ?? "") ?? 0 < Int(right["version"]?.stringValue ?? "") ?? 0
        }
        for (i, version) in registrationOrder {
            let field = "model-versions[\(i)]"
            guard let name = version["name"]?.stringValue, !name.isEmpty else { throw ValidationError(field: "\(field).name", "is missing") }
            guard let number = version["version"]?.stringValue, !number.isEmpty else {
                throw ValidationError(field: "\(field).version", "is missing")
            }
            var spec = ArtifactSpec(ref: try ref("model", namespace, name, number, field: field), uri: version["source"]?.stringValue)
            let files = snapshot.location(ofVersion: version).flatMap { snapshot.modelFiles[$0] }
            spec.digest = digest(files, of: "registered model \(name) version \(number)", skipped: &result.skipped)
            spec.facets["mlflow.registered_model"] = .string(name)
            spec.facets["mlflow.version"] = .string(number)
            if let id = version["model_id"]?.stringValue { spec.facets["mlflow.model_id"] = .string(id) }
            let created = time(version["creation_timestamp"])
            let updated = time(version["last_updated_timestamp"]) ?? created
            versions[name, default: [:]][number] = (spec.ref, updated)
            if let runID = version["run_id"]?.stringValue, runs.contains(runID), let job = jobs[runID] {
                var registration = RunRecord(id: runID, job: job)
                registration.outputs = [ArtifactUse(artifact: spec, role: "model")]
                result.events.append(LineageEvent(namespace: namespace, eventTime: created, payload: .run(registration)))
            } else {
                result.events.append(LineageEvent(namespace: namespace, eventTime: created, payload: .artifact(spec)))
            }
            if let stage = version["current_stage"]?.stringValue, !stage.isEmpty, stage != "None", let updated {
                result.events.append(move(to: spec.ref, endpoint: "stage/\(name)/\(stage)", at: updated, ["mlflow.stage": .string(stage)]))
            }
        }
        for (i, model) in snapshot.registeredModels.enumerated() {
            guard let name = model["name"]?.stringValue else { continue }
            for (j, alias) in (model["aliases"]?.arrayValue ?? []).enumerated() {
                guard let label = alias["alias"]?.stringValue, let number = alias["version"]?.stringValue else {
                    throw ValidationError(field: "registered-models[\(i)].aliases[\(j)]", "needs alias and version")
                }
                guard let version = versions[name]?[number], let since = version.updated else {
                    result.skipped.append("alias \(label) of \(name): version \(number) is not on the server; not imported")
                    continue
                }
                result.events.append(move(to: version.ref, endpoint: "alias/\(name)/\(label)", at: since, ["mlflow.alias": .string(label)]))
            }
        }
    }

    static func move(to model: ArtifactRef, endpoint: String, at time: Timestamp, _ config: [String: JSONValue]) -> LineageEvent {
        LineageEvent(
            namespace: model.namespace, eventTime: time,
            payload: .deployment(DeploymentRecord(endpoint: endpoint, model: model, config: config, validFrom: time)))
    }

    /// A logged dataset as the dataset version MLflow's digest names (kept as an alias too).
    static func datasetUse(_ input: JSONValue, namespace: String, field: String) throws(ValidationError) -> ArtifactUse {
        guard let dataset = input["dataset"], let name = dataset["name"]?.stringValue, !name.isEmpty else {
            throw ValidationError(field: "\(field).dataset.name", "is missing")
        }
        guard let digest = dataset["digest"]?.stringValue, !digest.isEmpty else {
            throw ValidationError(field: "\(field).dataset.digest", "is missing: MLflow digests every logged dataset")
        }
        let source = (dataset["source"]?.stringValue).flatMap { try? JSONValue.parse($0) }
        let uri = (source?["uri"]?.stringValue ?? source?["path"]?.stringValue).map(SecretRedactor.stripURLCredentials)
        var spec = ArtifactSpec(
            ref: try ref("dataset", namespace, SecretRedactor.stripURLCredentials(name), digest, field: field), aliasDigests: ["mlflow:\(digest)"],
            uri: uri)
        if let type = dataset["source_type"]?.stringValue { spec.facets["mlflow.source_type"] = .string(type) }
        if let schema = dataset["schema"]?.stringValue, !schema.isEmpty { spec.facets["mlflowSchema"] = .string(schema) }
        let context = (input["tags"]?.arrayValue ?? []).first { $0["key"]?.stringValue == "mlflow.data.context" }?["value"]?.stringValue
        return ArtifactUse(artifact: spec, role: MLflowService.role(context))
    }

    static func digest(_ files: MLflowServerSnapshot.ModelFiles?, of what: String, skipped: inout [String]) -> ContentDigest? {
        switch files {
        case .files(let files)? where !files.isEmpty:
            return JSONValue.array(files.map { ["path": .string($0.path), "digest": .string($0.digest.description), "size": .int($0.size)] }).digest
        case .files?: skipped.append("\(what): the server lists no files for it; imported without a digest")
        case .unavailable(let reason)?: skipped.append("\(what): \(reason); imported without a digest")
        case nil: skipped.append("\(what): no artifact location; imported without a digest")
        }
        return nil
    }

    static func environment(_ files: MLflowServerSnapshot.ModelFiles?) -> EnvironmentFacet? {
        guard case .files(let files)? = files else { return nil }
        return MLflowService.environment { name in files.first { $0.path == name }?.text }
    }

    static func ref(_ kind: String, _ namespace: String, _ name: String, _ version: String, field: String) throws(ValidationError) -> ArtifactRef {
        guard !name.isEmpty else { throw ValidationError(field: field, "names a \(kind) with an empty name") }
        return ArtifactRef(kind: kind, namespace: namespace, name: name, version: version)
    }

    /// MLflow's `[{key, value}]` lists.
    static func pairs(_ list: JSONValue?, field: String) throws(ValidationError) -> [MLflowRecord.Tag] {
        var out: [MLflowRecord.Tag] = []
        for (i, pair) in (list?.arrayValue ?? []).enumerated() {
            guard let key = pair["key"]?.stringValue else { throw ValidationError(field: "\(field)[\(i)].key", "is missing") }
            out.append(MLflowRecord.Tag(key: key, value: pair["value"]?.stringValue ?? ""))
        }
        return out
    }

    /// Milliseconds since the epoch (MLflow's times), as an integer or its string.
    static func time(_ value: JSONValue?) -> Timestamp? {
        (value?.intValue ?? value?.stringValue.flatMap({ Int64($0) })).flatMap(SourceTime.milliseconds)
    }
}
