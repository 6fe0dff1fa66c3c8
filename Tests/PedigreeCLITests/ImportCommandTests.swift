import Foundation
import PedigreeCore
import Testing

/// The `dvc` command of the test environment (scripts/test installs it beside the Python clients).
let dvcCommand = URL(fileURLWithPath: testPython).deletingLastPathComponent().appendingPathComponent("dvc").path

@Suite("pedigree import from other tools")
struct ImportCommandTests {
    static var dvcFixture: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/dvc")
    }

    func sha256sum(_ path: String) throws -> String {
        let result = try AuditCommandTests.SignedModelProject.shell("sha256sum '\(path)'", in: URL(fileURLWithPath: "/"))
        return "sha256:" + result.output.prefix(64)
    }

    @Test("the DVC fixture's lock becomes two runs with DVC's md5s as aliases, SHA-256 where the content is at hand, and resolved params")
    func dvcFixture() throws {
        let cli = try CLI()
        let project = FileManager.default.temporaryDirectory.appendingPathComponent("pedigree-dvc-import-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: Self.dvcFixture, to: project)
        // A secret among the parameters DVC resolved, and in the command: neither reaches the store.
        let lockFile = project.appendingPathComponent("dvc.lock")
        try (try String(contentsOf: lockFile, encoding: .utf8))
            .replacingOccurrences(of: "          seed: 42\n", with: "          seed: 42\n          api_key: hunter2-dvc\n")
            .replacingOccurrences(
                of: "cmd: python3 src/train.py data/prepared model.json metrics.json",
                with: "cmd: python3 src/train.py data/prepared model.json metrics.json --token hunter2-cmd"
            )
            .write(to: lockFile, atomically: true, encoding: .utf8)
        let imported = try cli.run(["import", "--from", "dvc", project.path, "--namespace", "churn", "--json"])
        #expect(imported.status == 0, "\(imported.stderr)")
        let summary = try #require(imported.json)
        #expect(summary["importedByType"] == ["run": 2, "artifact": 3], "two stages; the digests of raw.csv and the two scripts: \(summary)")

        let raw = try #require(try cli.run(["show", "dataset:churn/data/raw.csv@b33d83cf5a74", "--json"]).json)
        #expect(raw["aliasDigests"] == ["md5:b33d83cf5a74bf2e33b42e1af9f90f0c"])
        #expect(raw["digest"]?.stringValue == (try sha256sum(project.appendingPathComponent("data/raw.csv").path)), "the file is at hand")
        let prepared = try #require(try cli.run(["show", "dataset:churn/data/prepared@72981bc7f3cf", "--json"]).json)
        #expect(prepared["aliasDigests"] == ["md5:72981bc7f3cf66bee27f376c108e13c6.dir"])
        #expect(prepared["digest"] == nil, "the prepared directory is not in the working tree: DVC's md5 alone")
        let model = try #require(try cli.run(["show", "model:churn/model.json@4bd7f55ff23f", "--json"]).json)
        let training = try #require(model["generatedBy"])
        #expect(training["hyperparameters"] == ["train": ["lr": 0.05, "epochs": 20, "seed": 42, "api_key": "[REDACTED]"]])
        #expect(training["facets"]?["dvcCommand"]?.stringValue?.hasSuffix("--token [REDACTED]") == true, "\(training)")
        #expect(!(try cli.run(["log", "--json"]).stdout.contains("hunter2")), "no secret is in the log")
        #expect(training["facets"]?["dvcStage"] == "train")
        #expect(training["inputs"]?.arrayValue?.contains { $0["ref"] == "dataset:churn/data/prepared@72981bc7f3cf" } == true)

        let again = try #require(try cli.run(["import", "--from", "dvc", project.path, "--namespace", "churn", "--json"]).json)
        #expect(again["imported"] == 0 && again["alreadyThere"] == 5, "importing the same project again adds nothing: \(again)")
    }

    @Test(
        "a project built with the real dvc over two commits imports both revisions; a changed param shows in diff; a bad lock imports nothing",
        .enabled(if: FileManager.default.isExecutableFile(atPath: dvcCommand), "needs dvc (scripts/test installs it)"))
    func dvcHistory() throws {
        let cli = try CLI()
        let project = FileManager.default.temporaryDirectory.appendingPathComponent("pedigree-dvc-history-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
        for path in ["data/raw.csv", "src/prepare.py", "src/train.py", "params.yaml"] {
            try FileManager.default.createDirectory(
                at: project.appendingPathComponent(path).deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: Self.dvcFixture.appendingPathComponent(path), to: project.appendingPathComponent(path))
        }
        let dvc = "'\(dvcCommand)'"
        let build = try AuditCommandTests.SignedModelProject.shell(
            """
            set -e
            git init -q -b main && git config user.email t@example.com && git config user.name test
            \(dvc) init -q && \(dvc) config core.analytics false
            \(dvc) add -q data/raw.csv
            \(dvc) stage add -q -n prepare -d data/raw.csv -d src/prepare.py -p prepare.seed,prepare.split -o data/prepared \
              python3 src/prepare.py data/raw.csv data/prepared
            \(dvc) stage add -q -n train -d data/prepared -d src/train.py -p train -o model.json -M metrics.json \
              python3 src/train.py data/prepared model.json metrics.json
            \(dvc) repro -q
            git add -A && git commit -q -m "first model"
            sed -i 's/lr: 0.05/lr: 0.1/' params.yaml
            \(dvc) repro -q
            git add -A && git commit -q -m "a higher learning rate"
            """, in: project)
        try #require(build.status == 0, "\(build.output)")

        let imported = try cli.run(["import", "--from", "dvc", project.path, "--all-commits", "--namespace", "churn", "--json"])
        #expect(imported.status == 0, "\(imported.stderr)")
        let summary = try #require(imported.json)
        #expect(summary["revisions"]?.arrayValue?.count == 3, "two commits and the working tree: \(summary)")
        #expect(summary["importedByType"]?["run"] == 3, "prepare and train at the first commit; train again at the second: \(summary)")

        // Both revisions' models, versioned by DVC's md5s as dvc.lock has them at each commit.
        let locks = try [1, 0].map { back in
            try AuditCommandTests.SignedModelProject.shell(
                "git show HEAD~\(back):dvc.lock | grep -A2 'path: model.json' | sed -n 's/ *md5: //p'", in: project
            ).output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(locks[0].count == 32 && locks[1].count == 32 && locks[0] != locks[1], "\(locks)")
        var models: [JSONValue] = []
        for md5 in locks {
            let model = try #require(try cli.run(["show", "model:churn/model.json@\(md5.prefix(12))", "--json"]).json)
            #expect(model["aliasDigests"] == .array([.string("md5:" + md5)]), "the alias is DVC's md5")
            models.append(model)
        }
        #expect(models[1]["digest"]?.stringValue == (try sha256sum(project.appendingPathComponent("model.json").path)))
        let first = try #require(models[0]["generatedBy"])
        #expect(first["code"]?["commit"]?.stringValue?.count == 40 && first["metrics"] != nil, "\(first)")

        let diff = try cli.run(["diff", "model:churn/model.json@\(locks[0].prefix(12))", "model:churn/model.json@\(locks[1].prefix(12))"])
        #expect(diff.status == 0 && diff.stdout.contains("train.lr") && diff.stdout.contains("0.05") && diff.stdout.contains("0.1"), "\(diff.stdout)")

        let again = try #require(try cli.run(["import", "--from", "dvc", project.path, "--all-commits", "--namespace", "churn", "--json"]).json)
        #expect(again["imported"] == 0, "a second import adds nothing: \(again)")

        // An altered lock: the file and the field are named, and nothing is imported.
        let events = try cli.run(["log", "--json"]).stdout
        let lock = project.appendingPathComponent("dvc.lock")
        let text = try String(contentsOf: lock, encoding: .utf8)
        try text.replacingOccurrences(of: "lr: 0.1", with: "lr: 0.2").replacingOccurrences(of: "md5: \(locks[1])", with: "md5: not-an-md5")
            .write(to: lock, atomically: true, encoding: .utf8)
        let refused = try cli.run(["import", "--from", "dvc", project.path, "--namespace", "churn"])
        #expect(refused.status == 2 && refused.stderr.contains("dvc.lock (the working tree): stages.train.outs"), "\(refused.stderr)")
        #expect(refused.stderr.contains(".md5"))
        #expect(try cli.run(["log", "--json"]).stdout == events, "the store is unchanged")
    }

    @Test("import refuses what is not a DVC project, and DVC's options for a backup, with the field named")
    func dvcRefusals() throws {
        let cli = try CLI()
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("pedigree-not-dvc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let notProject = try cli.run(["import", "--from", "dvc", empty.path])
        #expect(notProject.status == 2 && notProject.stderr.contains("is not a DVC project"), "\(notProject.stderr)")
        let misplaced = try cli.run(["import", "backup.jsonl", "--all-commits"])
        #expect(misplaced.status == 64 && misplaced.stderr.contains("--all-commits is for --from dvc"), "\(misplaced.stderr)")
        let unknown = try cli.run(["import", "--from", "neptune", empty.path])
        #expect(unknown.status == 64 && unknown.stderr.contains("--from must be"), "\(unknown.stderr)")
    }
}

/// A real `mlflow server` (the test environment's MLflow, SQLite backend, artifacts served by the server itself),
/// on a free loopback port, stopped when the test ends.
final class MLflowServer {
    let process = Process()
    let port = Int.random(in: 40_001...50_000)
    let directory: URL
    var url: String { "http://127.0.0.1:\(port)" }
    var database: URL { directory.appendingPathComponent("mlflow.db") }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pedigree-mlflow-server-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        process.executableURL = URL(fileURLWithPath: testPython)
        process.arguments = [
            "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", String(port), "--workers", "1",
            "--backend-store-uri", "sqlite:///" + database.path, "--artifacts-destination", directory.appendingPathComponent("artifacts").path,
        ]
        process.currentDirectoryURL = directory
        let log = directory.appendingPathComponent("server.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        for _ in 0..<600 {
            let probe = try AuditCommandTests.SignedModelProject.shell("curl -sf \(url)/health", in: directory)
            if probe.status == 0 { return }
            usleep(100_000)
        }
        stop()
        throw CancellationError()
    }

    /// Stops the server and the uvicorn and job workers it started: Foundation starts a child as the leader of a
    /// process group of its own, so the whole group is signalled.
    func stop() {
        guard process.isRunning else { return }
        let pid = process.processIdentifier
        // Never the group the tests run in.
        let target = getpgid(pid) == pid ? -pid : pid
        kill(target, SIGTERM)
        for _ in 0..<50 where process.isRunning { usleep(100_000) }
        if process.isRunning { kill(target, SIGKILL) }
        process.waitUntilExit()
    }
}

extension ImportCommandTests {
    @Test(
        "a real MLflow server populated by the official client imports runs, datasets, models, registered versions and aliases; again adds nothing"
    )
    func mlflowServer() throws {
        let server = try MLflowServer()
        defer { server.stop() }
        let project = try TrainingProject()
        try project.file(
            "mlflow_populate.py",
            try String(contentsOf: MLflowCompatibilityTests.scripts.appendingPathComponent("mlflow_populate.py"), encoding: .utf8))
        try project.git("add", "-A")
        try project.git("commit", "-qm", "the MLflow history")
        let commit = try project.git("rev-parse", "HEAD")
        // The client's warnings go to a file: a pipe nobody reads would fill and stop it.
        let populate = try AuditCommandTests.SignedModelProject.shell(
            "MLFLOW_ENABLE_ASYNC_LOGGING=false '\(testPython)' mlflow_populate.py \(server.url) 2>populate.log", in: project.root)
        try #require(populate.status == 0, "the official client failed against MLflow's own server:\n\(populate.output.suffix(4000))")
        let ids = try JSONValue.parse(String(populate.output.split(separator: "\n").last ?? ""))
        let autologRun = try #require(ids["autolog_run"]?.stringValue)
        let tunedRun = try #require(ids["tuned_run"]?.stringValue)
        let baseModel = try #require(ids["base_model"]?.stringValue)
        let datasetDigest = try #require(ids["dataset_digest"]?.stringValue)

        let cli = try CLI()
        let imported = try cli.run(["import", "--from", "mlflow", server.url, "--namespace", "fraud", "--json"])
        try #require(imported.status == 0, "\(imported.stderr)")
        let summary = try #require(imported.json)
        #expect(summary["importedByType"]?["run"]?.intValue ?? 0 >= 4, "every run, and each registration as its source run's output: \(summary)")
        #expect(summary["importedByType"]?["deployment"]?.intValue ?? 0 >= 1, "the alias: \(summary)")

        let run = try #require(try cli.run(["show", "run:\(autologRun)", "--json"]).json)
        #expect(run["hyperparameters"]?["C"] == 0.5 && run["hyperparameters"]?["max_iter"] == 200, "\(run)")
        #expect(run["code"]?["commit"]?.stringValue == commit, "the git tags the client set are the run's code")
        #expect(run["facets"]?["mlflow.run_id"]?.stringValue == autologRun)
        #expect(run["status"] == "COMPLETE")
        let dataset = try #require(run["upstream"]?.arrayValue?.first { $0["name"] == "train-set" }, "the logged dataset: \(run)")
        #expect(dataset["role"] == "train", "MLflow's context 'training'")
        let datasetRef = try #require(dataset["ref"]?.stringValue)
        let datasetShown = try #require(try cli.run(["show", datasetRef, "--json"]).json)
        #expect(datasetShown["aliasDigests"] == [.string("mlflow:\(datasetDigest)")], "MLflow's digest is an alias: \(datasetShown)")

        let version = try #require(try cli.run(["show", "model:fraud/fraud-skl@1", "--json"]).json)
        #expect(version["digest"]?.stringValue?.hasPrefix("sha256:") == true, "the version's files were downloaded and digested: \(version)")
        #expect(version["generatedBy"]?["run"]?.stringValue == "run:\(autologRun)", "the source run generated it")
        #expect(version["generatedBy"]?["environment"]?["packages"]?["scikit-learn"]?.stringValue?.isEmpty == false, "the model's requirements")
        let latest = try #require(try cli.run(["list", "--kind", "model", "--namespace", "fraud", "--json"]).json)
        let refs = Set((latest["artifacts"]?.arrayValue ?? []).compactMap { $0["digest"] == version["digest"] ? $0["ref"]?.stringValue : nil })
        #expect(
            refs == ["model:fraud/fraud-skl@2", "model:fraud/model@\(baseModel)"],
            "the logged model and the registered versions are one content, and 2 is the latest version: \(latest)")

        let history = try #require(try cli.run(["history", "fraud/alias/fraud-skl/champion", "--json"]).json)
        #expect(history.canonicalString.contains("model:fraud/fraud-skl@2"), "the alias points at version 2: \(history)")
        let tuned = try #require(try cli.run(["show", "run:\(tunedRun)", "--json"]).json)
        #expect(
            tuned["upstream"]?.arrayValue?.contains { $0["role"] == "base-model" && $0["version"]?.stringValue == baseModel } == true,
            "the logged input model is the fine-tune's base model: \(tuned)")
        #expect(!(try cli.run(["log", "--json"]).stdout.contains("hunter2")), "the basic run's api_key param is redacted")

        let again = try #require(try cli.run(["import", "--from", "mlflow", server.url, "--namespace", "fraud", "--json"]).json)
        #expect(again["imported"] == 0, "importing the same server again adds nothing: \(again)")

        // A dataset whose digest the server lost: the import names the run's field and stores nothing.
        let before = try cli.eventCount()
        let alter = server.directory.appendingPathComponent("alter.py")
        try "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nc.execute(\"UPDATE datasets SET digest = ''\")\nc.commit()\n".write(
            to: alter, atomically: true, encoding: .utf8)
        let altered = try AuditCommandTests.SignedModelProject.shell(
            "'\(testPython)' '\(alter.path)' '\(server.database.path)'", in: server.directory)
        try #require(altered.status == 0, "\(altered.output)")
        let refused = try cli.run(["import", "--from", "mlflow", server.url, "--namespace", "fraud"])
        #expect(refused.status != 0 && refused.stderr.contains("dataset.digest"), "\(refused.stderr)")
        #expect(try cli.eventCount() == before, "a refused import stores nothing")
    }
}
