import Foundation
import PedigreeCore

/// A directory of small JSON files that spare repeated work between runs: the stat cache of file digests
/// and the package lists of Python interpreters. Losing it costs time, never correctness.
public struct CaptureCache: Sendable {
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    func read(_ name: String) -> JSONValue? {
        guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path) else { return nil }
        return try? JSONValue.parse(data)
    }

    /// Written to a temporary file and renamed, so a crash never leaves a torn cache file.
    func write(_ name: String, _ value: JSONValue) {
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let target = directory.appendingPathComponent(name)
        let temporary = directory.appendingPathComponent(".\(name).\(getpid()).tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: Data(value.canonicalBytes)) else { return }
        if rename(temporary.path, target.path) != 0 { try? FileManager.default.removeItem(at: temporary) }
    }
}

/// The Python interpreter a command runs, and what is installed in it.
public enum PythonEnvironment {
    public struct Description: Sendable {
        public let version: String
        public let packages: [String: String]
    }

    /// `python3 train.py`, `/venv/bin/python -m x`, or a script whose shebang names python.
    public static func interpreter(for command: [String], path: String?) -> String? {
        guard let first = command.first, let resolved = CommandOutput.resolve(first, path: path) else { return nil }
        let name = URL(fileURLWithPath: first).lastPathComponent
        if name.range(of: #"^python[0-9.]*$"#, options: .regularExpression) != nil { return resolved }
        guard let handle = FileHandle(forReadingAtPath: resolved) else { return nil }
        defer { try? handle.close() }
        let head = String(decoding: handle.readData(ofLength: 256), as: UTF8.self)
        guard head.hasPrefix("#!"), let line = head.split(separator: "\n").first, line.contains("python") else { return nil }
        let parts = line.dropFirst(2).split(separator: " ").map(String.init)
        if parts.first?.hasSuffix("/env") == true, parts.count > 1 { return CommandOutput.resolve(parts[1], path: path) }
        return parts.first
    }

    static let probe = """
        import sys, json, importlib.metadata as m
        pkgs = {}
        for d in m.distributions():
            name = d.metadata["Name"]
            if name: pkgs[name] = d.version
        print(json.dumps({"version": sys.version.split()[0], "packages": pkgs, "paths": [p for p in sys.path if p]}))
        """

    /// Version and installed packages, asked of the interpreter itself (so virtual environments are right),
    /// cached while the interpreter and its package directories are unchanged.
    public static func describe(interpreter: String, cache: CaptureCache?) -> Description? {
        let cacheName = "python-\(ContentDigest(hashing: Array(interpreter.utf8)).hex.prefix(16)).json"
        if let cached = cache?.read(cacheName), let paths = cached["paths"]?.objectValue,
            cached["interpreterMTime"] == modificationTime(interpreter),
            paths.allSatisfy({ $0.value == modificationTime($0.key) }),
            let version = cached["version"]?.stringValue, let packages = cached["packages"]?.objectValue
        {
            return Description(version: version, packages: packages.compactMapValues(\.stringValue))
        }
        guard let output = CommandOutput.run(interpreter, ["-c", probe], timeout: 30),
            let value = try? JSONValue.parse(output), let version = value["version"]?.stringValue,
            let packages = value["packages"]?.objectValue
        else { return nil }
        let paths = (value["paths"]?.arrayValue ?? []).compactMap(\.stringValue)
        cache?.write(
            cacheName,
            [
                "interpreter": .string(interpreter), "interpreterMTime": modificationTime(interpreter),
                "paths": .object(Dictionary(paths.map { ($0, modificationTime($0)) }, uniquingKeysWith: { a, _ in a })),
                "version": .string(version), "packages": .object(packages),
            ])
        return Description(version: version, packages: packages.compactMapValues(\.stringValue))
    }

    static func modificationTime(_ path: String) -> JSONValue {
        var info = stat()
        guard stat(path, &info) == 0 else { return .null }
        return .int(Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
    }
}
