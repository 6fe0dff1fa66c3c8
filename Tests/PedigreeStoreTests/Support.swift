import Foundation
import GRDB
import PedigreeCore
import PedigreeSQLite
import PedigreeStore
import PedigreeTestSupport

func digest(_ content: String) -> String { JSONValue.string(content).digest.description }

func artifactEvent(
    _ namespace: String, kind: String = "dataset", _ name: String, version: String? = nil, digest: String? = nil
) throws -> LineageEvent {
    var artifact: [String: JSONValue] = ["kind": .string(kind), "name": .string(name)]
    if let version { artifact["version"] = .string(version) }
    if let digest { artifact["digest"] = .string(digest) }
    return try LineageEvent(json: ["type": "artifact", "namespace": .string(namespace), "artifact": .object(artifact)])
}

/// A completed run; inputs and outputs are (reference or artifact object, role).
func runEvent(
    _ namespace: String = "team", id: String, job: String = "train", inputs: [(JSONValue, String)] = [], outputs: [(JSONValue, String)] = [],
    parents: [String] = [], extra: [String: JSONValue] = [:], status: String = "COMPLETE"
) throws -> LineageEvent {
    func use(_ item: (JSONValue, String)) -> JSONValue {
        if case .string = item.0 { return ["ref": item.0, "role": .string(item.1)] }
        return ["artifact": item.0, "role": .string(item.1)]
    }
    var run: [String: JSONValue] = [
        "id": .string(id), "job": .string(job), "status": .string(status),
        "inputs": .array(inputs.map(use)), "outputs": .array(outputs.map(use)), "parents": .array(parents.map(JSONValue.string)),
    ]
    run.merge(extra) { _, new in new }
    return try LineageEvent(json: ["type": "run", "namespace": .string(namespace), "run": .object(run)])
}

func model(_ name: String, namespace: String = "team", version: String? = nil, digest: String? = nil) -> JSONValue {
    var out: [String: JSONValue] = ["kind": "model", "namespace": .string(namespace), "name": .string(name)]
    if let version { out["version"] = .string(version) }
    if let digest { out["digest"] = .string(digest) }
    return .object(out)
}

func dataset(_ name: String, namespace: String = "team", version: String? = nil, digest: String? = nil) -> JSONValue {
    var out: [String: JSONValue] = ["kind": "dataset", "namespace": .string(namespace), "name": .string(name)]
    if let version { out["version"] = .string(version) }
    if let digest { out["digest"] = .string(digest) }
    return .object(out)
}

func deploymentEvent(_ namespace: String = "team", endpoint: String, model: String, validFrom: String) throws -> LineageEvent {
    try LineageEvent(json: [
        "type": "deployment", "namespace": .string(namespace),
        "deployment": ["endpoint": .string(endpoint), "model": .string(model), "validFrom": .string(validFrom)],
    ])
}

func ref(_ text: String) throws -> Reference { try Reference(parsingModel: text) }

func artifactRef(_ text: String) throws -> ArtifactRef {
    guard case .artifact(let a) = try Reference(parsing: text) else { throw StoreError(.invalid, "not an artifact") }
    return a
}

/// Raw SQL against the store's file, bypassing Pedigree: how an attacker or a bug would touch it.
func tamper(_ store: SQLiteStore, _ sql: String, _ arguments: StatementArguments = []) throws {
    let queue = try DatabaseQueue(path: store.path)
    try queue.writeWithoutTransaction { db in
        try db.execute(sql: "DROP TRIGGER IF EXISTS events_are_immutable; DROP TRIGGER IF EXISTS events_are_permanent")
        try db.execute(sql: sql, arguments: arguments)
    }
}
