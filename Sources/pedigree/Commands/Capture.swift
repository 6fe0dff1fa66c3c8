import ArgumentParser
import Foundation
import PedigreeCapture
import PedigreeCore
import PedigreeRender
import PedigreeStore

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a training command and record its lineage: code, data, parameters, environment, parents, outputs.",
        discussion: """
            Nothing in the training code changes. Before the command starts, Pedigree records the git commit and \
            uncommitted changes, the machine, GPU and CUDA, the Python interpreter's packages, the merged \
            parameters, and the SHA-256 of every --input (directories file by file). When it ends: the outputs, \
            the metrics, the status and the exit code, and a new version of --model.

            The command inherits the terminal; its exit code is pedigree's. It gets PEDIGREE_RUN_ID and \
            PEDIGREE_METRICS_FILE, a file where it may append lines like {"key": "auc", "value": 0.91, "step": 3}. \
            When the run records to a server and MLFLOW_TRACKING_URI points at that server, MLflow's run in the \
            command is this run (one run with both kinds of facts). \
            If the store cannot be reached the run goes ahead and its events are spooled for that store; \
            `pedigree sync` (or the next run for the same store) delivers them there.

            Examples (each pastes as it is):
              pedigree run --model fraud --input data/train.parquet \\
                  --output model.pt --params config.yaml -- python train.py
              pedigree run --input validation=data/val.csv \\
                  --parent hf://google/bert-base-uncased@86b5e09 -- python finetune.py
              pedigree run --dvc-stage train
            """)

    @Option(help: "Register the outputs as a new version of this model (same content: same version).")
    var model: String?
    @Option(
        name: .customLong("input"),
        help: ArgumentHelp(
            "A file, directory or artifact reference the run reads; ROLE=PATH sets the role (train, validation, test, …).", valueName: "path|ref"))
    var inputs: [String] = []
    @Option(name: .customLong("output"), help: ArgumentHelp("A file or directory the run writes.", valueName: "path"))
    var outputs: [String] = []
    @Option(name: .customLong("params"), help: ArgumentHelp("A parameter file (YAML, JSON or TOML); several merge in order.", valueName: "file"))
    var parameterFiles: [String] = []
    @Option(
        name: .customLong("param"),
        help: ArgumentHelp(
            "One parameter, KEY=VALUE, with dotted keys for nesting (optimizer.lr=0.001). A value is a number when it reads back as typed (3, 0.001) or has an exponent (5e-5), JSON when it is JSON (true, [1,2]), else text (1.10, adam).",
            valueName: "key=value"))
    var parameters: [String] = []
    @Option(name: .customLong("parent"), help: ArgumentHelp("A base model: model:NS/NAME@VERSION or hf://org/name@revision.", valueName: "ref"))
    var parents: [String] = []
    @Option(name: .customLong("metrics"), help: ArgumentHelp("A metrics file the command writes (JSON object or JSON lines).", valueName: "file"))
    var metricsFiles: [String] = []
    @Option(name: .customLong("data"), help: ArgumentHelp("A JSON file declaring transformations, featureSelection and quality.", valueName: "file"))
    var dataFile: String?
    @Option(help: "The job's name (default: the script's name).")
    var job: String?
    @Option(help: "The namespace that owns the run (default: $PEDIGREE_NAMESPACE, else 'default').")
    var namespace: String?
    @Option(name: .customLong("dvc-stage"), help: "Take deps, outs, params and the command from this DVC stage.")
    var dvcStage: String?
    @Flag(help: "Also record the files the command actually opened (Linux, needs strace).")
    var trace = false
    @Argument(parsing: .postTerminator, help: "The command, after --.")
    var command: [String] = []

    @OptionGroup var storeOptions: StoreOptions

    func validate() throws {
        if command.isEmpty && dvcStage == nil {
            throw ArgumentParser.ValidationError("give the command to run after --, e.g. pedigree run --model m -- python train.py")
        }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let owner: Namespace
        do {
            owner = try Namespace(
                namespace ?? environment["PEDIGREE_NAMESPACE"] ?? Reference.defaultNamespace,
                field: namespace == nil ? "PEDIGREE_NAMESPACE" : "--namespace")
        } catch {
            warn("\(error) (nothing was run)")
            throw ExitCode(2)
        }
        var request = RunRequest(
            namespace: owner, command: command,
            directory: URL(fileURLWithPath: FileManager.default.currentDirectoryPath), environment: environment)
        request.job = job
        request.model = model
        request.inputs = inputs
        request.outputs = outputs
        request.parameterFiles = parameterFiles
        request.parameters = parameters
        request.parents = parents
        request.metricsFiles = metricsFiles
        request.dataFile = dataFile
        request.dvcStage = dvcStage
        request.trace = trace
        request.server = storeOptions.serverURL

        let capture: TrainingRun
        do {
            capture = try TrainingRun(
                request, cache: CaptureCache(directory: PedigreeDirectories.cache), scratch: FileManager.default.temporaryDirectory)
        } catch {
            warn("\(error) (nothing was run)")
            throw ExitCode(2)
        }
        // A command that cannot start is a typo, not a run: say so before recording anything.
        guard let executable = capture.commandLine.first, CommandOutput.resolve(executable, path: environment["PATH"]) != nil else {
            warn("cannot run \(capture.commandLine.first ?? "the command"): not found (nothing was recorded)")
            throw ExitCode(127)
        }
        // A store or server that is busy or down must not hold up training: wait briefly, then spool. With
        // --server or PEDIGREE_URL the run records through the server, as every command there does.
        let code = try await storeOptions.capturing { session, backend in try await Self.capture(capture, session: session, backend: backend) }
        throw ExitCode(code)
    }

    /// The registered model version with this content, looked up in the destination; nil while it is down (a
    /// failure counts as it being down, so a run with many inputs waits at most once).
    static func model(withDigest digest: ContentDigest, backend: (any Backend)?, session: CaptureSession) async -> ArtifactRef? {
        guard let backend, await !session.destinationIsDown else { return nil }
        do {
            guard let model = try await backend.artifacts(withDigest: digest, kind: "model").last else { return nil }
            return ArtifactRef(kind: model.kind, namespace: model.namespace, name: model.name, version: model.version)
        } catch let error as StoreError where error.code == .unavailable {
            await session.noteUnavailable()
            warn("could not look up a parent model by digest (\(error)); inputs are recorded as data")
            return nil
        } catch {
            return nil
        }
    }

    /// Records START, runs the command, records COMPLETE or FAIL; returns the command's exit code.
    private static func capture(_ capture: TrainingRun, session: CaptureSession, backend: (any Backend)?) async throws -> Int32 {
        do {
            let start = try await capture.start { await model(withDigest: $0, backend: backend, session: session) }
            await session.record(start)
        } catch let error as TrainingRun.Failure {
            warn("\(error) (nothing was run)")
            throw ExitCode(2)
        } catch {
            // A fault in capture itself never stops the training.
            warn("could not capture the run's context (\(error)); running the command anyway")
        }

        let exit: ChildExit
        do {
            exit = try ChildProcess.run(capture.commandLine, environment: capture.childEnvironment)
        } catch {
            warn("\(error)")
            throw ExitCode(127)
        }

        do {
            await session.record(try capture.finish(exit))
            if !capture.skippedOutputs.isEmpty {
                warn("not recorded as outputs (missing, or not written by this run): \(capture.skippedOutputs.joined(separator: ", "))")
            }
        } catch {
            warn("could not record the run's outputs: \(error)")
        }
        if let backend, await !session.destinationIsDown, let summary = try? await backend.show(.run(capture.id), asOf: nil) {
            let produced = summary.downstream.map(\.node.ref).joined(separator: ", ")
            warn("recorded run:\(capture.id) \(summary.summary.status ?? "")\(produced.isEmpty ? "" : " → \(produced)")")
            if !summary.upstream.isEmpty {
                warn("inputs: " + summary.upstream.map { "\($0.node.ref) (\($0.role))" }.joined(separator: ", "))
            }
            if let model = capture.request.model, !summary.downstream.contains(where: { $0.node.kind == "model" }) {
                warn("no version of model \(model) was registered: \(exit.succeeded ? "no declared output was written" : "the command failed")")
            }
            await ModelSignatureCheck.recordSignatures(
                of: summary.downstream.map(\.node).filter { $0.kind == "model" }, outputs: capture.request.outputs,
                directory: capture.request.directory, backend: backend)
        }
        return exit.code
    }
}

struct Sync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Deliver events spooled while their store was unreachable, and list what is still pending.",
        discussion: """
            Every spooled event remembers the store (or server) it was captured for and is delivered only \
            there: sync delivers what is pending for this one (--server or PEDIGREE_URL, else --store, \
            PEDIGREE_STORE or the default store), plus events spooled by older versions of Pedigree that did \
            not record their store, and lists what is pending elsewhere. Exits 5 when events for this one are \
            still pending.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors {
            let spool = EventSpool(directory: PedigreeDirectories.spool)
            let key = storeOptions.spoolKey
            // A store is created only to receive events captured for it; a mistyped --store is refused.
            let delivery = try await storeOptions.withBackend(creating: spool.hasPending(for: key)) { backend in
                await spool.deliver(to: backend, includingUnaddressed: true)
            }
            let pending = spool.pending()
            let here = pending.byDestination.filter { $0.destination == key || $0.destination == nil }.reduce(0) { $0 + $1.events }
            let elsewhere = pending.byDestination.filter { $0.destination != key && $0.destination != nil }
            if output.json {
                printJSON([
                    "delivered": .int(Int64(delivery.events)), "files": .int(Int64(delivery.files)), "pending": .int(Int64(here)),
                    "rejected": .array((delivery.rejected + pending.unreadable).map(JSONValue.string)),
                    "pendingElsewhere": .array(elsewhere.map { ["store": .string($0.destination ?? ""), "events": .int(Int64($0.events))] }),
                ])
            } else {
                print(
                    "delivered \(delivery.events) event\(delivery.events == 1 ? "" : "s") from \(delivery.files) spool file\(delivery.files == 1 ? "" : "s") to \(storeOptions.serverDisplay ?? storeOptions.displayLocation); \(here) still pending"
                )
                for rejection in delivery.rejected + pending.unreadable { print("rejected: \(TerminalText.escape(rejection))") }
                if let refused = delivery.refused { print("kept, the destination refused them: \(TerminalText.escape(refused))") }
                for other in elsewhere {
                    print("pending for \(TerminalText.escape(other.destination ?? "")): \(other.events) event\(other.events == 1 ? "" : "s")")
                }
            }
            if here > 0 { throw ExitCode(5) }
        }
    }
}

extension StoreOptions {
    /// Runs `body` with a capture session on the store or server — waiting at most briefly for a busy one — or,
    /// when neither can be opened, with one that spools everything: capture never waits long or fails for it.
    func capturing<T: Sendable>(_ body: @escaping @Sendable (CaptureSession, (any Backend)?) async throws -> T) async throws -> T {
        let opened = OpenedFlag()
        do {
            return try await withBackend(creating: true, busyTimeout: 2) { backend in
                opened.set()
                return try await body(session(backend), backend)
            }
        } catch  where !opened.isSet {
            warn("the store is unavailable (\(error)); this run's lineage will be spooled")
            return try await body(session(nil), nil)
        }
    }

    private func session(_ destination: (any EventDestination)?) -> CaptureSession {
        CaptureSession(
            destination: destination, spoolKey: spoolKey, spool: EventSpool(directory: PedigreeDirectories.spool), identity: cliIdentity,
            notice: { warn($0) })
    }
}

/// Whether the store was opened: once it was, the command has been (or is being) run, and a later error
/// must not make `run` start it a second time.
private final class OpenedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
