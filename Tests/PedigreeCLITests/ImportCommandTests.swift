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
        let unknown = try cli.run(["import", "--from", "wandb", empty.path])
        #expect(unknown.status == 64 && unknown.stderr.contains("--from must be"), "\(unknown.stderr)")
    }
}
