import Foundation
import PedigreeCore

/// The code dimension: which commit of which repository, and whether (and how) the working tree differed.
public enum GitCapture {
    /// Uncommitted diffs up to this size are stored in the record itself; larger ones only as a digest.
    public static let maxStoredDiff = 64 * 1024

    /// The repository root containing `directory`, found without starting git (capture runs before every
    /// training command, so each process spawned is latency the user waits for).
    public static func repositoryRoot(of directory: URL) -> URL? {
        var candidate = directory.standardizedFileURL
        while true {
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent(".git").path) { return candidate }
            let parent = candidate.deletingLastPathComponent()
            if parent.path == candidate.path { return nil }
            candidate = parent
        }
    }

    /// The code facet for the repository containing `directory`, or `{"vcs": "none"}` outside git.
    public static func capture(directory: URL) -> JSONValue {
        guard let root = repositoryRoot(of: directory) else { return ["vcs": "none", "path": .string(directory.path)] }
        // The independent questions are asked of git in parallel.
        let questions: [[String]] = [
            ["status", "--porcelain=v2", "--branch", "--untracked-files=all"],
            ["config", "--get", "remote.origin.url"],
            ["tag", "--points-at", "HEAD"],
            ["diff", "HEAD", "--binary"],
        ]
        let answers = Answers(count: questions.count)
        DispatchQueue.concurrentPerform(iterations: questions.count) { i in
            answers.set(i, CommandOutput.run("git", ["-C", root.path] + questions[i]))
        }
        guard let status = answers.get(0) else { return ["vcs": "git", "path": .string(root.path), "error": "git status failed"] }

        var code: [String: JSONValue] = ["vcs": "git", "path": .string(relativePath(of: directory.path, under: root.path))]
        var untracked: [String] = []
        var changed = false
        for line in status.split(separator: "\n") {
            if line.hasPrefix("# branch.oid "), line.count == "# branch.oid ".count + 40 {
                code["commit"] = .string(String(line.dropFirst("# branch.oid ".count)))
            } else if line.hasPrefix("# branch.head "), line != "# branch.head (detached)" {
                code["branch"] = .string(String(line.dropFirst("# branch.head ".count)))
            } else if line.hasPrefix("? ") {
                untracked.append(String(line.dropFirst(2)))
            } else if !line.hasPrefix("#") {
                changed = true
            }
        }
        if let remote = answers.get(1)?.trimmingCharacters(in: .whitespacesAndNewlines), !remote.isEmpty {
            code["repository"] = .string(SecretRedactor.stripURLCredentials(remote))
        }
        if let tag = answers.get(2)?.split(separator: "\n").first { code["tag"] = .string(String(tag)) }
        let diff = changed ? (answers.get(3) ?? "") : ""
        let dirty = changed || !untracked.isEmpty
        code["dirty"] = .bool(dirty)
        if dirty {
            var material = diff
            if !untracked.isEmpty { material += "\n# untracked\n" + untracked.joined(separator: "\n") }
            // The digest is of the real changes, so it still identifies them; what is stored has secrets
            // (an uncommitted `api_key: …` line) redacted by the rules parameters follow.
            code["diffDigest"] = .string(ContentDigest(hashing: Array(material.utf8)).description)
            if material.utf8.count <= maxStoredDiff { code["diff"] = .string(SecretRedactor.redactText(material)) }
            if !untracked.isEmpty { code["untracked"] = .array(untracked.map { .string(SecretRedactor.redactText($0)) }) }
        }
        return .object(code)
    }

    private final class Answers: @unchecked Sendable {
        private var values: [String?]
        private let lock = NSLock()
        init(count: Int) { values = Array(repeating: nil, count: count) }
        func set(_ i: Int, _ value: String?) { lock.withLock { values[i] = value } }
        func get(_ i: Int) -> String? { lock.withLock { values[i] } }
    }

    static func relativePath(of path: String, under root: String) -> String {
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let base = URL(fileURLWithPath: root).resolvingSymlinksInPath().path
        if resolved == base { return "." }
        return resolved.hasPrefix(base + "/") ? String(resolved.dropFirst(base.count + 1)) : resolved
    }
}
