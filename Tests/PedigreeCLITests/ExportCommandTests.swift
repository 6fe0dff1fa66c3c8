import Foundation
import PedigreeCore
import Testing

@Suite("pedigree export for other tools")
struct ExportCommandTests {
    /// A history with a 600-generation fine-tune chain (from a hub model) and names an attacker chose, beside
    /// the quickstart's datasets, runs, models and endpoint.
    static func chainAndHostileNames() -> String {
        var lines: [String] = []
        for i in 1...600 {
            let parent = i == 1 ? "hf://acme/base@abc123" : "model:lab/chain@\(i - 1)"
            lines.append(
                #"{"type":"run","namespace":"lab","run":{"id":"ft-\#(i)","job":"finetune","status":"COMPLETE","parents":["\#(parent)"],"outputs":[{"artifact":{"kind":"model","name":"chain","version":"\#(i)"},"role":"model"}],"hyperparameters":{"lr":0.00001}}}"#
            )
        }
        lines.append(
            #"{"type":"run","namespace":"lab","run":{"id":"hostile-1","job":"x\"'<script>alert(1)</script>\\","status":"COMPLETE","inputs":[{"artifact":{"kind":"dataset","name":"<script>alert(1)</script>\"onerror=' \\ #|`&","version":"1"},"role":"train"}],"outputs":[{"artifact":{"kind":"model","name":"evil\"'\n//","version":"1"},"role":"model"}]}}"#
        )
        return lines.joined(separator: "\n") + "\n"
    }

    static let files: [(format: String, file: String)] = [
        ("prov-json", "prov.json"), ("cypher", "lineage.cypher"), ("cypher-kuzu", "lineage-kuzu.cypher"), ("csv", "csv"),
        ("graphml", "lineage.graphml"), ("dot", "lineage.dot"), ("mermaid", "lineage.mmd"), ("openlineage", "openlineage.jsonl"),
        ("datahub", "datahub.json"),
    ]

    @Test(
        "every export is read by its own tool — prov, Kùzu (Cypher and CSV), networkx, Graphviz, the OpenLineage client, DataHub — with Pedigree's counts; the chain walks to its base; OpenLineage sent back gives the same graph",
        .enabled(
            if: pythonHas("prov") && pythonHas("kuzu") && pythonHas("networkx") && pythonHas("openlineage.client") && pythonHas("datahub"),
            "needs prov, kuzu, networkx, openlineage-python and acryl-datahub (scripts/test installs them)"))
    func toolsReadEveryExport() throws {
        let cli = try CLI()
        #expect(try cli.run(["quickstart"]).status == 0)
        #expect(try cli.run(["record", "-"], stdin: Self.chainAndHostileNames()).status == 0)
        let rebuilt = try #require(try cli.run(["rebuild", "--json"]).json)
        let (nodes, edges) = (try #require(rebuilt["nodes"]?.intValue), try #require(rebuilt["edges"]?.intValue))
        let directory = cli.home.deletingLastPathComponent().appendingPathComponent("exports")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (format, file) in Self.files {
            let made = try cli.run(["export", "--all", "--format", format, "-o", directory.appendingPathComponent(file).path])
            #expect(made.status == 0, "\(format): \(made.stderr)")
        }
        // The OpenLineage events, recorded into a new store, give the graph back.
        let returned = cli.home.deletingLastPathComponent().appendingPathComponent("returned.db").path
        let recorded = try cli.run(["record", directory.appendingPathComponent("openlineage.jsonl").path, "--store", returned])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let roundTrip = try cli.run([
            "export", "--all", "--format", "graphml", "--store", returned, "-o", directory.appendingPathComponent("roundtrip.graphml").path,
        ])
        #expect(roundTrip.status == 0, "\(roundTrip.stderr)")
        let checked = try AuditCommandTests.SignedModelProject.shell(
            "\(testPython) \(compatibility("graph_exports.py")) \(directory.path) model:lab/chain@600", in: directory)
        try #require(checked.status == 0, "\(checked.output)")
        let result = try JSONValue.parse(Data(checked.output.split(separator: "\n").last!.utf8))

        let prov = try #require(result["prov"])
        #expect(prov["entities"]!.intValue! + prov["activities"]!.intValue! == nodes, "every node is a PROV entity or activity")
        let serves = try #require(result["kuzu"]?["relationships"]?["SERVES"]?.intValue)
        #expect(prov["used"]!.intValue! + prov["generated"]!.intValue! == edges - serves, "every edge but an endpoint's is a usage or generation")
        #expect(prov["derived"]?.intValue == 603, "600 chain links, the two fraud versions and the EU model from their base models")
        #expect(prov["agents"]!.intValue! >= 2, "recorders and the code repository")
        #expect(prov["hyperparameters"]?.arrayValue?.first?.stringValue?.contains("\"optimizer\"") == true)

        for tool in ["kuzu", "csv"] {
            let counted = try #require(result[tool])
            #expect(counted["nodes"]?.intValue == nodes, "\(tool): \(counted)")
            let relationships = try #require(counted["relationships"])
            #expect(relationships["USED"]!.intValue! + relationships["GENERATED"]!.intValue! + relationships["SERVES"]!.intValue! == edges, "\(tool)")
            #expect(relationships["DERIVED_FROM"]?.intValue == 603, "\(tool)")
        }
        #expect(result["kuzu"]?["chain"] == [["model:hf/acme/base@abc123", 600]], "the Cypher query walks 600 generations to the pretrained base")
        #expect(result["kuzu"]?["hostileName"] == "<script>alert(1)</script>\"onerror=' \\ #|`&", "a hostile name is data, not Cypher")
        #expect(result["neo4jSchema"]?[0]?.stringValue?.hasPrefix("CREATE CONSTRAINT pedigree_dataset_ref IF NOT EXISTS") == true)
        #expect(result["graphml"]?["nodes"]?.intValue == nodes && result["graphml"]?["edges"]?.intValue == edges)
        #expect(result["graphml"]?["hostileName"]?.stringValue?.contains("<script>") == true, "XML-escaped, read back as the text it was")
        #expect(result["mermaid"]?["nodes"]?.intValue == nodes && result["mermaid"]?["edges"]?.intValue == edges)
        #expect((result["dot"]?["svgBytes"]?.intValue ?? 0) > 0)

        let openLineage = try #require(result["openlineage"])
        let runs = try #require(prov["activities"]?.intValue)
        #expect(openLineage["runEvents"]?.intValue == runs && openLineage["withPedigreeFacets"]?.intValue == runs, "\(openLineage)")
        let endpoints = try #require(result["kuzu"]?["labels"]?["Deployment"]?.intValue)
        #expect(endpoints == 2)
        #expect(
            openLineage["datasetEvents"]?.intValue == prov["entities"]!.intValue! - endpoints,
            "every artifact version; endpoints have no OpenLineage form")
        let trip = try #require(openLineage["roundTrip"])
        #expect(trip["nodesDiffering"] == [], "\(trip)")
        #expect(trip["sameEdges"] == true && trip["nodes"]?.intValue == nodes - endpoints, "\(trip)")

        let dataHub = try #require(result["datahub"])
        #expect(dataHub["report"]?.stringValue?.hasSuffix("all valid") == true, "\(dataHub)")
        let aspects = try #require(dataHub["aspects"])
        #expect(aspects["mlModel/mlModelProperties"]?.intValue == aspects["mlModel/versionProperties"]?.intValue)
        #expect(aspects["dataProcessInstance/dataProcessInstanceProperties"]?.intValue == runs)
        #expect(
            aspects["mlModelGroup/mlModelGroupProperties"]?.intValue == 6,
            "a group per model line: fraud, fraud-eu, distilbert, chain, the hub base and evil \(aspects)")
        #expect((aspects["dataset/upstreamLineage"]?.intValue ?? 0) >= 2, "features versions from transactions versions")
        #expect((aspects["mlModel/withHyperParams"]?.intValue ?? 0) >= 600, "each model version carries its training run's parameters")
    }

    @Test("exports are deterministic, follow a node's lineage and --as-of, and a failed export writes nothing")
    func selectionsAndFailures() throws {
        let cli = try CLI()
        #expect(try cli.run(["quickstart"]).status == 0)
        for (format, _) in Self.files where format != "csv" {
            let first = try cli.run(["export", "--all", "--format", format])
            #expect(first.status == 0 && !first.stdout.isEmpty, "\(format): \(first.stderr)")
            #expect(try cli.run(["export", "--all", "--format", format]).stdout == first.stdout, "\(format) is byte-identical run to run")
        }
        // One model's upstream lineage: what it came from, nothing downstream of it.
        let upstream = try cli.run(["export", "model:fraud-team/fraud@1", "--upstream", "--format", "graphml"]).stdout
        #expect(upstream.contains("dataset:warehouse/transactions@2026-10") && upstream.contains("model:hf/distilbert"))
        #expect(!upstream.contains("model:fraud-team/fraud@2") && !upstream.contains("deployment:fraud-team/fraud-api"))
        let both = try cli.run(["export", "model:fraud-team/fraud@1", "--format", "dot"]).stdout
        #expect(both.contains("deployment:fraud-team/fraud-api"), "both directions by default")
        let shallow = try cli.run(["export", "model:fraud-team/fraud@2", "--upstream", "--depth", "1", "--format", "mermaid"]).stdout
        #expect(shallow.split(separator: "\n").filter { $0.contains("-->") }.count == 1, "one hop: the generating run\n\(shallow)")
        // Before anything was recorded the store was empty.
        let before = try cli.run(["export", "--all", "--format", "graphml", "--as-of", "2000-01-01"]).stdout
        #expect(!before.contains("<node "))

        let target = cli.home.deletingLastPathComponent().appendingPathComponent("out.graphml")
        let unknown = try cli.run(["export", "--all", "--format", "neo5j", "-o", target.path])
        #expect(unknown.status == 64 && unknown.stderr.contains("prov-json") && unknown.stderr.contains("graphml"), "\(unknown.stderr)")
        let missing = try cli.run(["export", "model:nobody/nothing@1", "--format", "graphml", "-o", target.path])
        #expect(missing.status == 3 && missing.stderr.contains("model:nobody/nothing"), "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: target.path), "nothing is written to -o on failure")
        let siblings = try FileManager.default.contentsOfDirectory(atPath: target.deletingLastPathComponent().path)
        #expect(!siblings.contains { $0.hasSuffix(".partial") }, "no partial file is left behind: \(siblings)")
        let csvWithoutDirectory = try cli.run(["export", "--all", "--format", "csv"])
        #expect(csvWithoutDirectory.status == 64 && csvWithoutDirectory.stderr.contains("-o DIR"))
    }
}

func compatibility(_ file: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Compatibility/\(file)").path
}
