import Foundation
import PedigreeCore
import Testing

/// The Python with ML Metadata, which needs a protobuf older than the other clients': scripts/test's second
/// virtual environment.
let mlmdPython =
    ProcessInfo.processInfo.environment["PEDIGREE_TEST_MLMD_PYTHON"]
    ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/pedigree/venv-mlmd/bin/python").path

@Suite("pedigree import --from kubeflow")
struct KubeflowImportTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
        "Fixtures/kubeflow")

    static func scratch() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pedigree-kubeflow-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    static func script(_ python: String, _ name: String, _ arguments: String, in directory: URL) throws {
        let script = MLflowCompatibilityTests.scripts.appendingPathComponent(name).path
        let result = try AuditCommandTests.SignedModelProject.shell("'\(python)' '\(script)' \(arguments)", in: directory)
        try #require(result.status == 0, "\(name) failed:\n\(result.output.suffix(3000))")
    }

    @Test(
        "a pipeline compiled by the real kfp is design-time lineage: tasks as runs with parameters and images, artifacts linking them; again adds nothing",
        .enabled(if: pythonHas("kfp"), "needs kfp (scripts/test installs it)"))
    func compiledPipeline() throws {
        let directory = try Self.scratch()
        try Self.script(testPython, "kfp_pipeline.py", "pipeline.yaml", in: directory)
        let pipeline = directory.appendingPathComponent("pipeline.yaml").path
        let cli = try CLI()
        let imported = try cli.run(["import", "--from", "kubeflow", pipeline, "--namespace", "kf", "--json"])
        try #require(imported.status == 0, "\(imported.stderr)")
        let summary = try #require(imported.json)
        #expect(summary["pipeline"] == "tiny-train" && summary["tasks"] == 3 && summary["importedByType"] == ["run": 3], "\(summary)")

        // Versioned by the spec's content.
        let version = String(ContentDigest(hashing: try Data(contentsOf: URL(fileURLWithPath: pipeline))).hex.prefix(12))
        let train = try #require(try cli.run(["show", "run:kfp-\(version)-train", "--json"]).json)
        #expect(train["job"] == "tiny-train/train")
        #expect(train["status"] == nil, "a definition has not run")
        #expect(train["hyperparameters"] == ["lr": 0.1], "the pipeline parameter's default: \(train)")
        #expect(train["facets"]?["kfp.pipeline_parameters"] == ["lr": "lr"])
        #expect(train["environment"]?["containerImage"] == "python:3.11")
        #expect(train["upstream"]?.arrayValue?.map { $0["ref"] } == [.string("dataset:kf/tiny-train/prepare/out@\(version)")], "\(train)")
        let prepare = try #require(try cli.run(["show", "run:kfp-\(version)-prepare", "--json"]).json)
        #expect(prepare["hyperparameters"] == ["rows": 100], "KFP writes the integer default as 100.0; it is an integer parameter")

        let lineage = try cli.run(["lineage", "model:kf/tiny-train/train/model@\(version)", "--json"])
        #expect(
            lineage.stdout.contains("dataset:kf/tiny-train/importer/artifact@\(version)"),
            "the model goes back to the imported data: \(lineage.stdout)")
        let raw = try #require(try cli.run(["show", "dataset:kf/tiny-train/importer/artifact@\(version)", "--json"]).json)
        #expect(raw["uri"] == "gs://bucket/raw.csv", "the importer's URI")

        let again = try #require(try cli.run(["import", "--from", "kubeflow", pipeline, "--namespace", "kf", "--json"]).json)
        #expect(again["imported"] == 0 && again["alreadyThere"] == 3, "\(again)")

        // A spec cut short: the file and the missing field are named, and nothing is stored.
        let before = try cli.eventCount()
        let text = try String(contentsOfFile: pipeline, encoding: .utf8)
        let cut = directory.appendingPathComponent("cut.yaml")
        try String(text[..<text.range(of: "root:")!.lowerBound]).write(to: cut, atomically: true, encoding: .utf8)
        let refused = try cli.run(["import", "--from", "kubeflow", cut.path, "--namespace", "kf"])
        #expect(refused.status != 0 && refused.stderr.contains("cut.yaml: root.dag.tasks"), "\(refused.stderr)")
        let broken = directory.appendingPathComponent("broken.yaml")
        try text.replacingOccurrences(of: "producerTask: prepare", with: "producerTask: nowhere").write(to: broken, atomically: true, encoding: .utf8)
        let dangling = try cli.run(["import", "--from", "kubeflow", broken.path, "--namespace", "kf"])
        #expect(
            dangling.status != 0 && dangling.stderr.contains("broken.yaml: root.dag.tasks.train.inputs.artifacts.data")
                && dangling.stderr.contains("nowhere"), "\(dangling.stderr)")
        #expect(try cli.eventCount() == before)
    }

    @Test(
        "a pipeline whose step is a sub-pipeline links the outer consumer to the inner task that writes its output",
        .enabled(if: pythonHas("kfp"), "needs kfp (scripts/test installs it)"))
    func nestedPipeline() throws {
        let directory = try Self.scratch()
        try Self.script(testPython, "kfp_pipeline.py", "nested.yaml --nested", in: directory)
        let pipeline = directory.appendingPathComponent("nested.yaml").path
        let version = String(ContentDigest(hashing: try Data(contentsOf: URL(fileURLWithPath: pipeline))).hex.prefix(12))
        let cli = try CLI()
        let imported = try cli.run(["import", "--from", "kubeflow", pipeline, "--namespace", "kf", "--json"])
        try #require(imported.status == 0, "\(imported.stderr)")
        let train = try #require(try cli.run(["show", "run:kfp-\(version)-train", "--json"]).json)
        #expect(
            train["upstream"]?.arrayValue?.map { $0["ref"] } == [.string("dataset:kf/tiny-train-nested/prepare-stage/prepare/out@\(version)")],
            "the sub-pipeline's output is its inner prepare task's: \(train)")
        let inner = try #require(try cli.run(["show", "run:kfp-\(version)-prepare-stage.prepare", "--json"]).json)
        #expect(inner["hyperparameters"] == ["rows": 100], "the sub-pipeline's parameter, bound to the pipeline's default: \(inner)")
        let lineage = try cli.run(["lineage", "model:kf/tiny-train-nested/train/model@\(version)", "--upstream"])
        #expect(lineage.stdout.contains("dataset:kf/tiny-train-nested/importer/artifact@\(version)"), "through the sub-pipeline: \(lineage.stdout)")
    }

    @Test(
        "an ML Metadata store written by the real ml-metadata imports its executions, artifacts and events; it grows; its SQL dumps read the same",
        .enabled(if: FileManager.default.isExecutableFile(atPath: mlmdPython), "needs ml-metadata (scripts/test installs it in venv-mlmd)"))
    func metadataStore() throws {
        let directory = try Self.scratch()
        try Self.script(mlmdPython, "mlmd_store.py", "mlmd.sqlite", in: directory)
        let store = directory.appendingPathComponent("mlmd.sqlite").path
        let cli = try CLI()
        let imported = try cli.run(["import", "--from", "kubeflow", store, "--namespace", "kf", "--json"])
        try #require(imported.status == 0, "\(imported.stderr)")
        let summary = try #require(imported.json)
        #expect(summary["executions"] == 2 && summary["artifacts"] == 3 && summary["importedByType"] == ["run": 2], "\(summary)")

        let lineage = try #require(try cli.run(["lineage", "model:kf/model-v2@v2", "--json"]).json)
        let refs = Set(lineage.canonicalString.matches(of: /"ref":"([^"]+)"/).map { String($0.output.1) })
        #expect(refs.contains("model:kf/model-v1@v1") && refs.contains("dataset:kf/train-data@1"), "the fine-tune goes back to the data: \(refs)")
        let dataset = try #require(try cli.run(["show", "dataset:kf/train-data@1", "--json"]).json)
        let csv = try String(contentsOf: directory.appendingPathComponent("data/train.csv"), encoding: .utf8)
        #expect(dataset["digest"]?.stringValue == ContentDigest(hashing: Array(csv.utf8)).description, "the digest MLMD recorded")
        #expect(dataset["facets"]?["mlmd.artifact_id"] == 1 && dataset["facets"]?["mlmd.type"] == "Dataset")
        let model = try #require(try cli.run(["show", "model:kf/model-v1@v1", "--json"]).json)
        let training = try #require(model["generatedBy"])
        #expect(training["job"] == "tiny-train/train-1", "the execution's pipeline context names its job")
        #expect(training["status"] == "COMPLETE")
        #expect(training["hyperparameters"] == ["lr": 0.1, "epochs": 3, "dirty": false], "properties, with KFP's inputs struct read: \(training)")
        #expect(training["code"]?["commit"] == "3f2c1a9e")
        #expect(training["facets"]?["mlmd.contexts"] == ["pipeline-run-1 (PipelineRun)"], "\(training)")
        let tuned = try #require(try cli.run(["show", "model:kf/model-v2@v2", "--json"]).json)
        #expect(tuned["facets"]?["mlmd.properties"]?["note"] == "it's \"v2\"\nfrom C:\\tmp café")

        let again = try #require(try cli.run(["import", "--from", "kubeflow", store, "--namespace", "kf", "--json"]).json)
        #expect(again["imported"] == 0, "\(again)")
        // SQLite's own dump of the same store (Python's sqlite3.iterdump) is the same history.
        let dump = directory.appendingPathComponent("mlmd.sql")
        try AuditCommandTests.SignedModelProject.shell(
            "'\(mlmdPython)' -c \"import sqlite3; open('mlmd.sql', 'w').write(chr(10).join(sqlite3.connect('mlmd.sqlite').iterdump()))\"",
            in: directory
        )
        .status.expectZero()
        let fromDump = try #require(try cli.run(["import", "--from", "kubeflow", dump.path, "--namespace", "kf", "--json"]).json)
        #expect(fromDump["imported"] == 0 && fromDump["executions"] == 2, "\(fromDump)")
        // The sqlite3 shell's .dump, which writes text with a newline as replace('…\n…','\n',char(10)).
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3") {
            try AuditCommandTests.SignedModelProject.shell("sqlite3 mlmd.sqlite .dump > shell.sql", in: directory).status.expectZero()
            let shell = try String(contentsOf: directory.appendingPathComponent("shell.sql"), encoding: .utf8)
            #expect(shell.contains("char(10)"), "the shell writes the note's newline with replace()")
            let fromShell = try #require(
                try cli.run(["import", "--from", "kubeflow", directory.appendingPathComponent("shell.sql").path, "--namespace", "kf", "--json"]).json)
            #expect(fromShell["imported"] == 0 && fromShell["executions"] == 2, "the shell's dump is the same history: \(fromShell)")
        }

        // The store after one more execution: only that is new.
        try Self.script(mlmdPython, "mlmd_store.py", "--grow mlmd.sqlite", in: directory)
        let grown = try #require(try cli.run(["import", "--from", "kubeflow", store, "--namespace", "kf", "--json"]).json)
        #expect(grown["imported"] == 1 && grown["alreadyThere"] == 2, "\(grown)")
        let evaluation = try #require(try cli.run(["show", "model:kf/model-v2@v2", "--json"]).json)
        #expect(evaluation["downstream"]?.arrayValue?.contains { $0["status"] == "FAIL" } == true, "the failed evaluation used v2: \(evaluation)")

        // A dump cut in the middle of a row: the file and line are named, nothing is stored.
        let before = try cli.eventCount()
        let text = try String(contentsOf: dump, encoding: .utf8)
        let cut = directory.appendingPathComponent("cut.sql")
        try String(text[..<text.range(of: "INSERT INTO \"Event\"")!.upperBound] + " VALUES(1,1,1").write(to: cut, atomically: true, encoding: .utf8)
        let refused = try cli.run(["import", "--from", "kubeflow", cut.path, "--namespace", "kf"])
        #expect(refused.status != 0 && refused.stderr.contains("cut.sql:") && refused.stderr.contains("is cut"), "\(refused.stderr)")
        let altered = directory.appendingPathComponent("altered.sql")
        try text.replacingOccurrences(of: "INSERT INTO \"Event\" VALUES(1,1,", with: "INSERT INTO \"Event\" VALUES(1,99,").write(
            to: altered, atomically: true, encoding: .utf8)
        let dangling = try cli.run(["import", "--from", "kubeflow", altered.path, "--namespace", "kf"])
        #expect(dangling.status != 0 && dangling.stderr.contains("Event[0].artifact_id") && dangling.stderr.contains("99"), "\(dangling.stderr)")
        #expect(try cli.eventCount() == before)
    }

    @Test("a real mysqldump of MLMD in MariaDB imports the same graph, with the text MLMD's latin1 connection double-encoded read back")
    func mysqlDump() throws {
        let cli = try CLI()
        let dump = Self.fixtures.appendingPathComponent("mlmd-mariadb-dump.sql").path
        let imported = try cli.run(["import", "--from", "kubeflow", dump, "--namespace", "kf", "--json"])
        try #require(imported.status == 0, "\(imported.stderr)")
        #expect(imported.json?["executions"] == 2 && imported.json?["artifacts"] == 3 && imported.json?["schemaVersion"] == 10, "\(imported.stdout)")
        let tuned = try #require(try cli.run(["show", "model:kf/model-v2@v2", "--json"]).json)
        #expect(tuned["facets"]?["mlmd.properties"]?["note"] == "it's \"v2\"\nfrom C:\\tmp café", "\(tuned)")
        #expect(tuned["generatedBy"]?["job"] == "tiny-train/finetune-1")
        let notMLMD = try Self.scratch().appendingPathComponent("other.sql")
        try "CREATE TABLE t (a int);\nINSERT INTO t VALUES (1);\n".write(to: notMLMD, atomically: true, encoding: .utf8)
        let refused = try cli.run(["import", "--from", "kubeflow", notMLMD.path, "--namespace", "kf"])
        #expect(refused.status != 0 && refused.stderr.contains("is not an ML Metadata store"), "\(refused.stderr)")
    }
}

extension Int32 {
    func expectZero(sourceLocation: SourceLocation = #_sourceLocation) { #expect(self == 0, sourceLocation: sourceLocation) }
}
