import ArgumentParser
import Foundation
import PedigreeCapture
import PedigreeCore
import PedigreeRender
import PedigreeStore

struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show one artifact, run or deployment endpoint with all five dimensions.",
        discussion: """
            Example: pedigree show model:fraud-team/fraud@2. A bare name (pedigree show fraud) is the model of \
            that name in the default namespace ($PEDIGREE_NAMESPACE, else 'default'), else the dataset.
            """)

    @Argument(help: "A reference: KIND:NAMESPACE/NAME[@VERSION], run:<id> or deployment:NAMESPACE/ENDPOINT, or a bare model or dataset name.")
    var ref: String
    @OptionGroup var time: TimeOptions
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard ref.contains(":") else { return }
        do { _ = try parseReference(ref) } catch { throw ArgumentParser.ValidationError("\(error)") }
    }

    func run() async throws {
        try await reportingErrors {
            let candidates = try Self.candidates(for: ref)
            let detail = try await storeOptions.withBackend(creating: false) { [time] backend in
                guard candidates.count > 1 else { return try await backend.show(candidates[0], asOf: time.asOf) }
                for candidate in candidates {
                    do { return try await backend.show(candidate, asOf: time.asOf) } catch let error as StoreError where error.code == .notFound {}
                }
                throw StoreError(
                    .notFound,
                    "no model or dataset named \(ref) is recorded in namespace \(candidates[0].namespaceText); give KIND:NAMESPACE/NAME, or find it with `pedigree list --name '\(ref.prefix { $0 != "@" })*'`",
                    field: "ref")
            }
            output.json ? printJSON(detail.json) : print(TextRenderer.detail(detail))
        }
    }

    /// What a reference may mean: itself, or for a bare name (`fraud`, `fraud@2`) the model, then the dataset,
    /// of that name in the default namespace.
    static func candidates(for text: String) throws -> [Reference] {
        guard !text.contains(":") else { return [try parseReference(text)] }
        let namespace = ProcessInfo.processInfo.environment["PEDIGREE_NAMESPACE"].flatMap { $0.isEmpty ? nil : $0 } ?? Reference.defaultNamespace
        let at = text.firstIndex(of: "@")
        let name = String(text[..<(at ?? text.endIndex)])
        let version = at.map { String(text[text.index(after: $0)...]) }
        return ["model", "dataset"].map { .artifact(ArtifactRef(kind: $0, namespace: namespace, name: name, version: version)) }
    }
}

struct Lineage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Walk the lineage graph upstream (where it came from) or downstream (what it fed).",
        discussion: """
            Walks are breadth-first, visit each node once (cycles are safe) and have no hop limit unless --depth \
            is given. Example: pedigree lineage model:fraud-team/fraud@2 --upstream --depth 4
            """)

    @Argument(help: "The node to start from.", transform: parseReference)
    var ref: Reference
    @Flag(help: "Direction of the walk.")
    var direction: LineageDirection = .upstream
    @Option(parsing: .unconditional, help: "Stop after this many hops (default: no limit).")
    var depth: Int?
    @OptionGroup var time: TimeOptions
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let depth, depth < 0 { throw ArgumentParser.ValidationError("--depth must be 0 or more") }
    }

    func run() async throws {
        try await reportingErrors {
            let graph = try await storeOptions.withBackend(creating: false) {
                try await $0.lineage(ref, direction: direction, depth: depth, asOf: time.asOf)
            }
            output.json ? printJSON(graph.json) : print(TextRenderer.tree(graph))
        }
    }
}

extension LineageDirection: EnumerableFlag {}

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List what is recorded: the latest version of each artifact, by namespace, kind and name.",
        discussion: """
            Filters combine; a name is a glob (* and ?; ASCII letters match in either case). Examples: pedigree list; pedigree list --kind \
            model; pedigree list --namespace fraud-team --name 'fraud*'
            """)

    @Option(help: "Only artifacts of this kind (model, dataset, feature-set, …).")
    var kind: String?
    @Option(help: "Only this namespace.")
    var namespace: String?
    @Option(help: "Only names matching this glob (* and ?).")
    var name: String?
    @Option(parsing: .unconditional, help: "At most this many.")
    var limit: Int = 100
    @Option(parsing: .unconditional, help: "Skip this many first (for the next page).")
    var offset: Int = 0
    @OptionGroup var time: TimeOptions
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if limit < 1 { throw ArgumentParser.ValidationError("--limit must be 1 or more") }
        if offset < 0 { throw ArgumentParser.ValidationError("--offset must be 0 or more") }
        if let kind { do { _ = try Kind(kind, field: "--kind") } catch { throw ArgumentParser.ValidationError("\(error)") } }
    }

    func run() async throws {
        try await reportingErrors {
            let filter = ArtifactFilter(kind: kind, namespace: namespace, name: name)
            let artifacts = try await storeOptions.withBackend(creating: false) { [limit, offset, time] in
                try await $0.artifacts(matching: filter, limit: limit, offset: offset, asOf: time.asOf)
            }
            if output.json {
                printJSON(.object(["artifacts": .array(artifacts.map(\.json))]))
            } else {
                print(TextRenderer.listing(artifacts, limit: limit, offset: offset))
            }
        }
    }
}

struct Models: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List model versions trained on a dataset, directly or through preprocessing runs.",
        discussion: """
            Without @VERSION, every version of the dataset counts. Data used only as test or evaluation data does \
            not make a model trained on it. A file or directory is matched by its content digest, whatever name \
            it was recorded under. Examples: pedigree models --trained-on dataset:warehouse/transactions; \
            pedigree models --trained-on data/train.csv
            """)

    @Option(
        name: .customLong("trained-on"),
        help: ArgumentHelp("The dataset (any artifact) to search from: a reference, or a file or directory.", valueName: "ref|path"))
    var trainedOn: String
    @OptionGroup var time: TimeOptions
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard !FileManager.default.fileExists(atPath: trainedOn) else { return }
        do { _ = try parseArtifactReference(trainedOn) } catch { throw ArgumentParser.ValidationError("\(error)") }
    }

    func run() async throws {
        try await reportingErrors {
            let digest = try Self.contentDigest(of: trainedOn)
            let report = try await storeOptions.withBackend(creating: false) { [trainedOn, time] backend in
                guard let digest else { return try await backend.modelsTrainedOn(try parseArtifactReference(trainedOn), asOf: time.asOf) }
                let versions = try await backend.artifacts(withDigest: digest, kind: nil)
                guard !versions.isEmpty else {
                    throw StoreError(.notFound, "no artifact with the content of \(trainedOn) (\(digest)) is recorded", field: "--trained-on")
                }
                // The same content may be registered under several names: every one counts, each model once.
                var datasets: [NodeSummary] = [], models: [TrainedOnReport.Entry] = [], seen: Set<String> = []
                for version in versions {
                    let ref = ArtifactRef(kind: version.kind, namespace: version.namespace, name: version.name, version: version.version)
                    let report = try await backend.modelsTrainedOn(ref, asOf: time.asOf)
                    datasets += report.datasets
                    models += report.models.filter { seen.insert($0.model.ref).inserted }
                }
                return TrainedOnReport(datasets: datasets, models: models)
            }
            output.json ? printJSON(report.json) : print(TextRenderer.trainedOn(report))
        }
    }

    /// The digest of a file or directory named on the command line, as `pedigree run` fingerprints inputs;
    /// nil when the text is not a path.
    static func contentDigest(of text: String) throws -> ContentDigest? {
        guard FileManager.default.fileExists(atPath: text) else { return nil }
        return try Fingerprinter(cache: CaptureCache(directory: PedigreeDirectories.cache)).fingerprint([text]).first?.digest
    }
}

struct Impact: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Everything downstream of an artifact, and the deployments serving an affected model now.",
        discussion: "Example: pedigree impact dataset:warehouse/transactions@2026-11")

    @Argument(help: "The artifact (or run) that is suspect.", transform: parseReference)
    var ref: Reference
    @OptionGroup var time: TimeOptions
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors {
            let report = try await storeOptions.withBackend(creating: false) { try await $0.impact(ref, asOf: time.asOf) }
            output.json ? printJSON(report.json) : print(TextRenderer.impact(report))
        }
    }
}

struct Diff: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "What changed between two model versions (or dataset versions, or runs): data, code, parents, hyperparameters, environment.",
        discussion: """
            A version is compared through the run that generated it; a run, as itself — so a failed run, which \
            registered no model, can be compared with the last good one. Examples: pedigree diff \
            model:fraud-team/fraud@1 model:fraud-team/fraud@2; pedigree diff run:<good> run:<failed>
            """)

    @Argument(help: "The earlier (or known good) model or dataset version, or run.", transform: parseReference)
    var from: Reference
    @Argument(help: "The later (or failing) one.", transform: parseReference)
    var to: Reference
    @Flag(help: "Show unchanged values as well.")
    var all = false
    @Option(parsing: .unconditional, help: "Follow a changed data input up this many preparation runs (default: all the way to the raw data).")
    var depth: Int?
    @OptionGroup var time: TimeOptions
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let depth, depth < 0 { throw ArgumentParser.ValidationError("--depth must be 0 or more") }
    }

    func run() async throws {
        try await reportingErrors {
            let diff = try await storeOptions.withBackend(creating: false) { try await $0.diff(from, to, all: all, depth: depth, asOf: time.asOf) }
            output.json ? printJSON(diff.json) : print(TextRenderer.diff(diff))
        }
    }
}

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Which model version a deployment endpoint served, over time or at one instant.",
        discussion: "Example: pedigree history fraud-team/fraud-api --at 2026-11-01")

    @Argument(help: "The endpoint: NAMESPACE/ENDPOINT or deployment:NAMESPACE/ENDPOINT.")
    var endpoint: String
    @Option(help: ArgumentHelp("Only the deployment serving at this time.", valueName: "time"), transform: parseTime)
    var at: Timestamp?
    @OptionGroup var time: TimeOptions
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors {
            let (namespace, name) = try parseEndpoint(endpoint, field: "endpoint")
            let text = Reference.deployment(namespace: namespace, endpoint: name).description
            var entries = try await storeOptions.withBackend(creating: false) {
                try await $0.history(namespace: namespace, endpoint: name, asOf: time.asOf)
            }
            if let at {
                entries = entries.filter { $0.isServing(at: at) }
                if entries.isEmpty {
                    throw StoreError(.notFound, "\(text) served no model at \(at)", field: "at")
                }
            }
            output.json
                ? printJSON(.object(["endpoint": .string(text), "history": .array(entries.map(\.json))])) : print(TextRenderer.history(entries))
        }
    }
}

extension Reference {
    /// The namespace a reference names, for messages (a run's is known only once it is found).
    fileprivate var namespaceText: String {
        switch self {
        case .artifact(let artifact): artifact.namespace
        case .deployment(let namespace, _): namespace
        case .run: "(the run's)"
        }
    }
}
