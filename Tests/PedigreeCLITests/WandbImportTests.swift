import Foundation
import PedigreeCapture
import PedigreeCore
import Testing

@Suite("pedigree import --from wandb")
struct WandbImportTests {
    @Test(
        "offline runs written by the real wandb client import with their git commit, config, metrics and artifact lineage; damaged logs import nothing",
        .enabled(if: pythonHas("wandb"), "needs wandb (scripts/test installs it)"))
    func offlineRuns() throws {
        let project = try TrainingProject()
        let script = MLflowCompatibilityTests.scripts.appendingPathComponent("wandb_offline.py").path
        let made = try AuditCommandTests.SignedModelProject.shell("'\(testPython)' '\(script)' . 2>wandb.err", in: project.root)
        try #require(made.status == 0, "the wandb client failed:\n\(made.output.suffix(3000))")
        let written = try JSONValue.parse(String(made.output.split(separator: "\n").last ?? ""))
        let prepareID = try #require(written["runs"]?["prepare"]?["id"]?.stringValue)
        let trainID = try #require(written["runs"]?["train"]?["id"]?.stringValue)
        let artifacts = written["artifacts"]?.arrayValue ?? []
        let dataset = try #require(artifacts.first { $0["name"] == "train-set" && $0["role"] == "output" })
        let model = try #require(artifacts.first { $0["name"] == "fraud-model" })
        let datasetDigest = try #require(dataset["digest"]?.stringValue)
        let modelDigest = try #require(model["digest"]?.stringValue)

        let cli = try CLI()
        let imported = try cli.run(["import", "--from", "wandb", project.root.path, "--namespace", "fraud", "--json"])
        try #require(imported.status == 0, "\(imported.stderr)")
        #expect(
            imported.json?["importedByType"] == ["run": 2, "artifact": 2], "two runs; Pedigree's digests of the two artifacts: \(imported.stdout)")

        let prepare = try #require(try cli.run(["show", "run:wandb-\(prepareID)", "--json"]).json)
        #expect(prepare["job"] == "fraud-detection/prepare" && prepare["status"] == "COMPLETE", "\(prepare)")
        #expect(prepare["code"]?["commit"]?.stringValue == (try project.git("rev-parse", "HEAD")), "the commit wandb read")
        #expect(
            prepare["code"]?["repository"] == "https://[REDACTED]@git.example.com/acme/models.git", "the remote, without its credentials: \(prepare)")
        let config = try #require(prepare["hyperparameters"])
        #expect(config["lr"] == 0.01 && config["epochs"] == 3 && config["optimizer"] == ["name": "adam", "betas": [0.9, 0.999]], "\(config)")
        #expect(config["rows"] == 4, "a config update after init")
        #expect(config["api_key"] == "[REDACTED]" && config["_wandb"] == nil, "\(config)")
        #expect(!(try cli.run(["log", "--json"]).stdout.contains("hunter2")), "the secret is in no event")
        #expect(prepare["facets"]?["wandb.run_id"]?.stringValue == prepareID && prepare["facets"]?["wandb.group"] == "fraud-v1")
        #expect(prepare["environment"]?["runtime"]?["name"] == "python" && prepare["environment"]?["packages"]?["wandb"] != nil, "\(prepare)")

        let train = try #require(try cli.run(["show", "run:wandb-\(trainID)", "--json"]).json)
        let loss = try #require(train["metrics"]?["loss"]?.arrayValue, "the loss over steps: \(train)")
        #expect(loss.count >= 2 && loss.first?["step"] == 0, "\(loss)")
        #expect(train["metrics"]?["best_accuracy"] == 0.85, "a summary value: \(train)")
        let used = try #require(train["upstream"]?.arrayValue?.first { $0["name"] == "train-set" })
        #expect(
            used["ref"]?.stringValue == "dataset:fraud/train-set@\(datasetDigest.prefix(12))",
            "the used dataset is the logged one, by digest: \(used)")

        let modelShown = try #require(try cli.run(["show", "model:fraud/fraud-model@\(modelDigest.prefix(12))", "--json"]).json)
        #expect(modelShown["aliasDigests"] == [.string("wandb:\(modelDigest)")])
        #expect(modelShown["generatedBy"]?["run"]?.stringValue == "run:wandb-\(trainID)")
        // Pedigree's digest: the manifest of the files wandb staged, by SHA-256.
        var files: [Fingerprint.File] = []
        for entry in dataset["entries"]?.arrayValue ?? [] {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: try #require(entry["local_path"]?.stringValue)))
            files.append(
                Fingerprint.File(path: try #require(entry["path"]?.stringValue), digest: ContentDigest(hashing: bytes), size: Int64(bytes.count)))
        }
        let datasetShown = try #require(try cli.run(["show", "dataset:fraud/train-set@\(datasetDigest.prefix(12))", "--json"]).json)
        #expect(
            datasetShown["digest"]?.stringValue == Fingerprinter.manifestDigest(files.sorted { $0.path < $1.path }).description, "\(datasetShown)")
        let lineage = try cli.run(["lineage", "model:fraud/fraud-model@\(modelDigest.prefix(12))", "--upstream"])
        #expect(
            lineage.stdout.contains("run:wandb-\(prepareID)"), "the model goes back through the dataset to the run that logged it: \(lineage.stdout)")

        let again = try #require(try cli.run(["import", "--from", "wandb", project.root.path, "--namespace", "fraud", "--json"]).json)
        #expect(again["imported"] == 0 && again["alreadyThere"] == 4, "\(again)")

        // A flipped byte, a cut file: the file and offset are named, and nothing is stored.
        let before = try cli.eventCount()
        let runDirectory = try #require(written["runs"]?["train"]?["dir"]?.stringValue)
        let log = URL(fileURLWithPath: try #require(written["runs"]?["train"]?["wandb_file"]?.stringValue))
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("pedigree-wandb-damaged-\(UUID().uuidString)")
        try FileManager.default.copyItem(atPath: runDirectory, toPath: copy.path)
        let damaged = copy.appendingPathComponent(log.lastPathComponent)
        var bytes = [UInt8](try Data(contentsOf: damaged))
        bytes[bytes.count / 2] ^= 0x20
        try Data(bytes).write(to: damaged)
        let flipped = try cli.run(["import", "--from", "wandb", copy.path, "--namespace", "fraud"])
        #expect(flipped.status != 0 && flipped.stderr.contains(log.lastPathComponent) && flipped.stderr.contains("CRC-32"), "\(flipped.stderr)")
        bytes[bytes.count / 2] ^= 0x20
        try Data(bytes.prefix(bytes.count - 40)).write(to: damaged)
        let cut = try cli.run(["import", "--from", "wandb", copy.path, "--namespace", "fraud"])
        #expect(cut.status != 0 && cut.stderr.contains("at byte") && cut.stderr.contains("cut"), "\(cut.stderr)")
        #expect(try cli.eventCount() == before)
    }
}
