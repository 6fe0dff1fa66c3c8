import Crypto
import Foundation
import PedigreeCore
import Yams

/// A DVC project's files as they were at one revision — the working tree, or a git commit: the pipeline's
/// `dvc.lock`, the `.dvc` files of tracked data and the metrics files the pipeline declares, parsed, with the
/// code facet of that revision.
public struct DVCRevision: Sendable {
    /// How errors and the report name it: "the working tree" or "commit 1a2b3c4".
    public let label: String
    public let commit: String?
    /// The commit's time; nil for the working tree.
    public let time: Timestamp?
    public let lock: JSONValue?
    /// Each `.dvc` file, by its path in the project.
    public let tracked: [String: JSONValue]
    /// Each metrics file the pipeline declares, by path (JSON or YAML, as DVC reads them; empty when the
    /// revision does not hold it).
    public let metrics: [String: JSONValue]
    public let code: JSONValue
}

/// Reads a DVC project (a directory with `dvc.yaml` or `.dvc/`) at its working tree and, when it is in a git
/// repository, at every commit that changed its `dvc.lock` or a `.dvc` file; and finds the content behind a
/// DVC md5 where it is still at hand (the working tree, or DVC's cache), for Pedigree's SHA-256.
public struct DVCProject: Sendable {
    public let root: URL
    /// The project's path inside its git repository ("" at the top; nil outside git).
    let prefix: String?

    public init(directory: URL) throws(ValidationError) {
        let manager = FileManager.default
        guard
            manager.fileExists(atPath: directory.appendingPathComponent("dvc.yaml").path)
                || manager.fileExists(atPath: directory.appendingPathComponent(".dvc").path)
        else {
            throw ValidationError(field: "PATH", "\(directory.path) is not a DVC project (no dvc.yaml and no .dvc directory)")
        }
        let root = directory.standardizedFileURL
        self.root = root
        prefix = GitCapture.repositoryRoot(of: directory).map { GitCapture.relativePath(of: root.path, under: $0.standardizedFileURL.path) }
            .map { $0 == "." ? "" : $0 + "/" }
    }

    /// The project as it is on disk. When its `dvc.lock` and `.dvc` files are as committed, it is the revision
    /// of the last commit that changed them (so importing the working tree and importing the history record the
    /// same runs); otherwise a revision of its own, marked dirty, on top of HEAD.
    public func workingTree() throws(ValidationError) -> DVCRevision {
        var commit: String?, time: Timestamp?, dirty = false
        if prefix != nil {
            dirty = !(git(["status", "--porcelain", "--", "dvc.lock", "*.dvc"]) ?? "").isEmpty
            let last = dirty ? git(["log", "-1", "--format=%H %cI"]) : git(["log", "-1", "--format=%H %cI", "--", "dvc.lock", "*.dvc"])
            let parts = (last ?? "").trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ").map(String.init)
            if parts.count == 2 {
                commit = parts[0]
                time = dirty ? nil : Timestamp(parts[1])
            }
        }
        let code = self.code(commit: commit, dirty: dirty)
        return try revision(label: "the working tree", commit: dirty ? nil : commit, time: time, code: code) { path in
            try? String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
        }
    }

    /// Every commit that changed `dvc.lock` or a `.dvc` file, oldest first.
    public func history() throws(ValidationError) -> [DVCRevision] {
        guard prefix != nil else { throw ValidationError(field: "--all-commits", "\(root.path) is not in a git repository") }
        guard let log = git(["log", "--reverse", "--format=%H %cI", "--", "dvc.lock", "*.dvc"]) else {
            throw ValidationError(field: "--all-commits", "git log failed in \(root.path)")
        }
        var revisions: [DVCRevision] = []
        for line in log.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2, let prefix else { continue }
            let commit = parts[0]
            revisions.append(
                try revision(label: "commit \(commit.prefix(7))", commit: commit, time: Timestamp(parts[1]), code: code(commit: commit, dirty: false))
                {
                    path in git(["show", "\(commit):\(prefix)\(path)"])
                })
        }
        return revisions
    }

    /// The code facet of a revision: what git says of the commit alone (repository, commit, the project's path),
    /// never of this machine's checkout, so the same revision gives the same facet wherever it is imported.
    private func code(commit: String?, dirty: Bool) -> JSONValue {
        guard let prefix else { return ["vcs": "none"] }
        var code: [String: JSONValue] = ["vcs": "git", "dirty": .bool(dirty)]
        if let commit { code["commit"] = .string(commit) }
        if !prefix.isEmpty { code["path"] = .string(String(prefix.dropLast())) }
        if let remote = git(["config", "--get", "remote.origin.url"])?.trimmingCharacters(in: .whitespacesAndNewlines), !remote.isEmpty {
            code["repository"] = .string(SecretRedactor.stripURLCredentials(remote))
        }
        return .object(code)
    }

    private func revision(
        label: String, commit: String?, time: Timestamp?, code: JSONValue, read: (String) -> String?
    ) throws(ValidationError) -> DVCRevision {
        let lock = try read("dvc.lock").map { text throws(ValidationError) in try Self.parse(text, file: "dvc.lock", at: label) }
        let pipeline = try read("dvc.yaml").map { text throws(ValidationError) in try Self.parse(text, file: "dvc.yaml", at: label) }
        var metrics: [String: JSONValue] = [:]
        for stage in pipeline?["stages"]?.objectValue?.values.map({ $0 }) ?? [] {
            for entry in stage["metrics"]?.arrayValue ?? [] {
                guard let path = entry.stringValue ?? entry.objectValue?.keys.first else { continue }
                // A declared metrics file not at hand is still a metrics file, not data.
                metrics[path] = try read(path).map { text throws(ValidationError) in try Self.parse(text, file: path, at: label) } ?? .object([:])
            }
        }
        var tracked: [String: JSONValue] = [:]
        for path in trackedFiles(commit: commit) {
            guard let text = read(path) else { continue }
            tracked[path] = try Self.parse(text, file: path, at: label)
        }
        return DVCRevision(label: label, commit: commit, time: time, lock: lock, tracked: tracked, metrics: metrics, code: code)
    }

    /// The `.dvc` files of the project at a commit, or in the working tree.
    private func trackedFiles(commit: String?) -> [String] {
        if let commit, let prefix {
            let listing = git(["ls-tree", "-r", "--name-only", commit, "--", "."]) ?? ""
            return listing.split(separator: "\n").map(String.init).filter { $0.hasSuffix(".dvc") }
                .map { $0.hasPrefix(prefix) ? String($0.dropFirst(prefix.count)) : $0 }
        }
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
        var found: [String] = []
        while let url = enumerator?.nextObject() as? URL {
            let path = GitCapture.relativePath(of: url.standardizedFileURL.path, under: root.path)
            if path == ".dvc" || path == ".git" || path.hasPrefix(".dvc/") || path.hasPrefix(".git/") {
                enumerator?.skipDescendants()
                continue
            }
            if path.hasSuffix(".dvc") { found.append(path) }
        }
        return found.sorted()
    }

    private func git(_ arguments: [String]) -> String? { CommandOutput.run("git", ["-C", root.path] + arguments, timeout: 60) }

    static func parse(_ text: String, file: String, at label: String) throws(ValidationError) -> JSONValue {
        do {
            if file.hasSuffix(".json") { return try JSONValue.parse(Data(text.utf8)) }
            guard let node = try Yams.compose(yaml: text) else { return .object([:]) }
            return try ConfigLoader.json(from: node)
        } catch {
            throw ValidationError(field: file, "cannot be read at \(label): \(error)")
        }
    }

    // MARK: Content at hand

    /// Pedigree's digest of what a DVC md5 names — a file's SHA-256, a directory's manifest digest — when the
    /// working tree still holds that content at `path`, or (for a file) DVC's cache does.
    public func contentDigest(path: String, md5: String) -> ContentDigest? {
        let url = root.appendingPathComponent(path)
        let fingerprinter = Fingerprinter(cache: nil, showProgress: false)
        if md5.hasSuffix(".dir") {
            guard Self.directoryMD5(url) == md5 else { return nil }
            return try? fingerprinter.fingerprint([url.path]).first?.digest
        }
        if Self.fileMD5(url) == md5 { return try? fingerprinter.fingerprint([url.path]).first?.digest }
        let cached = root.appendingPathComponent(".dvc/cache/files/md5/\(md5.prefix(2))/\(md5.dropFirst(2))")
        guard Self.fileMD5(cached) == md5 else { return nil }
        return try? fingerprinter.fingerprint([cached.path]).first?.digest
    }

    static func fileMD5(_ url: URL) -> String? {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
        defer { try? handle.close() }
        var hasher = Insecure.MD5()
        while let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// DVC's md5 of a directory: the md5 of `json.dumps(sorted([{"md5": …, "relpath": …}]), sort_keys=True)`
    /// over its files, with ".dir" appended.
    static func directoryMD5(_ url: URL) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue,
            let enumerator = FileManager.default.enumerator(at: url, includingPropertiesForKeys: [.isRegularFileKey])
        else { return nil }
        var entries: [(relpath: String, md5: String)] = []
        while let file = enumerator.nextObject() as? URL {
            guard (try? file.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true, let md5 = fileMD5(file) else { continue }
            entries.append((GitCapture.relativePath(of: file.standardizedFileURL.path, under: url.standardizedFileURL.path), md5))
        }
        let manifest =
            "["
            + entries.sorted { $0.relpath < $1.relpath }.map { "{\"md5\": \"\($0.md5)\", \"relpath\": \(pythonString($0.relpath))}" }
            .joined(separator: ", ") + "]"
        return Insecure.MD5.hash(data: Data(manifest.utf8)).map { String(format: "%02x", $0) }.joined() + ".dir"
    }

    /// A string as Python's `json.dumps` writes it (ASCII only, non-ASCII as \u escapes).
    static func pythonString(_ text: String) -> String {
        var out = "\""
        for unit in text.utf16 {
            switch unit {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x20..<0x7F: out.unicodeScalars.append(UnicodeScalar(UInt8(unit)))
            default: out += String(format: "\\u%04x", unit)
            }
        }
        return out + "\""
    }
}
