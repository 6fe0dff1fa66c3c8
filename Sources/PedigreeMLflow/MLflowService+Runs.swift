import Foundation
import PedigreeCore
import PedigreeStore

/// Runs: each MLflow run is a Pedigree training run with the same id. Params are its hyperparameters,
/// metrics its metrics, `mlflow.source.git.*` tags its code, logged datasets its data inputs, logged input
/// models its parents and logged output models what it generated.
extension MLflowService {
    func run(_ id: String, _ state: MLflowState, _ caller: MLflowCaller) throws -> MLflowState.Run {
        try readable(state.runs[id], namespace: \.namespace, caller, missing: "Run with id=\(id) not found")
    }

    /// `adopting`: the id of a run `pedigree run` started, when the client reached this API through that run's
    /// address (`/mlflow/run/ID/…`): the first run the script creates is that run, so there is one run, not two.
    public func createRun(_ request: MLflowRequest, _ caller: MLflowCaller, adopting: String? = nil) async throws -> JSONValue {
        let experimentID = try request.optionalString("experiment_id").flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultExperimentID
        var tags = try request.tags("tags")
        let user = try request.optionalString("user_id") ?? tags.first { $0.key == "mlflow.user" }?.value ?? ""
        let startTime = try request.time("start_time") ?? Self.now()
        let requestedName =
            try request.optionalString("run_name").flatMap { $0.isEmpty ? nil : $0 } ?? tags.first { $0.key == "mlflow.runName" }?.value
        // The run `pedigree run` started, looked up before the write turn (it is in the store, not in MLflow's state).
        var wrapped: NodeDetail?
        if let adopting { wrapped = try? await store.show(.run(adopting), asOf: nil) }
        let id = try await write { state in
            let experiment = try self.experiment(experimentID, state, caller)
            guard !experiment.deleted else {
                throw MLflowError(.invalidState, "The experiment \(experimentID) must be in the 'active' state. Current state is deleted.")
            }
            // The script's first run is the wrapper's; decided inside the turn, so two workers cannot both join it.
            // A later run is its child.
            var wrapper: (namespace: String, job: String)?
            if let adopting {
                if state.runs[adopting] == nil, let wrapped {
                    wrapper = (wrapped.summary.namespace, wrapped.summary.name)
                } else if !tags.contains(where: { $0.key == "mlflow.parentRunId" }) {
                    tags.append(MLflowRecord.Tag(key: "mlflow.parentRunId", value: adopting))
                }
            }
            let namespace = wrapper?.namespace ?? experiment.namespace
            try self.requireWrite(namespace, caller)
            try self.requireWrite(experiment.namespace, caller)
            let id = wrapper != nil ? adopting! : UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            let name = requestedName ?? RunNames.generate()
            if !tags.contains(where: { $0.key == "mlflow.runName" }) { tags.append(MLflowRecord.Tag(key: "mlflow.runName", value: name)) }
            var record = MLflowRecord(.createRun, time: Self.now())
            record.id = id
            record.experimentID = experiment.id
            record.name = name
            record.user = user
            record.startTime = startTime
            record.tags = Self.redacted(tags)
            record.job = wrapper?.job ?? experiment.name
            record.adopted = wrapper != nil ? true : nil
            let event = Self.runEvent(record, namespace: namespace, id: id, job: record.job!) { run in
                if wrapper == nil {
                    run.status = .running
                    run.startedAt = Self.timestamp(ms: startTime)
                    run.code = Self.code(from: tags)
                }
                if let parent = tags.first(where: { $0.key == "mlflow.parentRunId" })?.value { run.parentRun = "run:\(parent)" }
            }
            try await self.record([event], caller)
            return id
        }
        return ["run": try await runWire(id, caller)]
    }

    func runWire(_ id: String, _ caller: MLflowCaller) async throws -> JSONValue {
        let state = try await current()
        return try run(id, state, caller).wire
    }

    public func getRun(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let id = try request.string("run_id", or: "run_uuid")
        let state = try await current()
        return ["run": try run(id, state, caller).wire]
    }

    public func updateRun(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let id = try request.string("run_id", or: "run_uuid")
        let status = try request.optionalString("status")
        if let status, Self.statuses[status] == nil {
            throw MLflowError.invalid("Invalid value \(status) for parameter 'status': use RUNNING, SCHEDULED, FINISHED, FAILED or KILLED")
        }
        let endTime = try request.time("end_time")
        let newName = try request.optionalString("run_name")
        try await changeRun(id, .updateRun, caller) { run, record, pedigree in
            record.status = status
            record.endTime = endTime
            record.newName = newName
            if !run.adopted {
                pedigree.status = status.flatMap { Self.statuses[$0] }
                pedigree.endedAt = endTime.map(Self.timestamp(ms:))
            }
        }
        return ["run_info": try await runWire(id, caller)["info"] ?? [:]]
    }

    public func deleteRun(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        try await changeRun(try request.string("run_id"), .deleteRun, caller) { _, _, _ in }
        return [:]
    }

    public func restoreRun(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        try await changeRun(try request.string("run_id"), .restoreRun, caller) { _, _, _ in }
        return [:]
    }

    public func logBatch(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let id = try request.string("run_id", or: "run_uuid")
        let params = try request.tags("params")
        let tags = try request.tags("tags")
        let metrics = try request.objects("metrics").map { m throws in try Self.metric(m) }
        guard metrics.count <= MLflowLimits.batchMetrics, params.count <= MLflowLimits.batchParams, tags.count <= MLflowLimits.batchTags,
            metrics.count + params.count + tags.count <= MLflowLimits.batchTotal
        else {
            throw MLflowError.invalid(
                "A batch logging request can contain at most \(MLflowLimits.batchMetrics) metrics, \(MLflowLimits.batchParams) params and \(MLflowLimits.batchTags) tags (\(MLflowLimits.batchTotal) in all); got \(metrics.count), \(params.count) and \(tags.count)"
            )
        }
        try await log(id, params: params, metrics: metrics, tags: tags, caller)
        return [:]
    }

    public func logMetric(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        try await log(try request.string("run_id", or: "run_uuid"), params: [], metrics: [try Self.metric(request)], tags: [], caller)
        return [:]
    }

    public func logParameter(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let key = try request.string("key")
        try MLflowLimits.checkKey(key, what: "param")
        let value = try request.optionalString("value") ?? ""
        try MLflowLimits.checkValue(value, key: key, limit: MLflowLimits.paramValue)
        try await log(try request.string("run_id", or: "run_uuid"), params: [.init(key: key, value: value)], metrics: [], tags: [], caller)
        return [:]
    }

    public func setTag(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let key = try request.string("key")
        try MLflowLimits.checkKey(key, what: "tag")
        let value = try request.optionalString("value") ?? ""
        try MLflowLimits.checkValue(value, key: key, limit: MLflowLimits.tagValue)
        try await log(try request.string("run_id", or: "run_uuid"), params: [], metrics: [], tags: [.init(key: key, value: value)], caller)
        return [:]
    }

    public func deleteTag(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let key = try request.string("key")
        try await changeRun(try request.string("run_id"), .deleteRunTag, caller) { run, record, _ in
            guard run.tags[key] != nil else { throw MLflowError.notFound("No tag with name: \(key) in run with id \(run.id)") }
            record.key = key
        }
        return [:]
    }

    /// Params, metrics and tags in one event. A param, once logged, keeps its value (MLflow refuses a change).
    func log(
        _ id: String, params: [MLflowRecord.Tag], metrics: [MLflowRecord.MetricPoint], tags: [MLflowRecord.Tag], _ caller: MLflowCaller
    )
        async throws
    {
        guard !params.isEmpty || !metrics.isEmpty || !tags.isEmpty else {
            _ = try run(id, try await current(), caller)
            return
        }
        let params = Self.redacted(params)
        try await changeRun(id, .logBatch, caller) { run, record, pedigree in
            var seen: [String: String] = [:]
            for param in params {
                let earlier = run.params[param.key] ?? seen[param.key]
                if let earlier, earlier != param.value {
                    throw MLflowError.invalid(
                        "Changing param values is not allowed. Param with key='\(param.key)' was already logged with value='\(earlier)' for run ID='\(run.id)'. Attempted logging new value '\(param.value)'."
                    )
                }
                seen[param.key] = param.value
            }
            record.params = params.isEmpty ? nil : params
            record.metrics = metrics.isEmpty ? nil : metrics
            record.tags = tags.isEmpty ? nil : Self.redacted(tags)
            if !params.isEmpty { pedigree.hyperparameters = Self.hyperparameters(params) }
            let latest = Dictionary(grouping: metrics.filter { $0.value.value.isFinite }, by: \.key).compactMapValues { points in
                points.max { ($0.step, $0.timestamp) < ($1.step, $1.timestamp) }.map { JSONValue(number: $0.value.value) }
            }
            if !latest.isEmpty { pedigree.metrics = latest }
            if !run.adopted, let code = Self.code(from: Array(run.tags.map { MLflowRecord.Tag(key: $0.key, value: $0.value) }) + tags),
                tags.contains(where: { $0.key.hasPrefix("mlflow.source.") })
            {
                pedigree.code = code
            }
        }
    }

    /// Records an operation on a run the caller may write, with what it means for the Pedigree run.
    func changeRun(
        _ id: String, _ op: MLflowRecord.Operation, _ caller: MLflowCaller,
        _ fill: (MLflowState.Run, inout MLflowRecord, inout RunRecord) throws -> Void
    ) async throws {
        try await write { state in
            let run = try self.run(id, state, caller)
            try self.requireWrite(run.namespace, caller)
            if run.deleted, op != .restoreRun, op != .deleteRun {
                throw MLflowError(.invalidState, "The run \(id) must be in the 'active' state. Current state is deleted.")
            }
            var record = MLflowRecord(op, time: Self.now())
            record.id = id
            var pedigree = RunRecord(id: id, job: run.job)
            try fill(run, &record, &pedigree)
            pedigree.facets["mlflow"] = record.json
            try await self.record([LineageEvent(namespace: run.namespace, eventTime: .now, producer: Self.producer, payload: .run(pedigree))], caller)
        }
    }

    public func logInputs(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let id = try request.string("run_id")
        var datasets: [MLflowRecord.DatasetInput] = []
        for input in try request.objects("datasets") {
            guard let dataset = try input.object("dataset") else { throw MLflowError.invalid("Each dataset input needs a 'dataset'") }
            datasets.append(
                MLflowRecord.DatasetInput(
                    name: try dataset.string("name"), digest: try dataset.string("digest"),
                    sourceType: try dataset.optionalString("source_type") ?? "",
                    source: try dataset.optionalString("source") ?? "", schema: try dataset.optionalString("schema"),
                    profile: try dataset.optionalString("profile"), tags: try input.tags("tags"), contentDigest: nil))
        }
        let models = try request.objects("models").map { m throws in MLflowRecord.ModelIO(modelID: try m.string("model_id"), step: nil) }
        let wrapperInputs = try await adoptedInputs(id)
        try await changeRun(id, .logInputs, caller) { run, record, pedigree in
            for (i, dataset) in datasets.enumerated() {
                let (spec, content) = try Self.datasetSpec(dataset, namespace: run.namespace, state: self.state, wrapperInputs: wrapperInputs)
                datasets[i].contentDigest = content
                let context = dataset.tags.first { $0.key == "mlflow.data.context" }?.value
                pedigree.inputs.append(ArtifactUse(artifact: spec, role: Self.role(context)))
            }
            for model in models {
                guard let logged = self.state.loggedModels[model.modelID], caller.mayRead(logged.namespace) else {
                    throw MLflowError.notFound("Logged model with ID '\(model.modelID)' not found")
                }
                pedigree.parents.append(logged.ref)
            }
            record.datasets = datasets.isEmpty ? nil : datasets
            record.models = models.isEmpty ? nil : models
        }
        return [:]
    }

    public func logOutputs(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let id = try request.string("run_id")
        let models = try request.objects("models").map { m throws in
            MLflowRecord.ModelIO(modelID: try m.string("model_id"), step: try m.int("step"))
        }
        try await changeRun(id, .logOutputs, caller) { run, record, pedigree in
            for model in models {
                guard let logged = self.state.loggedModels[model.modelID], logged.namespace == run.namespace else {
                    throw MLflowError.notFound("Logged model with ID '\(model.modelID)' not found in the run's namespace")
                }
                pedigree.outputs.append(ArtifactUse(artifact: ArtifactSpec(ref: logged.ref), role: "model"))
            }
            record.models = models
        }
        return [:]
    }

    public func getMetricHistory(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let id = try request.string("run_id", or: "run_uuid")
        let key = try request.string("metric_key")
        let state = try await current()
        let points = try run(id, state, caller).metrics[key] ?? []
        let page = try Page(request, defaultSize: 25000, maximum: 25000)
        return page.answer(points, key: "metrics") { $0.wire }
    }

    public func searchRuns(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let experimentIDs = Set(try request.strings("experiment_ids"))
        let filter = try Self.filter(request)
        let orders = try Self.orders(request)
        let view = try ViewType(try request.optionalString("run_view_type"))
        let state = try await current()
        let runs = state.runs.values.filter { run in
            experimentIDs.contains(run.experimentID) && caller.mayRead(run.namespace) && view.includes(deleted: run.deleted)
                && filter.matches { entity, key in run.fields(entity, key) }
        }
        let sorted = Self.sort(runs, by: orders + [SearchOrder(entity: .attribute, key: "start_time", ascending: false)]) { run, entity, key in
            run.fields(entity, key).first
        } tieBreak: {
            $0.id < $1.id
        }
        let page = try Page(request, defaultSize: 1000, maximum: 50000)
        return page.answer(sorted, key: "runs") { $0.wire }
    }

    // MARK: What MLflow's facts mean for lineage

    public static let statuses: [String: RunStatus] = [
        "RUNNING": .running, "SCHEDULED": .start, "FINISHED": .complete, "FAILED": .fail, "KILLED": .abort,
    ]

    static func metric(_ m: MLflowRequest) throws -> MLflowRecord.MetricPoint {
        let key = try m.string("key")
        try MLflowLimits.checkKey(key, what: "metric")
        guard let value = try m.double("value") else { throw MLflowError.invalid("Missing value for required parameter 'value' of metric '\(key)'") }
        return MLflowRecord.MetricPoint(
            key: key, value: MetricValue(value), timestamp: try m.int("timestamp") ?? now(), step: try m.int("step") ?? 0,
            modelID: try m.optionalString("model_id"))
    }

    /// Parameter values redacted by the same rules as `pedigree run`'s: by name, and credentials in URLs.
    public static func redacted(_ tags: [MLflowRecord.Tag]) -> [MLflowRecord.Tag] {
        tags.map { MLflowRecord.Tag(key: $0.key, value: SecretRedactor.stripURLCredentials(SecretRedactor.redact(name: $0.key, value: $0.value))) }
    }

    /// `optimizer.lr = 0.01` becomes `{"optimizer": {"lr": 0.01}}`; values keep their type where the text is
    /// exactly a number's or a boolean's spelling, so diffs compare numbers as numbers.
    public static func hyperparameters(_ params: [MLflowRecord.Tag]) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for param in params {
            let path = param.key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            let value = typed(param.value)
            if path.count > 1, !path.contains(""), let nested = setting(out, path[...], to: value) {
                out = nested
            } else if out[param.key] == nil {
                // A key that clashes with a nested one (`a` and `a.b`) stays as it was written; the first wins.
                out[param.key] = value
            }
        }
        return out
    }

    private static func setting(_ object: [String: JSONValue], _ path: ArraySlice<String>, to value: JSONValue) -> [String: JSONValue]? {
        guard let head = path.first else { return nil }
        var object = object
        if path.count == 1 {
            guard object[head] == nil else { return nil }
            object[head] = value
            return object
        }
        let child: [String: JSONValue]
        switch object[head] {
        case nil: child = [:]
        case .object(let members)?: child = members
        default: return nil
        }
        guard let updated = setting(child, path.dropFirst(), to: value) else { return nil }
        object[head] = .object(updated)
        return object
    }

    static func typed(_ text: String) -> JSONValue {
        if let n = Int64(text), String(n) == text { return .int(n) }
        if let d = Double(text), d.isFinite, JSONValue(number: d).canonicalString == text { return JSONValue(number: d) }
        switch text {
        case "true", "True": return .bool(true)
        case "false", "False": return .bool(false)
        default: return .string(text)
        }
    }

    /// Code lineage from the tags the client sets inside a git checkout.
    public static func code(from tags: [MLflowRecord.Tag]) -> CodeFacet? {
        var values: [String: String] = [:]
        for tag in tags { values[tag.key] = tag.value }
        var json: [String: JSONValue] = [:]
        if let commit = values["mlflow.source.git.commit"] { json["commit"] = .string(commit) }
        if let branch = values["mlflow.source.git.branch"] { json["branch"] = .string(branch) }
        if let repository = values["mlflow.source.git.repoURL"] ?? values["mlflow.gitRepoURL"] {
            json["repository"] = .string(SecretRedactor.stripURLCredentials(repository))
        }
        guard !json.isEmpty else { return nil }
        if let path = values["mlflow.source.name"] { json["path"] = .string(path) }
        return try? CodeFacet(json: .object(json), path: "code")
    }

    /// MLflow's dataset context as a Pedigree role: the words Pedigree's data queries know.
    public static func role(_ context: String?) -> String {
        switch context?.lowercased() {
        case nil, "": "input"
        case "training", "train": "train"
        case "validation", "eval", "evaluation", "val": "validation"
        case "test", "testing": "test"
        case let other?: (try? Role(other))?.rawValue ?? "input"
        }
    }

    /// The inputs `pedigree run` recorded for a run MLflow joined, to match MLflow's datasets to files it hashed.
    func adoptedInputs(_ id: String) async throws -> [ArtifactSpec] {
        guard (try await current()).runs[id]?.adopted == true, let detail = try? await store.show(.run(id), asOf: nil) else { return [] }
        return detail.upstream.map(\.node).filter { $0.kind == "dataset" && $0.digest != nil }.map { node in
            ArtifactSpec(ref: ArtifactRef(kind: node.kind, namespace: node.namespace, name: node.name, version: node.version), digest: node.digest)
        }
    }

    /// A logged dataset as a Pedigree dataset version. Its version is MLflow's digest (kept as an alias too),
    /// and its content digest Pedigree's SHA-256 where the server knows the content: an uploaded artifact, or a
    /// file the wrapping `pedigree run` hashed (then it is that same dataset version).
    static func datasetSpec(
        _ dataset: MLflowRecord.DatasetInput, namespace: String, state: MLflowState, wrapperInputs: [ArtifactSpec]
    ) throws -> (ArtifactSpec, String?) {
        let alias = "mlflow:\(dataset.digest)"
        let uri = (try? JSONValue.parse(dataset.source))?["uri"]?.stringValue ?? (try? JSONValue.parse(dataset.source))?["path"]?.stringValue
        if let uri {
            let path = uri.hasPrefix("file://") ? String(uri.dropFirst(7)) : uri
            if let match = wrapperInputs.first(where: { input in
                input.digest != nil && input.ref.kind == "dataset"
                    && (input.uri.map { ($0.hasPrefix("file://") ? String($0.dropFirst(7)) : $0) == path } ?? false
                        || path == input.ref.name || path.hasSuffix("/" + input.ref.name))
            }) {
                var spec = ArtifactSpec(ref: match.ref, digest: match.digest, aliasDigests: [alias])
                spec.ref.version = nil
                return (spec, match.digest?.description)
            }
            if uri.hasPrefix("mlflow-artifacts:/"), let file = state.files[String(uri.dropFirst("mlflow-artifacts:/".count))],
                let digest = ContentDigest(file.digest)
            {
                let spec = ArtifactSpec(
                    ref: ArtifactRef(kind: "dataset", namespace: namespace, name: dataset.name), digest: digest, aliasDigests: [alias], uri: uri)
                return (spec, file.digest)
            }
        }
        let spec = ArtifactSpec(
            ref: ArtifactRef(kind: "dataset", namespace: namespace, name: dataset.name, version: dataset.digest), aliasDigests: [alias], uri: uri,
            facets: dataset.schema.map { ["mlflowSchema": .string($0)] } ?? [:])
        return (spec, nil)
    }
}

/// Run names like the reference server's (`bright-owl-123`), for runs created without one.
enum RunNames {
    static let adjectives = [
        "able", "bold", "brave", "bright", "calm", "clever", "eager", "gentle", "keen", "lively", "merry", "quiet", "swift", "wise",
    ]
    static let nouns = ["owl", "fox", "hawk", "lynx", "otter", "panda", "robin", "seal", "wolf", "yak", "crane", "bee", "finch", "hare"]

    static func generate() -> String {
        "\(adjectives.randomElement()!)-\(nouns.randomElement()!)-\(Int.random(in: 100...999))"
    }
}
