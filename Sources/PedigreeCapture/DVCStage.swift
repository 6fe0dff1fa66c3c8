import Foundation
import PedigreeCore
import Yams

/// A stage of a DVC pipeline, read from `dvc.yaml` and `dvc.lock`: its dependencies, outputs and resolved
/// parameters become the run's inputs, outputs and hyperparameters; DVC's md5 values are kept as alias
/// digests so DVC users can cross-reference.
public struct DVCStage: Sendable {
    public struct Path: Sendable {
        public let path: String
        /// `md5:<hex>` (a directory's ends in `.dir`, as DVC writes it), from dvc.lock.
        public let md5: String?
    }

    public let name: String
    public let command: String
    public let dependencies: [Path]
    public let outputs: [Path]
    /// The stage's metrics files (also among `outputs`), read as the run's metrics.
    public let metrics: [String]
    public let parameters: JSONValue

    public enum Failure: Error, CustomStringConvertible {
        case noProject(String)
        case noStage(String, [String])
        public var description: String {
            switch self {
            case .noProject(let dir): "--dvc-stage: no dvc.yaml in \(dir)"
            case .noStage(let name, let known): "--dvc-stage: no stage '\(name)' in dvc.yaml; stages: \(known.joined(separator: ", "))"
            }
        }
    }

    public static func load(name: String, in directory: URL) throws -> DVCStage {
        guard let yaml = try? String(contentsOf: directory.appendingPathComponent("dvc.yaml"), encoding: .utf8),
            let pipeline = try Yams.load(yaml: yaml) as? [String: Any], let stages = pipeline["stages"] as? [String: Any]
        else { throw Failure.noProject(directory.path) }
        guard let stage = stages[name] as? [String: Any] else { throw Failure.noStage(name, stages.keys.sorted()) }
        let lockStage = (try? String(contentsOf: directory.appendingPathComponent("dvc.lock"), encoding: .utf8))
            .flatMap { try? Yams.load(yaml: $0) as? [String: Any] }
            .flatMap { ($0["stages"] as? [String: Any])?[name] as? [String: Any] }

        func lockedMD5s(_ key: String) -> [String: String] {
            var out: [String: String] = [:]
            for entry in lockStage?[key] as? [[String: Any]] ?? [] {
                if let path = entry["path"] as? String, let md5 = entry["md5"] as? String { out[path] = "md5:\(md5)" }
            }
            return out
        }
        func paths(_ key: String) -> [String] {
            (stage[key] as? [Any] ?? []).compactMap { item in
                if let path = item as? String { return path }
                return (item as? [String: Any])?.keys.first  // `- metrics.json: {cache: false}`
            }
        }
        let depMD5 = lockedMD5s("deps"), outMD5 = lockedMD5s("outs")
        var parameters: JSONValue = .object([:])
        for (_, values) in lockStage?["params"] as? [String: Any] ?? [:] {
            for (key, value) in values as? [String: Any] ?? [:] {
                parameters = ConfigLoader.setting(parameters, path: key.split(separator: ".").map(String.init), to: Self.json(value))
            }
        }
        return DVCStage(
            name: name, command: stage["cmd"] as? String ?? "",
            dependencies: paths("deps").map { Path(path: $0, md5: depMD5[$0]) },
            outputs: (paths("outs") + paths("metrics")).map { Path(path: $0, md5: outMD5[$0]) },
            metrics: paths("metrics"), parameters: parameters)
    }

    /// The stage whose `cmd` is exactly this command line, when the directory is a DVC project.
    public static func matching(command: [String], in directory: URL) -> DVCStage? {
        guard FileManager.default.fileExists(atPath: directory.appendingPathComponent("dvc.lock").path),
            let yaml = try? String(contentsOf: directory.appendingPathComponent("dvc.yaml"), encoding: .utf8),
            let stages = (try? Yams.load(yaml: yaml) as? [String: Any])?["stages"] as? [String: Any]
        else { return nil }
        let line = command.joined(separator: " ")
        for (name, stage) in stages where ((stage as? [String: Any])?["cmd"] as? String)?.trimmingCharacters(in: .whitespaces) == line {
            return try? load(name: name, in: directory)
        }
        return nil
    }

    static func json(_ value: Any) -> JSONValue {
        switch value {
        case let v as Bool: .bool(v)
        case let v as Int: .int(Int64(v))
        case let v as Double: JSONValue(number: v)
        case let v as String: .string(v)
        case let v as [Any]: .array(v.map(json))
        case let v as [String: Any]: .object(v.mapValues(json))
        default: .null
        }
    }
}
