import Foundation
import HTTPTypes
import PedigreeCore
import PedigreeServer
import PedigreeStore
import PedigreeTestSupport
import Testing

/// `GET /api/v1/incident`: the report as far as the token may see, and its errors.
@Suite("Incident API", .dropsTestDatabases)
struct IncidentAPITests {
    /// team-b trains two versions of `m` on two versions of its data; team-a's endpoint serves them in turn.
    static func history() throws -> [LineageEvent] {
        func train(_ version: Int, lr: Double) -> JSONValue {
            [
                "type": "run", "namespace": "team-b",
                "run": [
                    "id": .string("train-\(version)"), "job": "train", "status": "COMPLETE",
                    "inputs": [
                        [
                            "artifact": [
                                "kind": "dataset", "name": "data", "version": .string("\(version)"),
                                "digest": .string(JSONValue.string("data \(version)").digest.description),
                            ], "role": "train",
                        ]
                    ],
                    "outputs": [
                        [
                            "artifact": [
                                "kind": "model", "name": "m", "version": .string("\(version)"),
                                "digest": .string(JSONValue.string("m \(version)").digest.description),
                            ], "role": "model",
                        ]
                    ],
                    "hyperparameters": ["lr": JSONValue(number: lr)],
                ],
            ]
        }
        func deploy(_ version: Int, at time: String, namespace: String = "team-a") -> JSONValue {
            [
                "type": "deployment", "namespace": .string(namespace),
                "deployment": ["endpoint": "api", "model": .string("model:team-b/m@\(version)"), "validFrom": .string(time)],
            ]
        }
        return try [
            train(1, lr: 0.1), train(2, lr: 0.2), deploy(1, at: "2026-01-01T00:00:00Z"), deploy(2, at: "2026-02-01T00:00:00Z"),
            deploy(2, at: "2026-02-01T00:00:00Z", namespace: "team-b"),
        ].map {
            try LineageEvent(json: $0)
        }
    }

    static let path = "/api/v1/incident?endpoint=team-a/api&at=2026-02-10T00:00:00Z"

    @Test(
        "a team sees what served its endpoint, but compares another team's versions only with a token that may read them",
        arguments: StoreKind.allCases)
    func scopedVisibility(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        try await store.append(try Self.history(), recordedBy: "setup")
        let teamA = try await store.createToken(namespace: "team-a", role: .reader, name: "a").secret
        let everyone = try await store.createToken(namespace: AccessToken.everyNamespace, role: .reader, name: "all").secret
        try await withServer(kind, auth: .on, store: store) { _, client in
            let scoped = try await client.call(.get, Self.path, token: teamA)
            #expect(scoped.status == .ok)
            #expect(scoped.json["suspect"] == "model:team-b/m@2" && scoped.json["good"]?["model"] == "model:team-b/m@1")
            #expect(scoped.json["diff"] == nil || scoped.json["diff"] == .null, "team-b's lineage is not team-a's to see")
            #expect(scoped.json["blastRadius"] == [])
            #expect(scoped.json["summary"]?.stringValue?.contains("not compared") == true)
            let full = try await client.call(.get, Self.path, token: everyone)
            #expect(full.json["diff"]?["hyperparameters"]?[0]?["path"] == "lr")
            #expect(full.json["blastRadius"]?[0]?["dataset"] == "dataset:team-b/data@2")
            // team-b's own endpoint: invisible to team-a (as if it did not exist), there for a token that may read it.
            let other = "/api/v1/incident?endpoint=team-b/api&at=2026-02-10T00:00:00Z"
            #expect(try await client.call(.get, other, token: teamA).status == .notFound)
            #expect(try await client.call(.get, other, token: everyone).status == .ok)
        }
    }

    @Test("bad parameters are 400s that name the parameter; an endpoint serving nothing then is a 404", arguments: StoreKind.allCases)
    func errors(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        try await store.append(try Self.history(), recordedBy: "setup")
        try await withServer(kind, store: store) { _, client in
            let cases: [(String, HTTPResponse.Status, String)] = [
                ("/api/v1/incident?endpoint=team-a/api", .badRequest, "at"),
                ("/api/v1/incident?endpoint=team-a/api&at=2999-01-01T00:00:00Z", .badRequest, "at"),
                ("/api/v1/incident?endpoint=team-a/api&at=yesterday", .badRequest, "at"),
                ("/api/v1/incident?endpoint=team-a/api@2&at=2026-02-10T00:00:00Z", .badRequest, "endpoint"),
                ("/api/v1/incident?endpoint=team-a/nowhere&at=2026-02-10T00:00:00Z", .notFound, "ref"),
                ("\(Self.path)&good=model:team-b/m@1&goodAt=2026-01-10T00:00:00Z", .badRequest, "good"),
                ("\(Self.path)&good=model:team-b/m@2", .unprocessableContent, "good"),
                ("\(Self.path)&goodAt=2026-03-01T00:00:00Z", .unprocessableContent, "goodAt"),
                ("/api/v1/incident?endpoint=team-a/api&at=2025-01-01T00:00:00Z", .notFound, "at"),
            ]
            for (path, status, field) in cases {
                let reply = try await client.call(.get, path)
                #expect(reply.status == status && reply.json["error"]?["field"]?.stringValue == field, "\(path): \(reply.text)")
            }
        }
    }
}
