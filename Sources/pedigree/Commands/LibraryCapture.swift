import ArgumentParser
import Foundation
import PedigreeCapture
import PedigreeCore

/// `pedigree capture start|finish`: the run machinery of `pedigree run`, in two steps, for code that captures
/// from inside its own process (the Python library, `python/`). Each reads one JSON request on standard input,
/// captures what `pedigree run` captures (git, environment, packages, data digests, redaction — there is no
/// second implementation in the library), adds what only the process knew (its call arguments, seeds, framework
/// versions, models it loaded) and records the event through the store or server, or spools it when neither
/// answers, exactly as `pedigree run` does. It prints `{"run": "run:<id>", "outcome": "recorded"|"spooled"|…}`.
struct LibraryCapture: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Record a run from inside its own process, in two steps (the Python library's way in).",
        discussion: """
            Reads one JSON request on standard input, such as

              {"id": "…", "namespace": "fraud", "job": "train", "model": "fraud",
               "directory": "/work", "command": ["python", "train.py"],
               "inputs": ["train=data/train.csv"], "outputs": ["out/model.bin"],
               "parents": ["hf://org/name@rev"], "hyperparameters": {…},
               "environment": {"seeds": {…}}, "startedAt": "2026-12-07T10:00:00Z"}

            `start` records the run's START; `finish` (with "startedAt", "endedAt", "status": "COMPLETE" or "FAIL", \
            "error": {"type", "message"}, "metricsFile") its end and outputs. The times are the process's, not when \
            the step reached the binary. With "join": true, `start` adds to a run `pedigree run` is capturing \
            (PEDIGREE_RUN_ID) instead of starting one.
            """,
        subcommands: [Start.self, Finish.self])

    /// What the library sends.
    struct Request {
        var id: String
        var namespace: Namespace
        var job: String?
        var model: String?
        var directory: URL
        var command: [String]
        var inputs: [String]
        var outputs: [String]
        var parents: [String]
        var hyperparameters: [String: JSONValue]
        var environment: [String: JSONValue]
        var metricsFiles: [String]
        var json: JSONValue

        init(_ json: JSONValue) throws {
            func strings(_ key: String) throws -> [String] {
                guard let value = json[key] else { return [] }
                guard let items = value.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
                    throw PedigreeCore.ValidationError(field: key, "must be a list of strings")
                }
                return items.compactMap(\.stringValue)
            }
            func object(_ key: String) throws -> [String: JSONValue] {
                guard let value = json[key] else { return [:] }
                guard let members = value.objectValue else { throw PedigreeCore.ValidationError(field: key, "must be an object") }
                return members
            }
            guard let id = json["id"]?.stringValue, !id.isEmpty else { throw PedigreeCore.ValidationError(field: "id", "is missing: the run's id") }
            self.id = id
            let environment = ProcessInfo.processInfo.environment
            namespace = try Namespace(
                json["namespace"]?.stringValue ?? environment["PEDIGREE_NAMESPACE"] ?? Reference.defaultNamespace,
                field: json["namespace"] == nil ? "PEDIGREE_NAMESPACE" : "namespace")
            job = json["job"]?.stringValue
            model = json["model"]?.stringValue
            directory = URL(fileURLWithPath: json["directory"]?.stringValue ?? FileManager.default.currentDirectoryPath)
            command = try strings("command")
            inputs = try strings("inputs")
            outputs = try strings("outputs")
            parents = try strings("parents")
            hyperparameters = try object("hyperparameters")
            self.environment = try object("environment")
            metricsFiles = json["metricsFile"]?.stringValue.map { [$0] } ?? []
            self.json = json
        }

        func training() throws -> TrainingRun {
            var request = RunRequest(namespace: namespace, command: command, directory: directory, environment: ProcessInfo.processInfo.environment)
            request.job = job
            request.model = model
            request.inputs = inputs
            request.outputs = outputs
            request.parents = parents
            request.metricsFiles = metricsFiles
            return try TrainingRun(
                request, cache: CaptureCache(directory: PedigreeDirectories.cache), scratch: FileManager.default.temporaryDirectory, id: id)
        }

        /// When the process says the step happened.
        func time(_ key: String) throws -> Timestamp? {
            guard let value = json[key] else { return nil }
            guard let text = value.stringValue, let time = Timestamp(text) else {
                throw PedigreeCore.ValidationError(field: key, "must be an RFC 3339 time such as 2026-11-28T13:39:04.000000Z")
            }
            return time
        }

        /// The run with what the process knew added: its hyperparameters (redacted, as every parameter is) and
        /// environment (seeds, framework versions).
        func adding(to run: RunRecord) throws -> RunRecord {
            var run = run
            if !hyperparameters.isEmpty {
                let redacted = SecretRedactor.redactSecrets(.object(hyperparameters))
                run.hyperparameters = JSONValue.object(run.hyperparameters ?? [:]).merging(redacted).objectValue
            }
            if !environment.isEmpty {
                let merged = JSONValue.object(run.environment?.json ?? [:]).merging(.object(environment))
                run.environment = try EnvironmentFacet(json: merged, path: "environment")
            }
            for parent in parents where run.parents.allSatisfy({ $0.description != parent }) {
                guard case .artifact(let ref) = try Reference(parsingModel: parent), ref.kind == "model" else {
                    throw PedigreeCore.ValidationError(field: "parents", "'\(parent)' is not a model reference")
                }
                if !run.parents.contains(ref) { run.parents.append(ref) }
            }
            return run
        }
    }

    static func readRequest() throws -> Request {
        let data = FileHandle.standardInput.readDataToEndOfFile()
        let json: JSONValue
        do { json = try JSONValue.parse(data) } catch {
            throw PedigreeCore.ValidationError(field: "standard input", "is not a JSON request: \(error)")
        }
        return try Request(json)
    }

    /// Records one event as `pedigree run` does (through the store or server, waiting briefly for a busy one,
    /// else spooled) and prints the outcome.
    static func record(
        _ storeOptions: StoreOptions,
        _ build: @escaping @Sendable (_ lookup: @escaping @Sendable (ContentDigest) async -> ArtifactRef?) async throws -> LineageEvent
    ) async throws {
        let outcome = try await storeOptions.capturing { session, backend in
            let event = try await build { await Run.model(withDigest: $0, backend: backend, session: session) }
            let outcome = await session.record(event)
            return (event.subject, outcome)
        }
        printJSON(["run": .string(outcome.0), "outcome": .string("\(outcome.1)")])
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a run's START (or, with \"join\", add to a running `pedigree run`).")
        @OptionGroup var storeOptions: StoreOptions

        func run() async throws {
            try await reportingErrors {
                let request = try LibraryCapture.readRequest()
                let join = request.json["join"] == .bool(true)
                let capture = try request.training()
                try await LibraryCapture.record(storeOptions) { lookup in
                    var run: RunRecord
                    if join {
                        // Only what the process adds: the wrapper records the rest, and the run's START and end.
                        run = RunRecord(id: request.id, job: request.job ?? capture.jobName)
                        run.inputs = try await capture.resolveInputs(request.inputs, modelWithDigest: lookup)
                        if !request.environment.isEmpty { run.environment = try capture.environment(parameters: .object(request.hyperparameters)) }
                    } else {
                        guard case .run(var started) = try await capture.start(modelWithDigest: lookup).payload else {
                            throw PedigreeCore.ValidationError(field: "start", "did not capture a run")
                        }
                        started.startedAt = try request.time("startedAt") ?? started.startedAt
                        run = started
                    }
                    run = try request.adding(to: run)
                    return LineageEvent(
                        namespace: request.namespace.rawValue, eventTime: join ? .now : run.startedAt, producer: TrainingRun.producer,
                        payload: .run(run))
                }
            }
        }
    }

    struct Finish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a run's COMPLETE or FAIL, its outputs and metrics.")
        @OptionGroup var storeOptions: StoreOptions

        func run() async throws {
            try await reportingErrors {
                var request = try LibraryCapture.readRequest()
                guard let started = try request.time("startedAt") else {
                    throw PedigreeCore.ValidationError(field: "startedAt", "is missing: when the run started (RFC 3339)")
                }
                let status = request.json["status"]?.stringValue ?? "COMPLETE"
                guard ["COMPLETE", "FAIL"].contains(status) else { throw PedigreeCore.ValidationError(field: "status", "must be COMPLETE or FAIL") }
                // Inputs declared during the run are fingerprinted now; the START already has the earlier ones.
                let lateInputs = request.inputs
                request.inputs = []
                let error = request.json["error"]
                let capture = try request.training()
                capture.resume(startedAt: started)
                try await LibraryCapture.record(storeOptions) { [request] lookup in
                    guard case .run(let finished) = try capture.finish(.exited(status == "COMPLETE" ? 0 : 1)).payload else {
                        throw PedigreeCore.ValidationError(field: "finish", "did not capture a run")
                    }
                    var finishing = finished
                    // Seeds set during the run arrive now; the environment they belong to is captured again.
                    if !request.environment.isEmpty {
                        finishing.environment = try capture.environment(parameters: .object(request.hyperparameters))
                    }
                    var run = try request.adding(to: finishing)
                    run.inputs += try await capture.resolveInputs(lateInputs, modelWithDigest: lookup)
                    run.facets["exitCode"] = nil
                    if let error, error != .null {
                        run.facets["error"] = [
                            "type": error["type"] ?? .null, "message": .string(SecretRedactor.redactText(error["message"]?.stringValue ?? "")),
                        ]
                    }
                    if let ended = try request.time("endedAt") {
                        run.endedAt = ended
                        run.facets["durationSeconds"] = .double(Double(ended.microseconds - started.microseconds) / 1e6)
                    }
                    return LineageEvent(
                        namespace: request.namespace.rawValue, eventTime: run.endedAt, producer: TrainingRun.producer, payload: .run(run))
                }
            }
        }
    }
}
