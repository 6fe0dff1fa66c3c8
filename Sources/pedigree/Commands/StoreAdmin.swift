import ArgumentParser
import Foundation
import PedigreeCore
import PedigreeStore

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or upgrade a PostgreSQL store's schema.",
        discussion: """
            Servers refuse a database whose schema is behind or ahead of their own version, so run this once \
            before starting (or upgrading) them; replicas starting together are safe, migrations take a lock. \
            SQLite stores migrate themselves when opened.

            Example: pedigree migrate --store postgres://pedigree@db.internal/lineage
            """)

    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        try await reportingErrors {
            let location = storeOptions.resolvedPath
            guard PostgresLocation.isPostgresURL(location) else {
                _ = try SQLiteStore(path: location)
                print("\(location): SQLite stores migrate when opened; it is up to date")
                return
            }
            let store = PostgresStore(location: try PostgresLocation(location))
            defer { Task { await store.close() } }
            let applied = try await store.migrate()
            let version = try await store.schemaVersion()
            for migration in applied { print("applied migration \(migration)") }
            print("\(store.location): schema version \(version.current)\(applied.isEmpty ? ", already up to date" : "")")
        }
    }
}

/// The backup format: a header line, then one line per event with everything its chain hash covers.
enum BackupFormat {
    static let header: JSONValue = ["format": "pedigree-export", "version": 1]

    static func line(_ event: StoredEvent) -> String {
        JSONValue.object([
            "seq": .int(event.sequence), "namespace": .string(event.namespace), "nsSeq": .int(event.namespaceSequence),
            "recordedAt": .int(event.recordedAt.microseconds), "recordedBy": .string(event.recordedBy), "digest": .string(event.digest.description),
            "prevHash": .string(event.previousHash), "chainHash": .string(event.chainHash), "body": .string(event.body),
        ]).canonicalString
    }

    static func event(_ line: String, number: Int) throws -> StoredEvent {
        let json = try JSONValue.parse(line)
        func field<T>(_ name: String, _ value: (JSONValue) -> T?) throws -> T {
            guard let field = json[name], let value = value(field) else {
                throw PedigreeCore.ValidationError(field: "line \(number).\(name)", "missing or malformed; is this file a `pedigree export`?")
            }
            return value
        }
        guard let digest = ContentDigest(try field("digest", \.stringValue)) else {
            throw PedigreeCore.ValidationError(field: "line \(number).digest", "not a sha256: digest")
        }
        return StoredEvent(
            sequence: try field("seq", \.intValue), namespace: try field("namespace", \.stringValue), namespaceSequence: try field("nsSeq", \.intValue),
            recordedAt: Timestamp(microseconds: try field("recordedAt", \.intValue)), recordedBy: try field("recordedBy", \.stringValue),
            digest: digest, previousHash: try field("prevHash", \.stringValue), chainHash: try field("chainHash", \.stringValue),
            body: try field("body", \.stringValue))
    }
}

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Back up a whole store: every event with its original sequence numbers, times and chain hashes.",
        discussion: """
            Writes JSON Lines that `pedigree import` loads into an empty store of either kind and verifies, e.g. to \
            move an embedded SQLite store to PostgreSQL:

              pedigree export --all lineage.jsonl
              pedigree import --store postgres://pedigree@db.internal/lineage lineage.jsonl

            The graph is not exported: it is rebuilt from the events. Tokens are not exported either.
            """)

    @Flag(help: "Export every namespace (required: a partial export could not keep the chains verifiable).")
    var all = false
    @Argument(help: "Where to write the export ('-' for standard output).")
    var file: String
    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        try await reportingErrors {
            guard all else { throw PedigreeCore.ValidationError(field: "--all", "exports are of the whole store; pass --all") }
            let store = try await storeOptions.open()
            let output: FileHandle
            if file == "-" {
                output = .standardOutput
            } else {
                guard FileManager.default.createFile(atPath: file, contents: nil) else {
                    throw PedigreeCore.ValidationError(field: "file", "cannot create \(file)")
                }
                output = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
            }
            output.write(Data((BackupFormat.header.canonicalString + "\n").utf8))
            var after: Int64 = 0, count = 0
            while true {
                let page = try await store.events(afterSequence: after, limit: 5_000)
                guard let last = page.last else { break }
                output.write(Data(page.map { BackupFormat.line($0) + "\n" }.joined().utf8))
                count += page.count
                after = last.sequence
            }
            try output.synchronize()
            if file != "-" { try output.close() }
            warn("exported \(count) event\(count == 1 ? "" : "s") from \(storeOptions.displayLocation)")
        }
    }
}

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load a `pedigree export` into an empty store, build its graph and verify it.",
        discussion: """
            Each event must continue its namespace's hash chain exactly as exported, so a file that was altered \
            is refused at the first altered event. Exits 1 if the verification afterwards finds problems.

            Example: pedigree import --store postgres://pedigree@db.internal/lineage lineage.jsonl
            """)

    @Argument(help: "The export file ('-' for standard input).")
    var file: String
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors {
            let store = try await storeOptions.open()
            let existing = try await store.statistics().events
            guard existing == 0 else {
                throw StoreError(.conflict, "\(storeOptions.displayLocation) already holds \(existing) events; import into an empty store", field: "store")
            }
            let input = file == "-" ? FileHandle.standardInput : try FileHandle(forReadingFrom: URL(fileURLWithPath: file))
            var batch: [StoredEvent] = []
            var count = 0, number = 0
            var lines = LineReader(input)
            while let line = try lines.next() {
                number += 1
                if number == 1 {
                    guard (try? JSONValue.parse(line)) == BackupFormat.header else {
                        throw PedigreeCore.ValidationError(field: "file", "\(file) does not start with a pedigree-export header; is it a `pedigree export`?")
                    }
                    continue
                }
                batch.append(try BackupFormat.event(line, number: number))
                if batch.count == 2_000 {
                    try await store.restore(batch)
                    count += batch.count
                    batch = []
                }
            }
            try await store.restore(batch)
            count += batch.count
            warn("imported \(count) event\(count == 1 ? "" : "s") into \(storeOptions.displayLocation); verifying")
            let report = try await store.verify()
            if output.json { printJSON(report.json) } else { print(TextRenderer.verification(report)) }
            if !report.ok { throw ExitCode(1) }
        }
    }
}

/// Lines of a file read a block at a time, so an export of millions of events is never held in memory whole.
struct LineReader {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false

    init(_ handle: FileHandle) { self.handle = handle }

    mutating func next() throws -> String? {
        while true {
            if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[start..<newline], as: UTF8.self)
                start = newline + 1
                return line
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                defer { start = buffer.count }
                return String(decoding: buffer[start...], as: UTF8.self)
            }
            buffer.removeFirst(start)
            start = 0
            let block = try handle.read(upToCount: 1 << 20) ?? Data()
            if block.isEmpty { atEnd = true } else { buffer.append(contentsOf: block) }
        }
    }
}
