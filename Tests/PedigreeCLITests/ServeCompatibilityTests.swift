import Foundation
import PedigreeCore
import Testing

/// A real `pedigree serve` process on a loopback port.
final class ServerProcess {
    let process = Process()
    let port: Int
    let cli: CLI
    /// Where the server's log goes.
    let logFile: URL

    init(cli: CLI, arguments: [String] = [], port: Int? = nil) throws {
        self.cli = cli
        self.port = port ?? Int.random(in: 20_000...40_000)
        process.executableURL = CLI.binary
        process.arguments = ["serve", "--port", String(self.port)] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["PEDIGREE_STORE": cli.store, "PEDIGREE_HOME": cli.home.path]) { _, b in b }
        logFile = cli.home.appendingPathComponent("serve-\(self.port)-\(UUID().uuidString.prefix(8)).log")
        try FileManager.default.createDirectory(at: cli.home, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let log = try FileHandle(forWritingTo: logFile)
        process.standardOutput = log
        process.standardError = log
        try process.run()
        for _ in 0..<200 {
            if (try? get("/healthz"))?.status == 200 { return }
            usleep(50_000)
        }
        throw CancellationError()
    }

    var url: String { "http://127.0.0.1:\(port)" }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// GET with curl, the way an operator would poke the server.
    func get(_ path: String, token: String? = nil) throws -> (status: Int, json: JSONValue?) {
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        curl.arguments = ["-s", "-w", "\n%{http_code}"] + (token.map { ["-H", "Authorization: Bearer \($0)"] } ?? []) + [url + path]
        let pipe = Pipe()
        curl.standardOutput = pipe
        try curl.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        curl.waitUntilExit()
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.last ?? "") ?? 0
        return (status, try? JSONValue.parse(lines.dropLast().joined(separator: "\n")))
    }

    func stop() -> Int32 {
        process.terminate()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// The Python with the official clients: scripts/test's virtual environment, else the system's.
let testPython = ProcessInfo.processInfo.environment["PEDIGREE_TEST_PYTHON"] ?? "python3"

func pythonHas(_ module: String) -> Bool {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [testPython, "-c", "import \(module)"]
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
}

@Suite("pedigree serve with real clients")
struct ServeCompatibilityTests {
    @Test(
        "the official openlineage-python client (HTTP, api_key, gzip) records a run once, even after a retry",
        .enabled(if: pythonHas("openlineage.client"), "needs openlineage-python (scripts/test installs it)"))
    func openLineagePythonClient() throws {
        let cli = try CLI()
        let token = try cli.run(["token", "create", "--namespace", "ml-training", "--role", "writer", "--name", "ol-client"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let reader = try cli.run(["token", "create", "--namespace", "*", "--role", "reader"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let server = try ServerProcess(cli: cli, arguments: ["--auth", "on"])
        defer { _ = server.stop() }
        #expect(try server.get("/api/v1/namespaces").status == 401, "auth is on")

        let runID = UUID().uuidString.lowercased()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
            "Compatibility/openlineage_client.py")
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = [testPython, script.path, server.url, token, runID]
        let errors = Pipe()
        python.standardError = errors
        python.standardOutput = FileHandle.nullDevice
        try python.run()
        python.waitUntilExit()
        #expect(python.terminationStatus == 0, "\(String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))")

        let run = try server.get("/api/v1/nodes?ref=run:\(runID)", token: reader)
        #expect(run.status == 200)
        #expect(run.json?["status"] == "COMPLETE")
        #expect(run.json?["hyperparameters"] == ["lr": "0.001"])
        #expect(run.json?["events"]?.arrayValue?.count == 2, "START and COMPLETE, the retried START stored once")
        #expect(run.json?["events"]?[0]?["recordedBy"]?.stringValue?.hasPrefix("token:") == true)
        let marquez = try server.get("/api/v1/lineage?nodeId=dataset:s3%3A%2F%2Fdatasets:imagenet%2Ftrain", token: reader)
        let ids = Set(marquez.json?["graph"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? [])
        #expect(ids == ["dataset:s3://datasets:imagenet/train", "job:ml-training:train_resnet50", "dataset:mlflow://registry:models/resnet50"])
        let trained = try server.get("/api/v1/models?trainedOn=dataset:s3%3A%252F%252Fdatasets%2Fimagenet%2Ftrain", token: reader)
        #expect(trained.json?["models"]?[0]?["ref"] == "model:mlflow:%2F%2Fregistry/models/resnet50@7", "\(String(describing: trained.json))")
        #expect(server.stop() == 0, "SIGTERM shuts the server down cleanly")
        #expect(try cli.run(["verify"]).status == 0)
    }

    @Test("every query command prints the same through a server as from the local store")
    func clientModeIsIdentical() throws {
        let cli = try CLI()
        #expect(try cli.run(["quickstart"]).status == 0)
        let server = try ServerProcess(cli: cli)
        defer { _ = server.stop() }
        let commands: [[String]] = [
            ["show", "model:fraud-team/fraud@2"], ["show", "run:9e8d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c6b"],
            ["show", "dataset:warehouse/transactions@2026-11"],
            ["lineage", "model:fraud-team/fraud@2", "--upstream"],
            ["lineage", "dataset:warehouse/transactions@2026-10", "--downstream", "--depth", "3"],
            ["models", "--trained-on", "dataset:warehouse/transactions"], ["impact", "dataset:warehouse/transactions@2026-11"],
            ["diff", "model:fraud-team/fraud@1", "model:fraud-team/fraud@2"],
            ["diff", "model:fraud-team/fraud@1", "model:fraud-team/fraud@2", "--all"],
            ["history", "fraud-team/fraud-api"], ["history", "fraud-team/fraud-api", "--at", "2026-11-01"], ["verify"],
        ]
        for command in commands {
            for format in [[], ["--json"]] {
                let local = try cli.run(command + format)
                let remote = try cli.run(command + format + ["--server", server.url])
                #expect(local.status == 0 && remote.status == 0, "\(command): \(remote.stderr)")
                #expect(local.stdout == remote.stdout, "\(command + format) differs through the server")
            }
        }
        let missing = try cli.run(["show", "model:fraud-team/fraud@9", "--server", server.url])
        #expect(missing.status == 3 && missing.stderr.contains("latest versions: 2, 1"))
        let recorded = try cli.run(
            ["record", "-", "--server", server.url],
            stdin: #"{"type": "artifact", "namespace": "warehouse", "artifact": {"kind": "dataset", "name": "transactions", "version": "2026-12"}}"#)
        #expect(recorded.status == 0 && recorded.stdout.hasPrefix("recorded 1 event"))
        #expect(try cli.run(["show", "dataset:warehouse/transactions"]).stdout.hasPrefix("dataset:warehouse/transactions@2026-12"))
    }

    @Test("request logs carry method, path, status and latency; a refused token is logged without its secret; openapi.json names this server")
    func logsAndDocument() throws {
        let cli = try CLI()
        let server = try ServerProcess(cli: cli, arguments: ["--auth", "on"])
        #expect(try server.get("/healthz").status == 200)
        #expect(try server.get("/api/v1/nodes?ref=model:x/y", token: "pdg_secret-that-must-not-be-logged").status == 401)
        let document = try server.get("/openapi.json").json
        #expect(document?["servers"]?[0]?["url"]?.stringValue == server.url)
        _ = server.stop()
        let log = server.log
        #expect(log.contains("GET /healthz 200") && log.contains("ms="), "\(log)")
        #expect(log.contains("refused an unknown or revoked token"), "\(log)")
        #expect(!log.contains("pdg_secret-that-must-not-be-logged"))
    }

    @Test("a second server on a port in use says so and exits 7")
    func portInUse() throws {
        let cli = try CLI()
        let first = try ServerProcess(cli: cli)
        defer { _ = first.stop() }
        let second = try cli.run(["serve", "--port", String(first.port)])
        #expect(second.status == 7, "\(second.stderr)")
        #expect(second.stderr.contains("the port is in use"), "\(second.stderr)")
    }
}
