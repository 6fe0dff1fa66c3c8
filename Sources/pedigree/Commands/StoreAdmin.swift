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
            try storeOptions.requireStoreItself("migrate")
            let location = storeOptions.resolvedPath
            guard PostgresLocation.isPostgresURL(location) else {
                _ = try SQLiteStore(path: location)
                print("\(location): SQLite stores migrate when opened; it is up to date")
                return
            }
            let store = PostgresStore(location: try PostgresLocation(location))
            let applied = try await store.migrate()
            let version = try await store.schemaVersion()
            await store.close()
            for migration in applied { print("applied migration \(migration)") }
            print("\(store.location): schema version \(version.current)\(applied.isEmpty ? ", already up to date" : "")")
        }
    }
}

/// The backup format: a header line, one line per event with everything its chain hash covers, and a
/// trailer with the count, so a truncated file is recognised.
enum BackupFormat {
    static let header: JSONValue = ["format": "pedigree-export", "version": 1]

    static func trailer(events: Int, lastSequence: Int64) -> JSONValue {
        ["end": true, "events": .int(Int64(events)), "lastSeq": .int(lastSequence)]
    }

    static func line(_ event: StoredEvent) -> String {
        JSONValue.object([
            "seq": .int(event.sequence), "namespace": .string(event.namespace), "nsSeq": .int(event.namespaceSequence),
            "recordedAt": .int(event.recordedAt.microseconds), "recordedBy": .string(event.recordedBy), "digest": .string(event.digest.description),
            "prevHash": .string(event.previousHash), "chainHash": .string(event.chainHash), "body": .string(event.body),
        ]).canonicalString
    }

    static func event(_ json: JSONValue, line number: Int) throws -> StoredEvent {
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
            try storeOptions.requireStoreItself("export")
            // Not `storeOptions.open()`: a backup must not change its source by delivering the spool into it.
            let store = try await StoreLocation.open(storeOptions.resolvedPath)
            let output: FileHandle
            if file == "-" {
                output = .standardOutput
            } else {
                guard FileManager.default.createFile(atPath: file, contents: nil) else {
                    throw PedigreeCore.ValidationError(field: "file", "cannot create \(file)")
                }
                output = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
            }
            try output.write(contentsOf: Data((BackupFormat.header.canonicalString + "\n").utf8))
            var after: Int64 = 0, count = 0
            while true {
                let page = try await store.events(afterSequence: after, limit: 5_000)
                guard let last = page.last else { break }
                try output.write(contentsOf: Data(page.map { BackupFormat.line($0) + "\n" }.joined().utf8))
                count += page.count
                after = last.sequence
            }
            try output.write(contentsOf: Data((BackupFormat.trailer(events: count, lastSequence: after).canonicalString + "\n").utf8))
            if file != "-" {
                try output.synchronize()
                try output.close()
            }
            warn("exported \(count) event\(count == 1 ? "" : "s") from \(storeOptions.displayLocation)")
        }
    }
}

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load a `pedigree export` into an empty store, build its graph and verify it.",
        discussion: """
            Each event must continue its namespace's hash chain exactly as exported, so a file that was altered \
            is refused at the first altered event, and a truncated one at its end. Events are committed in batches; \
            if an import stops part-way, run it again: the events already imported (the same, verified by their \
            chain hashes) are skipped. Exits 1 if the verification afterwards finds problems.

            Example: pedigree import --store postgres://pedigree@db.internal/lineage lineage.jsonl
            """)

    @Argument(help: "The export file ('-' for standard input).")
    var file: String
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors {
            try storeOptions.requireStoreItself("import")
            // Not `storeOptions.open()`: spooled events delivered first would make the store non-empty.
            let store = try await StoreLocation.open(storeOptions.resolvedPath)
            guard file == "-" || FileManager.default.isReadableFile(atPath: file) else {
                throw PedigreeCore.ValidationError(field: "file", "cannot read \(file): no such file, or not readable")
            }
            let input = file == "-" ? FileHandle.standardInput : try FileHandle(forReadingFrom: URL(fileURLWithPath: file))
            var lines = LineReader(input)
            guard let first = try lines.next(), (try? JSONValue.parse(first)) == BackupFormat.header else {
                throw PedigreeCore.ValidationError(field: "file", "\(file) does not start with a pedigree-export header; is it a `pedigree export`?")
            }
            var resume = try await ImportResume(store: store)
            var batch: [StoredEvent] = []
            var count = 0, skipped = 0, number = 1
            var trailer: JSONValue?
            while let line = try lines.next() {
                number += 1
                guard trailer == nil else {
                    throw PedigreeCore.ValidationError(field: "line \(number)", "text after the export's last line; the file was altered")
                }
                let json = try JSONValue.parse(line)
                if json["end"] == true {
                    trailer = json
                    continue
                }
                let event = try BackupFormat.event(json, line: number)
                count += 1
                if try await resume.alreadyStored(event) {
                    skipped += 1
                    continue
                }
                batch.append(event)
                if batch.count == 2_000 {
                    try await store.restore(batch)
                    batch = []
                }
            }
            guard let trailer, trailer["events"] == .int(Int64(count)) else {
                throw PedigreeCore.ValidationError(
                    field: "file", "\(file) ends after \(count) events without the export's last line: it is truncated; import the complete file (what was imported is kept and skipped)")
            }
            try resume.requireComplete()
            try await store.restore(batch)
            let imported = count - skipped
            warn("imported \(imported) event\(imported == 1 ? "" : "s") into \(storeOptions.displayLocation)\(skipped > 0 ? " (\(skipped) already there)" : ""); verifying")
            let report = try await store.verify()
            if output.json { printJSON(report.json) } else { print(TextRenderer.verification(report)) }
            if !report.ok { throw ExitCode(1) }
        }
    }
}

/// Lets an import that stopped part-way be run again: the target must hold exactly a prefix of the file.
struct ImportResume {
    private let store: any LineageStore
    private let stored: Int64
    private var page: [StoredEvent] = []
    private var checked: Int64 = 0

    init(store: any LineageStore) async throws {
        self.store = store
        stored = try await store.statistics().events
    }

    /// Whether the target already holds this event, identical; a conflict if it holds something else there.
    mutating func alreadyStored(_ event: StoredEvent) async throws -> Bool {
        guard event.sequence <= stored else { return false }
        if page.isEmpty || page.last!.sequence < event.sequence {
            page = try await store.events(afterSequence: event.sequence - 1, limit: 5_000)
        }
        guard let existing = page.first(where: { $0.sequence == event.sequence }), existing == event else {
            throw StoreError(
                .conflict, "the store already holds events, and event \(event.sequence) differs from the file's; import into an empty store",
                field: "store")
        }
        checked = event.sequence
        return true
    }

    /// The file must have covered everything the target holds.
    func requireComplete() throws {
        guard checked == stored else {
            throw StoreError(.conflict, "the store holds \(stored) events, more than this export's \(checked); import into an empty store", field: "store")
        }
    }
}

/// Lines of a file read a block at a time, so an export of millions of events is never held in memory whole.
struct LineReader {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var start = 0
    /// Where to resume looking for a newline: everything before it has none.
    private var scanned = 0
    private var atEnd = false

    init(_ handle: FileHandle) { self.handle = handle }

    mutating func next() throws -> String? {
        while true {
            if let newline = buffer[max(start, scanned)...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = text(buffer[start..<newline])
                start = newline + 1
                scanned = start
                return line
            }
            scanned = buffer.count
            if atEnd {
                guard start < buffer.count else { return nil }
                defer { start = buffer.count }
                return text(buffer[start...])
            }
            buffer.removeFirst(start)
            scanned -= start
            start = 0
            let block = try handle.read(upToCount: 1 << 20) ?? Data()
            if block.isEmpty { atEnd = true } else { buffer.append(contentsOf: block) }
        }
    }

    /// A line without a Windows line ending's carriage return.
    private func text(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.last == UInt8(ascii: "\r") ? bytes.dropLast() : bytes, as: UTF8.self)
    }
}
