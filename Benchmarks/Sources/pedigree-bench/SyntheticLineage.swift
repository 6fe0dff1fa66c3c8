import Foundation
import PedigreeCore
import PedigreeSQLite
import PedigreeStore

/// Generates a realistic lineage history as native-format JSON lines.
///
/// The unit is a *project*: a raw dataset with `versions` monthly versions; each version goes through a
/// preprocessing run into a feature-set version; each feature version trains a model version (fine-tuned
/// from one of a few pretrained hub models, with a shared holdout as test data); the last model version
/// starts a chain of `fineTunes` successive fine-tunes; the project's endpoint served two versions, and then
/// the latest trained version as a 10 % canary beside the last fine-tune.
/// Per project: 5 + 5 + 5 + 5 + 5 + 2·fineTunes + 1 nodes — 86 with the defaults.
struct SyntheticLineage {
    var versions = 5
    var fineTunes = 30
    var pretrained = ["hf://meta-llama/Llama-3.1-8B@0e9e39f", "hf://google/bert-base-uncased@86b5e09", "hf://openai/clip-vit-base@3d74acf"]

    var nodesPerProject: Int { versions * 5 + 2 * fineTunes + 1 }

    func projects(forNodes nodes: Int) -> Int { max(1, nodes / nodesPerProject) }

    /// The events of project `p`, in the order a real team would record them.
    func events(project p: Int) -> [String] {
        var lines: [String] = []
        let ns = "team-\(p % 200)"
        let time = { (day: Int) in "2026-\(String(format: "%02d", 1 + day / 28 % 12))-\(String(format: "%02d", 1 + day % 28))T08:00:00Z" }
        lines.append(
            #"{"type":"artifact","namespace":"warehouse","artifact":{"kind":"dataset","name":"holdout-\#(p)","version":"v1","digest":"\#(digest("holdout \(p)"))"}}"#
        )
        for v in 1...versions {
            lines.append(
                #"{"type":"artifact","namespace":"warehouse","eventTime":"\#(time(v))","artifact":{"kind":"dataset","name":"raw-\#(p)","version":"\#(v)","digest":"\#(digest("raw \(p) \(v)"))","uri":"s3://warehouse/raw-\#(p)/\#(v)/"}}"#
            )
            lines.append(
                #"{"type":"run","namespace":"\#(ns)","run":{"id":"prep-\#(p)-\#(v)","job":"prep-\#(p)","status":"COMPLETE","inputs":[{"ref":"dataset:warehouse/raw-\#(p)@\#(v)","role":"input"}],"outputs":[{"artifact":{"kind":"dataset","name":"features-\#(p)","version":"\#(v)","digest":"\#(digest("features \(p) \(v)"))"},"role":"output"}],"data":{"transformations":[{"op":"dropna"},{"op":"scale","columns":["a","b"]}],"featureSelection":{"top_k":\#(30 + v)}}}}"#
            )
            let base = pretrained[p % pretrained.count]
            lines.append(
                #"{"type":"run","namespace":"\#(ns)","run":{"id":"train-\#(p)-\#(v)","job":"train-\#(p)","status":"COMPLETE","startedAt":"\#(time(v + 1))","inputs":[{"ref":"dataset:\#(ns)/features-\#(p)@\#(v)","role":"train"},{"ref":"dataset:warehouse/holdout-\#(p)@v1","role":"test"}],"parents":["\#(base)"],"outputs":[{"artifact":{"kind":"model","name":"model-\#(p)","version":"\#(v)","digest":"\#(digest("model \(p) \(v)"))"},"role":"model"}],"code":{"repository":"https://git.example.com/team/models.git","commit":"\#(digest("commit \(p) \(v)").dropFirst(7).prefix(40))","branch":"main","dirty":false},"hyperparameters":{"optimizer":{"name":"adamw","lr":\#(Double(v) * 1e-5)},"epochs":\#(2 + v % 3),"batch_size":32,"seed":42},"environment":{"os":"Linux","runtime":{"name":"python","version":"3.11.7"},"cuda":"12.1","packages":{"torch":"2.\#(v % 4).0","transformers":"4.4\#(v).0","numpy":"1.26.4"}},"metrics":{"auc":0.9\#(v)}}}"#
            )
        }
        for f in 1...fineTunes {
            let parent = f == 1 ? "model:\(ns)/model-\(p)@\(versions)" : "model:\(ns)/ft-\(p)@\(f - 1)"
            lines.append(
                #"{"type":"run","namespace":"\#(ns)","run":{"id":"ft-\#(p)-\#(f)","job":"finetune-\#(p)","status":"COMPLETE","parents":["\#(parent)"],"outputs":[{"artifact":{"kind":"model","name":"ft-\#(p)","version":"\#(f)","digest":"\#(digest("ft \(p) \(f)"))"},"role":"model"}],"hyperparameters":{"optimizer":{"name":"adamw","lr":1e-6},"epochs":1}}}"#
            )
        }
        lines.append(
            #"{"type":"deployment","namespace":"\#(ns)","deployment":{"endpoint":"api-\#(p)","model":"model:\#(ns)/model-\#(p)@\#(versions - 1)","validFrom":"2026-06-01T00:00:00Z"}}"#
        )
        lines.append(
            #"{"type":"deployment","namespace":"\#(ns)","deployment":{"endpoint":"api-\#(p)","model":"model:\#(ns)/ft-\#(p)@\#(fineTunes)","validFrom":"2026-07-01T00:00:00Z"}}"#
        )
        // A canary of the latest trained version beside the fine-tune: what `incident` is asked about.
        lines.append(
            #"{"type":"deployment","namespace":"\#(ns)","deployment":{"endpoint":"api-\#(p)","model":"model:\#(ns)/model-\#(p)@\#(versions)","traffic":10,"validFrom":"2026-08-01T00:00:00Z"}}"#
        )
        return lines
    }

    func digest(_ text: String) -> String { ContentDigest(hashing: Array(text.utf8)).description }

    /// An SQLite store at `path` holding the history of `projects(forNodes: nodes)` projects.
    func makeStore(at path: String, nodes: Int) async throws {
        let projects = projects(forNodes: nodes)
        let store = try SQLiteStore(path: path)
        for start in stride(from: 0, to: projects, by: 100) {
            let lines = (start..<min(start + 100, projects)).flatMap { events(project: $0) }
            _ = try await store.append(try EventDocument.decodeLines(lines.map { Substring($0) }), recordedBy: "bench")
        }
        let statistics = try await store.statistics()
        print("\nstore: \(statistics.nodes) nodes, \(statistics.edges) edges (\(projects) projects of the spine benchmark)")
    }
}
