import Foundation
import PedigreeCore

/// A W&B run directory as the client leaves it (`wandb/offline-run-<time>-<id>/`, or `run-<time>-<id>/` for a
/// run that was online): its transaction log `run-<id>.wandb` and the `files/` it kept (`requirements.txt`).
/// `logs/` is never read: wandb's debug log holds the config unredacted.
public struct WandbRunDirectory: Sendable {
    public let path: String
    public let logFile: String
    public let log: [UInt8]
    public let requirements: String?

    /// The run directories under a path: the path itself when it is one, else those in it, in its `wandb/` or
    /// its `.wandb/` (symbolic links such as `latest-run` are passed over, so no run is read twice).
    public static func find(under path: String) throws(ValidationError) -> [WandbRunDirectory] {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError(field: "PATH", "\(path) is not a directory: give a W&B run directory, a wandb/ directory or the project holding it")
        }
        if let run = try read(path) { return [run] }
        var runs: [WandbRunDirectory] = []
        for base in [path, path + "/wandb", path + "/.wandb"] {
            let names = (try? manager.contentsOfDirectory(atPath: base)) ?? []
            for name in names.sorted() where name.hasPrefix("offline-run-") || name.hasPrefix("run-") {
                let directory = base + "/" + name
                let attributes = try? manager.attributesOfItem(atPath: directory)
                guard attributes?[.type] as? FileAttributeType == .typeDirectory else { continue }
                if let run = try read(directory) { runs.append(run) }
            }
        }
        guard !runs.isEmpty else {
            throw ValidationError(field: "PATH", "\(path) holds no W&B run (no run-<id>.wandb in it, its wandb/ or its .wandb/)")
        }
        return runs
    }

    static func read(_ directory: String) throws(ValidationError) -> WandbRunDirectory? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let logs = names.filter { $0.hasPrefix("run-") && $0.hasSuffix(".wandb") }
        guard let name = logs.first else { return nil }
        guard logs.count == 1 else { throw ValidationError(field: directory, "holds \(logs.count) transaction logs; a run directory has one") }
        let file = directory + "/" + name
        guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError(field: file, "cannot be read") }
        let requirements = FileManager.default.contents(atPath: directory + "/files/requirements.txt").map { String(decoding: $0, as: UTF8.self) }
        return WandbRunDirectory(path: directory, logFile: file, log: [UInt8](data), requirements: requirements)
    }

    /// A file an artifact's manifest names by its local path (wandb's staging copy), when it is still there as
    /// a regular file (a log that names a device or a pipe does not make the import read it).
    public static func localFile(_ path: String) -> [UInt8]? {
        guard path.hasPrefix("/"), (try? FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType) == .typeRegular else {
            return nil
        }
        return FileManager.default.contents(atPath: path).map { [UInt8]($0) }
    }
}
