import ArgumentParser
import Foundation
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
                for candidate in candidates.dropLast() {
                    if let detail = try? await backend.show(candidate, asOf: time.asOf) { return detail }
                }
                return try await backend.show(candidates[candidates.count - 1], asOf: time.asOf)
            }
            output.json ? printJSON(detail.json) : print(TextRenderer.detail(detail))
        }
    }

    /// What a reference may mean: itself, or for a bare name the model, then the dataset, of that name.
    static func candidates(for text: String) throws -> [Reference] {
        guard !text.contains(":") else { return [try parseReference(text)] }
        let namespace = ProcessInfo.processInfo.environment["PEDIGREE_NAMESPACE"].flatMap { $0.isEmpty ? nil : $0 } ?? Reference.defaultNamespace
        let escaped = namespace.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "/", with: "%2F").replacingOccurrences(
            of: "@", with: "%40")
        return try ["model", "dataset"].map { try Reference(parsing: "\($0):\(escaped)/\(text)") }
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

struct Models: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List model versions trained on a dataset, directly or through preprocessing runs.",
        discussion: """
            Without @VERSION, every version of the dataset counts. Data used only as test or evaluation data does \
            not make a model trained on it. Example: pedigree models --trained-on dataset:warehouse/transactions
            """)

    @Option(name: .customLong("trained-on"), help: "The dataset (any artifact) to search from.", transform: parseArtifactReference)
    var trainedOn: ArtifactRef
    @OptionGroup var time: TimeOptions
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors {
            let report = try await storeOptions.withBackend(creating: false) { try await $0.modelsTrainedOn(trainedOn, asOf: time.asOf) }
            output.json ? printJSON(report.json) : print(TextRenderer.trainedOn(report))
        }
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
        abstract: "What changed between two model versions: data, code, parents, hyperparameters, environment.",
        discussion: "Example: pedigree diff model:fraud-team/fraud@1 model:fraud-team/fraud@2")

    @Argument(help: "The earlier (or known good) model version.", transform: parseArtifactReference)
    var from: ArtifactRef
    @Argument(help: "The later (or failing) model version.", transform: parseArtifactReference)
    var to: ArtifactRef
    @Flag(help: "Show unchanged values as well.")
    var all = false
    @OptionGroup var time: TimeOptions
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors {
            let diff = try await storeOptions.withBackend(creating: false) { try await $0.diff(from, to, all: all, asOf: time.asOf) }
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
            let text = endpoint.hasPrefix("deployment:") ? endpoint : "deployment:\(endpoint)"
            guard case .deployment(let namespace, let name) = try Reference(parsing: text) else { return }
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
