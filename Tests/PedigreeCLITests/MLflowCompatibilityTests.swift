import Foundation
import PedigreeCore
import Testing

/// The official MLflow client (and scikit-learn) against a real `pedigree serve`, then Pedigree's own
/// queries over what it recorded.
@Suite(
    "MLflow client compatibility",
    .enabled(if: pythonHas("mlflow") && pythonHas("sklearn"), "needs mlflow and scikit-learn (scripts/test installs them)"))
struct MLflowCompatibilityTests {
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
        "Compatibility")

    /// Runs a Python script with the test interpreter in a directory; its stdout.
    static func python(
        _ arguments: [String], in directory: URL, environment: [String: String] = [:]
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [testPython] + arguments
        process.currentDirectoryURL = directory
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    @Test("every call of the client's suite succeeds, and Pedigree then shows the model version's data, code, parameters, environment and source run")
    func officialClient() throws {
        let cli = try CLI()
        let project = try TrainingProject()
        try project.file("mlflow_client.py", try String(contentsOf: Self.scripts.appendingPathComponent("mlflow_client.py"), encoding: .utf8))
        try project.git("add", "-A")
        try project.git("commit", "-qm", "the compatibility suite")
        let commit = try project.git("rev-parse", "HEAD")
        let server = try ServerProcess(cli: cli, arguments: ["--artifacts", cli.home.appendingPathComponent("artifacts").path])
        defer { _ = server.stop() }

        let suite = try Self.python(["mlflow_client.py", server.url], in: project.root, environment: ["MLFLOW_ENABLE_ASYNC_LOGGING": "false"])
        try #require(suite.status == 0, "the client's suite failed:\n\(suite.stderr.suffix(4000))\nserver log:\n\(server.log.suffix(2000))")
        let ids = try JSONValue.parse(String(suite.stdout.split(separator: "\n").last ?? ""))
        let autologRun = try #require(ids["autolog_run"]?.stringValue)
        #expect(!server.log.contains(" 500 "), "no request failed on the server")

        let model = try #require(try cli.run(["show", "model:default/compat-skl@1", "--json"]).json)
        #expect(model["digest"]?.stringValue?.hasPrefix("sha256:") == true, "a registered version's identity is its files' digest")
        let provenance = model["generatedBy"]
        #expect(provenance?["run"]?.stringValue == "run:\(autologRun)", "the source run generated it")
        #expect(provenance?["code"]?["commit"]?.stringValue == commit)
        #expect(
            provenance?["code"]?["repository"]?.stringValue == "https://git.example.com/acme/models.git", "credentials are stripped from the remote")
        #expect(provenance?["hyperparameters"]?["C"] == 0.5 && provenance?["hyperparameters"]?["max_iter"] == 200)
        #expect(provenance?["environment"]?["packages"]?["scikit-learn"]?.stringValue?.isEmpty == false)
        #expect(provenance?["environment"]?["runtime"]?["name"] == "python")
        #expect(provenance?["metrics"]?["training_score"] != nil)
        let inputs = provenance?["inputs"]?.arrayValue ?? []
        #expect(inputs.contains { $0["role"] == "train" && $0["ref"]?.stringValue?.hasPrefix("dataset:default/train-set@") == true }, "\(inputs)")

        let trained = try #require(try cli.run(["models", "--trained-on", "dataset:default/train-set", "--json"]).json)
        let models = trained["models"]?.arrayValue?.compactMap { $0["ref"]?.stringValue } ?? []
        #expect(models.contains("model:default/compat-skl@1"), "\(models)")

        let aliases = try #require(try cli.run(["history", "default/alias/compat-registry/champion", "--json"]).json)
        let moves = aliases["history"]?.arrayValue ?? []
        #expect(moves.map { $0["model"]?.stringValue } == ["model:default/compat-registry@1", "model:default/compat-registry@2"])
        #expect(moves.allSatisfy { $0["validFrom"]?.stringValue != nil }, "each move has its time")
        let production = try cli.run(["history", "default/stage/compat-registry/Production", "--json"]).json
        #expect(production?["history"]?[0]?["model"] == "model:default/compat-registry@2")

        // A model passed to log_inputs(models=…) is the run's parent.
        let tunedRun = try #require(ids["tuned_run"]?.stringValue)
        let tuned = try #require(try cli.run(["show", "run:\(tunedRun)", "--json"]).json)
        let baseModel = try #require(ids["base_model"]?.stringValue)
        #expect(tuned["upstream"]?.arrayValue?.contains { $0["ref"]?.stringValue == baseModel && $0["role"] == "base-model" } == true, "\(tuned)")

        let diff = try cli.run(["diff", "model:default/compat-registry@1", "model:default/compat-registry@2"])
        #expect(diff.status == 0, "\(diff.stderr)")

        // Deletes are tombstones: the run is still in the log, with who deleted it and when.
        let deleted = try #require(ids["deleted_run"]?.stringValue)
        let log = try cli.run(["log", "--limit", "100000"]).stdout.split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }
        let tombstones = log.filter {
            $0["event"]?["run"]?["id"]?.stringValue == deleted && $0["event"]?["run"]?["facets"]?["mlflow"]?["op"] == "deleteRun"
        }
        #expect(tombstones.count == 2 && tombstones.allSatisfy { $0["recordedBy"] == "anonymous" && $0["recordedAt"] != nil })
        #expect(try cli.run(["show", "run:\(deleted)"]).status == 0, "the trail stays")

        let store = try Data(contentsOf: URL(fileURLWithPath: cli.store))
        #expect(store.range(of: Data("hunter2".utf8)) == nil, "a secret parameter is not stored")
        #expect(store.range(of: Data("s3cr3t-pw".utf8)) == nil, "nor the remote's password")
        #expect(try cli.run(["verify"]).status == 0)
    }

    @Test("pedigree run around an MLflow script makes one run with the wrapper's five dimensions and MLflow's params, metrics and model")
    func oneRunNotTwo() throws {
        let cli = try CLI()
        let project = try TrainingProject()
        try project.file(
            "mlflow_train.py",
            """
            import os, mlflow, pandas as pd
            from sklearn.linear_model import LogisticRegression
            if os.environ.get("BASE_MODEL"):
                mlflow.pyfunc.load_model(os.environ["BASE_MODEL"])  # fine-tuning starts from a registered model
            mlflow.set_experiment("wrapped")
            mlflow.sklearn.autolog(registered_model_name="wrapped-model")
            frame = pd.read_csv("data/train.csv")
            with mlflow.start_run() as run:
                mlflow.log_input(mlflow.data.from_pandas(frame, source="data/train.csv", name="train"), context="training")
                LogisticRegression(C=0.25).fit(frame[["amount"]], frame["label"])
                mlflow.log_metric("custom", 0.5)
                print("MLFLOW_RUN_ID=" + run.info.run_id)
            """)
        try project.file("config.yaml", "optimizer:\n  name: sgd\n")  // uncommitted: the run is dirty
        let server = try ServerProcess(cli: cli, arguments: ["--artifacts", cli.home.appendingPathComponent("artifacts").path])
        defer { _ = server.stop() }

        let wrapped = try cli.run(
            ["run", "--server", server.url, "--input", "data/train.csv", "--", testPython, "mlflow_train.py"],
            environment: ["MLFLOW_TRACKING_URI": server.url, "MLFLOW_ENABLE_ASYNC_LOGGING": "false"], in: project.root)
        try #require(wrapped.status == 0, "\(wrapped.stderr.suffix(3000))")
        let marker = wrapped.stdout.split(separator: "\n").first { $0.hasPrefix("MLFLOW_RUN_ID=") }
        let mlflowRunID = try #require(marker.map { String($0.dropFirst("MLFLOW_RUN_ID=".count)) }, "\(wrapped.stdout)")
        let runs = try cli.run(["log", "--limit", "100000"]).stdout.split(separator: "\n").compactMap { line in
            (try? JSONValue.parse(String(line)))?["event"]?["run"]?["id"]?.stringValue
        }
        #expect(Set(runs) == [mlflowRunID], "MLflow's run is the wrapper's run")

        let run = try #require(try cli.run(["show", "run:\(mlflowRunID)", "--json"]).json)
        #expect(run["status"] == "COMPLETE")
        #expect(run["code"]?["dirty"] == true && run["code"]?["diff"]?.stringValue?.contains("sgd") == true, "the wrapper's dirty diff")
        #expect(run["environment"]?["packages"]?["mlflow"] != nil && run["environment"]?["os"] != nil, "the wrapper's full environment")
        #expect(run["hyperparameters"]?["C"] == 0.25, "MLflow's params")
        #expect(run["metrics"]?["custom"] == 0.5 && run["metrics"]?["training_score"] != nil, "MLflow's metrics")
        let data = try project.sha256sum("data/train.csv")
        let upstream = run["upstream"]?.arrayValue ?? []
        #expect(
            upstream.contains {
                $0["ref"]?.stringValue == "dataset:default/data/train.csv@1" && $0["digest"]?.stringValue == data && $0["role"] == "train"
            },
            "MLflow's logged dataset is the file the wrapper hashed: \(upstream)")
        let model = try #require(try cli.run(["show", "model:default/wrapped-model@1", "--json"]).json)
        #expect(model["generatedBy"]?["run"]?.stringValue == "run:\(mlflowRunID)")

        // A second wrapped run that loads version 1 by name: that version is its parent.
        let tuned = try cli.run(
            ["run", "--server", server.url, "--input", "data/train.csv", "--", testPython, "mlflow_train.py"],
            environment: ["MLFLOW_TRACKING_URI": server.url, "MLFLOW_ENABLE_ASYNC_LOGGING": "false", "BASE_MODEL": "models:/wrapped-model/1"],
            in: project.root)
        try #require(tuned.status == 0, "\(tuned.stderr.suffix(3000))")
        let second = try #require(try cli.run(["show", "model:default/wrapped-model@2", "--json"]).json)
        let parents = second["generatedBy"]?["inputs"]?.arrayValue?.filter { $0["role"] == "base-model" }.compactMap { $0["ref"]?.stringValue }
        #expect(parents == ["model:default/wrapped-model@1"], "\(String(describing: second["generatedBy"]))")
        #expect(try cli.run(["verify"]).status == 0)
    }
}
