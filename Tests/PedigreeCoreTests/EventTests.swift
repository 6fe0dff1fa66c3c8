import Foundation
import PedigreeCore
import Testing

@Suite("Native events")
struct EventTests {
    @Test("equivalent spellings of one event have one digest")
    func normalisation() throws {
        let short = try LineageEvent(
            json: JSONValue.parse(
                """
                {"type": "run", "namespace": "fraud-team", "run": {"id": "R1", "job": "train",
                 "inputs": [{"ref": "dataset:warehouse/tx@v1", "role": "train"}]}}
                """))
        let long = try LineageEvent(
            json: JSONValue.parse(
                """
                {"run": {"job": "train", "id": "r1",
                 "inputs": [{"artifact": {"kind": "dataset", "namespace": "warehouse", "name": "tx", "version": "v1"}, "role": "train"}]},
                 "namespace": "fraud-team", "type": "run"}
                """))
        #expect(short.digest == long.digest)
        #expect(short.subject == "run:r1")
    }

    @Test(
        "invalid events name the field at fault",
        arguments: [
            (#"{"namespace": "a", "run": {}}"#, "type"),
            (
                #"{"type": "run", "namespace": "a", "run": {"id": "r", "job": "j", "inputs": [{"ref": "dataset:x/y", "role": "train"}, {"role": "x"}]}}"#,
                "run.inputs[1]"
            ),
            (#"{"type": "run", "namespace": "a", "run": {"id": "r", "job": "j", "hyperparameter": {}}}"#, "run.hyperparameter"),
            (
                #"{"type": "run", "namespace": "a", "run": {"id": "r", "job": "j", "environment": {"packages": {"torch": 2}}}}"#,
                "run.environment.packages.torch"
            ),
            (#"{"type": "artifact", "namespace": "a", "artifact": {"kind": "dataset", "name": "x", "digest": "md5:abc"}}"#, "artifact.digest"),
            (#"{"type": "deployment", "namespace": "a", "deployment": {"endpoint": "e", "model": "model:a/m@1"}}"#, "deployment.validFrom"),
            (#"{"type": "run", "namespace": "a", "run": {"id": "r", "job": "j", "status": "DONE"}}"#, "run.status"),
            (#"{"type": "run", "namespace": "a", "run": {"id": "r", "job": "j", "startedAt": "yesterday"}}"#, "run.startedAt"),
            (#"{"type": "run", "namespace": "a", "run": {"id": "r", "job": "j", "parents": ["dataset:a/b@1"]}}"#, "run.parents[0]"),
        ])
    func validation(json: String, field: String) throws {
        let value = try JSONValue.parse(json)
        #expect {
            try LineageEvent(json: value)
        } throws: { error in
            (error as? ValidationError)?.field == field
        }
    }

    @Test("START then COMPLETE fold into one run")
    func merging() throws {
        var start = RunRecord(id: "r", job: "train", status: .start)
        start.startedAt = Timestamp("2026-01-01T00:00:00Z")
        start.hyperparameters = ["lr": 0.1]
        start.inputs = [
            ArtifactUse(artifact: ArtifactSpec(ref: ArtifactRef(kind: "dataset", namespace: "n", name: "d", version: "1")), role: "train")
        ]
        var complete = RunRecord(id: "r", job: "train", status: .complete)
        complete.endedAt = Timestamp("2026-01-01T01:00:00Z")
        complete.metrics = ["auc": 0.9]
        complete.outputs = [ArtifactUse(artifact: ArtifactSpec(ref: ArtifactRef(kind: "model", namespace: "n", name: "m")), role: "model")]
        let merged = start.merged(with: complete)
        #expect(merged.status == .complete)
        #expect(merged.hyperparameters == ["lr": 0.1])
        #expect(merged.metrics == ["auc": 0.9])
        #expect(merged.inputs.count == 1 && merged.outputs.count == 1)
        #expect(merged.startedAt == start.startedAt && merged.endedAt == complete.endedAt)
    }

    @Test("JSON lines and arrays decode to several events; a bad line is named")
    func documents() async throws {
        let line = #"{"type": "artifact", "namespace": "w", "artifact": {"kind": "dataset", "name": "d", "version": "1"}}"#
        #expect(try await EventDocument.decode(line + "\n\n" + line.replacingOccurrences(of: "\"1\"", with: "\"2\"")).count == 2)
        #expect(try await EventDocument.decode("[\(line)]").count == 1)
        await #expect {
            try await EventDocument.decode(line + "\n{oops}\n")
        } throws: { error in (error as? MalformedDocument)?.field == "line 2" }
        // A pretty-printed document with a mistake is reported as one document, not as JSON lines.
        await #expect {
            try await EventDocument.decode("{\n  \"type\": \"artifact\",\n  \"namespace\": \"w\",,\n}")
        } throws: { error in (error as? MalformedDocument).map { $0.field == nil && $0.message.contains("byte") } ?? false }
        let many = (1...1000).map { line.replacingOccurrences(of: "\"1\"", with: "\"\($0)\"") }.joined(separator: "\n")
        let decoded = try await EventDocument.decode(many)
        #expect(decoded.count == 1000)
        guard case .artifact(let last) = decoded.last?.payload else { Issue.record("not an artifact"); return }
        #expect(last.ref.version == "1000", "order is kept when lines are decoded in parallel")
    }
}

@Suite("Timestamps")
struct TimestampTests {
    @Test(
        "RFC 3339 with offsets and fractions normalises to UTC",
        arguments: [
            ("2026-11-28T13:39:04.614460+00:00", "2026-11-28T13:39:04.61446Z"),
            ("2026-11-28T15:39:04+02:00", "2026-11-28T13:39:04Z"),
            ("2026-11-28", "2026-11-28T00:00:00Z"),
            ("1969-12-31T23:59:59.5Z", "1969-12-31T23:59:59.5Z"),
            ("2024-02-29T12:00:00.123456789Z", "2024-02-29T12:00:00.123456Z"),
        ])
    func parsing(input: String, expected: String) throws {
        #expect(Timestamp(input)?.description == expected)
    }

    @Test("garbage is rejected", arguments: ["yesterday", "2026-13-01", "2026-11-28T25:00:00Z", "2026-11-28T10:00:00", "2026-11-28T10:00:00+0200"])
    func rejects(input: String) {
        #expect(Timestamp(input) == nil)
    }
}

@Suite("Secret redaction")
struct SecretRedactorTests {
    @Test(
        "secret-looking names are redacted",
        arguments: ["AWS_SECRET_ACCESS_KEY", "HF_TOKEN", "DB_PASSWORD", "api-key", "GITHUB_TOKEN", "WANDB_API_KEY", "accessToken", "apikey"])
    func secretNames(name: String) {
        #expect(SecretRedactor.redact(name: name, value: "s3cr3t") == SecretRedactor.placeholder)
    }

    @Test(
        "ordinary names are kept",
        arguments: [
            "CUDA_VISIBLE_DEVICES", "PYTHONHASHSEED", "HOME", "OMP_NUM_THREADS", "TOKENIZERS_PARALLELISM", "max_tokens", "author", "num_passes",
        ])
    func ordinaryNames(name: String) {
        #expect(SecretRedactor.redact(name: name, value: "0,1") == "0,1")
    }

    @Test("URL credentials are stripped")
    func urls() {
        #expect(SecretRedactor.stripURLCredentials("https://user:hunter2@github.com/acme/repo.git") == "https://[REDACTED]@github.com/acme/repo.git")
        #expect(
            SecretRedactor.stripURLCredentials("postgres://u:p@db:5432/x and s3://bucket/key")
                == "postgres://[REDACTED]@db:5432/x and s3://bucket/key")
        #expect(SecretRedactor.stripURLCredentials("git@github.com:acme/repo.git") == "git@github.com:acme/repo.git")
    }
}

@Suite("Secrets in free text")
struct SecretTextTests {
    @Test(
        "a secret-named key's value, a secret flag's value and URL passwords are redacted; other lines are kept",
        arguments: [
            ("+api_key: hunter2", "+api_key: [REDACTED]"),
            ("+  \"token\": \"hf_abc123\",", "+  \"token\": [REDACTED],"),
            ("+client = OpenAI(api_key=\"sk-abc123\", timeout=3)", "+client = OpenAI(api_key=[REDACTED], timeout=3)"),
            ("+curl -H \"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9\" https://x", "+curl -H \"Authorization: Bearer [REDACTED]\" https://x"),
            ("-DB_PASSWORD=s3cret", "-DB_PASSWORD=[REDACTED]"),
            ("+password: my secret phrase", "+password: [REDACTED]"),
            ("+python train.py --api-key abc123 --epochs 3", "+python train.py --api-key [REDACTED] --epochs 3"),
            ("+url = https://user:pw@host/x", "+url = https://[REDACTED]@host/x"),
            ("+max_tokens: 100", "+max_tokens: 100"),
            ("+lr: 0.001", "+lr: 0.001"),
            (" unchanged context line", " unchanged context line"),
        ])
    func redaction(line: String, expected: String) {
        #expect(SecretRedactor.redactText(line) == expected)
    }

    @Test("a whole diff keeps its shape: only the secret values change")
    func diff() {
        let diff =
            "diff --git a/config.yaml b/config.yaml\n--- a/config.yaml\n+++ b/config.yaml\n@@ -1,2 +1,3 @@\n lr: 0.001\n+api_key: hunter2\n epochs: 3\n"
        let redacted = SecretRedactor.redactText(diff)
        #expect(!redacted.contains("hunter2"))
        #expect(redacted.split(separator: "\n").count == diff.split(separator: "\n").count)
        #expect(redacted.contains("+api_key: [REDACTED]") && redacted.contains(" lr: 0.001"))
    }
}
