import PedigreeCore

/// The state's objects in MLflow's JSON, and the fields its search grammar can name.
func tagList(_ tags: [String: String]) -> JSONValue {
    .array(tags.keys.sorted().map { ["key": .string($0), "value": .string(tags[$0]!)] })
}

extension MLflowState.Experiment {
    var wire: JSONValue {
        var out: [String: JSONValue] = [
            "experiment_id": .string(id), "name": .string(name), "artifact_location": .string(artifactLocation),
            "lifecycle_stage": .string(deleted ? "deleted" : "active"), "creation_time": .int(creationTime), "last_update_time": .int(lastUpdateTime),
        ]
        if !tags.isEmpty { out["tags"] = tagList(tags) }
        return .object(out)
    }

    func field(_ entity: SearchFilter.Entity, _ key: String) -> [SearchFilter.Field] {
        switch (entity, key) {
        case (.attribute, "name"): [.string(name)]
        case (.attribute, "experiment_id"): [.string(id)]
        case (.attribute, "creation_time"): [.number(Double(creationTime))]
        case (.attribute, "last_update_time"): [.number(Double(lastUpdateTime))]
        case (.attribute, "lifecycle_stage"): [.string(deleted ? "deleted" : "active")]
        case (.tag, _): tags[key].map { [.string($0)] } ?? []
        default: []
        }
    }
}

extension MLflowState.Metric {
    var wire: JSONValue { ["key": .string(key), "value": MetricValue(value).json, "timestamp": .int(timestamp), "step": .int(step)] }
}

extension MLflowState.Run {
    var info: JSONValue {
        var out: [String: JSONValue] = [
            "run_id": .string(id), "run_uuid": .string(id), "experiment_id": .string(experimentID), "run_name": .string(name),
            "user_id": .string(user), "status": .string(status), "start_time": .int(startTime), "artifact_uri": .string(artifactURI),
            "lifecycle_stage": .string(deleted ? "deleted" : "active"),
        ]
        if let endTime { out["end_time"] = .int(endTime) }
        return .object(out)
    }

    var wire: JSONValue {
        let latestMetrics = metrics.keys.sorted().compactMap { self.latest($0)?.wire }
        let data: JSONValue = [
            "metrics": .array(latestMetrics),
            "params": .array(params.keys.sorted().map { ["key": .string($0), "value": .string(params[$0]!)] }),
            "tags": tagList(tags),
        ]
        let inputs: JSONValue = [
            "dataset_inputs": .array(
                datasets.map { d in
                    var dataset: [String: JSONValue] = [
                        "name": .string(d.name), "digest": .string(d.digest), "source_type": .string(d.sourceType), "source": .string(d.source),
                    ]
                    if let schema = d.schema { dataset["schema"] = .string(schema) }
                    if let profile = d.profile { dataset["profile"] = .string(profile) }
                    return ["tags": .array(d.tags.map { ["key": .string($0.key), "value": .string($0.value)] }), "dataset": .object(dataset)]
                }),
            "model_inputs": .array(modelInputs.map { ["model_id": .string($0)] }),
        ]
        let outputs: JSONValue = [
            "model_outputs": .array(modelOutputs.map { ["model_id": .string($0.modelID), "step": .int($0.step ?? 0)] })
        ]
        return ["info": info, "data": data, "inputs": inputs, "outputs": outputs]
    }

    func fields(_ entity: SearchFilter.Entity, _ key: String) -> [SearchFilter.Field] {
        switch entity {
        case .metric: return latest(key).map { [.number($0.value)] } ?? []
        case .param: return params[key].map { [.string($0)] } ?? []
        case .tag: return tags[key].map { [.string($0)] } ?? []
        case .dataset:
            return datasets.compactMap { d -> SearchFilter.Field? in
                switch key {
                case "name": .string(d.name)
                case "digest": .string(d.digest)
                case "context": d.tags.first { $0.key == "mlflow.data.context" }.map { .string($0.value) }
                default: nil
                }
            }
        case .attribute:
            switch key {
            case "run_id", "run_uuid": return [.string(id)]
            case "run_name", "name": return [.string(name)]
            case "status": return [.string(status)]
            case "user_id": return [.string(user)]
            case "start_time": return [.number(Double(startTime))]
            case "end_time": return endTime.map { [.number(Double($0))] } ?? []
            case "artifact_uri": return [.string(artifactURI)]
            case "lifecycle_stage": return [.string(deleted ? "deleted" : "active")]
            case "experiment_id": return [.string(experimentID)]
            default: return []
            }
        }
    }
}

extension MLflowState.LoggedModel {
    var wire: JSONValue {
        var info: [String: JSONValue] = [
            "model_id": .string(id), "experiment_id": .string(experimentID), "name": .string(name), "creation_timestamp_ms": .int(creationTime),
            "last_updated_timestamp_ms": .int(lastUpdateTime), "artifact_uri": .string(artifactURI), "status": .string(status),
            "model_type": .string(modelType),
        ]
        if let sourceRunID { info["source_run_id"] = .string(sourceRunID) }
        if !tags.isEmpty { info["tags"] = tagList(tags) }
        var data: [String: JSONValue] = [:]
        if !params.isEmpty { data["params"] = .array(params.keys.sorted().map { ["key": .string($0), "value": .string(params[$0]!)] }) }
        return ["info": .object(info), "data": .object(data)]
    }

    func fields(_ entity: SearchFilter.Entity, _ key: String, runs: [String: MLflowState.Run]) -> [SearchFilter.Field] {
        switch entity {
        case .param: return params[key].map { [.string($0)] } ?? []
        case .tag: return tags[key].map { [.string($0)] } ?? []
        // A logged model's metrics are its source run's metrics logged against it (or the run's own).
        case .metric: return sourceRunID.flatMap { runs[$0]?.latest(key) }.map { [.number($0.value)] } ?? []
        case .dataset: return []
        case .attribute:
            switch key {
            case "name": return [.string(name)]
            case "model_id": return [.string(id)]
            case "status": return [.string(status)]
            case "model_type": return [.string(modelType)]
            case "source_run_id": return sourceRunID.map { [.string($0)] } ?? []
            case "creation_timestamp", "creation_time", "creation_timestamp_ms": return [.number(Double(creationTime))]
            case "last_updated_timestamp", "last_updated_timestamp_ms": return [.number(Double(lastUpdateTime))]
            case "experiment_id": return [.string(experimentID)]
            default: return []
            }
        }
    }
}

extension MLflowState.RegisteredModel {
    /// The latest version in each stage, as `latest_versions` and get-latest-versions answer.
    var latestVersions: [MLflowState.ModelVersion] {
        Dictionary(grouping: versions.values, by: \.stage).values.compactMap { $0.max { $0.version < $1.version } }.sorted { $0.version > $1.version }
    }

    func wire(latestOnly: Bool) -> JSONValue {
        var out: [String: JSONValue] = [
            "name": .string(name), "creation_timestamp": .int(creationTime), "last_updated_timestamp": .int(lastUpdateTime),
        ]
        if !description.isEmpty { out["description"] = .string(description) }
        let latest = latestVersions
        if !latest.isEmpty { out["latest_versions"] = .array(latest.map { wire(of: $0, withTags: false) }) }
        if !tags.isEmpty { out["tags"] = tagList(tags) }
        if !aliases.isEmpty {
            out["aliases"] = .array(aliases.keys.sorted().map { ["alias": .string($0), "version": .string(String(aliases[$0]!))] })
        }
        return .object(out)
    }

    func wire(of version: MLflowState.ModelVersion, withTags: Bool = true) -> JSONValue {
        var out: [String: JSONValue] = [
            "name": .string(name), "version": .string(String(version.version)), "creation_timestamp": .int(version.creationTime),
            "last_updated_timestamp": .int(version.lastUpdateTime), "current_stage": .string(version.stage),
            "description": .string(version.description),
            "source": .string(version.source), "status": "READY", "run_link": "",
        ]
        if let runID = version.runID { out["run_id"] = .string(runID) }
        if let modelID = version.modelID { out["model_id"] = .string(modelID) }
        if withTags, !version.tags.isEmpty { out["tags"] = tagList(version.tags) }
        let versionAliases = aliases.filter { $0.value == version.version }.keys.sorted()
        if withTags, !versionAliases.isEmpty { out["aliases"] = .array(versionAliases.map(JSONValue.string)) }
        return .object(out)
    }

    func fields(_ entity: SearchFilter.Entity, _ key: String) -> [SearchFilter.Field] {
        switch (entity, key) {
        case (.attribute, "name"): [.string(name)]
        case (.attribute, "creation_timestamp"): [.number(Double(creationTime))]
        case (.attribute, "last_updated_timestamp"): [.number(Double(lastUpdateTime))]
        case (.tag, _): tags[key].map { [.string($0)] } ?? []
        default: []
        }
    }

    func fields(of version: MLflowState.ModelVersion, _ entity: SearchFilter.Entity, _ key: String) -> [SearchFilter.Field] {
        switch (entity, key) {
        case (.attribute, "name"): [.string(name)]
        case (.attribute, "version_number"), (.attribute, "version"): [.number(Double(version.version))]
        case (.attribute, "run_id"): version.runID.map { [.string($0)] } ?? []
        case (.attribute, "source"): [.string(version.source)]
        case (.attribute, "current_stage"): [.string(version.stage)]
        case (.attribute, "creation_timestamp"): [.number(Double(version.creationTime))]
        case (.attribute, "last_updated_timestamp"): [.number(Double(version.lastUpdateTime))]
        case (.tag, _): version.tags[key].map { [.string($0)] } ?? []
        default: []
        }
    }
}
