import Foundation
import PedigreeCore
import Testing

@Suite("OpenLineage mapping")
struct OpenLineageMappingTests {
    func events(_ fixture: String) throws -> [LineageEvent] {
        try EventDocument.decode(JSONValue.parse(Data(contentsOf: fixtureURL("openlineage/\(fixture)"))))
    }

    func run(_ fixture: String) throws -> (LineageEvent, RunRecord) {
        let decoded = try events(fixture)
        try #require(decoded.count == 1)
        guard case .run(let run) = decoded[0].payload else { Issue.record("not a run"); throw CancellationError() }
        return (decoded[0], run)
    }

    @Test("a RunEvent START maps every known facet and keeps the rest")
    func start() throws {
        let (event, run) = try run("run-start.json")
        #expect(event.namespace == "ml-training")
        #expect(run.id == "01a22261-7f25-758a-96b1-b13c09406106")
        #expect(run.job == "train_resnet50")
        #expect(run.status == .start)
        #expect(run.startedAt == Timestamp("2026-11-28T13:39:04.614460+00:00"))
        #expect(run.hyperparameters == ["lr": "0.001", "epochs": "10"])
        #expect(run.environment?.runtime?.name == "pytorch")
        #expect(run.environment?.runtime?.version == "2.3.0")
        #expect(run.environment?.json["variables"] == ["CUDA_VISIBLE_DEVICES": "0,1"])
        #expect(run.parentRun == "run:01a22261-7f25-784b-b594-162aa51456d5")
        #expect(run.inputs.map(\.artifact.ref.description) == ["dataset:s3:%2F%2Fdatasets/imagenet/train@v3"])
        #expect(run.inputs.first?.artifact.facets["schema"] != nil)
        #expect(run.facets["tags"] != nil, "unknown run facets are kept")
        #expect(run.facets["job.jobType"] != nil && run.facets["job.ownership"] != nil, "unknown job facets are kept")
    }

    @Test("a RunEvent COMPLETE registers the model at the client's version")
    func complete() throws {
        let (_, run) = try run("run-complete.json")
        #expect(run.status == .complete)
        #expect(run.outputs.map(\.artifact.ref.description) == ["model:mlflow:%2F%2Fregistry/models/resnet50@7"])
        #expect(run.outputs.first?.role == "model")
    }

    @Test("sourceCodeLocation becomes the code dimension")
    func code() throws {
        let (_, run) = try run("run-start-with-git.json")
        #expect(run.code?.repository == "https://github.com/example/ml-repo.git")
        #expect(run.code?.commit == "82b57c58dffe3df1e2b9bc7c5ef4e4c05ca61d3d")
        #expect(run.code?.branch == "main")
        #expect(run.code?.tag == "v0.1")
    }

    @Test("a DatasetEvent registers the dataset version; a JobEvent gives design-time lineage")
    func staticEvents() throws {
        let datasetEvents = try events("dataset-event.json")
        guard case .artifact(let spec) = datasetEvents.first?.payload else { Issue.record("not an artifact"); return }
        #expect(spec.ref.description == "dataset:s3:%2F%2Fdatasets/imagenet/train@v4")
        let (_, job) = try run("job-event.json")
        #expect(job.status == nil)
        #expect(job.inputs.count == 1 && job.outputs.count == 1)
        #expect(job.id == (try run("job-event.json")).1.id, "the same job maps to the same id")
    }

    @Test("a model among the inputs is the parent; data-quality metrics and secrets are handled")
    func parentsQualityAndSecrets() throws {
        let event = try JSONValue.parse(
            """
            {"eventType": "COMPLETE", "eventTime": "2026-11-28T10:00:00Z", "producer": "test",
             "job": {"namespace": "ml", "name": "finetune"},
             "run": {"runId": "a5c1", "facets": {"environmentVariables": {"environmentVariables": [
                 {"name": "HF_TOKEN", "value": "hf_abcdef"}, {"name": "SEED", "value": "7"}]}}},
             "inputs": [
               {"namespace": "hf", "name": "bert", "facets": {"datasetType": {"datasetType": "MODEL"}, "version": {"datasetVersion": "abc"}}},
               {"namespace": "s3://d", "name": "train", "inputFacets": {"dataQualityMetrics": {"_producer": "x", "rowCount": 1000, "columnMetrics": {}}}}
             ]}
            """)
        let mapped = try EventDocument.decode(event)
        guard case .run(let run) = mapped[0].payload else { Issue.record("not a run"); return }
        #expect(run.inputs.first { $0.artifact.ref.kind == "model" }?.role == "base-model")
        #expect(run.data?.quality["dataset:s3:%2F%2Fd/train"] == ["rowCount": 1000, "columnMetrics": [:]])
        #expect(run.environment?.json["variables"]?["HF_TOKEN"] == .string(SecretRedactor.placeholder))
        #expect(!mapped[0].body.canonicalString.contains("hf_abcdef"))
    }

    @Test(
        "invalid OpenLineage events name the field",
        arguments: [
            (#"{"eventType": "START", "producer": "p", "job": {"namespace": "n", "name": "j"}, "run": {"runId": "r"}}"#, "eventTime"),
            (
                #"{"eventType": "START", "eventTime": "2026-11-28T10:00:00Z", "producer": "p", "job": {"name": "j"}, "run": {"runId": "r"}}"#,
                "job.namespace"
            ),
            (
                #"{"eventType": "BEGIN", "eventTime": "2026-11-28T10:00:00Z", "producer": "p", "job": {"namespace": "n", "name": "j"}, "run": {"runId": "r"}}"#,
                "eventType"
            ),
            (
                #"{"eventType": "START", "eventTime": "2026-11-28T10:00:00Z", "producer": "p", "job": {"namespace": "n", "name": "j"}, "run": {"runId": "r"}, "inputs": [{"name": "x"}]}"#,
                "inputs[0].namespace"
            ),
        ])
    func invalid(json: String, field: String) throws {
        let value = try JSONValue.parse(json)
        #expect {
            try EventDocument.decode(value)
        } throws: { error in (error as? ValidationError)?.field == field }
    }
}

extension OpenLineageMappingTests {
    static func nativeEvent(
        record: String = #"{"hyperparameters":{"optimizer":{"lr":0.001}},"endedAt":"2026-11-02T04:00:00Z"}"#, artifact: String? = nil,
        role: String = "train"
    ) -> String {
        let artifact =
            artifact
            ?? #"{"kind":"dataset","namespace":"team","name":"features","version":"2","digest":"sha256:\#(String(repeating: "a", count: 64))"}"#
        return #"""
            {"eventType":"COMPLETE","eventTime":"2026-11-02T05:00:00Z","producer":"https://pedigree.dev/pedigree",
             "schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
             "run":{"runId":"8c0a6a7e-61d4-8a2b-9d3e-0f1e2d3c4b5a","facets":{
                "pedigree_run":{"_producer":"p","_schemaURL":"s","id":"train-7","record":\#(record)},
                "executionParameters":{"_producer":"p","_schemaURL":"s","parameters":[{"key":"optimizer.lr","value":"0.001"}]}}},
             "job":{"namespace":"team","name":"train","facets":{"sourceCodeLocation":{"_producer":"p","_schemaURL":"s","type":"git","url":"https://x/y.git"}}},
             "inputs":[{"namespace":"team","name":"features","facets":{"pedigree_artifact":{"_producer":"p","_schemaURL":"s","artifact":\#(artifact)}},
                        "inputFacets":{"pedigree_use":{"_producer":"p","_schemaURL":"s","role":"\#(role)"}}}],
             "outputs":[]}
            """#
    }

    @Test("Pedigree's own facets win over the standard ones: the run's id and nested record, the artifact as registered, the role")
    func nativeFacets() throws {
        let decoded = try EventDocument.decode(JSONValue.parse(Data(Self.nativeEvent().utf8)))
        guard case .run(let run) = try #require(decoded.first).payload else { Issue.record("not a run"); return }
        #expect(run.id == "train-7", "the id Pedigree knew, not the UUID OpenLineage needed")
        #expect(run.hyperparameters == ["optimizer": ["lr": 0.001]], "nested and typed, not executionParameters' flat strings")
        #expect(run.endedAt == Timestamp("2026-11-02T04:00:00Z"), "the record's times, not the event's")
        #expect(run.code == nil, "the record had no code: sourceCodeLocation does not add one")
        #expect(run.status == .complete)
        let input = try #require(run.inputs.first)
        #expect(input.role == "train" && input.artifact.digest?.hex == String(repeating: "a", count: 64))
        #expect(input.artifact.ref.description == "dataset:team/features@2")
    }

    @Test("a Pedigree facet that contradicts its event is refused with the field named")
    func nativeFacetErrors() throws {
        let cases = [
            (Self.nativeEvent(artifact: #"{"kind":"dataset","namespace":"team","name":"other","version":"1"}"#), "pedigree_artifact.artifact"),
            (Self.nativeEvent(role: "tr ain"), "pedigree_use.role"),
            (Self.nativeEvent(record: #"{"inputs":[]}"#), "pedigree_run.record.inputs"),
        ]
        for (event, field) in cases {
            #expect {
                try EventDocument.decode(JSONValue.parse(Data(event.utf8)))
            } throws: { error in
                "\(error)".contains(field)
            }
        }
    }
}
