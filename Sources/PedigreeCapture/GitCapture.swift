import Foundation
import PedigreeCore

/// The code dimension: which commit of which repository, and whether (and how) the working tree differed.
public enum GitCapture {
    /// Uncommitted diffs up to this size are stored in the record itself; larger ones only as a digest.
    public static let maxStoredDiff = 64 * 1024

    /// The code facet for the repository containing `directory`, or `{"vcs": "none"}` outside git.
    public static func capture(directory: URL) -> JSONValue {
        func git(_ arguments: String...) -> String? {
            CommandOutput.run("git", ["-C", directory.path] + arguments)?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let root = git("rev-parse", "--show-toplevel"), !root.isEmpty else {
            return ["vcs": "none", "path": .string(directory.path)]
        }
        var code: [String: JSONValue] = ["vcs": "git", "path": .string(relativePath(of: directory.path, under: root))]
        if let remote = git("config", "--get", "remote.origin.url"), !remote.isEmpty {
            code["repository"] = .string(SecretRedactor.stripURLCredentials(remote))
        }
        if let commit = git("rev-parse", "HEAD"), commit.count == 40 { code["commit"] = .string(commit) }
        if let branch = git("symbolic-ref", "--short", "-q", "HEAD"), !branch.isEmpty { code["branch"] = .string(branch) }
        if let tag = git("describe", "--tags", "--exact-match"), !tag.isEmpty { code["tag"] = .string(tag) }
        // Tracked changes against HEAD plus untracked files: both make the run's code differ from the commit.
        let diff = CommandOutput.run("git", ["-C", root, "diff", "HEAD", "--binary"]) ?? ""
        let untracked = git("ls-files", "--others", "--exclude-standard") ?? ""
        let dirty = !diff.isEmpty || !untracked.isEmpty
        code["dirty"] = .bool(dirty)
        if dirty {
            var material = diff
            if !untracked.isEmpty { material += "\n# untracked\n" + untracked }
            code["diffDigest"] = .string(ContentDigest(hashing: Array(material.utf8)).description)
            if material.utf8.count <= maxStoredDiff { code["diff"] = .string(material) }
            if !untracked.isEmpty { code["untracked"] = .array(untracked.split(separator: "\n").map { .string(String($0)) }) }
        }
        return .object(code)
    }

    static func relativePath(of path: String, under root: String) -> String {
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let base = URL(fileURLWithPath: root).resolvingSymlinksInPath().path
        if resolved == base { return "." }
        return resolved.hasPrefix(base + "/") ? String(resolved.dropFirst(base.count + 1)) : resolved
    }
}
