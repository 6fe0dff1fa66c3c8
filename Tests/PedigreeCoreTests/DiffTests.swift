import PedigreeCore
import Testing

@Suite("Diff")
struct DiffTests {
    @Test("nested hyperparameters are compared by key path")
    func keyPaths() {
        let old: JSONValue = ["optimizer": ["name": "adam", "lr": 0.001], "epochs": 3, "layers": [64, 32], "dropout": 0.1]
        let new: JSONValue = ["optimizer": ["name": "adam", "lr": 0.0005], "epochs": 3, "layers": [64, 16], "scheduler": ["warmup": 500]]
        let changes = JSONDiff.changes(old, new)
        #expect(changes.map(\.path) == ["dropout", "layers[1]", "optimizer.lr", "scheduler.warmup"])
        #expect(changes.map(\.kind) == [.removed, .changed, .changed, .added])
        #expect(changes[2].old == 0.001 && changes[2].new == 0.0005)
        #expect(JSONDiff.changes(old, new, includeUnchanged: true).contains { $0.path == "epochs" && $0.kind == .unchanged })
    }

    @Test("keys containing dots stay unambiguous")
    func dottedKeys() {
        let changes = JSONDiff.changes(["a.b": 1], ["a.b": 2])
        #expect(changes.map(\.path) == [#"["a.b"]"#])
    }

    @Test("model diff pairs inputs by role and name and reports every dimension")
    func modelDiff() {
        func input(_ name: String, _ version: String, _ role: String, kind: String = "dataset") -> ModelPedigree.ResolvedInput {
            ModelPedigree.ResolvedInput(
                ref: ArtifactRef(kind: kind, namespace: "w", name: name, version: version), digest: JSONValue.string(name + version).digest,
                role: role)
        }
        var runA = RunRecord(id: "a", job: "train")
        runA.environment = try? EnvironmentFacet(json: ["packages": ["torch": "2.2.0", "numpy": "1.26.0"]], path: "")
        var runB = RunRecord(id: "b", job: "train")
        runB.environment = try? EnvironmentFacet(json: ["packages": ["torch": "2.3.0", "numpy": "1.26.0"]], path: "")
        let a = ModelPedigree(
            subject: .artifact(ArtifactRef(kind: "model", namespace: "t", name: "m", version: "1")), digest: nil, run: runA,
            inputs: [input("tx", "1", "train"), input("holdout", "1", "test")], parents: [input("bert", "a", "base-model", kind: "model")])
        let b = ModelPedigree(
            subject: .artifact(ArtifactRef(kind: "model", namespace: "t", name: "m", version: "2")), digest: nil, run: runB,
            inputs: [input("tx", "2", "train"), input("holdout", "1", "test")], parents: [input("bert", "b", "base-model", kind: "model")])
        let diff = LineageDiff(a, b)
        #expect(diff.data.map(\.path) == ["inputs[train] dataset:w/tx"])
        #expect(diff.data.first?.old?["ref"] == "dataset:w/tx@1")
        #expect(diff.data.first?.new?["ref"] == "dataset:w/tx@2")
        #expect(diff.parents.map(\.kind) == [.changed])
        #expect(diff.environment.map(\.path) == ["packages.torch"])
        let keys = Set(diff.json.objectValue?.keys.map { $0 } ?? [])
        #expect(keys.isSuperset(of: ["data", "code", "parents", "hyperparameters", "environment"]))
        #expect(LineageDiff(a, a).isEmpty)
    }
}
