import PedigreeCore
import PedigreeRender
import Testing

@Suite("Terminal output")
struct TerminalTextTests {
    @Test("control characters, newlines and bidirectional overrides are shown, not obeyed")
    func escaping() {
        #expect(TerminalText.escape("\u{1B}[2J\u{1B}]0;pwned\u{07}") == "\\e[2J\\e]0;pwned\\u{7}")
        #expect(TerminalText.escape("train\nok: 0 events verified") == "train\\nok: 0 events verified")
        #expect(TerminalText.escape("invoice\u{202E}fdp.exe") == "invoice\\u{202E}fdp.exe")
        #expect(TerminalText.escape("\u{9B}31m") == "\\u{9B}31m", "C1 control sequence introducer")
        #expect(TerminalText.escape("Zürich-模型 ✓") == "Zürich-模型 ✓", "ordinary Unicode is unchanged")
    }

    @Test("every renderer escapes recorded text: a hostile job name reaches no terminal raw")
    func renderers() throws {
        let hostile = "\u{1B}[2J\u{1B}]0;pwned\u{07}"
        let run = NodeSummary(
            ref: "run:1", kind: "run", namespace: "team", name: hostile, version: nil, digest: nil, status: "COMPLETE",
            recordedAt: Timestamp(microseconds: 0))
        let model = NodeSummary(
            ref: "model:team/\(hostile)@1", kind: "model", namespace: "team", name: hostile, version: "1", digest: nil, status: nil,
            recordedAt: Timestamp(microseconds: 0))
        let graph = LineageGraph(
            root: model, direction: .upstream, depthLimit: nil, nodes: [.init(node: model, depth: 0), .init(node: run, depth: 1)],
            edges: [LineageEdge(from: run.ref, to: model.ref, role: "mo\u{1B}[1Adel")])
        let deployment = DeploymentEntry(
            endpoint: "deployment:team/api",
            record: DeploymentRecord(
                endpoint: "api", model: ArtifactRef(kind: "model", namespace: "team", name: hostile, version: "1"), validFrom: .now),
            serving: [.init(model: model.ref, percent: 100)], validUntil: nil, recordedAt: .now, recordedBy: hostile)
        let incident = IncidentReport(
            endpoint: "deployment:team/api", namespace: "team", at: .now, serving: deployment, suspect: model.ref, suspectSince: .now,
            suspectDeployment: deployment,
            good: .init(model: model.ref, choice: .given, deployment: nil), diff: nil,
            servingChanges: [Change(path: hostile, kind: .changed, old: .string(hostile), new: "x")], blastRadius: [])
        let outputs = [
            TextRenderer.tree(graph),
            TextRenderer.trainedOn(TrainedOnReport(datasets: [], models: [.init(model: model, run: run.ref, runNamespace: "team", hops: 2)])),
            TextRenderer.impact(ImpactReport(root: model, affected: [.init(node: run, depth: 1)], serving: [])),
            TextRenderer.history([deployment]),
            TextRenderer.incident(incident),
            TextRenderer.detail(
                NodeDetail(
                    summary: run, artifact: nil, run: RunRecord(id: "1", job: hostile), upstream: [], downstream: [.init(node: model, role: "model")],
                    history: [], events: [])),
        ]
        for output in outputs {
            #expect(!output.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 }, "\(output)")
            #expect(output.contains("\\e[2J"), "the text is still there, visibly: \(output)")
        }
    }
}
