import ArgumentParser
import Foundation
import PedigreeCore
import PedigreeRender
import PedigreeStore

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recompute every hash chain and the graph projections; exit 1 at the first broken link.",
        discussion: """
            Publish the chain heads it prints (or its --json). A later `verify --expect-heads FILE` checks that \
            each published head is still in its chain at the same position: history may have grown since, but \
            nothing up to those heads was rewritten — not even by someone who recomputed every hash.
            """)

    @Option(
        name: .customLong("expect-heads"), help: ArgumentHelp("Chain heads published earlier: verify's --json output or its text.", valueName: "file")
    )
    var expectHeads: String?
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors {
            let published = try expectHeads.map(PublishedHeads.read)
            let report = try await storeOptions.withBackend(creating: false) { backend in
                let report = try await backend.verify()
                guard let published else { return report }
                return try await published.check(report, against: backend)
            }
            output.json ? printJSON(report) : print(TextRenderer.verification(report))
            if !report.ok { throw ExitCode(1) }
        }
    }
}

/// Chain heads published from an earlier `verify`: for each namespace, the event count then and the head.
struct PublishedHeads: Sendable {
    let chains: [VerificationReport.Chain]

    /// Reads `verify --json` output, or its text (`  NAMESPACE: N events, head HASH` lines).
    static func read(_ file: String) throws -> PublishedHeads {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw PedigreeCore.ValidationError(field: "--expect-heads", "cannot read \(file)")
        }
        if let json = try? JSONValue.parse(data), let report = try? VerificationReport(json: json) {
            return PublishedHeads(chains: report.chains)
        }
        var chains: [VerificationReport.Chain] = []
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            guard let match = line.wholeMatch(of: /\s*(?<namespace>\S+): (?<events>\d+) events, head (?<head>[0-9a-f]{64})\s*/),
                let events = Int64(match.output.events)
            else { continue }
            chains.append(VerificationReport.Chain(namespace: String(match.output.namespace), events: events, head: String(match.output.head)))
        }
        guard !chains.isEmpty else {
            throw PedigreeCore.ValidationError(
                field: "--expect-heads", "\(file) holds no chain heads; give it the output of `pedigree verify` or `verify --json`")
        }
        return PublishedHeads(chains: chains)
    }

    /// The report with a problem for each published head that is not where it was published.
    func check(_ report: VerificationReport, against backend: any Backend) async throws -> VerificationReport {
        var wanted: [String: [Int64: String]] = [:]
        for chain in chains { wanted[chain.namespace, default: [:]][chain.events] = chain.head }
        var found: [String: [Int64: String]] = [:]
        var after: Int64 = 0
        while true {
            let page = try await backend.events(afterSequence: after, limit: 5_000)
            guard let last = page.last else { break }
            for event in page where wanted[event.namespace]?[event.namespaceSequence] != nil {
                found[event.namespace, default: [:]][event.namespaceSequence] = event.chainHash
            }
            after = last.sequence
        }
        var problems = report.problems
        for chain in chains {
            switch found[chain.namespace]?[chain.events] {
            case chain.head?: continue
            case let other?:
                problems.append(
                    .init(
                        namespace: chain.namespace, sequence: chain.events,
                        message:
                            "the published head \(chain.head) is not in the chain: event #\(chain.events) now hashes to \(other); history up to it was rewritten"
                    ))
            case nil:
                problems.append(
                    .init(
                        namespace: chain.namespace, sequence: chain.events,
                        message: "the chain has fewer than the \(chain.events) events published with head \(chain.head): it was truncated or replaced"
                    ))
            }
        }
        return VerificationReport(chains: report.chains, eventCount: report.eventCount, problems: problems)
    }
}

struct Rebuild: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rebuild the graph projections from the event log (on the store itself, not through a server).")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors {
            let statistics = try await storeOptions.withStore("rebuild", creating: false) { store in
                try await store.rebuildProjections()
                return try await store.statistics()
            }
            if output.json {
                printJSON(["rebuilt": true, "events": .int(statistics.events), "nodes": .int(statistics.nodes), "edges": .int(statistics.edges)])
            } else {
                print("projections rebuilt from the event log: \(statistics.events) events, \(statistics.nodes) nodes, \(statistics.edges) edges")
            }
        }
    }
}

struct Log: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print stored events in append order, with their chain hashes, as JSON lines.",
        discussion: """
            A full-fidelity audit trail: each line holds the event, who recorded it and when, and its place in \
            the chain. --json prints one JSON document instead: {"events": [...]}.
            """)

    @Option(parsing: .unconditional, help: "Start after this global sequence number.")
    var after: Int64 = 0
    @Option(parsing: .unconditional, help: "At most this many events.")
    var limit: Int = 1000
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if after < 0 { throw ArgumentParser.ValidationError("--after must be 0 or more") }
        if limit < 0 { throw ArgumentParser.ValidationError("--limit must be 0 or more") }
    }

    func run() async throws {
        try await reportingErrors {
            let events = try await storeOptions.withBackend(creating: false) { try await $0.events(afterSequence: after, limit: limit) }
            if output.json {
                printJSON(.object(["events": .array(events.map(\.json))]))
            } else {
                for event in events { print(TerminalText.escapeJSON(event.json.canonicalString)) }
            }
        }
    }
}
