import Foundation
import PedigreeCore

/// Full-fidelity backups of a whole store (`pedigree export --all`, `pedigree import`): every event with
/// its original sequence numbers, times, recorders and chain hashes, so history moves between stores and
/// engines but cannot be altered on the way.
///
/// The format is JSON Lines: a header line, one line per event with everything its chain hash covers, and
/// a trailer with the count, so a truncated file is recognised. The graph and tokens are not in it: the
/// graph is rebuilt from the events, and tokens are created anew.
public enum StoreBackup {
    static let header: JSONValue = ["format": "pedigree-export", "version": 1]

    /// Writes the whole store, a page at a time; returns the number of events written.
    @discardableResult
    public static func export(_ store: any LineageQuerying, to write: (String) throws -> Void) async throws -> Int {
        try write(header.canonicalString + "\n")
        var after: Int64 = 0, count = 0
        while true {
            let page = try await store.events(afterSequence: after, limit: 5_000)
            guard let last = page.last else { break }
            try write(page.map { line($0) + "\n" }.joined())
            count += page.count
            after = last.sequence
        }
        try write(trailer(events: count, lastSequence: after).canonicalString + "\n")
        return count
    }

    public struct ImportSummary: Sendable {
        /// Events in the file.
        public let events: Int
        /// Events the store held already (an import that stopped part-way, run again).
        public let skipped: Int
        public var imported: Int { events - skipped }
    }

    /// An export being read: its header is checked when it is opened, before any store is touched.
    public final class Reader: @unchecked Sendable {
        fileprivate var lines: any LineSource
        /// Names the file in errors.
        public let source: String

        public init(_ lines: some LineSource, source: String) throws {
            var lines = lines
            guard let first = try lines.next(), (try? JSONValue.parse(first)) == header else {
                throw ValidationError(field: "file", "\(source) does not start with a pedigree-export header; is it a `pedigree export`?")
            }
            self.lines = lines
            self.source = source
        }

        fileprivate func next() throws -> String? { try lines.next() }
    }

    /// Loads an export into a store that is empty or holds exactly a prefix of it (a resumed import), in
    /// batches, each event checked to continue its chain as exported. Refuses text after the export's
    /// trailer, or a file truncated before it (what was imported is kept: run it again with the complete file).
    /// The redactions an export holds (read ahead of its events: a redacted event comes before its redaction).
    public static func redactions(in lines: some LineSource) throws -> [CheckpointRules.Redaction] {
        var lines = lines
        var found: [CheckpointRules.Redaction] = []
        var number = 0
        while let line = try lines.next() {
            number += 1
            guard line.contains("redaction"), let json = try? JSONValue.parse(line), json["body"] != nil,
                let event = try? Self.event(json, line: number),
                case .redaction(let record)? = try? LineageEvent(json: JSONValue.parse(event.body)).payload
            else { continue }
            found.append(CheckpointRules.Redaction(record: record, sequence: event.namespaceSequence))
        }
        return found
    }

    /// `redactions`: what `redactions(in:)` read from the same export; without them a redacted event is refused.
    public static func restore(
        _ backup: Reader, into store: any LineageStore, redactions: [CheckpointRules.Redaction] = []
    ) async throws -> ImportSummary {
        let source = backup.source
        var resume = try await ImportResume(store: store)
        var batch: [StoredEvent] = []
        var count = 0, skipped = 0, number = 1
        var trailer: JSONValue?
        while let line = try backup.next() {
            number += 1
            guard trailer == nil else {
                throw ValidationError(field: "line \(number)", "text after the export's last line; the file was altered")
            }
            let json: JSONValue
            do throws(JSONParseError) { json = try JSONValue.parse(line) } catch {
                throw ValidationError(field: "line \(number)", "is not JSON (\(error)); the file is damaged")
            }
            if json["end"] == true {
                trailer = json
                continue
            }
            let event = try Self.event(json, line: number)
            count += 1
            if try await resume.alreadyStored(event) {
                skipped += 1
                continue
            }
            batch.append(event)
            if batch.count == 2_000 {
                try await store.restore(batch, redactions: redactions)
                batch = []
            }
        }
        guard let trailer, trailer["events"] == .int(Int64(count)) else {
            throw ValidationError(
                field: "file",
                "\(source) ends after \(count) events without the export's last line: it is truncated; import the complete file (what was imported is kept and skipped)"
            )
        }
        try resume.requireComplete()
        try await store.restore(batch, redactions: redactions)
        return ImportSummary(events: count, skipped: skipped)
    }

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
                throw ValidationError(field: "line \(number).\(name)", "missing or malformed; is this file a `pedigree export`?")
            }
            return value
        }
        guard let digest = ContentDigest(try field("digest", \.stringValue)) else {
            throw ValidationError(field: "line \(number).digest", "not a sha256: digest")
        }
        return StoredEvent(
            sequence: try field("seq", \.intValue), namespace: try field("namespace", \.stringValue),
            namespaceSequence: try field("nsSeq", \.intValue),
            recordedAt: Timestamp(microseconds: try field("recordedAt", \.intValue)), recordedBy: try field("recordedBy", \.stringValue),
            digest: digest, previousHash: try field("prevHash", \.stringValue), chainHash: try field("chainHash", \.stringValue),
            body: try field("body", \.stringValue))
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
            throw StoreError(
                .conflict, "the store holds \(stored) events, more than this export's \(checked); import into an empty store", field: "store")
        }
    }
}

/// Lines of text, one at a time.
public protocol LineSource {
    mutating func next() throws -> String?
}

/// Lines of a file read a block at a time, so an export of millions of events is never held in memory whole.
public struct FileLines: LineSource {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var start = 0
    /// Where to resume looking for a newline: everything before it has none.
    private var scanned = 0
    private var atEnd = false

    public init(_ handle: FileHandle) { self.handle = handle }

    public mutating func next() throws -> String? {
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
