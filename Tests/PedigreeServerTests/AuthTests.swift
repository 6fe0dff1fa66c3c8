import Foundation
import HTTPTypes
import HummingbirdTesting
import PedigreeCore
import PedigreeSQLite
import PedigreeServer
import PedigreeStore
import PedigreeTestSupport
import Testing

@Suite("Access control", .dropsTestDatabases)
struct AuthTests {
    /// Requests a caller might make, each against team-a's or team-b's data.
    enum Action: String, CaseIterable {
        case readOwn, readOther, graphOther, writeOwn, writeOther, openLineageOwn, createTokenOwn, createTokenOther, verify, health

        func perform(_ client: any TestClientProtocol, token: String?) async throws -> Reply {
            switch self {
            case .readOwn: try await client.call(.get, "/api/v1/nodes?ref=\(encoded("model:team-a/m@1"))", token: token)
            case .readOther: try await client.call(.get, "/api/v1/nodes?ref=\(encoded("model:team-b/m@1"))", token: token)
            case .graphOther: try await client.call(.get, "/api/v1/graph?ref=\(encoded("model:team-b/m@1"))", token: token)
            case .writeOwn:
                try await client.call(
                    .post, "/api/v1/events",
                    body: #"{"type": "artifact", "namespace": "team-a", "artifact": {"kind": "dataset", "name": "new", "version": "\#(UUID())"}}"#,
                    token: token)
            case .writeOther:
                try await client.call(
                    .post, "/api/v1/events",
                    body: #"{"type": "artifact", "namespace": "team-b", "artifact": {"kind": "dataset", "name": "new", "version": "\#(UUID())"}}"#,
                    token: token)
            case .openLineageOwn:
                try await client.call(
                    .post, "/api/v1/lineage",
                    body:
                        #"{"eventType": "START", "eventTime": "2026-11-28T10:00:00Z", "producer": "p", "job": {"namespace": "team-a", "name": "j"}, "run": {"runId": "\#(UUID())"}}"#,
                    token: token)
            case .createTokenOwn: try await client.call(.post, "/api/v1/tokens", body: #"{"namespace": "team-a", "role": "reader"}"#, token: token)
            case .createTokenOther: try await client.call(.post, "/api/v1/tokens", body: #"{"namespace": "team-b", "role": "reader"}"#, token: token)
            case .verify: try await client.call(.get, "/api/v1/verify", token: token)
            case .health: try await client.call(.get, "/healthz", token: token)
            }
        }
    }

    /// Expected status per caller and action. Anything not listed as a success must not succeed.
    static let expectations: [String: [Action: Int]] = [
        "none": [
            .readOwn: 401, .readOther: 401, .graphOther: 401, .writeOwn: 401, .writeOther: 401, .openLineageOwn: 401, .createTokenOwn: 401,
            .createTokenOther: 401, .verify: 401, .health: 200,
        ],
        "revoked": [
            .readOwn: 401, .readOther: 401, .graphOther: 401, .writeOwn: 401, .writeOther: 401, .openLineageOwn: 401, .createTokenOwn: 401,
            .createTokenOther: 401, .verify: 401, .health: 401,
        ],
        "reader-a": [
            .readOwn: 200, .readOther: 404, .graphOther: 404, .writeOwn: 403, .writeOther: 404, .openLineageOwn: 403, .createTokenOwn: 403,
            .createTokenOther: 404, .verify: 403, .health: 200,
        ],
        "writer-a": [
            .readOwn: 200, .readOther: 404, .graphOther: 404, .writeOwn: 201, .writeOther: 404, .openLineageOwn: 201, .createTokenOwn: 403,
            .createTokenOther: 404, .verify: 403, .health: 200,
        ],
        "admin-a": [
            .readOwn: 200, .readOther: 404, .graphOther: 404, .writeOwn: 201, .writeOther: 404, .openLineageOwn: 201, .createTokenOwn: 201,
            .createTokenOther: 404, .verify: 403, .health: 200,
        ],
        "writer-b": [
            .readOwn: 404, .readOther: 200, .graphOther: 200, .writeOwn: 404, .writeOther: 201, .openLineageOwn: 404, .createTokenOwn: 404,
            .createTokenOther: 403, .verify: 403, .health: 200,
        ],
        "reader-*": [
            .readOwn: 200, .readOther: 200, .graphOther: 200, .writeOwn: 403, .writeOther: 403, .openLineageOwn: 403, .createTokenOwn: 403,
            .createTokenOther: 403, .verify: 200, .health: 200,
        ],
    ]

    @Test(
        "role × namespace × route: every caller gets exactly what its token allows", arguments: StoreKind.allCases, Array(expectations.keys).sorted())
    func matrix(kind: StoreKind, caller: String) async throws {
        let store = try await makeStore(kind)
        try await store.append(
            try await EventDocument.decode(nativeHistory(namespace: "team-a") + "\n" + nativeHistory(namespace: "team-b", run: "r2")),
            recordedBy: "setup")
        var secrets: [String: String] = [:]
        for (name, namespace, role) in [
            ("reader-a", "team-a", AccessRole.reader), ("writer-a", "team-a", .writer), ("admin-a", "team-a", .admin),
            ("writer-b", "team-b", .writer), ("reader-*", "*", .reader), ("revoked", "team-a", .admin),
        ] {
            secrets[name] = try await store.createToken(namespace: namespace, role: role, name: name).secret
        }
        let revoked = try await store.tokens(namespace: "team-a").first { $0.name == "revoked" }!
        _ = try await store.revokeToken(id: revoked.id)
        let expected = Self.expectations[caller]!
        let token = secrets[caller]
        try await withServer(kind, auth: .on, store: store) { _, client in
            for action in Action.allCases {
                let reply = try await action.perform(client, token: token)
                #expect(Int(reply.status.code) == expected[action], "\(caller) \(action): \(reply.status.code) \(reply.text)")
                if reply.status.code >= 400 { #expect(reply.errorCode != nil, "errors are JSON") }
            }
        }
    }

    @Test("events record the identity that wrote them; lists show only visible namespaces", arguments: StoreKind.allCases)
    func identityAndListing(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        try await store.append(try await EventDocument.decode(nativeHistory(namespace: "team-b", run: "rb")), recordedBy: "setup")
        let (token, secret) = try await store.createToken(namespace: "team-a", role: .writer, name: "ci")
        try await withServer(kind, auth: .on, store: store) { _, client in
            #expect(try await client.call(.post, "/api/v1/events", body: nativeHistory(namespace: "team-a"), token: secret).status == .created)
            let events = try await client.call(.get, "/api/v1/events", token: secret).json["events"]?.arrayValue ?? []
            #expect(events.count == 3, "only team-a's events")
            #expect(events.allSatisfy { $0["recordedBy"] == .string("token:\(token.id)") })
            let namespaces = try await client.call(.get, "/api/v1/namespaces", token: secret).json["namespaces"]
            #expect(namespaces == [["name": "team-a"]])
            #expect(try await client.call(.get, "/api/v1/namespaces/team-b/jobs", token: secret).status == .notFound)
        }
    }

    @Test("a team may use another team's artifacts but not register new versions in its namespace", arguments: StoreKind.allCases)
    func crossNamespaceArtifacts(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        try await store.append(try await EventDocument.decode(nativeHistory(namespace: "team-b", run: "rb")), recordedBy: "setup")
        let writerA = try await store.createToken(namespace: "team-a", role: .writer, name: "a").secret
        _ = try await store.createToken(namespace: "team-b", role: .writer, name: "b")
        try await withServer(kind, auth: .on, store: store) { store, client in
            let uses =
                #"{"type": "run", "namespace": "team-a", "run": {"id": "ra", "job": "train", "inputs": [{"ref": "dataset:team-b/data@1", "role": "train"}]}}"#
            #expect(try await client.call(.post, "/api/v1/events", body: uses, token: writerA).status == .created)
            let mints =
                #"{"type": "run", "namespace": "team-a", "run": {"id": "rx", "job": "train", "outputs": [{"artifact": {"kind": "model", "namespace": "team-b", "name": "m"}, "role": "model"}]}}"#
            let reply = try await client.call(.post, "/api/v1/events", body: mints, token: writerA)
            #expect(reply.status == .forbidden && reply.errorCode == "forbidden", "\(reply.text)")
            await #expect(throws: StoreError.self, "the refused request stored nothing") { try await store.show(.run("rx"), asOf: nil) }
            // Nor claim to have generated team-b's model, nor rewrite what team-b registered through a correction.
            let generates =
                #"{"type": "run", "namespace": "team-a", "run": {"id": "rz", "job": "train", "outputs": [{"ref": "model:team-b/m@1", "role": "model"}]}}"#
            #expect(try await client.call(.post, "/api/v1/events", body: generates, token: writerA).status == .forbidden)
            let mention =
                #"{"type": "artifact", "namespace": "team-a", "artifact": {"kind": "dataset", "namespace": "team-b", "name": "data", "version": "1"}}"#
            let mentioned = try await client.call(.post, "/api/v1/events", body: mention, token: writerA)
            #expect(mentioned.status == .created, "naming an existing version is a reference")
            let digestOfMention = try #require(mentioned.json["events"]?[0]?["digest"]?.stringValue)
            let rewrite =
                #"{"type": "artifact", "namespace": "team-a", "supersedes": "\#(digestOfMention)", "artifact": {"kind": "dataset", "namespace": "team-b", "name": "data", "version": "1", "digest": "\#(JSONValue.string("forged").digest)"}}"#
            #expect(try await client.call(.post, "/api/v1/events", body: rewrite, token: writerA).status == .forbidden)
            #expect(
                try await store.show(try Reference(parsing: "dataset:team-b/data@1"), asOf: nil).summary.digest == JSONValue.string("team-brb").digest
            )
            // A namespace no team has claimed (an OpenLineage dataset namespace) is shared ground.
            let shared =
                #"{"type": "run", "namespace": "team-a", "run": {"id": "ry", "job": "train", "outputs": [{"artifact": {"kind": "dataset", "namespace": "s3://scratch", "name": "out"}, "role": "output"}]}}"#
            #expect(try await client.call(.post, "/api/v1/events", body: shared, token: writerA).status == .created)
        }
    }

    @Test("tokens over the API: an admin creates one, it works, revoking it locks it out", arguments: StoreKind.allCases)
    func tokenLifecycle(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        let admin = try await store.createToken(namespace: "team-a", role: .admin, name: "admin").secret
        try await withServer(kind, auth: .on, store: store) { _, client in
            let created = try await client.call(
                .post, "/api/v1/tokens", body: #"{"namespace": "team-a", "role": "writer", "name": "airflow"}"#, token: admin)
            #expect(created.status == .created)
            let secret = try #require(created.json["secret"]?.stringValue)
            let id = try #require(created.json["id"]?.stringValue)
            #expect(secret.hasPrefix("pdg_"))
            #expect(try await client.call(.post, "/api/v1/events", body: nativeHistory(namespace: "team-a"), token: secret).status == .created)
            let listed = try await client.call(.get, "/api/v1/tokens", token: admin).json["tokens"]?.arrayValue ?? []
            #expect(listed.contains { $0["id"] == .string(id) } && !listed.contains { $0["secret"] != nil })
            #expect(try await client.call(.delete, "/api/v1/tokens/\(id)", token: admin).status == .noContent)
            let refused = try await client.call(.get, "/api/v1/nodes?ref=\(encoded("model:team-a/m"))", token: secret)
            #expect(refused.status == .unauthorized && refused.errorCode == "unknown_token", "a revoked token is told so: \(refused.text)")
        }
        // The secret itself is never stored.
        if let sqlite = store as? SQLiteStore {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: sqlite.path))
            #expect(bytes.range(of: Data(admin.utf8)) == nil)
        }
    }

    @Test("with auth off, a token the server does not know is served anonymously; one it knows still limits", arguments: StoreKind.allCases)
    func unknownTokenWithAuthOff(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        let reader = try await store.createToken(namespace: "team-a", role: .reader, name: "reader").secret
        try await withServer(kind, auth: .off, store: store) { _, client in
            // An OpenLineage client configured with an API key, sending to a dev server.
            let anonymous = try await client.call(.post, "/api/v1/events", body: nativeHistory(), token: "pdg_not-a-token-this-server-knows")
            #expect(anonymous.status == .created, "\(anonymous.text)")
            let limited = try await client.call(.post, "/api/v1/events", body: nativeHistory(run: "r2"), token: reader)
            #expect(limited.status == .forbidden, "a known reader token may not write, auth or not: \(limited.text)")
        }
        try await withServer(kind, auth: .on, store: store) { _, client in
            let refused = try await client.call(.get, "/api/v1/nodes?ref=\(encoded("model:team-a/m"))", token: "pdg_not-a-token-this-server-knows")
            #expect(refused.status == .unauthorized && refused.errorCode == "unknown_token")
            #expect(refused.json["error"]?["message"]?.stringValue?.contains("unknown or revoked token") == true)
            let missing = try await client.call(.get, "/api/v1/nodes?ref=\(encoded("model:team-a/m"))")
            #expect(missing.status == .unauthorized && missing.errorCode == "unauthorized")
        }
    }

    @Test("diff and list through a namespace token show nothing of another team's runs", arguments: StoreKind.allCases)
    func diffAndListStayInside(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        let reader = try await store.createToken(namespace: "team-a", role: .reader, name: "a").secret
        // Team B prepares a shared dataset from its own raw data; team A trains two versions on it.
        var lines: [String] = []
        for v in 1...2 {
            lines.append(
                #"{"type": "artifact", "namespace": "team-b", "artifact": {"kind": "dataset", "name": "raw-secret-source", "version": "\#(v)", "digest": "\#(JSONValue.string("raw" + String(v)).digest)"}}"#
            )
            lines.append(
                #"{"type": "run", "namespace": "team-b", "run": {"id": "prep\#(v)", "job": "prep", "status": "COMPLETE", "inputs": [{"ref": "dataset:team-b/raw-secret-source@\#(v)", "role": "input"}], "outputs": [{"artifact": {"kind": "dataset", "namespace": "shared", "name": "features", "version": "\#(v)"}, "role": "output"}], "data": {"featureSelection": {"team_b_secret_k": \#(v)}}}}"#
            )
            lines.append(
                #"{"type": "run", "namespace": "team-a", "run": {"id": "train\#(v)", "job": "train", "status": "COMPLETE", "inputs": [{"ref": "dataset:shared/features@\#(v)", "role": "train"}], "outputs": [{"artifact": {"kind": "model", "name": "m", "digest": "\#(JSONValue.string("m" + String(v)).digest)"}, "role": "model"}]}}"#
            )
        }
        _ = try await store.append(try EventDocument.decode(lines.joined(separator: "\n")), recordedBy: "test")
        try await withServer(kind, auth: .on, store: store) { _, client in
            let diff = try await client.call(
                .get, "/api/v1/diff?from=\(encoded("model:team-a/m@1"))&to=\(encoded("model:team-a/m@2"))", token: reader)
            #expect(diff.status == .ok, "\(diff.text)")
            #expect(diff.text.contains("dataset:shared/features"), "that the shared input changed is visible: \(diff.text)")
            #expect(!diff.text.contains("team-b") && !diff.text.contains("team_b_secret_k"), "nothing of team B's runs: \(diff.text)")
            let listed = try await client.call(.get, "/api/v1/artifacts?limit=1", token: reader).json["artifacts"]?.arrayValue ?? []
            #expect(listed.count == 1 && listed.allSatisfy { $0["namespace"] == "team-a" }, "a page of team A's own artifacts, not an empty one")
        }
    }
}
