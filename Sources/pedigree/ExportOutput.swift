import Foundation
import PedigreeCore

/// Where an export goes: standard output, or a file or directory that appears only when the export is
/// complete. It is written beside its final name (`.NAME.partial`), flushed to disk, and renamed over it, so a
/// failed or interrupted export never leaves a truncated file or replaces an earlier one. Writes are
/// buffered: exports write many small pieces.
final class ExportOutput: @unchecked Sendable {
    private let final: URL?
    private let partial: URL?
    private let directory: Bool
    private var handles: [String: FileHandle] = [:]
    private var buffers: [String: [UInt8]] = [:]
    private static let bufferSize = 1 << 20

    static func standardOutput() -> ExportOutput { ExportOutput() }

    private init() {
        final = nil
        partial = nil
        directory = false
        handles[""] = FileHandle.standardOutput
    }

    init(file: String, directory: Bool) throws {
        let target = URL(fileURLWithPath: file)
        let partial = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).partial")
        let manager = FileManager.default
        if directory {
            var isDirectory: ObjCBool = false
            if manager.fileExists(atPath: target.path, isDirectory: &isDirectory),
                !isDirectory.boolValue || !((try? manager.contentsOfDirectory(atPath: target.path))?.isEmpty ?? false)
            {
                throw ValidationError(field: "-o", "\(file) exists and is not an empty directory; give a new directory for the files")
            }
            try? manager.removeItem(at: partial)
            do { try manager.createDirectory(at: partial, withIntermediateDirectories: false) } catch {
                throw ValidationError(field: "-o", "cannot create \(file) (does its parent directory exist, and is it writable?)")
            }
        } else {
            guard manager.createFile(atPath: partial.path, contents: nil), let handle = try? FileHandle(forWritingTo: partial) else {
                throw ValidationError(field: "-o", "cannot create \(file) (is its directory writable?)")
            }
            handles[""] = handle
        }
        self.final = target
        self.partial = partial
        self.directory = directory
    }

    /// Appends `text` to the output, or for a directory to the file `part` inside it.
    func write(_ text: String, to part: String = "") throws {
        buffers[part, default: []].append(contentsOf: text.utf8)
        if buffers[part]!.count >= Self.bufferSize { try flush(part) }
    }

    private func flush(_ part: String) throws {
        guard let bytes = buffers[part], !bytes.isEmpty else { return }
        try handle(part).write(contentsOf: bytes)
        buffers[part] = []
    }

    private func handle(_ part: String) throws -> FileHandle {
        if let handle = handles[part] { return handle }
        guard directory, let partial, !part.contains("/") else { throw ValidationError(field: "-o", "an export wrote to '\(part)'") }
        let url = partial.appendingPathComponent(part)
        guard FileManager.default.createFile(atPath: url.path, contents: nil), let handle = try? FileHandle(forWritingTo: url) else {
            throw ValidationError(field: "-o", "cannot create \(url.path)")
        }
        handles[part] = handle
        return handle
    }

    /// Flushes everything to disk and gives the output its name.
    func commit() throws {
        for part in buffers.keys.sorted() { try flush(part) }
        guard let final, let partial else { return }
        for handle in handles.values {
            try handle.synchronize()
            try handle.close()
        }
        handles = [:]
        if directory { try? FileManager.default.removeItem(at: final) }
        guard rename(partial.path, final.path) == 0 else {
            throw ValidationError(field: "-o", "cannot write \(final.path): \(String(cString: strerror(errno)))")
        }
    }

    /// Removes what a failed export wrote.
    func discard() {
        guard let partial else { return }
        for handle in handles.values { try? handle.close() }
        handles = [:]
        try? FileManager.default.removeItem(at: partial)
    }
}
