import ArgumentParser
import Foundation
import PedigreeCore
import PedigreeRender
import PedigreeStore

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recompute every hash chain and the graph projections; exit 1 at the first broken link.",
        discussion: "Publish the chain heads it prints: a later verify against them proves history was not rewritten.")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors {
            let report = try await storeOptions.withBackend(creating: false) { try await $0.verify() }
            output.json ? printJSON(report) : print(TextRenderer.verification(report))
            if !report.ok { throw ExitCode(1) }
        }
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
