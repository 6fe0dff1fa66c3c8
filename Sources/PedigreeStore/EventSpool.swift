import Foundation
import PedigreeCore

/// Events that could not be stored when they were captured (the store or server was unreachable), kept in
/// files until they can be. Capture never blocks or breaks training: it spools, and `pedigree sync` — or
/// any later command that reaches the store — delivers.
///
/// Each spool file is one batch, written to a temporary name and renamed, so a crash leaves either a
/// complete file or none. Files are delivered oldest first and removed only after the store acknowledged
/// them; delivery is idempotent because the store deduplicates events by digest.
public struct EventSpool: Sendable {
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    public func spool(_ events: [LineageEvent], recordedBy identity: String) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let name = String(format: "%020lld-%@.jsonl", Timestamp.now.microseconds, UUID().uuidString.lowercased())
        let lines = events.map { JSONValue.object(["recordedBy": .string(identity), "event": $0.body]).canonicalString }
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

    public struct Delivery: Sendable {
        public var events = 0
        public var files = 0
        /// Files whose events the store rejected as invalid; moved to `rejected/` so they do not block the rest.
        public var rejected: [String] = []
    }

    /// Delivers every pending file. Stops at the first store failure (it is still unreachable), leaving the
    /// rest for next time.
    public func deliver(to store: any LineageStore) async -> Delivery {
        var delivery = Delivery()
        for file in pendingFiles {
            guard let text = try? String(contentsOf: file, encoding: .utf8) else { continue }
            var batches: [String: [LineageEvent]] = [:]
            var order: [String] = []
            do {
                for line in text.split(separator: "\n") where !line.isEmpty {
                    let entry = try JSONValue.parse(String(line))
                    let identity = entry["recordedBy"]?.stringValue ?? "spool"
                    if batches[identity] == nil { order.append(identity) }
                    batches[identity, default: []].append(try LineageEvent(json: entry["event"] ?? .null))
                }
                for identity in order { _ = try await store.append(batches[identity]!, recordedBy: identity) }
            } catch let error as StoreError where error.code == .unavailable {
                return delivery
            } catch {
                reject(file)
                delivery.rejected.append("\(file.lastPathComponent): \(error)")
                continue
            }
            try? FileManager.default.removeItem(at: file)
            delivery.files += 1
            delivery.events += batches.values.reduce(0) { $0 + $1.count }
        }
        return delivery
    }

    private func reject(_ file: URL) {
        let rejected = directory.appendingPathComponent("rejected")
        try? FileManager.default.createDirectory(at: rejected, withIntermediateDirectories: true)
        try? FileManager.default.moveItem(at: file, to: rejected.appendingPathComponent(file.lastPathComponent))
    }
}
