import PedigreeCore

/// MLflow's tracking and registry objects as the log says they are now: a fold of every `MLflowRecord` in
/// append order. Applying a record never fails: `MLflowService` checks an operation against this state
/// before it records it, and a record that no longer applies (a replica raced another) is skipped the same
/// way on every server, so all of them fold the same log to the same state.
public struct MLflowState: Sendable {
    public struct Experiment: Sendable {
        public var id: String
        public var namespace: String
        public var name: String
        public var artifactLocation: String
        public var deleted = false
        public var tags: [String: String] = [:]
        public var creationTime: Int64
        public var lastUpdateTime: Int64
        /// How many records changed it: the version of its `experiment:` artifact the next one registers.
        public var revision = 1
    }

    public struct Metric: Sendable, Hashable {
        public var key: String
        public var value: Double
        public var timestamp: Int64
        public var step: Int64
    }

    public struct Run: Sendable {
        public var id: String
        public var namespace: String
        public var experimentID: String
        public var name: String
        public var user: String
        public var status: String
        public var startTime: Int64
        public var endTime: Int64?
        public var deleted = false
        public var params: [String: String] = [:]
        public var tags: [String: String] = [:]
        /// Every logged point, in logging order, by key.
        public var metrics: [String: [Metric]] = [:]
        public var datasets: [MLflowRecord.DatasetInput] = []
        public var modelInputs: [String] = []
        public var modelOutputs: [MLflowRecord.ModelIO] = []
        /// Models the run loaded by name (`models:/…`), as Pedigree references: its parents.
        public var loadedModels: [String] = []
        /// The job of the Pedigree run (MLflow runs are named after their experiment; adopted runs keep theirs).
        public var job: String
        public var adopted: Bool
        public var artifactURI: String { "mlflow-artifacts:/\(experimentID)/\(id)/artifacts" }
        public var artifactRoot: String { "\(experimentID)/\(id)/artifacts" }

        /// MLflow's latest value of a metric: the one at the largest step, then the latest time.
        public func latest(_ key: String) -> Metric? {
            metrics[key]?.max { ($0.step, $0.timestamp) < ($1.step, $1.timestamp) }
        }
    }

    public struct LoggedModel: Sendable {
        public var id: String
        public var namespace: String
        public var experimentID: String
        public var name: String
        public var sourceRunID: String?
        public var modelType: String
        public var status: String
        public var params: [String: String] = [:]
        public var tags: [String: String] = [:]
        public var creationTime: Int64
        public var lastUpdateTime: Int64
        public var deleted = false
        /// The manifest digest it was finalized with: its identity as a Pedigree model version.
        public var digest: String?
        public var artifactRoot: String { "\(experimentID)/models/\(id)/artifacts" }
        public var artifactURI: String { "mlflow-artifacts:/\(artifactRoot)" }
        public var ref: ArtifactRef { ArtifactRef(kind: "model", namespace: namespace, name: name, version: id) }
    }

    public struct ModelVersion: Sendable {
        public var version: Int
        public var source: String
        public var runID: String?
        public var modelID: String?
        public var description: String
        public var tags: [String: String] = [:]
        public var stage = "None"
        public var creationTime: Int64
        public var lastUpdateTime: Int64
        /// The Pedigree model version it is: `model:NS/NAME@VERSION`, under the name it was registered with.
        public var ref: ArtifactRef
        public var digest: String?
    }

    public struct RegisteredModel: Sendable {
        public var namespace: String
        public var name: String
        /// The name it was created with: the subject of its `registered-model:` artifact, which renames keep.
        public var originalName: String
        public var description: String
        public var tags: [String: String] = [:]
        public var aliases: [String: Int] = [:]
        public var creationTime: Int64
        public var lastUpdateTime: Int64
        public var versions: [Int: ModelVersion] = [:]
        /// Version numbers are never reused, even after a delete.
        public var lastVersion = 0
        public var revision = 1
    }

    public struct StoredFile: Sendable, Hashable {
        public var digest: String
        public var size: Int64
        public var namespace: String
    }

    public private(set) var experiments: [String: Experiment] = [:]
    public private(set) var runs: [String: Run] = [:]
    public private(set) var loggedModels: [String: LoggedModel] = [:]
    /// By namespace, then current name.
    public private(set) var registeredModels: [String: [String: RegisteredModel]] = [:]
    /// Uploaded artifacts by their path under `mlflow-artifacts:/`.
    public private(set) var files: [String: StoredFile] = [:]
    /// Every registered version's Pedigree reference ever made, deleted ones included: references are not reused.
    public private(set) var versionRefs: Set<String> = []
    /// The last event of the log folded in.
    public private(set) var sequence: Int64 = 0

    public init() {}

    /// Folds one stored event: its MLflow record, if it has one. `body`: the event's parsed body, when the
    /// caller has it already (an event this server just appended), else it is parsed from the stored text.
    /// Returns false when the event holds a record that did not apply.
    @discardableResult
    mutating func fold(_ event: StoredEvent, body known: JSONValue? = nil) -> Bool {
        sequence = event.sequence
        // Most events of a shared store are not MLflow's: skip them without parsing.
        guard known != nil || event.body.contains("\"mlflow\"") else { return true }
        guard let body = known ?? (try? JSONValue.parse(event.body)), let facet = Self.recordFacet(in: body), let record = MLflowRecord(facet: facet)
        else { return true }
        return apply(record, namespace: event.namespace)
    }

    /// Whether an event carries an MLflow record. Only the MLflow API may append such events: a record from
    /// anywhere else would change what MLflow's view shows without MLflow's checks.
    public static func carriesRecord(_ event: LineageEvent) -> Bool { recordFacet(in: event.body) != nil }

    /// Where an event keeps its MLflow record: runs and artifacts in their facets, deployments in their config.
    static func recordFacet(in body: JSONValue) -> JSONValue? {
        body["run"]?["facets"]?["mlflow"] ?? body["artifact"]?["facets"]?["mlflow"] ?? body["deployment"]?["config"]?["mlflow"]
    }

    // swiftlint:disable:next cyclomatic_complexity function_body_length
    /// Whether the record applied; one that no longer does (another replica won a race) changes nothing.
    @discardableResult
    mutating func apply(_ r: MLflowRecord, namespace: String) -> Bool {
        switch r.op {
        case .createExperiment:
            guard let id = r.id, !id.contains("/"), experiments[id] == nil, let name = r.name,
                !experiments.values.contains(where: { $0.namespace == namespace && $0.name == name })
            else { return false }
            experiments[id] = Experiment(
                id: id, namespace: namespace, name: name, artifactLocation: r.artifactLocation ?? "mlflow-artifacts:/\(id)",
                tags: Self.dictionary(r.tags), creationTime: r.time, lastUpdateTime: r.time)
        case .updateExperiment, .deleteExperiment, .restoreExperiment, .setExperimentTag, .deleteExperimentTag:
            guard let id = r.id, var experiment = experiments[id], experiment.namespace == namespace else { return false }
            switch r.op {
            case .updateExperiment:
                guard let newName = r.newName, !experiments.values.contains(where: { $0.namespace == namespace && $0.name == newName && $0.id != id })
                else { return false }
                experiment.name = newName
            case .deleteExperiment: experiment.deleted = true
            case .restoreExperiment: experiment.deleted = false
            case .setExperimentTag: if let key = r.key { experiment.tags[key] = r.value ?? "" }
            default: if let key = r.key { experiment.tags[key] = nil }
            }
            experiment.lastUpdateTime = r.time
            experiment.revision += 1
            experiments[id] = experiment

        case .createRun:
            guard let id = r.id, !id.contains("/"), runs[id] == nil else { return false }
            var run = Run(
                id: id, namespace: namespace, experimentID: r.experimentID ?? "0", name: r.name ?? id, user: r.user ?? "",
                status: "RUNNING", startTime: r.startTime ?? r.time, job: r.job ?? r.name ?? id, adopted: r.adopted ?? false)
            run.tags = Self.dictionary(r.tags)
            runs[id] = run
        case .updateRun, .logBatch, .deleteRunTag, .deleteRun, .restoreRun, .logInputs, .logOutputs, .runArtifact, .loadModel:
            guard let id = r.id, var run = runs[id], run.namespace == namespace else { return false }
            applyToRun(r, &run)
            runs[id] = run

        case .createLoggedModel:
            guard let id = r.id, !id.contains("/"), loggedModels[id] == nil, let name = r.name else { return false }
            var model = LoggedModel(
                id: id, namespace: namespace, experimentID: r.experimentID ?? "0", name: name, sourceRunID: r.runID,
                modelType: r.modelType ?? "", status: "LOGGED_MODEL_PENDING", creationTime: r.time, lastUpdateTime: r.time)
            model.params = Self.dictionary(r.params)
            model.tags = Self.dictionary(r.tags)
            loggedModels[id] = model
        case .finalizeLoggedModel, .setLoggedModelTags, .deleteLoggedModelTag, .logLoggedModelParams, .deleteLoggedModel:
            guard let id = r.id, var model = loggedModels[id], model.namespace == namespace else { return false }
            switch r.op {
            case .finalizeLoggedModel:
                model.status = r.status ?? model.status
                model.digest = r.digest ?? model.digest
            case .setLoggedModelTags: model.tags.merge(Self.dictionary(r.tags)) { _, new in new }
            case .deleteLoggedModelTag: if let key = r.key { model.tags[key] = nil }
            case .logLoggedModelParams: model.params.merge(Self.dictionary(r.params)) { _, new in new }
            default: model.deleted = true
            }
            model.lastUpdateTime = r.time
            loggedModels[id] = model
        case .loggedModelArtifact:
            // Only under the model's own location: a record cannot claim another object's paths.
            guard let id = r.id, let model = loggedModels[id], model.namespace == namespace, let path = r.path,
                path.hasPrefix(model.artifactRoot + "/"), let digest = r.digest
            else { return false }
            files[path] = StoredFile(digest: digest, size: r.size ?? 0, namespace: namespace)

        case .createRegisteredModel:
            guard let name = r.name, registeredModels[namespace]?[name] == nil else { return false }
            var model = RegisteredModel(
                namespace: namespace, name: name, originalName: name, description: r.description ?? "", creationTime: r.time, lastUpdateTime: r.time)
            model.tags = Self.dictionary(r.tags)
            registeredModels[namespace, default: [:]][name] = model
        case .renameRegisteredModel:
            guard let name = r.name, let newName = r.newName, var model = registeredModels[namespace]?[name],
                registeredModels[namespace]?[newName] == nil
            else { return false }
            model.name = newName
            model.lastUpdateTime = r.time
            model.revision += 1
            registeredModels[namespace]?[name] = nil
            registeredModels[namespace]?[newName] = model
        case .deleteRegisteredModel:
            guard let name = r.name else { return false }
            registeredModels[namespace]?[name] = nil
        case .updateRegisteredModel, .setRegisteredModelTag, .deleteRegisteredModelTag, .setAlias, .deleteAlias:
            guard let name = r.name, var model = registeredModels[namespace]?[name] else { return false }
            switch r.op {
            case .updateRegisteredModel: model.description = r.description ?? model.description
            case .setRegisteredModelTag: if let key = r.key { model.tags[key] = r.value ?? "" }
            case .deleteRegisteredModelTag: if let key = r.key { model.tags[key] = nil }
            case .setAlias:
                guard let alias = r.alias, let version = r.version.flatMap(Int.init), model.versions[version] != nil else { return false }
                model.aliases[alias] = version
            default: if let alias = r.alias { model.aliases[alias] = nil }
            }
            model.lastUpdateTime = r.time
            model.revision += 1
            registeredModels[namespace]?[name] = model

        case .createModelVersion:
            guard let name = r.name, var model = registeredModels[namespace]?[name], let version = r.version.flatMap(Int.init),
                version == model.lastVersion + 1
            else { return false }
            var entry = ModelVersion(
                version: version, source: r.source ?? "", runID: r.runID, modelID: r.modelID, description: r.description ?? "",
                creationTime: r.time, lastUpdateTime: r.time,
                ref: ArtifactRef(kind: "model", namespace: namespace, name: name, version: r.refVersion ?? String(version)),
                digest: r.digest)
            entry.tags = Self.dictionary(r.tags)
            versionRefs.insert(entry.ref.description)
            model.versions[version] = entry
            model.lastVersion = version
            model.lastUpdateTime = r.time
            registeredModels[namespace]?[name] = model
        case .updateModelVersion, .transitionStage, .setModelVersionTag, .deleteModelVersionTag, .deleteModelVersion:
            guard let name = r.name, var model = registeredModels[namespace]?[name], let number = r.version.flatMap(Int.init),
                var version = model.versions[number]
            else { return false }
            switch r.op {
            case .updateModelVersion: version.description = r.description ?? version.description
            case .transitionStage:
                let stage = r.stage ?? version.stage
                if r.archiveExisting == true, stage == "Staging" || stage == "Production" {
                    for (other, var entry) in model.versions where other != number && entry.stage == stage {
                        entry.stage = "Archived"
                        entry.lastUpdateTime = r.time
                        model.versions[other] = entry
                    }
                }
                version.stage = stage
            case .setModelVersionTag: if let key = r.key { version.tags[key] = r.value ?? "" }
            case .deleteModelVersionTag: if let key = r.key { version.tags[key] = nil }
            default:
                model.versions[number] = nil
                model.aliases = model.aliases.filter { $0.value != number }
                model.lastUpdateTime = r.time
                registeredModels[namespace]?[name] = model
                return true
            }
            version.lastUpdateTime = r.time
            model.versions[number] = version
            model.lastUpdateTime = max(model.lastUpdateTime, r.time)
            registeredModels[namespace]?[name] = model
        }
        return true
    }

    private mutating func applyToRun(_ r: MLflowRecord, _ run: inout Run) {
        switch r.op {
        case .updateRun:
            if let status = r.status { run.status = status }
            if let end = r.endTime { run.endTime = end }
            if let name = r.newName, !name.isEmpty {
                run.name = name
                run.tags["mlflow.runName"] = name
            }
        case .logBatch:
            for param in r.params ?? [] where run.params[param.key] == nil { run.params[param.key] = param.value }
            for point in r.metrics ?? [] {
                run.metrics[point.key, default: []].append(
                    Metric(key: point.key, value: point.value.value, timestamp: point.timestamp, step: point.step))
            }
            for tag in r.tags ?? [] {
                run.tags[tag.key] = tag.value
                if tag.key == "mlflow.runName" { run.name = tag.value }
            }
        case .deleteRunTag: if let key = r.key { run.tags[key] = nil }
        case .deleteRun: run.deleted = true
        case .restoreRun: run.deleted = false
        case .logInputs:
            for dataset in r.datasets ?? [] where !run.datasets.contains(dataset) { run.datasets.append(dataset) }
            for model in r.models ?? [] where !run.modelInputs.contains(model.modelID) { run.modelInputs.append(model.modelID) }
        case .logOutputs:
            for model in r.models ?? [] where !run.modelOutputs.contains(model) { run.modelOutputs.append(model) }
        case .loadModel:
            if let ref = r.source, !run.loadedModels.contains(ref) { run.loadedModels.append(ref) }
        case .runArtifact:
            if let path = r.path, path.hasPrefix(run.artifactRoot + "/"), let digest = r.digest {
                files[path] = StoredFile(digest: digest, size: r.size ?? 0, namespace: run.namespace)
            }
        default: break
        }
    }

    static func dictionary(_ tags: [MLflowRecord.Tag]?) -> [String: String] {
        var out: [String: String] = [:]
        for tag in tags ?? [] { out[tag.key] = tag.value }
        return out
    }

    // MARK: Reading

    public func registeredModel(_ name: String, in namespace: String) -> RegisteredModel? { registeredModels[namespace]?[name] }

    /// The files stored under a directory of `mlflow-artifacts:/`, with their paths relative to it.
    public func files(under directory: String) -> [(path: String, file: StoredFile)] {
        let prefix = directory.isEmpty ? "" : directory.hasSuffix("/") ? directory : directory + "/"
        return files.filter { $0.key.hasPrefix(prefix) }.map { (String($0.key.dropFirst(prefix.count)), $0.value) }.sorted { $0.path < $1.path }
    }
}
