import Foundation
import PedigreeCore

/// What `pedigree run` was asked to do.
public struct RunRequest: Sendable {
    public var namespace: Namespace
    public var job: String?
    public var model: String?
    /// Paths or artifact references, optionally `ROLE=…` (`validation=data/val.csv`).
    public var inputs: [String] = []
    public var outputs: [String] = []
    public var parameterFiles: [String] = []
    public var parameters: [String] = []
    public var parents: [String] = []
    public var metricsFiles: [String] = []
    /// A JSON file declaring `transformations`, `featureSelection` and `quality` (the data dimension).
    public var dataFile: String?
    public var dvcStage: String?
    public var trace = false
    /// The Pedigree server the run is recorded on, if any: an MLflow client in the command that tracks to
    /// the same server joins this run instead of starting another.
    public var server: URL?
    public var command: [String]
    public var directory: URL
    public var environment: [String: String]

    public init(namespace: Namespace, command: [String], directory: URL, environment: [String: String]) {
        self.namespace = namespace
        self.command = command
        self.directory = directory
        self.environment = environment
    }
}

/// Captures a training run: everything knowable before the command starts (`start`), then what it
/// produced (`finish`). Produces the run's START and COMPLETE/FAIL events; storing them is the caller's job.
public final class TrainingRun: @unchecked Sendable {
    public enum Failure: Error, CustomStringConvertible {
        case badInput(String, String)
        public var description: String {
            switch self {
            case .badInput(let flag, let reason): flag.isEmpty ? reason : "\(flag): \(reason)"
            }
        }
    }

    public let id: String
    public private(set) var request: RunRequest
    public let fingerprinter: Fingerprinter
    public private(set) var startedAt = Timestamp.now
    private var stage: DVCStage?
    private let cache: CaptureCache?

    /// The file the command may append JSON-lines metrics to (`{"key": "auc", "value": 0.91, "step": 3}`).
    public let metricsFile: URL
    public let traceFile: URL
    /// Declared outputs the command did not write (missing, or unchanged since before it started).
    public private(set) var skippedOutputs: [String] = []

    /// `id` continues a run captured in pieces (the Python library's start and finish); a new one by default.
    public init(_ request: RunRequest, cache: CaptureCache?, scratch: URL, id: String? = nil) throws {
        self.id = id ?? UUID().uuidString.lowercased()
        self.request = request
        self.cache = cache
        fingerprinter = Fingerprinter(cache: cache)
        metricsFile = scratch.appendingPathComponent("metrics-\(self.id).jsonl")
        traceFile = scratch.appendingPathComponent("trace-\(self.id).txt")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        if let name = request.dvcStage {
            stage = try DVCStage.load(name: name, in: request.directory)
        } else {
            stage = DVCStage.matching(command: request.command, in: request.directory)
        }
        if self.request.command.isEmpty, let stage {
            self.request.command = ["/bin/sh", "-c", stage.command]
        }
        // Refuse a bad role now, before the command runs, rather than after training when the run is recorded.
        for input in request.inputs { _ = try Self.splitRole(input, defaultRole: "train", flag: "--input") }
    }

    /// The command to execute, with `strace` in front when tracing.
    public var commandLine: [String] {
        guard request.trace, CommandOutput.resolve("strace") != nil else { return request.command }
        return ["strace", "-f", "-qq", "-e", "trace=open,openat,creat", "-e", "signal=none", "-o", traceFile.path, "--"] + request.command
    }

    /// The environment the command runs with: the caller's plus the run id and the metrics file.
    public var childEnvironment: [String: String] {
        var env = request.environment
        env["PEDIGREE_RUN_ID"] = id
        env["PEDIGREE_METRICS_FILE"] = metricsFile.path
        // What the Python library needs to add to this run rather than start another.
        env["PEDIGREE_JOB"] = jobName
        env["PEDIGREE_NAMESPACE"] = request.namespace.rawValue
        if let tracking = env["MLFLOW_TRACKING_URI"], let joined = Self.joiningTrackingURI(tracking, server: request.server, run: id) {
            env["MLFLOW_TRACKING_URI"] = joined
        }
        return env
    }

    /// When MLflow tracks to the server this run is recorded on, the address under which the server joins
    /// MLflow's first run to this one (`…/mlflow/run/ID`): one run with both kinds of facts, not two.
    static func joiningTrackingURI(_ tracking: String, server: URL?, run id: String) -> String? {
        guard let server, let uri = URL(string: tracking), let scheme = uri.scheme?.lowercased(), scheme == server.scheme?.lowercased(),
            let host = uri.host, let serverHost = server.host
        else { return nil }
        let loopback: Set<String> = ["localhost", "127.0.0.1", "::1", "[::1]"]
        let sameHost =
            host.lowercased() == serverHost.lowercased() || (loopback.contains(host.lowercased()) && loopback.contains(serverHost.lowercased()))
        let defaultPort = scheme == "https" ? 443 : 80
        guard sameHost, (uri.port ?? defaultPort) == (server.port ?? defaultPort) else { return nil }
        // The same server means the same path too (behind one gateway, /mlflow and /pedigree are two servers).
        // A run inside another `pedigree run` is joined instead of the outer one.
        func base(_ path: String) -> String {
            var path = path.hasSuffix("/") ? String(path.dropLast()) : path
            if let range = path.range(of: "/mlflow/run/", options: .backwards), !path[range.upperBound...].contains("/") {
                path = String(path[..<range.lowerBound])
            }
            return path
        }
        let trackingBase = base(uri.path), serverBase = base(server.path)
        guard trackingBase == serverBase else { return nil }
        var joined = URLComponents(string: tracking)
        joined?.path = "\(trackingBase)/mlflow/run/\(id)"
        return joined?.string
    }

    public var jobName: String {
        if let job = request.job { return job }
        if let stage { return stage.name }
        let script = request.command.first { $0.hasSuffix(".py") || $0.hasSuffix(".sh") } ?? request.command.first ?? "run"
        return URL(fileURLWithPath: script).deletingPathExtension().lastPathComponent
    }

    // MARK: Start

    /// Code, environment, hyperparameters, data fingerprints and parents. `modelWithDigest` finds a
    /// registered model version by content (nil when the store cannot be reached).
    public func start(modelWithDigest: (ContentDigest) async -> ArtifactRef?) async throws -> LineageEvent {
        startedAt = .now
        var run = RunRecord(id: id, job: jobName, status: .start)
        run.startedAt = startedAt
        // Code and environment are independent of each other and of the parameters: ask them concurrently.
        let directory = request.directory
        async let codeCapture = GitCapture.capture(directory: directory)

        var hyperparameters = stage?.parameters ?? .object([:])
        do {
            hyperparameters = hyperparameters.merging(try ConfigLoader.load(files: request.parameterFiles, parameters: request.parameters))
        } catch let error as ConfigLoader.Failure {
            throw Failure.badInput("", error.description)  // names --params or --param itself
        }
        // Redacted after merging, so parameters from every source (DVC's params too) are covered.
        hyperparameters = SecretRedactor.redactSecrets(hyperparameters)
        var parameters = hyperparameters.objectValue ?? [:]
        parameters["command"] = .array(Self.redactedCommand(request.command).map(JSONValue.string))
        run.hyperparameters = parameters

        let (command, variables, cache) = (request.command, request.environment, self.cache)
        async let environmentCapture = EnvironmentCapture.capture(command: command, variables: variables, parameters: hyperparameters, cache: cache)

        var inputs = try request.inputs.map { try parseUse($0, defaultRole: "input", flag: "--input") }
        for dependency in stage?.dependencies ?? [] {
            inputs.append((role: "input", target: .path(dependency.path, alias: dependency.md5)))
        }
        run.inputs = try await resolve(inputs, modelWithDigest: modelWithDigest)
        for parent in request.parents {
            do {
                guard case .artifact(let ref) = try Reference(parsingModel: parent), ref.kind == "model" else {
                    throw Failure.badInput("--parent", "'\(parent)' is not a model reference")
                }
                run.parents.append(ref)
            } catch let error as ValidationError {
                throw Failure.badInput("--parent", error.message)
            }
        }
        if let dataFile = request.dataFile {
            guard let data = FileManager.default.contents(atPath: dataFile), let value = try? JSONValue.parse(data) else {
                throw Failure.badInput("--data", "cannot read '\(dataFile)' as JSON")
            }
            do { run.data = try DataFacet(json: value, path: "data") } catch { throw Failure.badInput("--data", error.description) }
        }
        run.code = try CodeFacet(json: await codeCapture, path: "code")
        run.environment = try await environmentCapture.asEnvironmentFacet()
        run.facets["workingDirectory"] = .string(request.directory.path)
        if let stage { run.facets["dvcStage"] = .string(stage.name) }
        return LineageEvent(namespace: request.namespace.rawValue, eventTime: startedAt, producer: Self.producer, payload: .run(run))
    }

    public static let producer = "https://github.com/pedigree/pedigree/capture"

    /// The environment as `start` captures it (the package list cached), for a later step that adds to it: a
    /// run's environment is the one its latest event gives.
    public func environment(parameters: JSONValue) throws -> EnvironmentFacet {
        try EnvironmentCapture.capture(command: request.command, variables: request.environment, parameters: parameters, cache: cache)
            .asEnvironmentFacet()
    }

    /// Continues a run whose START another process recorded: outputs count from when it started.
    public func resume(startedAt time: Timestamp) { startedAt = time }

    /// Inputs declared after the start (`ROLE=PATH` or `ROLE=REFERENCE`), fingerprinted as `start` does; a
    /// file whose content is a registered model version is that model.
    public func resolveInputs(_ inputs: [String], modelWithDigest: (ContentDigest) async -> ArtifactRef?) async throws -> [ArtifactUse] {
        try await resolve(try inputs.map { try parseUse($0, defaultRole: "input", flag: "inputs") }, modelWithDigest: modelWithDigest)
    }

    /// The command line without credentials, including inside a `sh -c "…"` script (a DVC stage's cmd).
    static func redactedCommand(_ command: [String]) -> [String] {
        SecretRedactor.redactArguments(command).map { argument in
            guard argument.contains(" ") else { return argument }
            return SecretRedactor.redactArguments(argument.split(separator: " ").map(String.init)).joined(separator: " ")
        }
    }

    private enum Target {
        case path(String, alias: String?)
        case reference(ArtifactRef)
    }

    /// `ROLE=TARGET` when the prefix is a word (`validation=data/val.csv`); otherwise the whole text is the target.
    /// A prefix that reads as a role but is not a valid one (non-ASCII letters) is refused, not taken for a path.
    static func splitRole(_ text: String, defaultRole: String, flag: String) throws -> (role: String, target: String) {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex,
            text[..<eq].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." })
        else { return (defaultRole, text) }
        do {
            return (try Role(String(text[..<eq]), field: flag).rawValue, String(text[text.index(after: eq)...]))
        } catch {
            throw Failure.badInput(flag, "in '\(text)', \(error.message)")
        }
    }

    /// `ROLE=TARGET`; TARGET is an existing path or an artifact reference.
    private func parseUse(_ text: String, defaultRole: String, flag: String) throws -> (role: String, target: Target) {
        let (role, target) = try Self.splitRole(text, defaultRole: defaultRole, flag: flag)
        if FileManager.default.fileExists(atPath: absolute(target).path) { return (role, .path(target, alias: nil)) }
        if target.contains(":"), let parsed = try? Reference(parsingModel: target), case .artifact(let ref) = parsed {
            return (role, .reference(ref))
        }
        throw Failure.badInput(flag, "'\(target)' is neither an existing file or directory nor an artifact reference (KIND:NAMESPACE/NAME[@VERSION])")
    }

    private func absolute(_ path: String) -> URL {
        path.hasPrefix("/") ? URL(fileURLWithPath: path) : request.directory.appendingPathComponent(path)
    }

    /// Fingerprints path inputs; an input whose content is a registered model version is that model.
    private func resolve(
        _ uses: [(role: String, target: Target)], modelWithDigest: (ContentDigest) async -> ArtifactRef?
    ) async throws -> [ArtifactUse] {
        let paths = uses.compactMap { use -> String? in if case .path(let p, _) = use.target { return absolute(p).path } else { return nil } }
        let prints: [String: Fingerprint]
        do {
            prints = Dictionary(try fingerprinter.fingerprint(paths).map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        } catch {
            throw Failure.badInput("--input", "\(error)")
        }
        var out: [ArtifactUse] = []
        for use in uses {
            switch use.target {
            case .reference(let ref):
                out.append(ArtifactUse(artifact: ArtifactSpec(ref: ref), role: use.role))
            case .path(let path, let alias):
                let print = prints[URL(fileURLWithPath: absolute(path).path).standardizedFileURL.path]!
                if let model = await modelWithDigest(print.digest) {
                    out.append(ArtifactUse(artifact: ArtifactSpec(ref: model), role: "base-model"))
                    continue
                }
                out.append(ArtifactUse(artifact: artifactSpec(for: print, kind: "dataset", name: artifactName(path), alias: alias), role: use.role))
            }
        }
        return out
    }

    private func artifactSpec(for print: Fingerprint, kind: String, name: String, alias: String?) -> ArtifactSpec {
        ArtifactSpec(
            ref: ArtifactRef(kind: kind, namespace: request.namespace.rawValue, name: name), digest: print.digest,
            aliasDigests: alias.map { [$0] } ?? [], uri: "file://" + print.path, facets: print.facets())
    }

    /// Paths inside the git repository are named relative to its root, so every clone names them alike.
    /// A path input's artifact name: relative to the repository root in git, else to the working directory
    /// (`dataset:default/data/train.csv`, not `dataset:default//tmp/…/data/train.csv`); a file outside both
    /// keeps its absolute path.
    private func artifactName(_ path: String) -> String {
        let full = absolute(path).standardizedFileURL.path
        let base = GitCapture.repositoryRoot(of: request.directory) ?? request.directory
        let relative = GitCapture.relativePath(of: full, under: base.path)
        return relative.hasPrefix("/") ? full : relative
    }

    // MARK: Finish

    /// Outputs, metrics, status and duration once the command has ended.
    public func finish(_ exit: ChildExit) throws -> LineageEvent {
        let endedAt = Timestamp.now
        var run = RunRecord(id: id, job: jobName, status: exit.succeeded ? .complete : .fail)
        run.endedAt = endedAt
        var outputPaths = request.outputs + (stage?.outputs.map(\.path) ?? [])
        let aliases = Dictionary((stage?.outputs ?? []).compactMap { o in o.md5.map { (o.path, $0) } }, uniquingKeysWith: { a, _ in a })
        if request.trace {
            let declared = Set(outputPaths.map { absolute($0).standardizedFileURL.path })
            let traced = TraceReader.files(in: traceFile, directory: request.directory, exclude: [metricsFile.path])
            // What the command was seen to read is observed, not declared: a file that is gone or unreadable by the
            // time it is hashed (a lock or temporary file another process removed) is passed over, not fatal.
            run.inputs = traced.read.filter { !declared.contains($0) }.compactMap { path in
                guard let print = try? fingerprinter.fingerprint([path]).first else { return nil }
                return ArtifactUse(artifact: artifactSpec(for: print, kind: "dataset", name: artifactName(path), alias: nil), role: "input")
            }
            // A model is what was declared as its outputs; traced writes (logs, checkpoints) only stand in
            // when nothing was, so the same weights get the same digest with and without --trace.
            if request.model == nil || outputPaths.isEmpty {
                outputPaths += traced.written.filter { !declared.contains($0) }
            }
        }
        // Only what this run wrote: a file left over from an earlier run is not this run's output.
        let existing = outputPaths.filter { modifiedSince(startedAt, absolute($0).path) }
        skippedOutputs = outputPaths.filter { !existing.contains($0) }
        let prints = try fingerprinter.fingerprint(existing.map { absolute($0).path })
        // A failed run registers no model version: what it left behind is not a model anyone should use.
        if let model = request.model, !prints.isEmpty, exit.succeeded {
            // The model is all its output files together: one file's digest, or the manifest of several.
            let digest: ContentDigest
            var facets: [String: JSONValue]
            if prints.count == 1 {
                digest = prints[0].digest
                facets = prints[0].facets()
            } else {
                let files = prints.flatMap { p in
                    p.files.map {
                        Fingerprint.File(path: artifactName(p.isDirectory ? p.path + "/" + $0.path : p.path), digest: $0.digest, size: $0.size)
                    }
                }
                digest = Fingerprinter.manifestDigest(files.sorted { $0.path < $1.path })
                facets = ["files": .object(Dictionary(files.map { ($0.path, .string($0.digest.description)) }, uniquingKeysWith: { a, _ in a }))]
            }
            facets["paths"] = .array(existing.map { .string(artifactName($0)) })
            // One output is where the model is (`pedigree sign` signs that directory by default).
            run.outputs = [
                ArtifactUse(
                    artifact: ArtifactSpec(
                        ref: ArtifactRef(kind: "model", namespace: request.namespace.rawValue, name: model), digest: digest,
                        uri: prints.count == 1 ? "file://" + prints[0].path : nil, facets: facets),
                    role: "model")
            ]
        } else {
            run.outputs = zip(existing, prints).map { path, print in
                ArtifactUse(artifact: artifactSpec(for: print, kind: "dataset", name: artifactName(path), alias: aliases[path]), role: "output")
            }
        }
        let metrics = MetricsReader.read([metricsFile.path] + (request.metricsFiles + (stage?.metrics ?? [])).map { absolute($0).path })
        if !metrics.last.isEmpty { run.metrics = metrics.last }
        if !metrics.series.isEmpty { run.facets["metricSeries"] = .object(metrics.series) }
        switch exit {
        case .exited(let code): run.facets["exitCode"] = .int(Int64(code))
        case .signaled(let signal): run.facets["signal"] = .int(Int64(signal))
        }
        run.facets["durationSeconds"] = .double(Double(endedAt.microseconds - startedAt.microseconds) / 1e6)
        try? FileManager.default.removeItem(at: metricsFile)
        try? FileManager.default.removeItem(at: traceFile)
        return LineageEvent(namespace: request.namespace.rawValue, eventTime: endedAt, producer: Self.producer, payload: .run(run))
    }
}

/// Whether the file, or any file in the directory, was modified at or after `time`, give or take the kernel's
/// coarse clock: Linux stamps files with a time that may lag the precise clock by a tick (up to 10 ms), so a file
/// written a moment after a run started can carry a time just before it.
func modifiedSince(_ time: Timestamp, _ path: String) -> Bool {
    let since = time.microseconds - 50_000
    func mtime(_ file: String) -> Int64? {
        var info = stat()
        guard stat(file, &info) == 0 else { return nil }
        return Int64(info.st_mtim.tv_sec) * 1_000_000 + Int64(info.st_mtim.tv_nsec) / 1000
    }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return false }
    guard isDirectory.boolValue else { return (mtime(path) ?? 0) >= since }
    let files = FileManager.default.enumerator(atPath: path)?.allObjects.compactMap { $0 as? String } ?? []
    return files.contains { (mtime(path + "/" + $0) ?? 0) >= since }
}

extension JSONValue {
    func asEnvironmentFacet() throws -> EnvironmentFacet { try EnvironmentFacet(json: self, path: "environment") }
}

/// Metrics from JSON-lines files (`{"key": "auc", "value": 0.91, "step": 3}` or flat objects per line) and
/// plain JSON objects (`metrics.json` as DVC writes it). The last value per key is the run's metric; keys
/// logged more than once also keep their series.
enum MetricsReader {
    static func read(_ files: [String]) -> (last: [String: JSONValue], series: [String: JSONValue]) {
        var last: [String: JSONValue] = [:]
        var series: [String: [JSONValue]] = [:]
        func record(_ key: String, _ value: JSONValue, step: JSONValue?) {
            last[key] = value
            series[key, default: []].append(step.map { [$0, value] } ?? value)
        }
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            let text = String(decoding: data, as: UTF8.self)
            let documents = (try? [JSONValue.parse(text)]) ?? text.split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }
            for document in documents {
                if let key = document["key"]?.stringValue, let value = document["value"] {
                    record(key, value, step: document["step"])
                } else if let object = document.objectValue {
                    for (key, value) in object { record(key, value, step: nil) }
                }
            }
        }
        return (last, series.filter { $0.value.count > 1 }.mapValues(JSONValue.array))
    }
}

/// Files a traced command opened, from `strace -f -e trace=open,openat,creat` output, without the system's
/// and the interpreter's own files.
enum TraceReader {
    static let ignoredPrefixes = [
        "/usr/", "/lib", "/etc/", "/proc/", "/sys/", "/dev/", "/bin/", "/sbin/", "/opt/", "/root/.cache/", "/var/", "/run/",
    ]

    static func files(in trace: URL, directory: URL, exclude: [String]) -> (read: [String], written: [String]) {
        guard let text = try? String(contentsOf: trace, encoding: .utf8) else { return ([], []) }
        var read: [String] = [], written: [String] = []
        for line in text.split(separator: "\n") {
            guard let open = line.range(of: "open"), let quote = line[open.upperBound...].firstIndex(of: "\""),
                let end = line[line.index(after: quote)...].firstIndex(of: "\""), !line.hasSuffix("ENOENT (No such file or directory)"),
                let result = line.split(separator: "=").last?.trimmingCharacters(in: .whitespaces), let fd = Int(result.split(separator: " ")[0]),
                fd >= 0
            else { continue }
            var path = String(line[line.index(after: quote)..<end])
            if !path.hasPrefix("/") { path = directory.appendingPathComponent(path).standardizedFileURL.path }
            guard !ignoredPrefixes.contains(where: path.hasPrefix), !exclude.contains(path), !path.contains("__pycache__"),
                !path.contains("site-packages"), !path.hasSuffix(".pyc")
            else { continue }
            var info = stat()
            guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            let writes = line.contains("O_WRONLY") || line.contains("O_RDWR") || line.contains("O_CREAT") || line.contains("creat(")
            if writes { if !written.contains(path) { written.append(path) } } else if !read.contains(path) { read.append(path) }
        }
        return (read.filter { !written.contains($0) }, written)
    }
}
