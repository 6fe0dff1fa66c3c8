import Foundation
import PedigreeCore
import Testing

/// A real git repository with data, a config and a Python training script that logs metrics.
struct TrainingProject {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("pedigree-project-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("data/images"), withIntermediateDirectories: true)
        try file(
            "train.py",
            """
            import json, os, sys
            rows = open(sys.argv[1]).read()
            os.makedirs("out", exist_ok=True)
            with open("out/model.bin", "w") as f:
                f.write("weights for %d bytes, lr=%s" % (len(rows), os.environ.get("LR", "?")))
            with open(os.environ["PEDIGREE_METRICS_FILE"], "a") as m:
                for step in range(3):
                    m.write(json.dumps({"key": "loss", "value": 1.0 / (step + 1), "step": step}) + "\\n")
                m.write(json.dumps({"key": "auc", "value": 0.91}) + "\\n")
            sys.exit(int(os.environ.get("EXIT_CODE", "0")))
            """)
        try file("data/train.csv", "amount,label\n10,0\n99,1\n")
        for i in 0..<5 { try file("data/images/\(i).png", "png \(i)") }
        try file("config.yaml", "optimizer:\n  name: adam\n  lr: 0.001\nepochs: 3\nseed: 7\n")
        try git("init", "-q")
        try git("config", "user.email", "ml@example.com")
        try git("config", "user.name", "ML Engineer")
        try git("remote", "add", "origin", "https://deploy:s3cr3t-pw@git.example.com/acme/models.git")
        try git("add", "-A")
        try git("commit", "-qm", "initial")
    }

    func file(_ path: String, _ content: String) throws {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(content.utf8).write(to: url)
    }

    @discardableResult
    func git(_ arguments: String...) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        process.arguments = ["-C", root.path] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        process.waitUntilExit()
        return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func sha256sum(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [root.appendingPathComponent(path).path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        process.waitUntilExit()
        return "sha256:" + String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).prefix(64)
    }
}

/// The id of the newest run in the store.
func lastRunID(_ cli: CLI) throws -> String {
    let lines = try cli.run(["log", "--limit", "100000"]).stdout.split(separator: "\n")
    for line in lines.reversed() {
        if let id = try JSONValue.parse(String(line))["event"]?["run"]?["id"]?.stringValue { return id }
    }
    throw CancellationError()
}

@Suite("pedigree run")
struct RunCommandTests {
    @Test("a real training run records all five dimensions, its metrics and a model version")
    func fullCapture() throws {
        let cli = try CLI(), project = try TrainingProject()
        try project.file(
            "train.py", (try String(contentsOf: project.root.appendingPathComponent("train.py"), encoding: .utf8)) + "\n# uncommitted tweak\n")
        let result = try cli.run(
            [
                "run", "--model", "fraud", "--namespace", "fraud-team", "--input", "train=data/train.csv", "--input", "data/images",
                "--output", "out/model.bin", "--params", "config.yaml", "--param", "optimizer.lr=0.01", "--", "python3", "train.py", "data/train.csv",
            ], environment: ["PYTHONHASHSEED": "123"], in: project.root)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("COMPLETE → model:fraud-team/fraud@1"))
        #expect(result.stderr.contains("dataset:fraud-team/data/train.csv@1 (train)"), "the run says what it recorded as inputs: \(result.stderr)")

        let run = try #require(try cli.run(["show", "run:\(try lastRunID(cli))", "--json"]).json)
        #expect(run["status"] == "COMPLETE")
        #expect(run["job"] == "train")
        // Code: the commit, dirty with a digest of the diff, and no credentials from the remote URL.
        #expect(run["code"]?["commit"]?.stringValue == (try project.git("rev-parse", "HEAD")))
        #expect(run["code"]?["dirty"] == true)
        #expect(run["code"]?["diffDigest"]?.stringValue?.hasPrefix("sha256:") == true)
        #expect(run["code"]?["diff"]?.stringValue?.contains("uncommitted tweak") == true)
        #expect(run["code"]?["repository"] == "https://[REDACTED]@git.example.com/acme/models.git")
        // Data: digests equal sha256sum's; a directory is listed file by file.
        let inputs = try #require(run["upstream"]?.arrayValue)
        let train = try #require(inputs.first { $0["role"] == "train" })
        #expect(train["digest"]?.stringValue == (try project.sha256sum("data/train.csv")))
        #expect(train["ref"] == "dataset:fraud-team/data/train.csv@1")
        let images = try #require(try cli.run(["show", "dataset:fraud-team/data/images", "--json"]).json)
        #expect(images["facets"]?["files"]?["3.png"]?.stringValue == (try project.sha256sum("data/images/3.png")))
        // Hyperparameters: the file and the override merged, plus the command line.
        #expect(run["hyperparameters"]?["optimizer"] == ["name": "adam", "lr": 0.01])
        #expect(run["hyperparameters"]?["command"] == ["python3", "train.py", "data/train.csv"])
        // Environment: the interpreter's version and packages, seeds from the config and the environment.
        #expect(run["environment"]?["runtime"]?["name"] == "python")
        #expect(run["environment"]?["runtime"]?["version"]?.stringValue?.hasPrefix("3.") == true)
        #expect(run["environment"]?["packages"]?["PyYAML"] != nil)
        #expect(run["environment"]?["seeds"]?["seed"] == 7)
        #expect(run["environment"]?["seeds"]?["PYTHONHASHSEED"] == "123")
        // Metrics: last values, with the logged series.
        #expect(run["metrics"] == ["auc": 0.91, "loss": .double(1.0 / 3.0)])
        #expect(run["facets"]?["metricSeries"]?["loss"]?.arrayValue?.count == 3)
        #expect(run["facets"]?["exitCode"] == 0)
        // The model version carries the output's digest.
        let model = try #require(try cli.run(["show", "model:fraud-team/fraud@1", "--json"]).json)
        #expect(model["digest"]?.stringValue == (try project.sha256sum("out/model.bin")))
    }

    @Test("the same output content is the same model version; a model used as input is found as the parent by its digest")
    func versionsAndParents() throws {
        let cli = try CLI(), project = try TrainingProject()
        let command = [
            "run", "--model", "fraud", "--input", "data/train.csv", "--output", "out/model.bin", "--", "python3", "train.py", "data/train.csv",
        ]
        #expect(try cli.run(command, in: project.root).status == 0)
        #expect(try cli.run(command, in: project.root).stderr.contains("→ model:default/fraud@1"), "same content, same version")
        let byPath = try cli.run(["models", "--trained-on", "data/train.csv", "--json"], in: project.root)
        #expect(
            byPath.json?["models"]?.arrayValue?.compactMap { $0["ref"]?.stringValue }.contains("model:default/fraud@1") == true, "\(byPath.stderr)")
        let bare = try cli.run(["show", "fraud", "--json"])
        #expect(bare.status == 0 && bare.json?["ref"] == "model:default/fraud@1", "a bare name is the model of that name: \(bare.stderr)")
        let unknown = try cli.run(["show", "nothing-by-this-name@3"])
        #expect(unknown.status == 3 && unknown.stderr.contains("no model or dataset named nothing-by-this-name@3 is recorded in namespace default"))
        #expect(unknown.stderr.contains("pedigree list --name 'nothing-by-this-name*'"), "\(unknown.stderr)")
        let changed = try cli.run(command, environment: ["LR": "0.5"], in: project.root)
        #expect(changed.stderr.contains("→ model:default/fraud@2"))
        // Fine-tune from the model file itself: no --parent needed.
        try project.file("finetune.py", "import shutil; shutil.copy('out/model.bin', 'out/tuned.bin'); open('out/tuned.bin', 'a').write('+tuned')\n")
        let tune = try cli.run(
            ["run", "--model", "fraud-tuned", "--input", "out/model.bin", "--output", "out/tuned.bin", "--", "python3", "finetune.py"],
            in: project.root)
        #expect(tune.status == 0, "\(tune.stderr)")
        let lineage = try #require(try cli.run(["lineage", "model:default/fraud-tuned@1", "--json"]).json)
        #expect(lineage["edges"]?.arrayValue?.contains { $0["from"] == "model:default/fraud@2" && $0["role"] == "base-model" } == true)
    }

    @Test("a failing command is recorded as FAIL with its exit code, which pedigree passes through")
    func failure() throws {
        let cli = try CLI(), project = try TrainingProject()
        let result = try cli.run(
            ["run", "--model", "fraud", "--output", "out/model.bin", "--", "python3", "train.py", "data/train.csv"],
            environment: ["EXIT_CODE": "3"], in: project.root)
        #expect(result.status == 3)
        #expect(result.stderr.contains("no version of model fraud was registered: the command failed"), "\(result.stderr)")
        let run = try #require(try cli.run(["show", "run:\(try lastRunID(cli))", "--json"]).json)
        #expect(run["status"] == "FAIL")
        #expect(run["facets"]?["exitCode"] == 3)
        #expect(try cli.run(["show", "model:default/fraud"]).status == 3, "a failed run registers no model version")
        let missing = try cli.run(["run", "--", "/nonexistent/trainer"], in: project.root)
        #expect(missing.status == 127)
    }

    @Test("signals sent to pedigree reach the command")
    func signals() throws {
        let cli = try CLI(), project = try TrainingProject()
        try project.file(
            "wait.py",
            """
            import signal, sys, time
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(42))
            open("ready", "w").close()
            time.sleep(30)
            """)
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = ["run", "--", "python3", "wait.py"]
        process.currentDirectoryURL = project.root
        process.environment = ProcessInfo.processInfo.environment.merging(["PEDIGREE_STORE": cli.store, "PEDIGREE_HOME": cli.home.path]) { _, b in b }
        try process.run()
        let ready = project.root.appendingPathComponent("ready").path
        for _ in 0..<300 where !FileManager.default.fileExists(atPath: ready) { usleep(50_000) }
        #expect(FileManager.default.fileExists(atPath: ready))
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 42, "the child's handler ran and its exit code came back")
        let run = try #require(try cli.run(["show", "run:\(try lastRunID(cli))", "--json"]).json)
        #expect(run["status"] == "FAIL" && run["facets"]?["exitCode"] == 42)
    }

    @Test("an unreachable store spools; sync delivers everything there and nowhere else; secrets never reach the store")
    func spoolAndSecrets() throws {
        let cli = try CLI(), project = try TrainingProject()
        // The store cannot be opened: a directory stands where its file should be.
        try FileManager.default.createDirectory(atPath: cli.store, withIntermediateDirectories: true)
        let secret = "hf_SUPERSECRETTOKEN123"
        let result = try cli.run(
            [
                "run", "--model", "fraud", "--input", "data/train.csv", "--output", "out/model.bin", "--param", "db_password=\(secret)",
                "--", "python3", "train.py", "data/train.csv", "--api-key", secret,
            ],
            environment: ["HF_TOKEN": secret, "CUDA_VISIBLE_DEVICES": "0"], in: project.root)
        #expect(result.status == 0, "training went ahead: \(result.stderr)")
        #expect(result.stderr.contains("spooled"))
        let spooled = try FileManager.default.contentsOfDirectory(atPath: cli.home.appendingPathComponent("spool").path).filter {
            $0.hasSuffix(".jsonl")
        }
        #expect(spooled.count == 2)

        // Another store is not where these events belong: opening it, or syncing it, delivers nothing.
        let scratch = cli.store + ".scratch"
        try cli.run(["quickstart", "--store", scratch])
        #expect(!(try cli.run(["show", "model:default/fraud", "--store", scratch]).stderr.contains("delivered")))
        let elsewhere = try cli.run(["sync", "--store", scratch])
        #expect(elsewhere.status == 0, "nothing is pending for the scratch store: \(elsewhere.stdout)")
        #expect(
            elsewhere.stdout.contains("delivered 0 events") && elsewhere.stdout.contains("pending for \(cli.store): 2 events"), "\(elsewhere.stdout)")

        try FileManager.default.removeItem(atPath: cli.store)
        let sync = try cli.run(["sync"])
        #expect(sync.status == 0)
        #expect(sync.stdout.hasPrefix("delivered 2 events from 2 spool files to \(cli.store); 0 still pending"), "\(sync.stdout)")
        let run = try #require(try cli.run(["show", "run:\(try lastRunID(cli))", "--json"]).json)
        #expect(run["status"] == "COMPLETE" && run["downstream"]?[0]?["ref"] == "model:default/fraud@1")
        #expect(run["environment"]?["variables"]?["CUDA_VISIBLE_DEVICES"] == "0")
        #expect(try cli.run(["verify"]).status == 0)
        // Not in the events, not in the projections, not anywhere in the database files.
        #expect(!(try cli.run(["log"]).stdout.contains(secret)))
        for suffix in ["", "-wal"] {
            if let bytes = FileManager.default.contents(atPath: cli.store + suffix) {
                #expect(bytes.range(of: Data(secret.utf8)) == nil, "secret found in \(cli.store + suffix)")
            }
        }
    }

    @Test("a DVC stage supplies deps, outs, params and DVC's md5s")
    func dvc() throws {
        let cli = try CLI()
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/dvc")
        let project = FileManager.default.temporaryDirectory.appendingPathComponent("pedigree-dvc-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: fixture, to: project)
        let prepare = try cli.run(["run", "--dvc-stage", "prepare"], in: project)
        #expect(prepare.status == 0, "\(prepare.stderr)")
        let run = try #require(try cli.run(["show", "run:\(try lastRunID(cli))", "--json"]).json)
        #expect(run["job"] == "prepare")
        #expect(run["hyperparameters"]?["prepare"] == ["seed": 13, "split": 0.8])
        // Outside git, files are named relative to the working directory (no `dataset:default//tmp/…`).
        let rawRef = try #require(
            run["upstream"]?.arrayValue?.first { $0["ref"]?.stringValue?.hasSuffix("/data/raw.csv@1") == true }?["ref"]?.stringValue)
        #expect(rawRef.hasPrefix("dataset:") && rawRef.hasSuffix("/data/raw.csv@1") && !rawRef.contains("//"), "\(rawRef)")
        let raw = try #require(try cli.run(["show", rawRef, "--json"]).json)
        #expect(raw["aliasDigests"] == ["md5:b33d83cf5a74bf2e33b42e1af9f90f0c"])
        #expect(run["downstream"]?.arrayValue?.contains { $0["ref"]?.stringValue?.hasSuffix("data/prepared@1") == true } == true)
        // The same command line run directly is recognised as the stage.
        let train = try cli.run(["run", "--", "python3", "src/train.py", "data/prepared", "model.json", "metrics.json"], in: project)
        #expect(train.status == 0, "\(train.stderr)")
        let trained = try #require(try cli.run(["show", "run:\(try lastRunID(cli))", "--json"]).json)
        #expect(trained["facets"]?["dvcStage"] == "train")
        #expect(trained["metrics"]?["accuracy"] != nil, "metrics.json is read as the stage's metrics output")
    }

    @Test("each run has a metrics file of its own, named by its id: concurrent runs never share one")
    func metricsFilePerRun() throws {
        let cli = try CLI(), project = try TrainingProject()
        var seen: [String: String] = [:]
        for name in ["first", "second"] {
            let result = try cli.run(["run", "--", "sh", "-c", "echo \"$PEDIGREE_RUN_ID $PEDIGREE_METRICS_FILE\" > \(name).txt"], in: project.root)
            #expect(result.status == 0, "\(result.stderr)")
            let line = try String(contentsOf: project.root.appendingPathComponent("\(name).txt"), encoding: .utf8).split(separator: " ")
            seen[String(line[0])] = String(line[1].trimmingCharacters(in: .whitespacesAndNewlines))
        }
        #expect(seen.count == 2 && Set(seen.values).count == 2, "\(seen)")
        for (id, file) in seen { #expect(file.hasSuffix("metrics-\(id).jsonl"), "\(file)") }
    }

    @Test(
        "--trace records the files the command actually read and wrote",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/strace"), "needs strace"))
    func trace() throws {
        let cli = try CLI(), project = try TrainingProject()
        let result = try cli.run(["run", "--trace", "--model", "traced", "--", "python3", "train.py", "data/train.csv"], in: project.root)
        #expect(result.status == 0, "\(result.stderr)")
        let run = try #require(try cli.run(["show", "run:\(try lastRunID(cli))", "--json"]).json)
        let inputs = run["upstream"]?.arrayValue?.compactMap { $0["ref"]?.stringValue } ?? []
        #expect(inputs.contains("dataset:default/data/train.csv@1"), "\(inputs)\n\(result.stderr)")
        #expect(inputs.contains { $0.contains("train.py") }, "the script itself was read")
        #expect(!inputs.contains { $0.contains("/usr/") || $0.contains("site-packages") })
        let model = try #require(try cli.run(["show", "model:default/traced@1", "--json"]).json)
        #expect(model["digest"]?.stringValue == (try project.sha256sum("out/model.bin")))
    }

    @Test(
        "a namespace or a role that could not be read back is refused before the command runs",
        arguments: [
            (["--namespace", "my team"], "--namespace"),
            (["--input", "träin=data/train.csv"], "--input"),
        ])
    func refusedBeforeRunning(flags: [String], field: String) throws {
        let cli = try CLI(), project = try TrainingProject()
        let result = try cli.run(["run"] + flags + ["--", "touch", "ran"], in: project.root)
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains(field), "the error names the flag: \(result.stderr)")
        #expect(result.stderr.contains("nothing was run"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: project.root.appendingPathComponent("ran").path), "the command did not run")
        #expect(try cli.run(["log"]).stdout.isEmpty, "nothing was recorded")
    }

    @Test("PEDIGREE_NAMESPACE is validated like --namespace")
    func namespaceFromEnvironment() throws {
        let cli = try CLI(), project = try TrainingProject()
        let result = try cli.run(["run", "--", "touch", "ran"], environment: ["PEDIGREE_NAMESPACE": "a\tb"], in: project.root)
        #expect(result.status == 2)
        #expect(result.stderr.contains("PEDIGREE_NAMESPACE"), "\(result.stderr)")
    }

    @Test("a secret in an uncommitted change is redacted in the stored diff, which keeps the real diff's digest")
    func secretInDiff() throws {
        let cli = try CLI(), project = try TrainingProject()
        try project.file("config.yaml", "optimizer:\n  name: adam\n  lr: 0.001\napi_key: hunter2\nepochs: 3\nseed: 7\n")
        let realDiff = try project.git("diff", "HEAD", "--binary")
        let result = try cli.run(["run", "--params", "config.yaml", "--", "python3", "train.py", "data/train.csv"], in: project.root)
        #expect(result.status == 0, "\(result.stderr)")
        let run = try #require(try cli.run(["show", "run:\(try lastRunID(cli))", "--json"]).json)
        let stored = try #require(run["code"]?["diff"]?.stringValue)
        #expect(stored.contains("+api_key: [REDACTED]"), "\(stored)")
        #expect(run["hyperparameters"]?["api_key"] == "[REDACTED]")
        #expect(
            run["code"]?["diffDigest"]?.stringValue == ContentDigest(hashing: Array((realDiff + "\n").utf8)).description
                || run["code"]?["diffDigest"]?.stringValue == ContentDigest(hashing: Array(realDiff.utf8)).description,
            "the digest is of the real diff")
        #expect(!(try cli.run(["log"]).stdout.contains("hunter2")))
        for suffix in ["", "-wal"] {
            let bytes = (try? Data(contentsOf: URL(fileURLWithPath: cli.store + suffix))) ?? Data()
            #expect(bytes.range(of: Data("hunter2".utf8)) == nil, "not in the database file\(suffix)")
        }
    }

    @Test("with PEDIGREE_URL, run records through the server; while it is down it spools for it, and sync delivers there")
    func runThroughServer() throws {
        let cli = try CLI(), project = try TrainingProject()
        let server = try ServerProcess(cli: cli)
        let command = [
            "run", "--model", "fraud", "--input", "train=data/train.csv", "--output", "out/model.bin", "--", "python3", "train.py", "data/train.csv",
        ]
        // A separate local store, to show nothing lands there.
        let local = ["PEDIGREE_URL": server.url, "PEDIGREE_STORE": cli.store + ".local"]
        let first = try cli.run(command, environment: local, in: project.root)
        #expect(first.status == 0 && first.stderr.contains("COMPLETE → model:default/fraud@1"), "\(first.stderr)")
        #expect(try cli.run(["show", "model:default/fraud@1", "--server", server.url]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: cli.store + ".local"), "nothing was written locally")
        let port = server.port
        _ = server.stop()

        let down = try cli.run(command, environment: local.merging(["LR": "0.7"]) { $1 }, in: project.root)
        #expect(down.status == 0 && down.stderr.contains("spooled"), "training went ahead: \(down.stderr)")
        let restarted = try ServerProcess(cli: cli, port: port)
        defer { _ = restarted.stop() }
        let sync = try cli.run(["sync", "--server", restarted.url])
        #expect(sync.status == 0 && sync.stdout.hasPrefix("delivered 2 events from 2 spool files to \(restarted.url)"), "\(sync.stdout)")
        #expect(try cli.run(["show", "model:default/fraud@2", "--server", restarted.url]).status == 0, "the spooled run arrived")
    }

    @Test("a changed directory input shows which of its files changed")
    func directoryDiff() throws {
        let cli = try CLI(), project = try TrainingProject()
        let command = [
            "run", "--model", "vision", "--input", "train=data/images", "--output", "out/model.bin", "--", "python3", "train.py", "data/train.csv",
        ]
        #expect(try cli.run(command, in: project.root).status == 0)
        try project.file("data/images/3.png", "a different picture")
        #expect(try cli.run(command, environment: ["LR": "0.2"], in: project.root).status == 0)
        let diff = try cli.run(["diff", "model:default/vision@1", "model:default/vision@2"]).stdout
        #expect(diff.contains("inputs[train] dataset:default/data/images files[\"3.png\"]"), "\(diff)")
        #expect(!diff.contains("files[\"2.png\"]"), "unchanged files are not listed")
    }

    @Test("a failed run, which registered no model, can be diffed against the last good one")
    func runDiff() throws {
        let cli = try CLI(), project = try TrainingProject()
        let base = ["run", "--model", "fraud", "--input", "train=data/train.csv", "--output", "out/model.bin"]
        #expect(try cli.run(base + ["--param", "lr=0.1", "--", "python3", "train.py", "data/train.csv"], in: project.root).status == 0)
        let good = try lastRunID(cli)
        let failed = try cli.run(
            base + ["--param", "lr=0.5", "--", "python3", "train.py", "data/train.csv"], environment: ["EXIT_CODE": "3"], in: project.root)
        #expect(failed.status == 3)
        let bad = try lastRunID(cli)
        let diff = try cli.run(["diff", "run:\(good)", "run:\(bad)"])
        #expect(diff.status == 0, "\(diff.stderr)")
        #expect(diff.stdout.hasPrefix("run:\(good) → run:\(bad)"))
        #expect(diff.stdout.contains("~ lr  0.1 → 0.5"), "\(diff.stdout)")
    }
}
