import ArgumentParser
import Foundation
import PedigreeCapture
import PedigreeCore
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
            If the store cannot be reached the run goes ahead and its events are spooled; `pedigree sync` (or any \
            later command) delivers them.

            Examples:
              pedigree run --model fraud --input data/train.parquet --output model.pt --params config.yaml -- python train.py
              pedigree run --input validation=data/val.csv --parent hf://google/bert-base-uncased@86b5e09 -- python finetune.py
              pedigree run --dvc-stage train
            """)

    @Option(help: "Register the outputs as a new version of this model (same content: same version).")
    var model: String?
    @Option(name: .customLong("input"), help: ArgumentHelp("A file, directory or artifact reference the run reads; ROLE=PATH sets the role (train, validation, test, …).", valueName: "path|ref"))
    var inputs: [String] = []
    @Option(name: .customLong("output"), help: ArgumentHelp("A file or directory the run writes.", valueName: "path"))
    var outputs: [String] = []
    @Option(name: .customLong("params"), help: ArgumentHelp("A parameter file (YAML, JSON or TOML); several merge in order.", valueName: "file"))
    var parameterFiles: [String] = []
    @Option(name: .customLong("param"), help: ArgumentHelp("One parameter, KEY=VALUE, with dotted keys for nesting (optimizer.lr=0.001).", valueName: "key=value"))
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
        var request = RunRequest(
            namespace: namespace ?? environment["PEDIGREE_NAMESPACE"] ?? Reference.defaultNamespace, command: command,
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

        if storeOptions.serverURL != nil {
            warn("pedigree run records into a local store (or its spool) for now; drop --server/PEDIGREE_URL, or `pedigree record` the events to the server")
            throw ExitCode(2)
        }
        let capture: TrainingRun
        do {
            capture = try TrainingRun(request, cache: CaptureCache(directory: PedigreeDirectories.cache), scratch: FileManager.default.temporaryDirectory)
        } catch {
            warn("\(error)")
            throw ExitCode(2)
        }
        // A command that cannot start is a typo, not a run: say so before recording anything.
        guard let executable = capture.commandLine.first, CommandOutput.resolve(executable, path: environment["PATH"]) != nil else {
            warn("cannot run \(capture.commandLine.first ?? "the command"): not found (nothing was recorded)")
            throw ExitCode(127)
        }
        // A store that is busy or missing must not hold up training: wait briefly, then spool.
        let store: (any LineageStore)?
        do { store = try await storeOptions.open(busyTimeout: 2) } catch {
            warn("the store is unavailable (\(error)); this run's lineage will be spooled")
            store = nil
        }
        let recorder = EventRecorder(store: store, spool: EventSpool(directory: PedigreeDirectories.spool))

        do {
            let start = try await capture.start { digest in
                guard let model = try? await store?.artifacts(withDigest: digest, kind: "model").last else { return nil }
                return ArtifactRef(kind: model.kind, namespace: model.namespace, name: model.name, version: model.version)
            }
            await recorder.record(start)
        } catch let error as TrainingRun.Failure {
            warn("\(error)")
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
            await recorder.record(try capture.finish(exit))
            if !capture.skippedOutputs.isEmpty {
                warn("not recorded as outputs (missing, or not written by this run): \(capture.skippedOutputs.joined(separator: ", "))")
            }
        } catch {
            warn("could not record the run's outputs: \(error)")
        }
        if let store, let summary = try? await store.show(.run(capture.id), asOf: nil) {
            let produced = summary.downstream.map(\.node.ref).joined(separator: ", ")
            warn("recorded run:\(capture.id) \(summary.summary.status ?? "")\(produced.isEmpty ? "" : " → \(produced)")")
        }
        throw ExitCode(exit.code)
    }
}

/// Stores events, or spools them when the store cannot take them, and says which happened.
struct EventRecorder {
    let store: (any LineageStore)?
    let spool: EventSpool

    func record(_ event: LineageEvent) async {
        if let store {
            do {
                _ = try await store.append([event], recordedBy: cliIdentity)
                return
            } catch let error as StoreError where error.code != .unavailable {
                warn("the store rejected the run's event: \(error)")
                return
            } catch {
                warn("the store is unavailable (\(error)); spooling")
            }
        }
        do {
            try spool.spool([event], recordedBy: cliIdentity)
            warn("spooled \(event.typeName) event \(event.digest) in \(spool.directory.path); `pedigree sync` delivers it")
        } catch {
            warn("could not spool the event either (\(error)); its lineage is lost")
        }
    }
}

struct Sync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Deliver events spooled while the store was unreachable.",
        discussion: "Every command that opens the store does this too; sync does only this and reports.")

    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        try await reportingErrors {
            try storeOptions.requireStoreItself("sync")
            let spool = EventSpool(directory: PedigreeDirectories.spool)
            let pending = spool.pendingFiles.count
            let store = try await StoreLocation.open(storeOptions.resolvedPath)
            let delivery = await spool.deliver(to: store)
            print("delivered \(delivery.events) event\(delivery.events == 1 ? "" : "s") from \(delivery.files) spool file\(delivery.files == 1 ? "" : "s"); \(spool.pendingFiles.count) of \(pending) still pending")
            for rejection in delivery.rejected { print("rejected: \(rejection)") }
            if !spool.pendingFiles.isEmpty { throw ExitCode(5) }
        }
    }
}
