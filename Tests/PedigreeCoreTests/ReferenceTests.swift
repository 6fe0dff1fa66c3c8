import PedigreeCore
import Testing

@Suite("References")
struct ReferenceTests {
    @Test(
        "namespaces with '/' and ':' round-trip unambiguously",
        arguments: [
            ("s3://datasets", "imagenet/train", "v3"),
            ("trino://host:1337", "catalog.schema.table", "42"),
            ("mlflow://registry", "models/resnet50", "7"),
            ("weird@ns%", "name@with/at", "sha256:ab@c"),
            ("fraud-team", "fraud", "2"),
        ])
    func roundTrip(namespace: String, name: String, version: String) throws {
        let ref = ArtifactRef(kind: "dataset", namespace: namespace, name: name, version: version)
        let text = ref.description
        #expect(try Reference(parsing: text) == .artifact(ref))
        #expect(text.hasPrefix("dataset:"))
        #expect(!text.dropFirst("dataset:".count).prefix(while: { $0 != "/" }).contains("@"))
    }

    @Test("the OpenLineage example is written with %2F in the namespace")
    func openLineageExample() {
        let ref = ArtifactRef(kind: "dataset", namespace: "s3://datasets", name: "imagenet/train", version: "v3")
        #expect(ref.description == "dataset:s3:%2F%2Fdatasets/imagenet/train@v3")
    }

    @Test("no version means latest; no namespace means default")
    func defaults() throws {
        #expect(try Reference(parsing: "model:fraud-team/fraud") == .artifact(ArtifactRef(kind: "model", namespace: "fraud-team", name: "fraud")))
        #expect(
            try Reference(parsing: "dataset:transactions@v1")
                == .artifact(ArtifactRef(kind: "dataset", namespace: "default", name: "transactions", version: "v1")))
    }

    @Test("runs and deployments")
    func runsAndDeployments() throws {
        #expect(try Reference(parsing: "run:01A22261-7F25-758A-96B1-B13C09406106") == .run("01a22261-7f25-758a-96b1-b13c09406106"))
        let deployment = try Reference(parsing: "deployment:fraud-team/fraud-api")
        #expect(deployment == .deployment(namespace: "fraud-team", endpoint: "fraud-api"))
        #expect(deployment.description == "deployment:fraud-team/fraud-api")
    }

    @Test("external model references become models in the scheme's namespace")
    func external() throws {
        let ref = try Reference(parsingModel: "hf://google/bert-base-uncased@86b5e09")
        #expect(ref == .artifact(ArtifactRef(kind: "model", namespace: "hf", name: "google/bert-base-uncased", version: "86b5e09")))
        #expect(ref.description == "model:hf/google/bert-base-uncased@86b5e09")
    }

    @Test(
        "bad references name what is wrong",
        arguments: [
            ("fraud", "no kind"), ("Model:x/y", "not an artifact kind"), ("model:x/y@", "empty version"), ("model:/y", "namespace and a name"),
            ("model:x%zz/y", "malformed %-escape"), ("run:", "run id"), ("deployment:a/b@1", "no @VERSION"),
        ])
    func errors(text: String, expected: String) {
        #expect {
            try Reference(parsing: text)
        } throws: { error in
            (error as? ValidationError)?.message.contains(expected) == true
        }
    }
}
