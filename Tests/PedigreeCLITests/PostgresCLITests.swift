import Foundation
import PedigreeCore
import PedigreeTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Pedigree on a shared PostgreSQL, driven as an operator would: `migrate`, `serve` replicas, `export`/`import`.
@Suite(
    "PostgreSQL from the command line",
    .enabled(
        if: TestPostgres.serverURL != nil,
        "needs PEDIGREE_TEST_POSTGRES_URL=postgres://USER@HOST/DATABASE; scripts/test starts a throwaway PostgreSQL"))
struct PostgresCLITests {
    @Test("two pedigree serve replicas on one PostgreSQL, concurrent clients against both: verify passes, every acknowledged event is stored once")
    func replicas() async throws {
        let cli = try CLI(store: try await TestPostgres.freshDatabase())
        #expect(try cli.run(["migrate"]).status == 0)
        let servers = [try ServerProcess(cli: cli), try ServerProcess(cli: cli)]
        defer { servers.forEach { _ = $0.stop() } }
        let urls = servers.map(\.url)

        // Each client sends its requests to alternating replicas and sends every request a second time to the
        // other replica, as a client retrying after a timeout behind a load balancer would — after the first
        // answer, or while the first delivery is still in flight. All clients of a namespace register versions
        // of the same model, so the replicas contend for the same chain and names.
        let clients = 16, requests = 4
        let acknowledged = try await withThrowingTaskGroup(of: Int.self) { group in
            for client in 0..<clients {
                group.addTask {
                    var stored = 0
                    for request in 0..<requests {
                        let body = try Self.request(client: client, request: request)
                        let first = urls[(client + request) % 2], retry = urls[(client + request + 1) % 2]
                        if request % 2 == 0 {
                            let outcomes = try await Self.post(body, to: first)
                            let retried = try await Self.post(body, to: retry)
                            #expect(outcomes.allSatisfy { $0["duplicate"] == false }, "a first delivery is new")
                            #expect(retried.allSatisfy { $0["duplicate"] == true }, "a retry on the other replica is a duplicate")
                            #expect(retried.map { $0["sequence"] } == outcomes.map { $0["sequence"] }, "and names the same chain positions")
                            stored += outcomes.count
                        } else {
                            // A retry sent while the first delivery is still in flight: exactly one of them stores each event.
                            async let a = Self.post(body, to: first)
                            async let b = Self.post(body, to: retry)
                            let (outcomes, retried) = try await (a, b)
                            #expect(zip(outcomes, retried).allSatisfy { ($0["duplicate"] == false) != ($1["duplicate"] == false) })
                            #expect(retried.map { $0["sequence"] } == outcomes.map { $0["sequence"] })
                            stored += (outcomes + retried).filter { $0["duplicate"] == false }.count
                        }
                    }
                    return stored
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(acknowledged == clients * requests * 2)

        let verify = try cli.run(["verify", "--json"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.json?["ok"] == true)
        #expect(verify.json?["events"] == .int(Int64(acknowledged)))
        let log = try cli.run(["log", "--limit", "100000"]).stdout.split(separator: "\n")
        #expect(log.count == acknowledged, "every acknowledged event, and only those")
        #expect(Set(log).count == log.count, "no duplicates")
        // Versions of the shared model were numbered once each, without gaps, across both replicas.
        for namespace in ["team-a", "team-b"] {
            let versions = try cli.run(["lineage", "model:\(namespace)/shared", "--json"]).json?["root"]?.stringValue
            #expect(versions == "model:\(namespace)/shared@\(clients * requests / 2)")
        }
    }

    /// One request: a dataset version and the run that trains a version of the namespace's shared model on it.
    static func request(client: Int, request: Int) throws -> Data {
        let namespace = client % 2 == 0 ? "team-a" : "team-b"
        let tag = "\(client)-\(request)"
        let events: JSONValue = [
            [
                "type": "artifact", "namespace": .string(namespace),
                "artifact": [
                    "kind": "dataset", "name": .string("data-\(client)"), "version": .string("\(request)"),
                    "digest": .string(JSONValue.string("data \(tag)").digest.description),
                ],
            ],
            [
                "type": "run", "namespace": .string(namespace),
                "run": [
                    "id": .string("run-\(tag)"), "job": "train", "status": "COMPLETE",
                    "inputs": [["ref": .string("dataset:\(namespace)/data-\(client)@\(request)"), "role": "train"]],
                    "outputs": [
                        [
                            "artifact": ["kind": "model", "name": "shared", "digest": .string(JSONValue.string("model \(tag)").digest.description)],
                            "role": "model",
                        ]
                    ],
                ],
            ],
        ]
        return Data(events.canonicalString.utf8)
    }

    static func post(_ body: Data, to server: String) async throws -> [JSONValue] {
        var request = URLRequest(url: try #require(URL(string: server + "/api/v1/events")))
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = body
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode
        #expect(status == 200 || status == 201, "\(String(decoding: data, as: UTF8.self))")
        return try JSONValue.parse(String(decoding: data, as: UTF8.self))["events"]?.arrayValue ?? []
    }

    @Test("a database that is missing or unreachable is an error that says why, and the password is never shown")
    func unreachableDatabase() async throws {
        let server = try #require(TestPostgres.serverURL)
        var missing = try #require(URLComponents(string: server))
        missing.path = "/no_such_database"
        missing.percentEncodedPassword = "s3cret%21"
        let refused = "postgres://pedigree:s3cret%21@127.0.0.1:1/lineage?sslmode=disable"
        let missingURL = try #require(missing.string)
        for (store, reason) in [(missingURL, "does not exist"), (refused, "refused")] {
            let result = try CLI(store: store).run(["verify"])
            #expect(result.status == 5, "\(result.stderr)")
            #expect(result.stderr.contains(reason), "\(result.stderr)")
            #expect(!result.stderr.contains("s3cret") && result.stderr.contains("***"), "\(result.stderr)")
        }
    }

    @Test("a server refuses a database whose schema is behind or ahead of its own")
    func schemaVersionChecked() async throws {
        let url = try await TestPostgres.freshDatabase()
        let cli = try CLI(store: url)
        let behind = try cli.runWithDeadline(["serve", "--port", "0"])
        #expect(behind.status == 5)
        #expect(behind.stderr.contains("schema version 0") && behind.stderr.contains("pedigree migrate"), "\(behind.stderr)")
        let migrated = try cli.run(["migrate"])
        #expect(migrated.status == 0 && migrated.stdout.contains("schema version 5"), "\(migrated.stdout)\(migrated.stderr)")
        #expect(try cli.run(["migrate"]).stdout.contains("already up to date"))
        try await TestPostgres.execute(url, "INSERT INTO schema_migrations(version, name, applied_at) VALUES (99, 'from a newer pedigree', 0)")
        let ahead = try cli.runWithDeadline(["serve", "--port", "0"])
        #expect(ahead.status == 5)
        #expect(ahead.stderr.contains("newer than this Pedigree"), "\(ahead.stderr)")
    }

    @Test(
        "export --all and import move a SQLite store into PostgreSQL with its history intact, verified; import refuses a non-empty store and an altered file"
    )
    func moveToPostgres() async throws {
        let sqlite = try CLI()
        #expect(try sqlite.run(["quickstart"]).status == 0)
        let file = sqlite.home.deletingLastPathComponent().appendingPathComponent("export.jsonl").path
        let exported = try sqlite.run(["export", "--all", file])
        #expect(exported.status == 0 && exported.stderr.contains("exported 11 events"), "\(exported.stderr)")

        let postgres = try CLI(store: try await TestPostgres.freshDatabase())
        #expect(try postgres.run(["migrate"]).status == 0)
        let imported = try postgres.run(["import", file])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.hasPrefix("ok: 11 events in 2 chains verified"), "\(imported.stdout)")
        #expect(try postgres.run(["verify"]).stdout == sqlite.run(["verify"]).stdout, "the same chain heads")
        for query in [
            ["lineage", "model:fraud-team/fraud@2", "--upstream", "--json"], ["impact", "dataset:warehouse/transactions@2026-10", "--json"],
            ["history", "deployment:fraud-team/fraud-api", "--json"], ["show", "run:9e8d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c6b", "--json"],
            ["diff", "model:fraud-team/fraud@1", "model:fraud-team/fraud@2"], ["log"],
        ] + ["prov-json", "openlineage", "cypher", "datahub", "graphml", "dot", "mermaid"].map { ["export", "--all", "--format", $0] } {
            let a = try sqlite.run(query), b = try postgres.run(query)
            #expect(a.status == 0 && a.stdout == b.stdout, "\(query.joined(separator: " ")) answers the same")
        }

        let again = try postgres.run(["import", file])
        #expect(again.status == 0 && again.stderr.contains("imported 0 events") && again.stderr.contains("11 already there"), "\(again.stderr)")
        #expect(try postgres.eventCount() == 11, "importing the same file again changes nothing")
        let other = try CLI()
        #expect(try other.run(["quickstart"]).status == 0)
        let otherFile = file + ".other"
        #expect(try other.run(["export", "--all", otherFile]).status == 0)
        let different = try postgres.run(["import", otherFile])
        #expect(different.status == 4 && different.stderr.contains("import into an empty store"), "another history is refused: \(different.stderr)")

        var lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map(String.init)
        lines[4] = lines[4].replacingOccurrences(of: "fraud-team", with: "fraud-tean")
        let altered = file + ".altered"
        try (lines.joined(separator: "\n") + "\n").write(toFile: altered, atomically: true, encoding: .utf8)
        let fresh = try CLI(store: try await TestPostgres.freshDatabase())
        #expect(try fresh.run(["migrate"]).status == 0)
        let refused = try fresh.run(["import", altered])
        #expect(refused.status == 2, "\(refused.stderr)")
        #expect(try fresh.eventCount() == 0, "the batch holding the altered event is not stored")
    }

    @Test("an interrupted import is finished by running it again; a truncated file is recognised")
    func resumedImport() async throws {
        // More events than one import batch (2,000), so part of the file is committed before the end.
        let sqlite = try CLI()
        let events = (0..<2_500).map { i in
            #"{"type":"artifact","namespace":"bulk","artifact":{"kind":"dataset","name":"d\#(i % 50)","version":"\#(i)"}}"#
        }.joined(separator: "\n")
        #expect(try sqlite.run(["record", "-"], stdin: events).status == 0)
        let file = sqlite.home.deletingLastPathComponent().appendingPathComponent("export.jsonl").path
        #expect(try sqlite.run(["export", "--all", file]).status == 0)
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2_502, "header, events, trailer")
        let truncated = file + ".truncated"
        try (lines.prefix(2_200).joined(separator: "\n") + "\n").write(toFile: truncated, atomically: true, encoding: .utf8)

        let postgres = try CLI(store: try await TestPostgres.freshDatabase())
        #expect(try postgres.run(["migrate"]).status == 0)
        let stopped = try postgres.run(["import", truncated])
        #expect(stopped.status == 2 && stopped.stderr.contains("truncated"), "\(stopped.stderr)")
        #expect(try postgres.eventCount() == 2_000, "the first batch was committed")
        let finished = try postgres.run(["import", file])
        #expect(finished.status == 0, "\(finished.stderr)")
        #expect(finished.stderr.contains("imported 500 events") && finished.stderr.contains("2000 already there"), "\(finished.stderr)")
        #expect(finished.stdout.hasPrefix("ok: 2500 events in 1 chain verified"), "\(finished.stdout)")
        #expect(try postgres.run(["log"]).stdout == sqlite.run(["log"]).stdout)
    }
}

extension CLI {
    /// Runs a command that should exit by itself (a server refusing to start); stops it after 30 s if not.
    func runWithDeadline(_ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["PEDIGREE_STORE": store, "PEDIGREE_HOME": home.path]) { _, b in b }
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning, Date() < deadline { usleep(50_000) }
        if process.isRunning {
            process.terminate()
            Issue.record("pedigree \(arguments.joined(separator: " ")) was still running after 30 s")
        }
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: "", stderr: String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }
}
