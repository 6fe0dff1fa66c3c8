import Foundation
import PedigreeCore

/// One MLflow operation as it is kept in the event log: the `mlflow` facet of the event that records it.
///
/// Every MLflow write becomes one or more Pedigree events through the store's one write path; the event
/// that carries the operation holds this record, with everything the server decided (ids, times, digests),
/// so `MLflowState` can rebuild MLflow's view by folding the log and nothing else. There is no second
/// store of MLflow objects: what the MLflow API answers is a function of the log.
public struct MLflowRecord: Hashable, Sendable {
    public enum Operation: String, Sendable {
        case createExperiment, updateExperiment, deleteExperiment, restoreExperiment, setExperimentTag, deleteExperimentTag
        case createRun, updateRun, logBatch, deleteRunTag, deleteRun, restoreRun, logInputs, logOutputs, runArtifact
        /// A wrapped run loaded a model (through its run-scoped address): the model is its parent.
        case loadModel
        case createLoggedModel, finalizeLoggedModel, setLoggedModelTags, deleteLoggedModelTag, logLoggedModelParams, deleteLoggedModel
        case loggedModelArtifact
        case createRegisteredModel, renameRegisteredModel, updateRegisteredModel, deleteRegisteredModel
        case setRegisteredModelTag, deleteRegisteredModelTag, setAlias, deleteAlias
        case createModelVersion, updateModelVersion, transitionStage, setModelVersionTag, deleteModelVersionTag, deleteModelVersion
    }

    public var op: Operation
    /// Milliseconds since the epoch: MLflow's unit for every time it shows.
    public var time: Int64
    /// The experiment, run or logged model the operation is about (registry operations use `name`).
    public var id: String?
    public var experimentID: String?
    public var name: String?
    public var newName: String?
    public var user: String?
    public var status: String?
    public var startTime: Int64?
    public var endTime: Int64?
    public var key: String?
    public var value: String?
    public var params: [Tag]?
    public var metrics: [MetricPoint]?
    public var tags: [Tag]?
    public var datasets: [DatasetInput]?
    public var models: [ModelIO]?
    public var path: String?
    public var digest: String?
    public var size: Int64?
    public var version: String?
    public var alias: String?
    public var stage: String?
    public var archiveExisting: Bool?
    public var description: String?
    public var source: String?
    public var runID: String?
    public var modelID: String?
    public var modelType: String?
    public var artifactLocation: String?
    /// The Pedigree job of a new run.
    public var job: String?
    /// The version of a registered version's Pedigree reference, when it is not MLflow's number (a model
    /// deleted and created again, or created under a name a renamed one had: references are never reused).
    public var refVersion: String?
    /// A run `pedigree run` started that MLflow calls then joined (one run, not two).
    public var adopted: Bool?

    public init(_ op: Operation, time: Int64) {
        self.op = op
        self.time = time
    }

    public struct Tag: Hashable, Sendable {
        public var key: String
        public var value: String
        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }

    public struct MetricPoint: Hashable, Sendable {
        public var key: String
        public var value: MetricValue
        public var timestamp: Int64
        public var step: Int64
        public var modelID: String?
        public init(key: String, value: MetricValue, timestamp: Int64, step: Int64, modelID: String? = nil) {
            self.key = key
            self.value = value
            self.timestamp = timestamp
            self.step = step
            self.modelID = modelID
        }
    }

    public struct DatasetInput: Hashable, Sendable {
        public var name: String
        public var digest: String
        public var sourceType: String
        public var source: String
        public var schema: String?
        public var profile: String?
        public var tags: [Tag]
        /// Pedigree's SHA-256 of the content, when the server holds it (an uploaded artifact).
        public var contentDigest: String?
    }

    public struct ModelIO: Hashable, Sendable {
        public var modelID: String
        public var step: Int64?
    }

    /// The fields kept as strings, by their JSON names.
    static var strings: [(String, WritableKeyPath<MLflowRecord, String?>)] {
        [
            ("id", \.id), ("experimentID", \.experimentID), ("name", \.name), ("newName", \.newName), ("user", \.user), ("status", \.status),
            ("key", \.key), ("value", \.value), ("path", \.path), ("digest", \.digest), ("version", \.version), ("alias", \.alias),
            ("stage", \.stage), ("description", \.description), ("source", \.source), ("runID", \.runID), ("modelID", \.modelID),
            ("modelType", \.modelType), ("artifactLocation", \.artifactLocation), ("job", \.job),
            ("refVersion", \.refVersion),
        ]
    }
    static var integers: [(String, WritableKeyPath<MLflowRecord, Int64?>)] { [("startTime", \.startTime), ("endTime", \.endTime), ("size", \.size)] }
    static var booleans: [(String, WritableKeyPath<MLflowRecord, Bool?>)] { [("archiveExisting", \.archiveExisting), ("adopted", \.adopted)] }

    /// The record as the facet value stored in the event. (Built and read as `JSONValue` directly: a
    /// 1,000-metric batch goes through this on every write and every fold.)
    public var json: JSONValue {
        var out: [String: JSONValue] = ["op": .string(op.rawValue), "time": .int(time)]
        for (name, field) in Self.strings { if let value = self[keyPath: field] { out[name] = .string(value) } }
        for (name, field) in Self.integers { if let value = self[keyPath: field] { out[name] = .int(value) } }
        for (name, field) in Self.booleans { if let value = self[keyPath: field] { out[name] = .bool(value) } }
        if let params { out["params"] = .array(params.map(\.json)) }
        if let tags { out["tags"] = .array(tags.map(\.json)) }
        if let metrics { out["metrics"] = .array(metrics.map(\.json)) }
        if let datasets { out["datasets"] = .array(datasets.map(\.json)) }
        if let models { out["models"] = .array(models.map(\.json)) }
        return .object(out)
    }

    /// The record in a stored event's `mlflow` facet, or nil for a facet that is not one (or one this version
    /// cannot read, which the fold then skips, as every replica does).
    public init?(facet: JSONValue) {
        guard case .object(let members) = facet, let op = members["op"]?.stringValue.flatMap(Operation.init), let time = members["time"]?.intValue
        else { return nil }
        self.init(op, time: time)
        for (name, field) in Self.strings {
            switch members[name] {
            case nil: break
            case .string(let value)?: self[keyPath: field] = value
            default: return nil
            }
        }
        for (name, field) in Self.integers {
            switch members[name] {
            case nil: break
            case .int(let value)?: self[keyPath: field] = value
            default: return nil
            }
        }
        for (name, field) in Self.booleans {
            switch members[name] {
            case nil: break
            case .bool(let value)?: self[keyPath: field] = value
            default: return nil
            }
        }
        func list<T>(_ key: String, _ read: (JSONValue) -> T?) -> [T]?? {
            guard let value = members[key] else { return .some(nil) }
            guard let items = value.arrayValue else { return nil }
            var out: [T] = []
            out.reserveCapacity(items.count)
            for item in items {
                guard let parsed = read(item) else { return nil }
                out.append(parsed)
            }
            return .some(out)
        }
        guard let params = list("params", Tag.init(json:)), let tags = list("tags", Tag.init(json:)),
            let metrics = list("metrics", MetricPoint.init(json:)), let datasets = list("datasets", DatasetInput.init(json:)),
            let models = list("models", ModelIO.init(json:))
        else { return nil }
        (self.params, self.tags, self.metrics, self.datasets, self.models) = (params, tags, metrics, datasets, models)
    }
}

extension MLflowRecord.Tag {
    var json: JSONValue { ["key": .string(key), "value": .string(value)] }

    init?(json: JSONValue) {
        guard let key = json["key"]?.stringValue, let value = json["value"]?.stringValue else { return nil }
        self.init(key: key, value: value)
    }
}

extension MLflowRecord.MetricPoint {
    var json: JSONValue {
        var out: [String: JSONValue] = ["key": .string(key), "value": value.json, "timestamp": .int(timestamp), "step": .int(step)]
        if let modelID { out["modelID"] = .string(modelID) }
        return .object(out)
    }

    init?(json: JSONValue) {
        guard let key = json["key"]?.stringValue, let value = json["value"].flatMap(MetricValue.init(json:)),
            let timestamp = json["timestamp"]?.intValue, let step = json["step"]?.intValue
        else { return nil }
        self.init(key: key, value: value, timestamp: timestamp, step: step, modelID: json["modelID"]?.stringValue)
    }
}

extension MLflowRecord.DatasetInput {
    var json: JSONValue {
        var out: [String: JSONValue] = [
            "name": .string(name), "digest": .string(digest), "sourceType": .string(sourceType), "source": .string(source),
            "tags": .array(tags.map(\.json)),
        ]
        if let schema { out["schema"] = .string(schema) }
        if let profile { out["profile"] = .string(profile) }
        if let contentDigest { out["contentDigest"] = .string(contentDigest) }
        return .object(out)
    }

    init?(json: JSONValue) {
        guard let name = json["name"]?.stringValue, let digest = json["digest"]?.stringValue, let sourceType = json["sourceType"]?.stringValue,
            let source = json["source"]?.stringValue, let tagList = json["tags"]?.arrayValue
        else { return nil }
        let tags = tagList.compactMap(MLflowRecord.Tag.init(json:))
        guard tags.count == tagList.count else { return nil }
        self.init(
            name: name, digest: digest, sourceType: sourceType, source: source, schema: json["schema"]?.stringValue,
            profile: json["profile"]?.stringValue, tags: tags, contentDigest: json["contentDigest"]?.stringValue)
    }
}

extension MLflowRecord.ModelIO {
    var json: JSONValue {
        var out: [String: JSONValue] = ["modelID": .string(modelID)]
        if let step { out["step"] = .int(step) }
        return .object(out)
    }

    init?(json: JSONValue) {
        guard let modelID = json["modelID"]?.stringValue else { return nil }
        self.init(modelID: modelID, step: json["step"]?.intValue)
    }
}

/// A metric value: MLflow allows NaN and ±infinity, which JSON cannot hold as numbers, so those are kept as
/// the strings MLflow's own JSON uses for them.
public struct MetricValue: Hashable, Sendable {
    public let value: Double

    public init(_ value: Double) { self.value = value }

    init?(json: JSONValue) {
        switch json {
        case .int(let n): value = Double(n)
        case .double(let d): value = d
        case .string("NaN"): value = .nan
        case .string("Infinity"): value = .infinity
        case .string("-Infinity"): value = -.infinity
        default: return nil
        }
    }

    /// The value in MLflow's JSON: a number, or one of its strings for what JSON numbers cannot say.
    public var json: JSONValue {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return .string(value < 0 ? "-Infinity" : "Infinity") }
        return JSONValue(number: value)
    }
}
