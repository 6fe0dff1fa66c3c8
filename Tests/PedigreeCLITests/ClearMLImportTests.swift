import Foundation
import PedigreeCore
import Testing

@Suite("pedigree import --from clearml")
struct ClearMLImportTests {
    @Test(
        "an offline session written by the real clearml client imports as one run, from its folder or its zip alike; altered sessions import nothing",
        .enabled(if: pythonHas("clearml"), "needs clearml (scripts/test installs it)"))
    func offlineSession() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pedigree-clearml-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let script = MLflowCompatibilityTests.scripts.appendingPathComponent("clearml_offline.py").path
        // --inject-input-model: ClearML cannot look an input model up offline, so the generator sets the task's
        // input-model field through ClearML's own task API, as a session synced from a server would have it.
        let made = try AuditCommandTests.SignedModelProject.shell(
            "'\(testPython)' '\(script)' '\(directory.path)' --inject-input-model", in: directory)
        try #require(made.status == 0, "the clearml client failed:\n\(made.output.suffix(3000))")
        let paths = try String(contentsOf: directory.appendingPathComponent("session.txt"), encoding: .utf8).split(separator: "\n").map(String.init)
        let (folder, zip) = (paths[0], paths[1])
        let taskID = URL(fileURLWithPath: folder).lastPathComponent

        let cli = try CLI()
        let imported = try cli.run(["import", "--from", "clearml", folder, "--namespace", "fraud", "--json"])
        try #require(imported.status == 0, "\(imported.stderr)")
        #expect(imported.json?["importedByType"] == ["run": 1] && imported.json?["task"] == .string(taskID), "\(imported.stdout)")
        let fromZip = try #require(try cli.run(["import", "--from", "clearml", zip, "--namespace", "fraud", "--json"]).json)
        #expect(fromZip["imported"] == 0 && fromZip["alreadyThere"] == 1, "the zip is the same session: \(fromZip)")

        let run = try #require(try cli.run(["show", "run:\(taskID)", "--json"]).json)
        #expect(run["job"] == "fraud/train-fraud" && run["status"] == "COMPLETE", "\(run)")
        #expect(
            run["hyperparameters"]
                == [
                    "Args": ["batch_size": 32, "optimizer": "sgd"], "General": ["lr": 0.1, "epochs": 3, "api_key": "[REDACTED]"],
                    "data": ["path": "data/train.csv", "rows": 4, "shuffle": true],
                ], "by section, typed as connected, the secret redacted: \(run)")
        #expect(!(try cli.run(["log", "--json"]).stdout.contains("hunter2")))
        let code = try #require(run["code"])
        #expect(code["repository"] == "https://github.com/example/fraud-detection.git" && code["branch"] == "main" && code["path"] == "train.py")
        #expect(code["commit"]?.stringValue?.count == 40 && code["dirty"] == true && code["diffDigest"]?.stringValue?.hasPrefix("sha256:") == true)
        #expect(run["environment"]?["packages"]?["clearml"]?.stringValue?.isEmpty == false, "installed packages: \(run)")
        #expect(run["metrics"]?["loss/train"] == .double(1.0 / 3) && run["metrics"]?["best_val_loss"] == 0.5, "the last of each series: \(run)")
        let csv = "amount,label\n10.0,0\n9999.5,1\n3.2,0\n120.0,0\n"
        let outputs = run["downstream"]?.arrayValue ?? []
        #expect(
            outputs.contains {
                $0["digest"]?.stringValue == ContentDigest(hashing: Array(csv.utf8)).description && $0["name"] == "fraud/train-fraud/train-data"
            },
            "the artifact by ClearML's SHA-256: \(outputs)")
        #expect(
            outputs.contains {
                $0["kind"] == "model" && $0["digest"]?.stringValue == ContentDigest(hashing: Array("trained-weights\n".utf8)).description
            },
            "the output model digested from the weights the session kept: \(outputs)")
        #expect(run["upstream"]?.arrayValue?.contains { $0["ref"] == "model:fraud/clearml-model@offline-input-model-base" } == true, "\(run)")

        // Altered sessions: a cut task.json, a changed artifact, a damaged zip. Each names the file; none stores anything.
        let before = try cli.eventCount()
        let cut = directory.appendingPathComponent("cut")
        try FileManager.default.copyItem(atPath: folder, toPath: cut.path)
        let task = cut.appendingPathComponent("task.json")
        let json = try Data(contentsOf: task)
        try json.prefix(json.count / 2).write(to: task)
        let refused = try cli.run(["import", "--from", "clearml", cut.path, "--namespace", "fraud"])
        #expect(refused.status != 0 && refused.stderr.contains("task.json") && refused.stderr.contains("cut or altered"), "\(refused.stderr)")

        let altered = directory.appendingPathComponent("altered")
        try FileManager.default.copyItem(atPath: folder, toPath: altered.path)
        let data = try #require(
            FileManager.default.enumerator(atPath: altered.path)?.compactMap { $0 as? String }.first { $0.hasSuffix("train.csv") })
        try "amount,label\n1,1\n".write(to: altered.appendingPathComponent(data), atomically: true, encoding: .utf8)
        // The session's own paths name where ClearML wrote it: point them here.
        let original = try String(contentsOf: altered.appendingPathComponent("task.json"), encoding: .utf8)
        try original.replacingOccurrences(of: folder, with: altered.path).write(
            to: altered.appendingPathComponent("task.json"), atomically: true, encoding: .utf8)
        let changed = try cli.run(["import", "--from", "clearml", altered.path, "--namespace", "fraud"])
        #expect(
            changed.status != 0 && changed.stderr.contains("execution.artifacts[0].hash") && changed.stderr.contains("altered"), "\(changed.stderr)")

        // A byte inside task.json's stored data: past its local header (30 bytes, its name, its extra field).
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: zip)))
        let entryName = Array("task.json".utf8)
        func isTaskHeader(_ at: Int) -> Bool {
            bytes[at..<at + 4].elementsEqual([0x50, 0x4b, 0x03, 0x04]) && bytes[(at + 30)..<(at + 30 + entryName.count)].elementsEqual(entryName)
        }
        let header = try #require((0..<(bytes.count - 40)).first(where: isTaskHeader), "task.json's local header")
        let extraLength = Int(bytes[header + 28]) | Int(bytes[header + 29]) << 8
        bytes[header + 30 + entryName.count + extraLength + 10] ^= 0xff
        let damaged = directory.appendingPathComponent("damaged.zip")
        try Data(bytes).write(to: damaged)
        let broken = try cli.run(["import", "--from", "clearml", damaged.path, "--namespace", "fraud"])
        #expect(
            broken.status != 0 && broken.stderr.contains("damaged.zip") && broken.stderr.contains("task.json")
                && (broken.stderr.contains("CRC-32") || broken.stderr.contains("does not inflate")), "\(broken.stderr)")
        try Data(bytes.prefix(bytes.count - 30)).write(to: damaged)
        let truncated = try cli.run(["import", "--from", "clearml", damaged.path, "--namespace", "fraud"])
        #expect(truncated.status != 0 && truncated.stderr.contains("damaged.zip") && truncated.stderr.contains("cut"), "\(truncated.stderr)")
        #expect(try cli.eventCount() == before)
    }
}
