import Foundation
import PedigreeCore
import Testing

/// `pedigree deploy`, `undeploy`, `retire` and `incident`, run as a user runs them: KServe manifests on disk,
/// the serving code in a git checkout, a model trained with `pedigree run`.
@Suite("pedigree deploy and incident")
struct DeployCommandTests {
    /// A serving repository with a trained model directory (`models/v1`), recorded as model:fraud-team/fraud@1.
    struct ServingProject {
        let cli: CLI
        let project: TrainingProject

        init() throws {
            cli = try CLI()
            project = try TrainingProject()
            try project.file("serve.py", "def predict(x): return x\n")
            _ = try project.git("add", "-A")
            _ = try project.git("commit", "-qm", "serving code")
            let trained = try cli.run(
                [
                    "run", "--namespace", "fraud-team", "--model", "fraud", "--output", "models/v1", "--", "sh", "-c",
                    "mkdir -p models/v1 && echo weights-1 > models/v1/model.pkl",
                ],
                in: project.root)
            #expect(trained.status == 0 && trained.stderr.contains("→ model:fraud-team/fraud@1"), "\(trained.stderr)")
        }

        /// An InferenceService manifest for `fraud-api` in `fraud-team` with this storage URI.
        func manifest(_ name: String, storageUri: String, canary: Int? = nil, labels: [String: String] = [:]) throws -> String {
            let labelLines = labels.isEmpty ? "" : "  labels:\n" + labels.map { "    \($0.key): \"\($0.value)\"\n" }.joined()
            try project.file(
                name,
                """
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata:
                  name: fraud-api
                  namespace: fraud-team
                \(labelLines)spec:
                  predictor:
                \(canary.map { "    canaryTrafficPercent: \($0)\n" } ?? "")    model:
                      modelFormat:
                        name: sklearn
                      runtime: kserve-sklearnserver
                      storageUri: \(storageUri)
                      resources:
                        limits: {cpu: "2", memory: 4Gi}
                      env:
                        - name: HF_TOKEN
                          value: hf_secretsecretsecret
                  transformer:
                    containers:
                      - name: features
                        image: ghcr.io/acme/features@sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945

                """)
            return project.root.appendingPathComponent(name).path
        }

        @discardableResult
        func run(_ arguments: [String]) throws -> CLI.Result { try cli.run(arguments, in: project.root) }
    }

    @Test("a manifest whose storageUri is a local copy of the model matches the version by digest, with config, code and images")
    func matchByDigest() throws {
        let setup = try ServingProject()
        // A copy elsewhere: only the content identifies it.
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("pvc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: setup.project.root.appendingPathComponent("models/v1"), to: copy.appendingPathComponent("fraud"))
        let manifest = try setup.manifest("isvc.yaml", storageUri: "pvc://models-claim/fraud")
        try setup.project.file("serve.py", "def predict(x): return x * 2\n")  // uncommitted serving change

        let deployed = try setup.run([
            "deploy", "--manifest", manifest, "--pvc", "models-claim=\(copy.path)", "--at", "2026-11-20T08:00:00Z", "--json",
        ])
        #expect(deployed.status == 0, "\(deployed.stderr)")
        let entry = try #require(deployed.json)
        #expect(entry["ref"] == "deployment:fraud-team/fraud-api" && entry["model"] == "model:fraud-team/fraud@1")
        #expect(entry["config"]?["storageUri"] == "pvc://models-claim/fraud" && entry["config"]?["modelFormat"]?["name"] == "sklearn")
        #expect(entry["environment"]?["images"]?[0]?["digest"] == "sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945")
        #expect(entry["environment"]?["resources"]?["limits"]?["memory"] == "4Gi")
        let commit = try setup.project.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(entry["code"]?["commit"]?.stringValue == commit && entry["code"]?["dirty"] == true, "the serving code's git state")
        let digest = ContentDigest(hashing: Array(try Data(contentsOf: URL(fileURLWithPath: manifest))))
        #expect(entry["manifest"]?["digest"]?.stringValue == digest.description, "the digest is of the file as given")
        // A manifest holding a secret keeps its digest and its redacted settings, not its text.
        #expect(entry["manifest"]?["redacted"] == true)
        let log = try setup.run(["log", "--json"]).stdout
        #expect(!log.contains("hf_secretsecretsecret") && !log.contains("\"text\""), "\(log)")
        // One without secrets is kept as it was given.
        try setup.project.file("plain.yaml", "replicas: 3\nthreshold: 0.8\n")
        #expect(try setup.run(["deploy", "fraud@1", "--endpoint", "fraud-team/batch", "--config", "plain.yaml"]).status == 0)
        #expect(try setup.run(["log", "--json"]).stdout.contains("replicas: 3\\nthreshold: 0.8"))
        #expect(try setup.run(["verify"]).status == 0)
    }

    @Test("a storageUri recorded at registration matches by URI; model-registry:// and the Kubeflow labels match by name and version")
    func matchByURIAndRegistry() throws {
        let setup = try ServingProject()
        let event = """
            {"type": "artifact", "namespace": "fraud-team", "artifact": {"kind": "model", "name": "fraud", "version": "7", "uri": "s3://models/fraud/7/", "digest": "\(JSONValue.string("seven").digest)"}}
            """
        #expect(try setup.cli.run(["record"], stdin: event).status == 0)
        let byURI = try setup.run(["deploy", "--manifest", try setup.manifest("a.yaml", storageUri: "s3://models/fraud/7"), "--json"])
        #expect(byURI.status == 0 && byURI.json?["model"] == "model:fraud-team/fraud@7", "\(byURI.stderr)")
        let registry = try setup.run(["deploy", "--manifest", try setup.manifest("b.yaml", storageUri: "model-registry://fraud/1"), "--json"])
        #expect(registry.json?["model"] == "model:fraud-team/fraud@1", "\(registry.stderr)")
        let labels = try setup.manifest(
            "c.yaml", storageUri: "oci://registry.example.com/fraud:latest",
            labels: ["modelregistry.kubeflow.org/registered-model-id": "fraud", "modelregistry.kubeflow.org/model-version-id": "7"])
        #expect(try setup.run(["deploy", "--manifest", labels, "--json"]).json?["model"] == "model:fraud-team/fraud@7")
    }

    @Test("an unknown storageUri fails naming the candidates and how to name the version; nothing is recorded")
    func unmatched() throws {
        let setup = try ServingProject()
        let before = try setup.cli.eventCount()
        let failed = try setup.run(["deploy", "--manifest", try setup.manifest("isvc.yaml", storageUri: "gs://elsewhere/fraud/9")])
        #expect(failed.status == 3)
        #expect(failed.stderr.contains("no model version was recorded at gs://elsewhere/fraud/9"), "\(failed.stderr)")
        #expect(
            failed.stderr.contains("candidates: model:fraud-team/fraud@1") && failed.stderr.contains("pedigree deploy model:NAMESPACE/NAME@VERSION"))
        // Named explicitly, the same manifest is accepted.
        #expect(
            try setup.run(["deploy", "fraud@1", "--manifest", try setup.manifest("isvc.yaml", storageUri: "gs://elsewhere/fraud/9")]).status == 0)
        #expect(try setup.cli.eventCount() == before + 1)
    }

    @Test("canary shares and promotion appear in history and as-of; undeploy ends service; retire refuses a deploy without --force")
    func canaryUndeployRetire() throws {
        let setup = try ServingProject()
        let second = try setup.run(
            [
                "run", "--namespace", "fraud-team", "--model", "fraud", "--output", "models/v2", "--", "sh", "-c",
                "mkdir -p models/v2 && echo weights-2 > models/v2/model.pkl",
            ])
        #expect(second.stderr.contains("→ model:fraud-team/fraud@2"), "\(second.stderr)")
        #expect(try setup.run(["deploy", "fraud@1", "--endpoint", "fraud-team/fraud-api", "--at", "2026-11-01T00:00:00Z"]).status == 0)
        let canary = try setup.run([
            "deploy", "--manifest", try setup.manifest("canary.yaml", storageUri: "models/v2", canary: 10), "--at", "2026-11-10T00:00:00Z",
        ])
        #expect(
            canary.status == 0 && canary.stdout.contains("model:fraud-team/fraud@1 90%, model:fraud-team/fraud@2 10%"),
            "\(canary.stdout)\(canary.stderr)")
        let beforePromotion = Timestamp.now.description
        Thread.sleep(forTimeInterval: 0.01)
        #expect(try setup.run(["deploy", "fraud@2", "--endpoint", "fraud-team/fraud-api", "--at", "2026-11-12T00:00:00Z"]).status == 0)

        let at = try setup.run(["history", "fraud-team/fraud-api", "--at", "2026-11-11T14:00:00Z"]).stdout
        #expect(at.contains("model:fraud-team/fraud@1 90%, model:fraud-team/fraud@2 10%") && at.contains("deploy fraud@2 (canary 10%)"), "\(at)")
        #expect(at.contains("sha256:"), "the manifest's digest")
        let history = try setup.run(["history", "fraud-team/fraud-api", "--json"]).json
        #expect(history?["history"]?.arrayValue?.compactMap { $0["serving"]?.arrayValue?.count } == [1, 2, 1])
        let asOf = try setup.run(["history", "fraud-team/fraud-api", "--as-of", beforePromotion]).stdout
        #expect(!asOf.contains("fraud@2 100%") && asOf.contains("fraud@2 10%"), "as the store knew it before the promotion: \(asOf)")

        #expect(try setup.run(["undeploy", "--endpoint", "fraud-team/fraud-api", "--at", "2026-11-20T00:00:00Z"]).status == 0)
        let served = try setup.run(["incident", "fraud-team/fraud-api", "--at", "2026-11-21"])
        #expect(served.status == 3 && served.stderr.contains("served nothing at 2026-11-21"), "\(served.stderr)")

        let retired = try setup.run(["retire", "model:fraud-team/fraud@1", "--reason", "fails the fairness review"])
        #expect(retired.status == 0, "\(retired.stderr)")
        let refused = try setup.run(["deploy", "fraud@1", "--endpoint", "fraud-team/fraud-api"])
        #expect(refused.status == 4 && refused.stderr.contains("retired") && refused.stderr.contains("--force"), "\(refused.stderr)")
        #expect(try setup.run(["deploy", "fraud@1", "--endpoint", "fraud-team/fraud-api", "--force"]).status == 0)
        let trail = try setup.run(["log", "--json"]).stdout
        #expect(trail.contains("fails the fairness review"), "who retired it and why")
        let last = try setup.run(["history", "fraud-team/fraud-api", "--json"]).json?["history"]?.arrayValue?.last
        #expect(last?["forced"] == true && last?["recordedBy"]?.stringValue?.hasPrefix("cli:") == true, "the override, and who made it")
        #expect(try setup.run(["show", "model:fraud-team/fraud@1"]).stdout.contains("RETIRED"))
        #expect(try setup.run(["verify"]).status == 0)
    }

    @Test("a secret in a layout the line rules miss (kubectl's JSON, flow style) keeps the text out: only the digest is stored")
    func secretsInAnyLayout() throws {
        let setup = try ServingProject()
        try setup.project.file(
            "isvc.json",
            #"{"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService", "metadata": {"name": "fraud-api", "namespace": "fraud-team"}, "spec": {"predictor": {"model": {"modelFormat": {"name": "sklearn"}, "storageUri": "models/v1", "env": [{"name": "HF_TOKEN", "value": "hf_jsonsecretjsonsecret"}]}}}}"#
        )
        try setup.project.file(
            "flow.yaml",
            """
            apiVersion: serving.kserve.io/v1beta1
            kind: InferenceService
            metadata: {name: fraud-flow, namespace: fraud-team}
            spec:
              predictor:
                model:
                  storageUri: models/v1
                  env:
                    - {name: DB_PASSWORD, value: flowsecretflowsecret}
            """)
        for file in ["isvc.json", "flow.yaml"] {
            let deployed = try setup.run(["deploy", "--manifest", file, "--json"])
            #expect(deployed.status == 0, "\(deployed.stderr)")
            #expect(deployed.json?["manifest"]?["redacted"] == true && deployed.json?["manifest"]?["digest"] != nil)
        }
        let log = try setup.run(["log", "--json"]).stdout
        #expect(!log.contains("hf_jsonsecretjsonsecret") && !log.contains("flowsecretflowsecret"), "\(log)")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: setup.cli.store))
        #expect(bytes.range(of: Data("flowsecretflowsecret".utf8)) == nil && bytes.range(of: Data("hf_jsonsecret".utf8)) == nil)
    }

    @Test("a canary of the version already serving is a redeploy; --good must differ from the suspect and --good-at precede the incident")
    func sameVersionCanaryAndBaselines() throws {
        let setup = try ServingProject()
        #expect(try setup.run(["deploy", "fraud@1", "--endpoint", "fraud-team/fraud-api", "--at", "2026-11-01T00:00:00Z"]).status == 0)
        let canary = try setup.run([
            "deploy", "--manifest", try setup.manifest("c.yaml", storageUri: "models/v1", canary: 20), "--at", "2026-11-02T00:00:00Z",
        ])
        #expect(canary.status == 0 && canary.stderr.contains("recorded as a redeploy"), "\(canary.stderr)")
        #expect(canary.stdout.contains("model:fraud-team/fraud@1 100%"), "\(canary.stdout)")
        // The incident then compares the version's two deployments: only the serving side changed.
        let report = try setup.run(["incident", "fraud-team/fraud-api", "--at", "2026-11-03", "--good-at", "2026-11-01T12:00:00Z"])
        #expect(report.status == 0 && report.stdout.contains("serving changes"), "\(report.stdout)\(report.stderr)")
        #expect(report.stdout.replacingOccurrences(of: "\n  ", with: " ").contains("only its serving side can have changed"), "\(report.stdout)")
        #expect(report.stdout.contains("took over 2026-11-01T00:00:00Z, last deployed 2026-11-02T00:00:00Z"), "\(report.stdout)")
        #expect(report.stdout.contains("+ config.storageUri  models/v1"), "the manifest is what changed on the serving side")
        let same = try setup.run(["incident", "fraud-team/fraud-api", "--at", "2026-11-03", "--good", "fraud@1"])
        #expect(same.status == 2 && same.stderr.contains("the version under suspicion"), "\(same.stderr)")
        let later = try setup.run(["incident", "fraud-team/fraud-api", "--at", "2026-11-03", "--good-at", "2026-11-04"])
        #expect(later.status != 0 && later.stderr.contains("after the incident"), "\(later.stderr)")
    }

    @Test("bad input is refused with a clear error and records nothing")
    func badInput() throws {
        let setup = try ServingProject()
        let before = try setup.cli.eventCount()
        try setup.project.file("deployment.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n")
        try setup.project.file("broken.json", "{\"replicas\": ")
        let cases: [([String], String)] = [
            (["deploy", "fraud@1", "--endpoint", "fraud-team/api", "--traffic", "0"], "outside 1–99"),
            (["deploy", "fraud@1", "--endpoint", "fraud-team/api", "--traffic", "100"], "outside 1–99"),
            (["deploy", "fraud@9", "--endpoint", "fraud-team/api"], "not recorded"),
            (["deploy", "fraud@1", "--endpoint", "fraud-team/api", "--at", "2099-01-01"], "in the future"),
            (
                ["deploy", "--manifest", "deployment.yaml"],
                "holds no KServe InferenceService (apiVersion serving.kserve.io/v1beta1); found Deployment"
            ),
            (["deploy", "fraud@1", "--endpoint", "fraud-team/api", "--config", "broken.json"], "neither JSON nor YAML"),
            (["deploy", "fraud@1", "--endpoint", "fraud-team/api", "--traffic", "10"], "serves nothing"),
            (["undeploy", "--endpoint", "fraud-team/api"], "nothing to undeploy"),
            (["retire", "model:fraud-team/fraud@9", "--reason", "x"], "not recorded"),
            (["incident", "fraud-team/api", "--at", "2099-01-01"], "in the future"),
        ]
        for (arguments, message) in cases {
            let result = try setup.run(arguments)
            #expect(result.status != 0 && result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        #expect(try setup.cli.eventCount() == before)
    }

    @Test("incident on the quickstart names the changed dataset version, hyperparameter and package upgrade, and the other endpoints")
    func incidentOnQuickstart() throws {
        let cli = try CLI()
        #expect(try cli.run(["quickstart"]).status == 0)
        let report = try cli.run(["incident", "fraud-team/fraud-api", "--at", "2026-11-16"])
        #expect(report.status == 0, "\(report.stderr)")
        let text = report.stdout
        #expect(text.contains("suspect    model:fraud-team/fraud@2") && text.contains("good       model:fraud-team/fraud@1"), "\(text)")
        #expect(text.contains("~ optimizer.lr  0.00003 → 0.00005") && text.contains("~ packages.torch  2.2.0 → 2.3.0"))
        #expect(text.contains("endpoint deployment:fraud-team/fraud-eu-api serves model:fraud-team/fraud-eu@1"))
        // The summary names the changes, data first, then code, hyperparameters and the environment.
        let summary = try #require(text.components(separatedBy: "summary\n").last).replacingOccurrences(of: "\n  ", with: " ")
        #expect(
            summary.contains("dataset:fraud-team/features@1 → @2 (train)") && summary.contains("dataset:warehouse/transactions@2026-10 → @2026-11"))
        #expect(summary.contains("optimizer.lr 0.00003 → 0.00005") && summary.contains("packages.torch 2.2.0 → 2.3.0"), "\(summary)")
        let order = ["(1) data", "(2) code", "(3) hyperparameters", "(4) environment"].map { summary.range(of: $0)?.lowerBound }
        #expect(order.allSatisfy { $0 != nil } && order == order.sorted { $0! < $1! }, "\(summary)")
        let json = try #require(try cli.run(["incident", "fraud-team/fraud-api", "--at", "2026-11-16", "--good", "fraud@1", "--json"]).json)
        #expect(json["good"]?["choice"] == "given" && json["suspect"] == "model:fraud-team/fraud@2")
        #expect(
            json["blastRadius"]?.arrayValue?.map { $0["dataset"]?.stringValue } == [
                "dataset:fraud-team/features@2", "dataset:warehouse/transactions@2026-11",
            ])
    }

    @Test("deploy, history and incident work the same through a server")
    func throughServer() throws {
        let cli = try CLI()
        #expect(try cli.run(["quickstart"]).status == 0)
        let server = try ServerProcess(cli: cli)
        defer { _ = server.stop() }
        let remote = ["PEDIGREE_URL": server.url]
        let deployed = try cli.run(["deploy", "fraud-eu@1", "--endpoint", "fraud-team/fraud-api", "--traffic", "25"], environment: remote)
        #expect(
            deployed.status == 0 && deployed.stdout.contains("model:fraud-team/fraud@2 75%, model:fraud-team/fraud-eu@1 25%"), "\(deployed.stderr)")
        let local = try cli.run(["incident", "fraud-team/fraud-api", "--at", "2026-11-16", "--json"]).json
        let viaServer = try cli.run(["incident", "fraud-team/fraud-api", "--at", "2026-11-16", "--json"], environment: remote).json
        #expect(local != nil && local == viaServer)
        let unknown = try cli.run(["incident", "fraud-team/nowhere", "--at", "2026-11-16"], environment: remote)
        #expect(unknown.status == 3 && unknown.stderr.contains("deployment:fraud-team/nowhere is not recorded"), "\(unknown.stderr)")
    }
}
