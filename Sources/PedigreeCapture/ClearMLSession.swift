import Foundation
import PedigreeCore

/// A ClearML offline session, the folder `Task.set_offline(True)` writes (`<cache>/offline/<task id>/`) or the
/// zip ClearML packs it into when the task closes: `task.json` (the task), `metrics.jsonl` and `log.jsonl`
/// (each line a JSON array of reported events), and the files it kept (`data/…` artifacts, `models/…`).
public struct ClearMLSession: Sendable {
    public let location: String
    public let task: JSONValue
    public let metricEvents: [JSONValue]
    public let logEvents: [JSONValue]
    /// Whether the task was closed: ClearML zips the session then (the zip itself, or one beside the folder).
    public let closed: Bool
    let archive: ZipArchive?
    let folder: URL?

    public init(path: String) throws(ValidationError) {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ValidationError(field: "PATH", "\(path) does not exist")
        }
        location = path
        if isDirectory.boolValue {
            folder = url
            archive = nil
            closed = FileManager.default.fileExists(atPath: url.standardizedFileURL.path + ".zip")
        } else {
            guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError(field: path, "cannot be read") }
            folder = nil
            archive = try ZipArchive([UInt8](data), name: path)
            closed = true
        }
        let reader = (folder: folder, archive: archive)
        func read(_ name: String) -> [UInt8]? { Self.file(name, folder: reader.folder, archive: reader.archive) }
        guard let taskBytes = read("task.json") else {
            throw ValidationError(
                field: path, "is not a ClearML offline session: it has no task.json (ClearML writes <cache>/offline/<task id>/ and <task id>.zip)")
        }
        do { task = try JSONValue.parse(String(decoding: taskBytes, as: UTF8.self)) } catch {
            throw ValidationError(field: "\(path): task.json", "is not JSON (\(error)): the session is cut or altered")
        }
        guard task.objectValue != nil else { throw ValidationError(field: "\(path): task.json", "is not a JSON object") }
        metricEvents = try Self.events(read("metrics.jsonl"), file: "\(path): metrics.jsonl")
        logEvents = try Self.events(read("log.jsonl"), file: "\(path): log.jsonl")
    }

    /// A file of the session by its path inside it.
    public func file(_ name: String) -> [UInt8]? { Self.file(name, folder: folder, archive: archive) }

    static func file(_ name: String, folder: URL?, archive: ZipArchive?) -> [UInt8]? {
        if let archive { return archive.files[name] }
        guard let folder, !name.split(separator: "/").contains("..") else { return nil }
        return FileManager.default.contents(atPath: folder.appendingPathComponent(name).path).map { [UInt8]($0) }
    }

    /// Where a path ClearML recorded on the machine that ran the task (under its `offline_folder`) is inside
    /// the session.
    public func sessionPath(of recorded: String) -> String? {
        guard let root = task["offline_folder"]?.stringValue, recorded.hasPrefix(root + "/") else { return nil }
        return String(recorded.dropFirst(root.count + 1))
    }

    /// Each line is one flushed batch: a JSON array of events.
    static func events(_ bytes: [UInt8]?, file: String) throws(ValidationError) -> [JSONValue] {
        guard let bytes else { return [] }
        var out: [JSONValue] = []
        for (i, line) in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let batch = try? JSONValue.parse(String(line)), let events = batch.arrayValue else {
                throw ValidationError(field: "\(file):\(i + 1)", "is not a JSON array of events: the session is cut or altered")
            }
            out += events
        }
        return out
    }
}
