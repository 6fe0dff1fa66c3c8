import Foundation
import PedigreeCore

/// Where events are meant to go: a store (by its location) or a server (by its URL). The spool keeps this
/// with every event, so an event captured for production is delivered to production only, never to
/// whatever store the next command happens to open.
public protocol EventDestination: Sendable {
    /// The destination as the spool names it: a SQLite file's absolute path, a PostgreSQL URL without its
    /// password, or a server's URL.
    var spoolKey: String { get }
    func append(_ events: [LineageEvent], recordedBy identity: String) async throws -> [AppendOutcome]
}

/// Events that could not be stored when they were captured (the store or server was unreachable), kept in
/// files until they can be. Capture never blocks or breaks training: it spools, and `pedigree sync` — or the
/// next `pedigree run` for the same destination — delivers.
///
/// Each spool file is one batch for one destination, written to a temporary name and renamed, so a crash
/// leaves either a complete file or none. Files are delivered oldest first and removed only after the
/// destination acknowledged them; delivery is idempotent because stores deduplicate events by digest.
public struct EventSpool: Sendable {
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    public func spool(_ events: [LineageEvent], for destination: String, recordedBy identity: String) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let name = String(format: "%020lld-%@.jsonl", Timestamp.now.microseconds, UUID().uuidString.lowercased())
        let lines = events.map {
            JSONValue.object(["destination": .string(destination), "recordedBy": .string(identity), "event": $0.body]).canonicalString
        }
        let temporary = directory.appendingPathComponent(".\(name).tmp")
        let bytes = Array((lines.joined(separator: "\n") + "\n").utf8)
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw StoreError(.unavailable, "cannot write the spool file in \(directory.path)") }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced, rename(temporary.path, directory.appendingPathComponent(name).path) == 0 else {
            throw StoreError(.unavailable, "cannot write the spool file in \(directory.path)")
        }
    }

    public var pendingFiles: [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".jsonl") && !$0.hasPrefix(".") }.sorted().map { directory.appendingPathComponent($0) }
    }

    /// One spooled file: its events and who recorded them, for one destination.
    struct Batch {
        let file: URL
        let destination: String?
        let entries: [(identity: String, event: LineageEvent)]
    }

    /// Pending events by destination, oldest first; files spooled before destinations were recorded are
    /// listed under nil. Unreadable files are listed as rejected.
    public func pending() -> (byDestination: [(destination: String?, events: Int)], unreadable: [String]) {
        var counts: [String?: Int] = [:]
        var order: [String?] = []
        var unreadable: [String] = []
        for file in pendingFiles {
            do {
                let batch = try read(file)
                if counts[batch.destination] == nil { order.append(batch.destination) }
                counts[batch.destination, default: 0] += batch.entries.count
            } catch {
                unreadable.append("\(file.lastPathComponent): \(error)")
            }
        }
        return (order.map { ($0, counts[$0]!) }, unreadable)
    }

    public struct Delivery: Sendable {
        public var events = 0
        public var files = 0
        /// Files whose events the destination rejected as invalid; moved to `rejected/` so they do not block the rest.
        public var rejected: [String] = []
        /// Whether delivery stopped because the destination could not be reached.
        public var stoppedUnavailable = false
        /// Why the destination refused to take events it did not find invalid (a token it does not accept).
        public var refused: String?
    }

    /// Delivers every pending file meant for `destination` (and, when `includingUnaddressed`, files spooled
    /// without a destination). Stops at the first failure to reach it, leaving the rest for next time.
    public func deliver(to destination: any EventDestination, includingUnaddressed: Bool = false) async -> Delivery {
        var delivery = Delivery()
        for file in pendingFiles {
            // Another store's files are not even read: whatever is wrong with them is for their own delivery.
            let addressed = Self.destination(of: file)
            guard addressed == destination.spoolKey || (addressed == nil && includingUnaddressed) else { continue }
            let batch: Batch
            do {
                batch = try read(file)
            } catch {
                reject(file)
                delivery.rejected.append("\(file.lastPathComponent): \(error)")
                continue
            }
            do {
                // Consecutive entries of one recorder go together, in spool order.
                var start = 0
                while start < batch.entries.count {
                    let identity = batch.entries[start].identity
                    var end = start
                    while end < batch.entries.count && batch.entries[end].identity == identity { end += 1 }
                    _ = try await destination.append(batch.entries[start..<end].map(\.event), recordedBy: identity)
                    start = end
                }
            } catch let error as StoreError where error.code != .invalid && error.code != .conflict {
                // Unreachable, or refused (a missing or expired token, a route that is not there): not the
                // events' fault. They stay, and delivery stops until the next try.
                delivery.stoppedUnavailable = error.code == .unavailable
                if error.code != .unavailable { delivery.refused = "\(error)" }
                return delivery
            } catch {
                reject(file)
                delivery.rejected.append("\(file.lastPathComponent): \(error)")
                continue
            }
            try? FileManager.default.removeItem(at: file)
            delivery.files += 1
            delivery.events += batch.entries.count
        }
        return delivery
    }

    /// Whether events are pending for this destination.
    public func hasPending(for key: String) -> Bool {
        pendingFiles.contains { Self.destination(of: $0) == key }
    }

    /// The destination a spool file names on its first line; nil for files spooled before destinations
    /// were recorded (or unreadable ones).
    static func destination(of file: URL) -> String? {
        guard let handle = try? FileHandle(forReadingFrom: file) else { return nil }
        defer { try? handle.close() }
        var firstLine = FileLines(handle)
        guard let line = try? firstLine.next(), let entry = try? JSONValue.parse(line) else { return nil }
        return entry["destination"]?.stringValue
    }

    func read(_ file: URL) throws -> Batch {
        let text = try String(contentsOf: file, encoding: .utf8)
        var destination: String?
        var entries: [(identity: String, event: LineageEvent)] = []
        for line in text.split(separator: "\n") where !line.isEmpty {
            let entry = try JSONValue.parse(String(line))
            destination = entry["destination"]?.stringValue
            entries.append((entry["recordedBy"]?.stringValue ?? "spool", try LineageEvent(json: entry["event"] ?? .null)))
        }
        return Batch(file: file, destination: destination, entries: entries)
    }

    private func reject(_ file: URL) {
        let rejected = directory.appendingPathComponent("rejected")
        try? FileManager.default.createDirectory(at: rejected, withIntermediateDirectories: true)
        try? FileManager.default.moveItem(at: file, to: rejected.appendingPathComponent(file.lastPathComponent))
    }
}
