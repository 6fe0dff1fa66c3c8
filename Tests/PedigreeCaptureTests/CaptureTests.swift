import Foundation
import PedigreeCapture
import PedigreeCore
import PedigreeStore
import Testing

func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("pedigree-capture-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func write(_ text: String, to url: URL) throws {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(text.utf8).write(to: url)
}

/// What `sha256sum` prints for a file: the reference the fingerprints must agree with.
func sha256sum(_ path: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
    process.arguments = [path]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    process.waitUntilExit()
    return String(String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).prefix(64))
}

@Suite("Fingerprints")
struct FingerprintTests {
    @Test("file digests equal sha256sum's, large and empty files included")
    func files() throws {
        let dir = try temporaryDirectory()
        let big = dir.appendingPathComponent("big.bin")
        try Data((0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: big)
        let empty = dir.appendingPathComponent("empty")
        try Data().write(to: empty)
        let prints = try Fingerprinter(cache: nil, showProgress: false).fingerprint([big.path, empty.path])
        #expect(prints[0].digest.hex == (try sha256sum(big.path)))
        #expect(prints[1].digest.hex == (try sha256sum(empty.path)))
        #expect(prints[0].size == 3_000_000)
    }

    @Test("a directory is a manifest: one changed file changes the digest and shows as that file")
    func directories() throws {
        let dir = try temporaryDirectory()
        for i in 0..<20 { try write("row \(i)\n", to: dir.appendingPathComponent("data/part-\(i).csv")) }
        try write("nested", to: dir.appendingPathComponent("data/sub/deep.txt"))
        let fingerprinter = Fingerprinter(cache: nil, showProgress: false)
        let before = try fingerprinter.fingerprint([dir.appendingPathComponent("data").path])[0]
        #expect(before.isDirectory && before.files.count == 21)
        #expect(before.files.contains { $0.path == "sub/deep.txt" })
        #expect(before.files.first { $0.path == "part-3.csv" }?.digest.hex == (try sha256sum(dir.appendingPathComponent("data/part-3.csv").path)))
        try write("row 3 changed\n", to: dir.appendingPathComponent("data/part-3.csv"))
        let after = try fingerprinter.fingerprint([dir.appendingPathComponent("data").path])[0]
        #expect(after.digest != before.digest)
        let changed = Set(after.files).subtracting(before.files).map(\.path)
        #expect(changed == ["part-3.csv"])
    }

    @Test("the stat cache skips unchanged files and notices changed ones")
    func statCache() throws {
        let dir = try temporaryDirectory()
        let cache = CaptureCache(directory: dir.appendingPathComponent("cache"))
        for i in 0..<10 { try write("content \(i)", to: dir.appendingPathComponent("d/\(i)")) }
        let first = Fingerprinter(cache: cache, showProgress: false)
        let a = try first.fingerprint([dir.appendingPathComponent("d").path])[0]
        #expect(first.statistics.filesHashed == 10)
        let second = Fingerprinter(cache: cache, showProgress: false)
        let b = try second.fingerprint([dir.appendingPathComponent("d").path])[0]
        #expect(second.statistics.filesHashed == 0 && second.statistics.filesFromCache == 10)
        #expect(a.digest == b.digest)
        try write("content 4, rewritten", to: dir.appendingPathComponent("d/4"))
        let third = Fingerprinter(cache: cache, showProgress: false)
        let c = try third.fingerprint([dir.appendingPathComponent("d").path])[0]
        #expect(third.statistics.filesHashed == 1)
        #expect(c.digest != a.digest)
    }

    @Test("a missing path is an error naming it")
    func missing() {
        #expect { try Fingerprinter(cache: nil, showProgress: false).fingerprint(["/nonexistent/data.csv"]) } throws: {
            "\($0)".contains("/nonexistent/data.csv")
        }
    }
}

@Suite("Parameters")
struct ParameterTests {
    @Test("YAML, JSON and TOML files and --param pairs merge into one nested document")
    func merging() throws {
        let dir = try temporaryDirectory()
        try write("optimizer:\n  name: adam\n  lr: 0.001\nepochs: 3\nlayers: [64, 32]\nname: '007'\n", to: dir.appendingPathComponent("base.yaml"))
        try write(#"{"optimizer": {"lr": 0.0005}, "batch_size": 32}"#, to: dir.appendingPathComponent("override.json"))
        try write(
            """
            # schedule
            [scheduler]
            name = "cosine"   # inline comment
            warmup_steps = 1_000
            milestones = [10, 20]
            [model.head]
            dropout = 0.1
            [[augment]]
            kind = "flip"
            [[augment]]
            kind = "crop"
            """, to: dir.appendingPathComponent("extra.toml"))
        let merged = try ConfigLoader.load(
            files: ["base.yaml", "override.json", "extra.toml"].map { dir.appendingPathComponent($0).path },
            parameters: ["optimizer.lr=0.01", "tags=[\"a\",\"b\"]", "note=plain text", "api_token=hunter2", "db.password=123456"])
        #expect(merged["optimizer"] == ["name": "adam", "lr": 0.01])
        #expect(merged["epochs"] == 3 && merged["batch_size"] == 32 && merged["layers"] == [64, 32])
        #expect(merged["name"] == "007", "quoted YAML scalars stay strings")
        #expect(merged["scheduler"] == ["name": "cosine", "warmup_steps": 1000, "milestones": [10, 20]])
        #expect(merged["model"]?["head"]?["dropout"] == 0.1)
        #expect(merged["augment"] == [["kind": "flip"], ["kind": "crop"]])
        #expect(merged["tags"] == ["a", "b"] && merged["note"] == "plain text")
        #expect(merged["api_token"] == .string(SecretRedactor.placeholder))
        #expect(merged["db"]?["password"] == .string(SecretRedactor.placeholder), "a numeric password is still a password")
    }

    @Test("bad parameters are named")
    func errors() throws {
        #expect { try ConfigLoader.load(files: [], parameters: ["novalue"]) } throws: { "\($0)".contains("--param 'novalue'") }
        #expect { try ConfigLoader.load(files: ["/nonexistent.yaml"], parameters: []) } throws: { "\($0)".contains("/nonexistent.yaml") }
        let dir = try temporaryDirectory()
        try write("{bad json", to: dir.appendingPathComponent("c.json"))
        #expect { try ConfigLoader.load(files: [dir.appendingPathComponent("c.json").path], parameters: []) } throws: { "\($0)".contains("c.json") }
    }

    @Test("command-line secrets are redacted")
    func arguments() {
        let redacted = SecretRedactor.redactArguments(["train.py", "--api-key", "k1", "--token=t2", "--lr", "0.1", "HF_TOKEN=x", "s3://u:p@bucket/x"])
        #expect(
            redacted == [
                "train.py", "--api-key", "[REDACTED]", "--token=[REDACTED]", "--lr", "0.1", "HF_TOKEN=[REDACTED]", "s3://[REDACTED]@bucket/x",
            ])
    }
}

@Suite("DVC")
struct DVCTests {
    static var project: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/dvc")
    }

    @Test("a stage's deps, outs, params and DVC md5s come from dvc.yaml and dvc.lock")
    func stage() throws {
        let train = try DVCStage.load(name: "train", in: Self.project)
        #expect(train.command == "python3 src/train.py data/prepared model.json metrics.json")
        #expect(train.dependencies.map(\.path) == ["data/prepared", "src/train.py"])
        #expect(train.dependencies.first?.md5 == "md5:72981bc7f3cf66bee27f376c108e13c6.dir")
        #expect(train.outputs.map(\.path) == ["model.json", "metrics.json"])
        #expect(train.parameters == ["train": ["lr": 0.05, "epochs": 20, "seed": 42]])
        let prepare = try DVCStage.load(name: "prepare", in: Self.project)
        #expect(prepare.parameters == ["prepare": ["seed": 13, "split": 0.8]])
        #expect(prepare.dependencies.first?.md5 == "md5:b33d83cf5a74bf2e33b42e1af9f90f0c")
    }

    @Test("a command line matching a stage's cmd is recognised; unknown stages are named")
    func matching() throws {
        #expect(DVCStage.matching(command: ["python3", "src/prepare.py", "data/raw.csv", "data/prepared"], in: Self.project)?.name == "prepare")
        #expect(DVCStage.matching(command: ["python3", "other.py"], in: Self.project) == nil)
        #expect { try DVCStage.load(name: "evaluate", in: Self.project) } throws: { "\($0)".contains("stages: prepare, train") }
    }
}

@Suite("Command-line parameters")
struct ParameterTypingTests {
    @Test(
        "a value is a number only when it reads back as typed or has an exponent",
        arguments: [
            ("version=1.10", JSONValue.string("1.10")), ("clip=1.0", .string("1.0")), ("epochs=3", .int(3)), ("lr=0.001", .double(0.001)),
            ("lr=5e-5", .double(5e-5)), ("name=adam", .string("adam")), ("flag=true", .bool(true)), ("layers=[1,2]", .array([1, 2])),
        ])
    func typing(parameter: String, expected: JSONValue) throws {
        let key = String(parameter.prefix { $0 != "=" })
        #expect(try ConfigLoader.load(files: [], parameters: [parameter])[key] == expected)
    }
}

@Suite("TOML parameter files")
struct TOMLTests {
    @Test("the whole of TOML: multi-line arrays, quoted and dotted keys, inline tables, dates")
    func fullTOML() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("params-\(UUID().uuidString).toml")
        try Data(
            """
            title = "fraud"
            layers = [
              128,
              64,  # a comment inside the array
            ]
            "quoted.key" = 1
            optimizer.lr = 0.001
            schedule = { warmup = 500, decay = "cosine" }
            started = 2026-11-01T09:00:00Z

            [[stages]]
            name = "pretrain"
            [[stages]]
            name = "finetune"
            """.utf8
        ).write(to: file)
        let json = try ConfigLoader.read(file.path)
        #expect(json["layers"] == [128, 64])
        #expect(json["quoted.key"] == 1, "a quoted key is one key, not a path")
        #expect(json["optimizer"]?["lr"] == 0.001)
        #expect(json["schedule"]?["decay"] == "cosine")
        #expect(json["stages"]?[1]?["name"] == "finetune")
        #expect(json["started"]?.stringValue?.hasPrefix("2026-11-01T09:00:00") == true)
    }

    @Test("a malformed TOML file names the file and the place")
    func malformed() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).toml")
        try Data("lr = [1, 2\n".utf8).write(to: file)
        #expect {
            try ConfigLoader.read(file.path)
        } throws: { error in
            "\(error)".contains(file.path) && "\(error)".contains("line")
        }
    }
}

/// A destination that is down until told otherwise, and remembers what reached it, in order.
private actor FlakyDestination: EventDestination {
    nonisolated let spoolKey = "/stores/production.db"
    var up = false
    var received: [ContentDigest] = []

    func setUp(_ value: Bool) { up = value }

    func append(_ events: [LineageEvent], recordedBy identity: String) async throws -> [AppendOutcome] {
        guard up else { throw StoreError(.unavailable, "down") }
        received += events.map(\.digest)
        return events.map { AppendOutcome(digest: $0.digest, namespace: $0.namespace, sequence: 0, duplicate: false) }
    }
}

@Suite("Capture session")
struct CaptureSessionTests {
    @Test("events reach their store in the order captured: a spooled START is delivered before the COMPLETE that follows it")
    func order() async throws {
        let spool = EventSpool(directory: try temporaryDirectory())
        let destination = FlakyDestination()
        // Retrying at once, as a run that lasts longer than the retry interval would at its end.
        let session = CaptureSession(destination: destination, spoolKey: "", spool: spool, identity: "cli:test", retryAfter: .zero, notice: { _ in })
        let start = LineageEvent(namespace: "team", payload: .run(RunRecord(id: "r1", job: "train", status: .start)))
        let complete = LineageEvent(namespace: "team", payload: .run(RunRecord(id: "r1", job: "train", status: .complete)))
        #expect(await session.record(start) == .spooled)
        await destination.setUp(true)
        #expect(await session.record(complete) == .recorded)
        #expect(await destination.received == [start.digest, complete.digest])
        #expect(spool.pendingFiles.isEmpty)
    }

    @Test("another store's spooled events are left alone, unread")
    func otherDestinations() async throws {
        let spool = EventSpool(directory: try temporaryDirectory())
        let event = LineageEvent(namespace: "team", payload: .run(RunRecord(id: "r2", job: "train", status: .complete)))
        try spool.spool([event], for: "/stores/scratch.db", recordedBy: "cli:test")
        try Data("not even JSON\n".utf8).write(to: spool.directory.appendingPathComponent("00000000000000000001-other.jsonl"))
        let destination = FlakyDestination()
        await destination.setUp(true)
        let delivery = await spool.deliver(to: destination)
        #expect(delivery.events == 0 && delivery.rejected.isEmpty)
        #expect(spool.pendingFiles.count == 2, "neither file was delivered, rejected or moved")
        #expect(spool.hasPending(for: "/stores/scratch.db") && !spool.hasPending(for: destination.spoolKey))
    }

    @Test("right after the destination failed, events are spooled without waiting for it again")
    func noRepeatedWaits() async throws {
        let spool = EventSpool(directory: try temporaryDirectory())
        let destination = FlakyDestination()
        let session = CaptureSession(destination: destination, spoolKey: "", spool: spool, identity: "cli:test", notice: { _ in })
        let start = LineageEvent(namespace: "team", payload: .run(RunRecord(id: "r3", job: "train", status: .start)))
        let complete = LineageEvent(namespace: "team", payload: .run(RunRecord(id: "r3", job: "train", status: .complete)))
        #expect(await session.record(start) == .spooled)
        await destination.setUp(true)
        #expect(await session.record(complete) == .spooled, "within the retry interval: not tried again")
        #expect(await destination.received.isEmpty)
        #expect(await session.destinationIsDown)
    }
}

@Suite("MLflow joining")
struct MLflowJoiningTests {
    @Test(
        "a script's MLFLOW_TRACKING_URI is pointed at the wrapper's run only when it is the server the run records to",
        arguments: [
            ("http://127.0.0.1:8750", "http://localhost:8750", true), ("http://127.0.0.1:8750/", "http://127.0.0.1:8750", true),
            ("http://127.0.0.1:8751", "http://127.0.0.1:8750", false), ("https://ml.corp/mlflow", "https://ml.corp/pedigree", false),
            ("https://ml.corp/pedigree", "https://ml.corp/pedigree/", true),
            ("http://127.0.0.1:8750/mlflow/run/outer-run", "http://127.0.0.1:8750", true),
            ("file:///tmp/mlruns", "http://127.0.0.1:8750", false),
        ])
    func joining(_ tracking: String, _ server: String, _ joins: Bool) throws {
        var request = RunRequest(
            namespace: try Namespace("default"), command: ["true"], directory: try temporaryDirectory(),
            environment: ["MLFLOW_TRACKING_URI": tracking])
        request.server = URL(string: server)
        let run = try TrainingRun(request, cache: CaptureCache(directory: try temporaryDirectory()), scratch: try temporaryDirectory())
        let child = run.childEnvironment["MLFLOW_TRACKING_URI"]
        if joins {
            let base = tracking.replacingOccurrences(of: "/mlflow/run/outer-run", with: "")
            #expect(child == (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/mlflow/run/\(run.id)")
        } else {
            #expect(child == tracking)
        }
    }
}
