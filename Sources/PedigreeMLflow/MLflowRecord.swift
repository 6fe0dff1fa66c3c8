import Foundation
import PedigreeCore

/// One MLflow operation as it is kept in the event log: the `mlflow` facet of the event that records it.
///
/// Every MLflow write becomes one or more Pedigree events through the store's one write path; the event
/// that carries the operation holds this record, with everything the server decided (ids, times, digests),
/// so `MLflowState` can rebuild MLflow's view by folding the log and nothing else. There is no second
/// store of MLflow objects: what the MLflow API answers is a function of the log.
public struct MLflowRecord: Codable, Hashable, Sendable {
    public enum Operation: String, Codable, Sendable {
        case createExperiment, updateExperiment, deleteExperiment, restoreExperiment, setExperimentTag, deleteExperimentTag
        case createRun, updateRun, logBatch, deleteRunTag, deleteRun, restoreRun, logInputs, logOutputs, runArtifact
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
    /// A run `pedigree run` started that MLflow calls then joined (one run, not two).
    public var adopted: Bool?

    public init(_ op: Operation, time: Int64) {
        self.op = op
        self.time = time
    }

    public struct Tag: Codable, Hashable, Sendable {
        public var key: String
        public var value: String
        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }

    public struct MetricPoint: Codable, Hashable, Sendable {
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

    public struct DatasetInput: Codable, Hashable, Sendable {
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

    public struct ModelIO: Codable, Hashable, Sendable {
        public var modelID: String
        public var step: Int64?
    }

    /// The record as the facet value stored in the event.
    public var json: JSONValue {
        do {
            return try JSONValue.parse(JSONEncoder().encode(self))
        } catch {
            preconditionFailure("an MLflow record did not encode as JSON: \(error)")
        }
    }

    /// The record in a stored event's `mlflow` facet, or nil for an event that holds none (or one this
    /// version cannot read, which the fold then skips, as every replica does).
    public init?(facet: JSONValue) {
        guard let record = try? JSONDecoder().decode(Self.self, from: Data(facet.canonicalBytes)) else { return nil }
        self = record
    }
}

/// A metric value: MLflow allows NaN and ±infinity, which JSON cannot hold as numbers, so those are kept as
/// the strings MLflow's own JSON uses for them.
public struct MetricValue: Codable, Hashable, Sendable {
    public let value: Double

    public init(_ value: Double) { self.value = value }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) {
            value = number
            return
        }
        switch try container.decode(String.self) {
        case "NaN": value = .nan
        case "Infinity": value = .infinity
        case "-Infinity": value = -.infinity
        case let other:
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "'\(other)' is not a metric value"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if value.isNaN {
            try container.encode("NaN")
        } else if value.isInfinite {
            try container.encode(value < 0 ? "-Infinity" : "Infinity")
        } else {
            try container.encode(value)
        }
    }

    /// The value in MLflow's JSON: a number, or one of its strings for what JSON numbers cannot say.
    public var json: JSONValue {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return .string(value < 0 ? "-Infinity" : "Infinity") }
        return JSONValue(number: value)
    }
}
