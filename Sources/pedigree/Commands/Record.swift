import ArgumentParser
import Foundation
import PedigreeCore
import PedigreeRender
import PedigreeStore

struct Record: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Record events: native Pedigree events or OpenLineage events, one, an array, or JSON lines.",
        discussion: """
            Reads FILE, or standard input when FILE is '-' or absent. All events are stored in one transaction: \
            if any is invalid, nothing is stored. An event recorded before is acknowledged as a duplicate.

            Example:
              pedigree record run-complete.json
              cat events.jsonl | pedigree record -
            """)

    @Argument(help: "A JSON file, or '-' for standard input.")
    var file: String = "-"

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors {
            let text: String
            if file == "-" {
                text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            } else {
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw PedigreeCore.ValidationError(field: "FILE", "cannot read '\(file)'")
                }
                text = String(decoding: data, as: UTF8.self)
            }
            let outcomes = try await storeOptions.withBackend(creating: true) { try await $0.record(text) }
            if output.json {
                printJSON(.object(["events": .array(outcomes.map(\.json))]))
            } else {
                let duplicates = outcomes.filter(\.duplicate).count
                print(
                    "recorded \(outcomes.count - duplicates) event\(outcomes.count - duplicates == 1 ? "" : "s")"
                        + (duplicates > 0 ? " (\(duplicates) already recorded)" : ""))
                for outcome in outcomes where !outcome.duplicate {
                    print("  \(TerminalText.escape(outcome.namespace)) #\(outcome.sequence)  \(outcome.digest)")
                }
            }
        }
    }
}
