import Foundation
import GRDB
import PedigreeCore
import PedigreeStore
import Testing

/// `pedigree audit`, `checkpoint`, `verify` with checkpoints, `sign` and `attest`, run as a compliance
/// officer or an ML engineer runs them, against a real store, the real model-signing CLI from PyPI and an
/// independent DSSE check written with Python's `cryptography`.
@Suite("pedigree audit and integrity")
struct AuditCommandTests {
    static let digestA = "sha256:" + String(repeating: "a", count: 64)
    static let digestB = "sha256:" + String(repeating: "b", count: 64)

    /// A training run that records all five dimensions, or all but the environment.
    static func trainingRun(id: String, model: String, environment: Bool) -> String {
        let environmentJSON =
            environment
            ? #","environment":{"os":"Linux","cpu":"AMD EPYC","runtime":{"name":"python","version":"3.11.7"},"packages":{"torch":"2.3.0","numpy":"1.26.4"}}"#
            : ""
        return """
            {"type":"run","namespace":"risk","eventTime":"2026-11-20T10:00:00Z","run":{"id":"\(id)","job":"train","status":"COMPLETE",
            "startedAt":"2026-11-20T09:00:00Z","endedAt":"2026-11-20T10:00:00Z",
            "inputs":[{"artifact":{"kind":"dataset","name":"loans","version":"v1","digest":"\(digestA)"},"role":"train"},
                      {"artifact":{"kind":"dataset","name":"loans-holdout","version":"v1","digest":"\(digestB)"},"role":"test"}],
            "outputs":[{"artifact":{"kind":"model","name":"\(model)","digest":"\(ContentDigest(hashing: Array(id.utf8)))"},"role":"model"}],
            "parents":["hf://acme/base-model@0123456789abcdef0123456789abcdef01234567"],
            "code":{"repository":"https://github.com/acme/credit.git","commit":"0123456789abcdef0123456789abcdef01234567","branch":"main","dirty":false},
            "hyperparameters":{"lr":0.01,"seed":7},
            "data":{"transformations":[{"op":"dropna"}],"featureSelection":{"top_k":20},"quality":{"dataset:risk/loans@v1":{"nulls":0}}},
            "metrics":{"auc":0.91}\(environmentJSON)}}
            """.replacingOccurrences(of: "\n", with: "")
    }

    static func audit(_ cli: CLI, _ ref: String) throws -> JSONValue {
        let result = try cli.run(["audit", ref, "--format", "json"])
        return try #require(result.json, "\(result.status) \(result.stderr)")
    }

    static func field(_ report: JSONValue, _ dimension: String, _ name: String) -> JSONValue? {
        report["dimensions"]?.arrayValue?.first { $0["name"] == .string(dimension) }?["fields"]?.arrayValue?.first { $0["name"] == .string(name) }
    }

    @Test("a fully captured model scores complete; one without environment scores lower and names each gap with the command that fills it")
    func completeness() throws {
        let cli = try CLI()
        #expect(try cli.run(["record", "-"], stdin: Self.trainingRun(id: "full-1", model: "credit", environment: true)).status == 0)
        #expect(try cli.run(["record", "-"], stdin: Self.trainingRun(id: "bare-1", model: "credit-bare", environment: false)).status == 0)

        let full = try Self.audit(cli, "model:risk/credit@1")
        #expect(full["score"] == 100, "\(full["dimensions"] ?? .null)")
        #expect(full["dimensions"]?.arrayValue?.allSatisfy { $0["score"] == 100 } == true)
        #expect(full["integrity"]?["events"]?.arrayValue?.allSatisfy { $0["verified"] == true } == true)

        let bare = try Self.audit(cli, "model:risk/credit-bare@1")
        let bareScore = try #require(bare["score"]?.intValue)
        #expect(bareScore < 100)
        let environment = try #require(bare["dimensions"]?.arrayValue?.first { $0["name"] == "environment" })
        // Runtime, packages, operating system and hardware are missing; without a GPU no CUDA is needed: 1 of 5.
        #expect(environment["score"] == 20, "\(environment)")
        let packages = try #require(Self.field(bare, "environment", "packages"))
        #expect(packages["present"] == false)
        #expect(packages["fix"]?.stringValue?.contains("pedigree run") == true, "\(packages)")
        let item = bare["checklist"]?.arrayValue?.first { $0["id"] == "software-versions" }
        #expect(item?["status"] == "missing")
        #expect(item?["evidence"]?.arrayValue?.isEmpty == false, "the run event is the evidence")

        // The Markdown report says the same, in words an auditor reads.
        let markdown = try cli.run(["audit", "model:risk/credit-bare@1"]).stdout
        #expect(markdown.contains("| packages | missing | 0 packages with versions | ` capture with pedigree run --model NAME -- COMMAND"))
        #expect(markdown.contains("## 3. Obligations"))
    }

    @Test("a tampered store fails the audit's integrity section and the audit exits 1")
    func tamperedStoreFailsTheAudit() throws {
        let cli = try CLI()
        #expect(try cli.run(["record", "-"], stdin: Self.trainingRun(id: "full-1", model: "credit", environment: true)).status == 0)
        #expect(try cli.run(["audit", "model:risk/credit@1"]).status == 0)

        let queue = try DatabaseQueue(path: cli.store)
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "DROP TRIGGER events_are_immutable")
            try db.execute(sql: "UPDATE events SET body = replace(body, '\"lr\":0.01', '\"lr\":0.5') WHERE namespace = 'risk' AND ns_seq = 1")
        }
        let result = try cli.run(["audit", "model:risk/credit@1", "--format", "json"])
        #expect(result.status == 1)
        let report = try #require(result.json)
        let run = try #require(report["integrity"]?["events"]?.arrayValue?.first { $0["type"] == "run" })
        #expect(run["verified"] == false)
        #expect(run["problem"]?.stringValue?.contains("the event was altered") == true, "\(run)")
        #expect(report["checklist"]?.arrayValue?.first { $0["id"] == "event-logging" }?["status"] == "missing")
    }

    /// Rewrites event `sequence` of `namespace` the way someone with database access and the chain's
    /// algorithm would: a new body, and every digest and chain hash from there on recomputed, so the chain
    /// verifies on its own.
    static func rewriteHistory(_ store: String, namespace: String, sequence: Int64, change: (String) -> String) throws {
        let queue = try DatabaseQueue(path: store)
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "DROP TRIGGER IF EXISTS events_are_immutable")
            var previous =
                try String.fetchOne(
                    db, sql: "SELECT chain_hash FROM events WHERE namespace = ? AND ns_seq = ?", arguments: [namespace, sequence - 1])
                ?? EventChain.genesis
            let rows = try Row.fetchAll(
                db, sql: "SELECT ns_seq, recorded_at, recorded_by, body FROM events WHERE namespace = ? AND ns_seq >= ? ORDER BY ns_seq",
                arguments: [namespace, sequence])
            for row in rows {
                let seq: Int64 = row[0], at: Int64 = row[1], by: String = row[2]
                var body: String = row[3]
                if seq == sequence { body = change(body) }
                let digest = ContentDigest(hashing: Array(body.utf8))
                let hash = EventChain.link(
                    previous: previous, namespace: namespace, sequence: seq, recordedAt: Timestamp(microseconds: at), recordedBy: by, digest: digest)
                try db.execute(
                    sql: "UPDATE events SET body = ?, digest = ?, prev_hash = ?, chain_hash = ? WHERE namespace = ? AND ns_seq = ?",
                    arguments: [body, digest.hex, previous, hash, namespace, seq])
                previous = hash
            }
            try db.execute(sql: "UPDATE chain_heads SET chain_hash = ? WHERE namespace = ?", arguments: [previous, namespace])
        }
    }

    /// Appends `event` to the end of `namespace`'s chain straight into the database, its chain hash and the
    /// head recomputed: what someone with the database file and the chain's algorithm, but no key, can do.
    static func appendForged(_ event: LineageEvent, to namespace: String, in db: Database) throws {
        let head = try #require(
            try Row.fetchOne(db, sql: "SELECT ns_seq, chain_hash, recorded_at FROM chain_heads WHERE namespace = ?", arguments: [namespace]))
        let sequence: Int64 = head[0] + 1, previous: String = head[1], at: Int64 = head[2] + 1
        let hash = EventChain.link(
            previous: previous, namespace: namespace, sequence: sequence, recordedAt: Timestamp(microseconds: at), recordedBy: "mallory",
            digest: event.digest)
        try db.execute(
            sql: """
                INSERT INTO events(seq, namespace, ns_seq, type, subject, digest, body, recorded_at, recorded_by, prev_hash, chain_hash)
                VALUES ((SELECT max(seq) + 1 FROM events), ?, ?, ?, ?, ?, ?, ?, 'mallory', ?, ?)
                """,
            arguments: [
                namespace, sequence, event.typeName, event.subject, event.digest.hex, String(decoding: event.canonicalBytes, as: UTF8.self), at,
                previous,
                hash,
            ])
        try db.execute(
            sql: "UPDATE chain_heads SET ns_seq = ?, chain_hash = ?, recorded_at = ? WHERE namespace = ?", arguments: [sequence, hash, at, namespace])
    }

    @Test("after a signed checkpoint, history rewritten with every hash recomputed, or truncated, is detected and named")
    func checkpointsDetectRewritesAndTruncation() throws {
        let cli = try CLI()
        #expect(try cli.run(["record", "-"], stdin: Self.trainingRun(id: "full-1", model: "credit", environment: true)).status == 0)
        #expect(try cli.run(["record", "-"], stdin: Self.trainingRun(id: "full-2", model: "credit", environment: true)).status == 0)
        let published = cli.home.deletingLastPathComponent().appendingPathComponent("published.jsonl").path
        let checkpoint = try cli.run(["checkpoint", "--publish", published])
        #expect(checkpoint.status == 0 && checkpoint.stdout.contains("risk: 2 events"), "\(checkpoint.stdout)\(checkpoint.stderr)")
        let key = cli.home.appendingPathComponent("checkpoint-key.pem").path
        let attributes = try FileManager.default.attributesOfItem(atPath: key)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600, "the signing key is readable by its owner only")
        let publicKey = cli.home.deletingLastPathComponent().appendingPathComponent("checkpoint.pub").path
        #expect(try cli.run(["checkpoint", "--export-public-key", publicKey]).status == 0)
        #expect(try cli.run(["verify"]).stdout.contains("1 signed checkpoint holds"))
        let audited = try Self.audit(cli, "model:risk/credit@2")
        #expect(audited["checklist"]?.arrayValue?.first { $0["id"] == "signed-checkpoints" }?["status"] == "met")

        // A hyperparameter rewritten in place, every hash after it recomputed: the chain alone still verifies…
        try Self.rewriteHistory(cli.store, namespace: "risk", sequence: 1) { $0.replacingOccurrences(of: "\"lr\":0.01", with: "\"lr\":0.5") }
        let plain = try cli.run(["verify", "--public-key", publicKey, "--checkpoints", published])
        #expect(plain.status == 1, "\(plain.stdout)")
        // Both the checkpoint recorded in the store and the one published outside it name the rewrite.
        #expect(plain.stdout.contains("namespace risk, event #2: the checkpoint signed"), "\(plain.stdout)")
        #expect(plain.stdout.contains("namespace risk, event #2: the published checkpoint signed"), "\(plain.stdout)")
        #expect(plain.stdout.contains("history up to it was rewritten"))
        // …and the audit names the checkpoint that no longer holds.
        let rewritten = try cli.run(["audit", "model:risk/credit@2", "--format", "json"])
        #expect(rewritten.status == 1)
        #expect(rewritten.json?["integrity"]?["checkpointProblems"]?[0]?.stringValue?.contains("namespace risk, event #2") == true)

        // Truncation: a fresh store, checkpointed, then its last event removed and the head moved back.
        let second = try CLI()
        #expect(try second.run(["record", "-"], stdin: Self.trainingRun(id: "full-1", model: "credit", environment: true)).status == 0)
        #expect(try second.run(["record", "-"], stdin: Self.trainingRun(id: "full-2", model: "credit", environment: true)).status == 0)
        #expect(try second.run(["checkpoint"]).status == 0)
        let queue = try DatabaseQueue(path: second.store)
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "DROP TRIGGER IF EXISTS events_are_immutable")
            try db.execute(sql: "DROP TRIGGER IF EXISTS events_are_permanent")
            try db.execute(sql: "DELETE FROM events WHERE namespace = 'risk' AND ns_seq = 2")
            try db.execute(
                sql:
                    "UPDATE chain_heads SET ns_seq = 1, chain_hash = (SELECT chain_hash FROM events WHERE namespace = 'risk' AND ns_seq = 1) WHERE namespace = 'risk'"
            )
        }
        let truncated = try second.run(["verify"])
        #expect(truncated.status == 1)
        #expect(truncated.stdout.contains("namespace risk, event #2: the checkpoint signed"), "\(truncated.stdout)")
        #expect(truncated.stdout.contains("holds 2 events ending in"), "\(truncated.stdout)")
        #expect(truncated.stdout.contains("truncated or replaced"))
    }

    @Test("a checkpoint that its key does not verify is refused at the boundary and nothing is stored")
    func forgedCheckpointIsRefused() throws {
        let cli = try CLI()
        #expect(try cli.run(["record", "-"], stdin: Self.trainingRun(id: "full-1", model: "credit", environment: true)).status == 0)
        let made = try cli.run(["checkpoint", "--json"])
        var record = try #require(made.json?.objectValue)
        record["heads"] = [["namespace": "risk", "events": 1, "head": .string(String(repeating: "e", count: 64))]]
        let forged = JSONValue.object(["type": "checkpoint", "namespace": "_checkpoints", "checkpoint": .object(record)]).canonicalString
        let before = try cli.eventCount()
        let refused = try cli.run(["record", "-"], stdin: forged)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("checkpoint.signature") && refused.stderr.contains("does not verify"), "\(refused.stderr)")
        #expect(try cli.eventCount() == before)
        let misplaced = try cli.run(
            ["record", "-"], stdin: #"{"type":"retirement","namespace":"_checkpoints","retirement":{"model":"model:_checkpoints/x@1","reason":"x"}}"#)
        #expect(misplaced.stderr.contains("reserved for checkpoints"), "\(misplaced.stderr)")
    }

    /// A model directory recorded by `pedigree run`, and an EC P-256 key pair made with openssl.
    struct SignedModelProject {
        let cli: CLI
        let project: TrainingProject
        let model: URL

        /// `signInside`: the training command signs its output with model_signing itself.
        init(signInside: Bool = false) throws {
            cli = try CLI()
            project = try TrainingProject()
            model = project.root.appendingPathComponent("model")
            try Self.shell(
                "openssl ecparam -name prime256v1 -genkey -noout -out key.pem && openssl ec -in key.pem -pubout -out key.pub", in: project.root)
            try train(signInside: signInside)
        }

        @discardableResult
        func train(signInside: Bool, environment: [String: String] = [:]) throws -> CLI.Result {
            let sign = signInside ? " && \(Self.modelSigningCommand) sign key model --private_key key.pem --signature model/model.sig" : ""
            let trained = try cli.run(
                [
                    "run", "--namespace", "risk", "--model", "credit", "--output", "model", "--", "sh", "-c",
                    "mkdir -p model/sub && printf 'weights' > model/weights.bin && printf '{}' > model/sub/config.json\(sign)",
                ],
                environment: environment, in: project.root)
            #expect(trained.status == 0, "\(trained.stderr)")
            return trained
        }

        /// The CLI the model-signing package installs beside the test Python.
        static var modelSigningCommand: String {
            testPython.contains("/")
                ? URL(fileURLWithPath: testPython).deletingLastPathComponent().appendingPathComponent("model_signing").path : "model_signing"
        }

        @discardableResult
        static func shell(_ command: String, in directory: URL) throws -> (status: Int32, output: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", command]
            process.currentDirectoryURL = directory
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, output)
        }

        func modelSigning(_ arguments: String) throws -> (status: Int32, output: String) {
            try Self.shell("\(Self.modelSigningCommand) \(arguments)", in: project.root)
        }
    }

    @Test(
        "the model_signing CLI verifies a Pedigree signature and rejects it after a one-byte change; the audit shows the signature",
        .enabled(if: pythonHas("model_signing")))
    func modelSigningVerifiesPedigreeSignatures() throws {
        let setup = try SignedModelProject()
        let signed = try setup.cli.run(["sign", "model:risk/credit@1", "--key", "key.pem"], in: setup.project.root)
        #expect(signed.status == 0, "\(signed.stdout) \(signed.stderr)")
        let verified = try setup.modelSigning("verify key model --signature model/model.sig --public_key key.pub")
        #expect(verified.status == 0 && verified.output.contains("Verification succeeded"), "\(verified.output)")

        let report = try Self.audit(setup.cli, "model:risk/credit@1")
        let signature = try #require(report["integrity"]?["signatures"]?[0])
        #expect(signature["verified"] == true && signature["format"] == "openssf-model-signing/v1.0")
        #expect(report["checklist"]?.arrayValue?.first { $0["id"] == "cybersecurity" }?["status"] == "met")

        // Deploying the signed directory records the signature's check too (model.sig aside, it is the version).
        try Data(#"{"replicas": 2}"#.utf8).write(to: setup.project.root.appendingPathComponent("serving.json"))
        let deployed = try setup.cli.run(
            ["deploy", "model:risk/credit@1", "--endpoint", "risk/credit-api", "--config", "serving.json"],
            environment: ["PEDIGREE_SIGNING_PUBLIC_KEY": setup.project.root.appendingPathComponent("key.pub").path], in: setup.project.root)
        #expect(deployed.status == 0 && deployed.stderr.contains("model.sig: verified"), "\(deployed.stderr)")
        #expect(try Self.audit(setup.cli, "model:risk/credit@1")["integrity"]?["signatures"]?.arrayValue?.count == 2)

        try Data("weightz".utf8).write(to: setup.model.appendingPathComponent("weights.bin"))
        let tampered = try setup.modelSigning("verify key model --signature model/model.sig --public_key key.pub")
        #expect(tampered.status != 0 && tampered.output.contains("weights.bin"), "\(tampered.output)")
        // A directory that no longer holds the recorded version is not signed.
        let refused = try setup.cli.run(["sign", "model:risk/credit@1", "--key", "key.pem"], in: setup.project.root)
        #expect(refused.status != 0 && refused.stderr.contains("not model:risk/credit@1"), "\(refused.stderr)")
    }

    @Test(
        "pedigree run verifies and records a signature made by model_signing sign key, and records a failed one as failed",
        .enabled(if: pythonHas("model_signing")))
    func pedigreeVerifiesModelSigningSignatures() throws {
        let publicKey = "PEDIGREE_SIGNING_PUBLIC_KEY"
        // The training command signs its output with model_signing; pedigree run finds model.sig beside it.
        let setup = try SignedModelProject(signInside: false)
        let signedRun = try setup.train(signInside: true, environment: [publicKey: setup.project.root.appendingPathComponent("key.pub").path])
        #expect(signedRun.stderr.contains("model.sig: verified"), "\(signedRun.stderr)")
        let signatures = try #require(Self.audit(setup.cli, "model:risk/credit@2")["integrity"]?["signatures"]?.arrayValue)
        #expect(signatures.count == 1 && signatures[0]["verified"] == true, "\(signatures)")

        // Checked with another key, the same signature is recorded as not verified, with why.
        try SignedModelProject.shell(
            "openssl ecparam -name prime256v1 -genkey -noout -out other.pem && openssl ec -in other.pem -pubout -out other.pub",
            in: setup.project.root)
        let other = try setup.train(signInside: true, environment: [publicKey: setup.project.root.appendingPathComponent("other.pub").path])
        #expect(other.stderr.contains("NOT verified: signed by another key"), "\(other.stderr)")
    }

    @Test("the attestation verifies with the public key (Pedigree's and an independent DSSE check) and fails after any change")
    func attestation() throws {
        let setup = try SignedModelProject()
        let root = setup.project.root
        let made = try setup.cli.run(["attest", "model:risk/credit@1", "--key", "key.pem", "-o", "credit.intoto.json"], in: root)
        #expect(made.status == 0, "\(made.stderr)")
        let ok = try setup.cli.run(["attest", "--verify", "credit.intoto.json", "--public-key", "key.pub"], in: root)
        #expect(ok.status == 0 && ok.stdout.contains("ok: model:risk/credit@1"), "\(ok.stdout)\(ok.stderr)")

        let bundle = try #require(try JSONValue.parse(Data(contentsOf: root.appendingPathComponent("credit.intoto.json"))))
        let payload = try #require(bundle["dsseEnvelope"]?["payload"]?.stringValue.flatMap { Data(base64Encoded: $0) })
        let statement = try JSONValue.parse(payload)
        #expect(statement["predicateType"] == "https://slsa.dev/provenance/v1")
        #expect(statement["predicate"]?["buildDefinition"]?["resolvedDependencies"]?.arrayValue?.isEmpty == false)

        // An independent check of the DSSE signature, with Python's cryptography.
        let check = """
            import base64, json, sys
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import ec
            b = json.load(open(sys.argv[1])); env = b["dsseEnvelope"]; p = base64.b64decode(env["payload"]); t = env["payloadType"].encode()
            pae = b"DSSEv1 %d %s %d " % (len(t), t, len(p)) + p
            serialization.load_pem_public_key(open("key.pub", "rb").read()).verify(base64.b64decode(env["signatures"][0]["sig"]), pae, ec.ECDSA(hashes.SHA256()))
            print("independent ok")
            """
        try Data(check.utf8).write(to: root.appendingPathComponent("dsse_check.py"))
        if pythonHas("cryptography") {
            let independent = try SignedModelProject.shell("\(testPython) dsse_check.py credit.intoto.json", in: root)
            #expect(independent.status == 0 && independent.output.contains("independent ok"), "\(independent.output)")
        }

        // One changed byte of the statement: both checks fail.
        var altered = try #require(bundle.objectValue)
        let statementText = String(decoding: payload, as: UTF8.self).replacingOccurrences(of: "model:risk/", with: "model:risc/")
        var envelope = try #require(altered["dsseEnvelope"]?.objectValue)
        envelope["payload"] = .string(Data(statementText.utf8).base64EncodedString())
        altered["dsseEnvelope"] = .object(envelope)
        try Data(JSONValue.object(altered).canonicalString.utf8).write(to: root.appendingPathComponent("altered.json"))
        let failed = try setup.cli.run(["attest", "--verify", "altered.json", "--public-key", "key.pub"], in: root)
        #expect(failed.status == 1 && failed.stderr.contains("does not verify"), "\(failed.stderr)")
        if pythonHas("cryptography") {
            #expect(try SignedModelProject.shell("\(testPython) dsse_check.py altered.json", in: root).status != 0)
        }
    }

    @Test("audit --all lists every model line with score, owner and live endpoints, as a table, CSV and JSON; PDF and HTML are self-contained")
    func inventoryAndFormats() throws {
        let cli = try CLI()
        #expect(try cli.run(["quickstart"]).status == 0)
        let table = try cli.run(["audit", "--all"])
        #expect(table.status == 0 && table.stdout.contains("model:fraud-team/fraud@2") && table.stdout.contains("deployment:fraud-team/fraud-api"))
        let csv = try cli.run(["audit", "--all", "--format", "csv"]).stdout
        #expect(csv.hasPrefix("model,versions,score,owner,risk_tier,serving,last_checkpoint,retired\n"))
        let json = try #require(try cli.run(["audit", "--all", "--json"]).json)
        #expect((json["models"]?.arrayValue?.count ?? 0) >= 2)

        let html = try cli.run(["audit", "model:fraud-team/fraud@2", "--format", "html"]).stdout
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        // Self-contained: no script, stylesheet, image or font is fetched from anywhere.
        for fetch in ["<script", "<link", "<img", "<iframe", "url(", "@import"] { #expect(!html.contains(fetch), "\(fetch)") }
    }

    @Test("recorded text is escaped in the Markdown, HTML and CSV outputs")
    func hostileTextIsEscaped() throws {
        let cli = try CLI()
        let hostile = #"<img src=x onerror=alert(1)>|**x**"#
        let event = """
            {"type":"run","namespace":"risk","run":{"id":"h-1","job":"train","status":"COMPLETE",
            "outputs":[{"artifact":{"kind":"model","name":"credit","digest":"sha256:\(String(repeating: "9", count: 64))","facets":{"owner":"=HYPERLINK(\\"x\\")","riskTier":"\(hostile.replacingOccurrences(of: "\"", with: "\\\""))"}},"role":"model"}],
            "hyperparameters":{"\(hostile)":1}}}
            """.replacingOccurrences(of: "\n", with: "")
        let recorded = try cli.run(["record", "-"], stdin: event)
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let html = try cli.run(["audit", "model:risk/credit@1", "--format", "html"]).stdout
        #expect(!html.contains("<img") && html.contains("&lt;img src=x onerror=alert(1)&gt;"))
        let markdown = try cli.run(["audit", "model:risk/credit@1"]).stdout
        #expect(!markdown.contains("<img") && markdown.contains(#"\*\*x\*\*"#) && markdown.contains(#"\|"#))
        let csv = try cli.run(["audit", "--all", "--format", "csv"]).stdout
        #expect(csv.contains("'=HYPERLINK"), "a formula is not left for a spreadsheet to evaluate: \(csv)")
    }

    @Test(
        "the CycloneDX 1.6 ML-BOM validates with cyclonedx-python-lib and the SPDX 3.0.1 document with the bundled schema; each validator rejects a broken copy",
        .enabled(if: pythonHas("cyclonedx") && pythonHas("jsonschema")))
    func billsOfMaterials() throws {
        let cli = try CLI()
        #expect(try cli.run(["record", "-"], stdin: Self.trainingRun(id: "full-1", model: "credit", environment: true)).status == 0)
        let directory = cli.home.deletingLastPathComponent()
        for format in ["cyclonedx", "spdx"] {
            let made = try cli.run([
                "export", "model:risk/credit@1", "--format", format, "-o", directory.appendingPathComponent("\(format).json").path,
            ])
            #expect(made.status == 0, "\(made.stderr)")
        }
        let cyclone = try JSONValue.parse(Data(contentsOf: directory.appendingPathComponent("cyclonedx.json")))
        let model = try #require(cyclone["metadata"]?["component"])
        #expect(model["type"] == "machine-learning-model" && model["hashes"]?[0]?["alg"] == "SHA-256")
        #expect(model["modelCard"]?["modelParameters"]?["datasets"]?.arrayValue?.count == 2)
        #expect(model["pedigree"]?["ancestors"]?[0]?["name"] == "acme/base-model")
        #expect(cyclone["components"]?.arrayValue?.contains { $0["purl"] == "pkg:pypi/torch@2.3.0" } == true)
        #expect(model["properties"]?.arrayValue?.contains { $0["name"] == "pedigree.hyperparameter.lr" && $0["value"] == "0.01" } == true)
        let spdx = try JSONValue.parse(Data(contentsOf: directory.appendingPathComponent("spdx.json")))
        let relationships = spdx["@graph"]?.arrayValue?.filter { $0["type"] == "Relationship" }.compactMap { $0["relationshipType"]?.stringValue }
        #expect(Set(relationships ?? []) == ["trainedOn", "testedOn", "ancestorOf", "dependsOn"])

        // The same export twice is byte-identical.
        let again = try cli.run(["export", "model:risk/credit@1", "--format", "cyclonedx"]).stdout
        #expect(again == (try String(contentsOf: directory.appendingPathComponent("cyclonedx.json"), encoding: .utf8)))

        let validate = """
            import copy, json, sys
            from cyclonedx.schema import SchemaVersion
            from cyclonedx.validation.json import JsonStrictValidator
            from jsonschema import Draft202012Validator
            cdx = open(sys.argv[1]).read()
            error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(cdx)
            assert error is None, f"cyclonedx: {error}"
            broken = json.loads(cdx); broken["metadata"]["component"]["hashes"][0]["alg"] = "sha256"
            assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(broken)) is not None, "cyclonedx accepted a broken BOM"
            validator = Draft202012Validator(json.load(open(sys.argv[3])))
            spdx = json.load(open(sys.argv[2]))
            errors = [e.message for e in validator.iter_errors(spdx)]
            assert not errors, f"spdx: {errors[:3]}"
            broken = copy.deepcopy(spdx)
            for node in broken["@graph"]:
                node.pop("dataset_datasetType", None)
            assert list(validator.iter_errors(broken)), "the SPDX schema accepted a dataset without its type"
            print("both valid")
            """
        try Data(validate.utf8).write(to: directory.appendingPathComponent("validate.py"))
        let checked = try SignedModelProject.shell(
            "\(testPython) validate.py cyclonedx.json spdx.json \(fixture("spdx/spdx-json-schema-3.0.1.json"))", in: directory)
        #expect(checked.status == 0 && checked.output.contains("both valid"), "\(checked.output)")
    }

    @Test("a redacted store still verifies, the value is in no file of the store, and exports and the audit show it as redacted")
    func redactionLeavesNoCopy() throws {
        let cli = try CLI()
        let secret = "alice.secret@example.com"
        let event = Self.trainingRun(id: "pii-1", model: "credit", environment: true)
            .replacingOccurrences(
                of: #""hyperparameters":{"lr":0.01,"seed":7}"#, with: #""hyperparameters":{"lr":0.01,"seed":7,"customer_email":"\#(secret)"}"#)
        #expect(try cli.run(["record", "-"], stdin: event).status == 0)
        #expect(try cli.run(["checkpoint"]).status == 0)
        let storeFiles = { () -> [String] in
            let directory = URL(fileURLWithPath: cli.store).deletingLastPathComponent()
            return try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("pedigree.db") }.map {
                directory.appendingPathComponent($0).path
            }
        }
        #expect(
            try storeFiles().contains {
                FileManager.default.contents(atPath: $0).map { String(decoding: $0, as: UTF8.self).contains(secret) } ?? false
            })

        let notRedactable = try cli.run(["redact", "model:risk/credit@1", "--field", "run.id", "--reason", "x"])
        #expect(notRedactable.status == 64 && notRedactable.stderr.contains("cannot be redacted"), "\(notRedactable.stderr)")
        let redacted = try cli.run([
            "redact", "model:risk/credit@1", "--field", "run.hyperparameters.customer_email", "--reason", "personal data (GDPR art. 17)",
        ])
        #expect(
            redacted.status == 0 && redacted.stdout.contains("redacted risk #1 (run): run.hyperparameters.customer_email"),
            "\(redacted.stdout)\(redacted.stderr)")
        let verify = try cli.run(["verify"])
        #expect(verify.status == 0 && verify.stdout.contains("1 signed checkpoint holds"), "\(verify.stdout)")
        for file in try storeFiles() {
            let bytes = try #require(FileManager.default.contents(atPath: file))
            #expect(!String(decoding: bytes, as: UTF8.self).contains(secret), "\(file) still holds the value")
        }
        let bom = try cli.run(["export", "model:risk/credit@1", "--format", "cyclonedx"]).stdout
        let properties = try #require(try JSONValue.parse(bom)["metadata"]?["component"]?["properties"]?.arrayValue)
        #expect(properties.contains { $0["name"] == "pedigree.hyperparameter.customer_email" && $0["value"] == "[redacted]" }, "\(properties)")
        #expect(!bom.contains(secret))
        let audit = try cli.run(["audit", "model:risk/credit@1"]).stdout
        #expect(audit.contains("### Redactions") && audit.contains("personal data (GDPR art. 17)"))

        // The export of a redacted store imports into an empty one, and verifies there.
        let backup = cli.home.deletingLastPathComponent().appendingPathComponent("backup.jsonl").path
        #expect(try cli.run(["export", "--all", backup]).status == 0)
        let copy = try CLI()
        let imported = try copy.run(["import", backup])
        #expect(imported.status == 0 && imported.stdout.hasPrefix("ok:"), "\(imported.stdout)\(imported.stderr)")
        // An export altered to look redacted, with no redaction behind it, is refused at that event.
        let forged = try String(contentsOfFile: backup, encoding: .utf8).replacingOccurrences(of: #"\"lr\":0.01"#, with: #"\"lr\":\"[redacted]\""#)
        let forgedFile = cli.home.deletingLastPathComponent().appendingPathComponent("forged.jsonl").path
        try forged.write(toFile: forgedFile, atomically: true, encoding: .utf8)
        let refused = try CLI().run(["import", forgedFile])
        #expect(refused.status != 0 && refused.stderr.contains("was altered"), "\(refused.stderr)")

        // Retention: nothing is old enough under a ten-year policy.
        let policy = cli.home.deletingLastPathComponent().appendingPathComponent("policy.json")
        try Data(#"{"risk": 10}"#.utf8).write(to: policy)
        let retention = try cli.run(["retention", "apply", "--policy", policy.path, "--dry-run"])
        #expect(retention.status == 0 && retention.stdout.contains("nothing to redact"), "\(retention.stdout)\(retention.stderr)")
    }

    /// Headless Chromium, which `--format pdf` prints with (scripts/test installs it).
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test("--format pdf prints the HTML report to a PDF with headless Chromium", .enabled(if: chromium != nil))
    func pdf() throws {
        let cli = try CLI()
        #expect(try cli.run(["quickstart"]).status == 0)
        let file = cli.home.deletingLastPathComponent().appendingPathComponent("audit.pdf")
        let printed = try cli.run(["audit", "model:fraud-team/fraud@2", "--format", "pdf", "-o", file.path])
        #expect(printed.status == 0, "\(printed.stderr)")
        let bytes = try Data(contentsOf: file)
        #expect(bytes.starts(with: Array("%PDF-".utf8)))
        #expect(String(decoding: bytes, as: UTF8.self).contains("/Type /Page") || String(decoding: bytes, as: UTF8.self).contains("/Type/Page"))
        #expect(try cli.run(["audit", "model:fraud-team/fraud@2", "--format", "pdf"]).status == 64, "a PDF needs a file")
    }

    @Test("a redaction after a checkpoint must be signed with its key: a forged one added through SQL is caught, a signed one keeps the cover")
    func redactionsAfterACheckpoint() throws {
        let cli = try CLI()
        #expect(try cli.run(["record", "-"], stdin: Self.trainingRun(id: "full-1", model: "credit", environment: true)).status == 0)
        #expect(try cli.run(["checkpoint"]).status == 0)

        // Without the checkpoint's key the store refuses to redact a checkpointed event.
        let other = cli.home.deletingLastPathComponent().appendingPathComponent("other.pem")
        _ = try SignedModelProject.shell("openssl ecparam -name prime256v1 -genkey -noout -out \(other.path)", in: cli.home)
        let unsigned = try cli.run(["redact", "run:full-1", "--field", "run.hyperparameters.lr", "--reason", "x", "--key", other.path])
        #expect(unsigned.status == 6 && unsigned.stderr.contains("sign the redaction with that key"), "\(unsigned.stderr)")

        // With it (the default key), the redaction verifies and the audit still counts the event as checkpointed.
        let signed = try cli.run(["redact", "run:full-1", "--field", "run.hyperparameters.lr", "--reason", "not needed"])
        #expect(signed.status == 0, "\(signed.stderr)")
        #expect(try cli.run(["verify"]).status == 0)
        let audit = try Self.audit(cli, "model:risk/credit@1")
        #expect(audit["integrity"]?["events"]?[0]?["checkpoint"] != nil, "\(audit["integrity"] ?? .null)")

        // Someone with the database rewrites the event's inputs and appends an unsigned "redaction" vouching
        // for the new body, chain hash and head recomputed: the checkpoint's key is what they lack.
        let queue = try DatabaseQueue(path: cli.store)
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "DROP TRIGGER IF EXISTS events_are_immutable")
            let body = try #require(try String.fetchOne(db, sql: "SELECT body FROM events WHERE namespace = 'risk' AND ns_seq = 1"))
            let altered = body.replacingOccurrences(of: "loans-holdout", with: "loans-cherry")
            let original = try #require(try String.fetchOne(db, sql: "SELECT digest FROM events WHERE namespace = 'risk' AND ns_seq = 1"))
            let redaction = LineageEvent(
                namespace: "risk",
                payload: .redaction(
                    RedactionRecord(
                        namespace: "risk", sequence: 1, digest: ContentDigest(hex: original)!, fields: ["run.hyperparameters.lr"], reason: "forged",
                        redactedDigest: ContentDigest(hashing: Array(altered.utf8)))))
            try db.execute(sql: "UPDATE events SET body = ? WHERE namespace = 'risk' AND ns_seq = 1", arguments: [altered])
            try Self.appendForged(redaction, to: "risk", in: db)
        }
        let verify = try cli.run(["verify"])
        #expect(verify.status == 1)
        #expect(verify.stdout.contains("namespace risk, event #1: was redacted after the checkpoint signed"), "\(verify.stdout)")
        let forged = try cli.run(["audit", "model:risk/credit@1", "--format", "json"])
        #expect(forged.status == 1 && forged.json?["integrity"]?["events"]?[0]?["checkpoint"] == nil)
    }

    @Test("checkpoints deleted from the log, with the history they covered rewritten, are noticed from this machine's record of them")
    func deletedCheckpoints() throws {
        let cli = try CLI()
        #expect(try cli.run(["record", "-"], stdin: Self.trainingRun(id: "full-1", model: "credit", environment: true)).status == 0)
        #expect(try cli.run(["checkpoint"]).status == 0)
        let queue = try DatabaseQueue(path: cli.store)
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "DROP TRIGGER IF EXISTS events_are_permanent")
            try db.execute(sql: "DELETE FROM events WHERE namespace = '_checkpoints'")
            try db.execute(sql: "DELETE FROM chain_heads WHERE namespace = '_checkpoints'")
        }
        try Self.rewriteHistory(cli.store, namespace: "risk", sequence: 1) { $0.replacingOccurrences(of: "loans-holdout", with: "loans-cherry") }
        let verify = try cli.run(["verify"])
        #expect(verify.status == 1)
        #expect(verify.stdout.contains("is missing from the store's log: it was removed"), "\(verify.stdout)")
        #expect(verify.stdout.contains("namespace risk, event #1: the published checkpoint signed"), "\(verify.stdout)")
    }

    @Test("a forged redaction whose body names another namespace vouches for nothing, in verify and in the audit")
    func redactionFromAnotherNamespace() throws {
        let cli = try CLI()
        #expect(try cli.run(["record", "-"], stdin: Self.trainingRun(id: "full-1", model: "credit", environment: true)).status == 0)
        let queue = try DatabaseQueue(path: cli.store)
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "DROP TRIGGER IF EXISTS events_are_immutable")
            let body = try #require(try String.fetchOne(db, sql: "SELECT body FROM events WHERE namespace = 'risk' AND ns_seq = 1"))
            let altered = body.replacingOccurrences(of: #""lr":0.01"#, with: #""lr":"[redacted]""#)
            let original = try #require(try String.fetchOne(db, sql: "SELECT digest FROM events WHERE namespace = 'risk' AND ns_seq = 1"))
            // Recorded in namespace zz (where no checkpoint could ask for a signature), filed under risk.
            let redaction = LineageEvent(
                namespace: "zz",
                payload: .redaction(
                    RedactionRecord(
                        namespace: "zz", sequence: 1, digest: ContentDigest(hex: original)!, fields: ["run.hyperparameters.lr"], reason: "forged",
                        redactedDigest: ContentDigest(hashing: Array(altered.utf8)))))
            try db.execute(sql: "UPDATE events SET body = ? WHERE namespace = 'risk' AND ns_seq = 1", arguments: [altered])
            try Self.appendForged(redaction, to: "risk", in: db)
        }
        #expect(try cli.run(["verify"]).status == 1)
        let audit = try cli.run(["audit", "model:risk/credit@1", "--format", "json"])
        #expect(audit.status == 1)
        #expect(audit.json?["integrity"]?["events"]?[0]?["problem"]?.stringValue?.contains("altered") == true, "\(audit.stdout)")
    }

    @Test("a model.sig checked without a public key is recorded as 'signer not checked': the audit neither fails nor calls it verified")
    func signatureWithoutKey() throws {
        let setup = try SignedModelProject(signInside: false)
        guard pythonHas("model_signing") else { return }
        let run = try setup.train(signInside: true)
        #expect(run.stderr.contains("model.sig: NOT verified: the files match the signed manifest"), "\(run.stderr)")
        let audit = try setup.cli.run(["audit", "model:risk/credit@2", "--format", "json"])
        #expect(audit.status == 0)
        #expect(audit.json?["integrity"]?["signatures"]?[0]?["filesMatch"] == true)
        #expect(audit.json?["checklist"]?.arrayValue?.first { $0["id"] == "cybersecurity" }?["status"] == "partly met")
    }
}
