import ArgumentParser
import Foundation
import PedigreeCapture
import PedigreeClient
import PedigreeCore
import PedigreeInterop
import PedigreePostgres
import PedigreeRender
import PedigreeSQLite
import PedigreeStore

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or upgrade a PostgreSQL store's schema.",
        discussion: """
            Servers refuse a database whose schema is behind or ahead of their own version, so run this once \
            before starting (or upgrading) them; replicas starting together are safe, migrations take a lock. \
            SQLite stores migrate themselves when opened.

            Example: pedigree migrate --store postgres://pedigree@db.internal/lineage
            """)

    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        try await reportingErrors {
            try storeOptions.requireStoreItself("migrate")
            let location = storeOptions.resolvedPath
            guard PostgresLocation.isPostgresURL(location) else {
                _ = try SQLiteStore(path: location)
                print("\(location): SQLite stores migrate when opened; it is up to date")
                return
            }
            let store = PostgresStore(location: try PostgresLocation(location))
            let (applied, version) = try await store.withRunning { store in (try await store.migrate(), try await store.schemaVersion().current) }
            for migration in applied { print("applied migration \(migration)") }
            print("\(store.location): schema version \(version)\(applied.isEmpty ? ", already up to date" : "")")
        }
    }
}

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Export lineage for other tools: a backup, PROV, OpenLineage, Cypher, neo4j-admin CSV, DataHub, GraphML, DOT, Mermaid, SVG, or a bill of materials.",
        discussion: """
            --format backup (the default) writes every event with its original sequence numbers, times and chain \
            hashes, as JSON Lines that `pedigree import` loads into an empty store of either kind and verifies, \
            e.g. to move an embedded SQLite store to PostgreSQL:

              pedigree export --all lineage.jsonl
              pedigree import --store postgres://pedigree@db.internal/lineage lineage.jsonl

            The graph is not exported: it is rebuilt from the events. Tokens are not exported either.

            Graph formats export the whole store (--all) or the lineage of one node (both directions by default, \
            --upstream or --downstream for one, --depth hops), as the store knew it --as-of a time, streamed and \
            byte-for-byte the same for the same store: prov-json (W3C PROV-JSON), openlineage (RunEvents and \
            DatasetEvents as JSON lines, which Pedigree reads back into the same graph), datahub (metadata change \
            proposals for DataHub's file source), cypher (Neo4j 5: constraints, then MERGE statements, idempotent), \
            cypher-kuzu (the same statements with Kùzu's typed tables), csv (a directory of node and relationship \
            files for `neo4j-admin database import full`; needs -o DIR), \
            graphml, dot (Graphviz) and mermaid (a flowchart GitHub renders):

              pedigree export --all --format cypher -o lineage.cypher
              pedigree export model:fraud-team/fraud@3 --upstream --format prov-json -o fraud-3.prov.json

            --format svg draws the lineage of one node with the web UI's layered layout, as a self-contained SVG \
            file to attach to a report (--depth defaults to 10 each way); crowds of alike siblings are folded into \
            clusters, as in the web UI. --format cyclonedx writes a CycloneDX 1.6 ML-BOM of a model version (the \
            model with its model card, its datasets with digests, its parent models as ancestors, its packages as \
            libraries); --format spdx an SPDX 3.0.1 JSON-LD document (AIPackage, DatasetPackage, trainedOn and testedOn):

              pedigree export model:fraud-team/fraud@3 --format svg -o fraud-3.svg
              pedigree export model:fraud-team/fraud@3 --format cyclonedx -o fraud-3.cdx.json

            Output goes to a temporary file beside -o and is renamed when complete, so a failed export writes nothing.
            """)

    static let formats = ["backup"] + ExportFormat.allCases.map(\.rawValue) + ["svg", "cyclonedx", "spdx"]

    @Flag(help: "Export every namespace (a backup is always of the whole store: a partial one could not keep the chains verifiable).")
    var all = false
    @Option(help: ArgumentHelp("One of: \(Export.formats.joined(separator: ", ")).", valueName: "format"))
    var format: String = "backup"
    @Argument(help: "With --all and --format backup: where to write the backup ('-' for standard output). Otherwise: the node to export.")
    var target: String?
    @Option(
        name: [.customShort("o"), .long], help: ArgumentHelp("Where to write (default: standard output; a directory for csv).", valueName: "file"))
    var output: String?
    @Flag(help: "Only what the node came from.")
    var upstream = false
    @Flag(help: "Only what came from the node.")
    var downstream = false
    @Option(help: "Hops in each direction (default: no limit; 10 for svg).")
    var depth: Int?
    @OptionGroup var time: TimeOptions
    @OptionGroup var storeOptions: StoreOptions

    func validate() throws {
        guard Self.formats.contains(format) else {
            throw ArgumentParser.ValidationError("--format must be one of: \(Self.formats.joined(separator: ", "))")
        }
        if let depth, depth < 0 { throw ArgumentParser.ValidationError("--depth must be 0 or more") }
        guard !(upstream && downstream) else {
            throw ArgumentParser.ValidationError("give --upstream or --downstream, not both (neither exports both)")
        }
        // What does not apply is refused, not ignored: a backup is every event, a bill of materials is today's.
        let selecting = [(upstream, "--upstream"), (downstream, "--downstream"), (depth != nil, "--depth"), (time.asOf != nil, "--as-of")]
        switch format {
        case "backup", "cyclonedx", "spdx":
            if let (_, option) = selecting.first(where: { $0.0 }) {
                throw ArgumentParser.ValidationError("\(option) does not apply to --format \(format)")
            }
        case _ where all:
            if let (_, option) = selecting.dropLast().first(where: { $0.0 }) {
                throw ArgumentParser.ValidationError("\(option) selects a node's lineage: give its reference instead of --all")
            }
        default: break
        }
        switch format {
        case "backup":
            guard all else { throw ArgumentParser.ValidationError("a backup is of the whole store: pass --all FILE") }
        case "svg", "cyclonedx", "spdx":
            guard !all, let target else {
                throw ArgumentParser.ValidationError(
                    format == "svg"
                        ? "--format svg draws the lineage of one node: give its reference, not --all"
                        : "--format \(format) describes one model version: give its reference, not --all")
            }
            do { _ = try Reference(parsingModel: target) } catch { throw ArgumentParser.ValidationError("\(error)") }
        default:
            guard all != (target != nil) else {
                throw ArgumentParser.ValidationError("give a reference to export its lineage, or --all for the whole store (not both)")
            }
            if let target { do { _ = try Reference(parsingModel: target) } catch { throw ArgumentParser.ValidationError("\(error)") } }
            if format == "csv" && output == nil {
                throw ArgumentParser.ValidationError("--format csv writes a directory of files: give it with -o DIR")
            }
        }
    }

    func run() async throws {
        try await reportingErrors {
            switch format {
            case "svg": return try await exportDrawing()
            case "cyclonedx", "spdx": return try await exportBOM()
            case "backup": return try await exportBackup()
            default: return try await exportGraph(ExportFormat(rawValue: format)!)
            }
        }
    }

    private func exportBackup() async throws {
        let file = target ?? output ?? "-"
        let count = try await storeOptions.withStore("export", creating: false) { [file] store in
            guard file != "-" else {
                return try await StoreBackup.export(store) { try FileHandle.standardOutput.write(contentsOf: Data($0.utf8)) }
            }
            let output = try ExportOutput(file: file, directory: false)
            do {
                let count = try await StoreBackup.export(store) { try output.write($0) }
                try output.commit()
                return count
            } catch {
                output.discard()
                throw error
            }
        }
        warn("exported \(count) event\(count == 1 ? "" : "s") from \(storeOptions.displayLocation)")
    }

    private func exportGraph(_ format: ExportFormat) async throws {
        let selection: ExportSelection =
            if let target {
                .lineage(
                    try Reference(parsingModel: target),
                    directions: upstream ? [.upstream] : downstream ? [.downstream] : [.upstream, .downstream], depth: depth)
            } else {
                .all
            }
        let destination = output
        try await storeOptions.withStore("export", creating: false) { [time] store in
            guard let exporter = store as? any LineageExporting else {
                throw PedigreeCore.ValidationError(field: "--store", "this store cannot be exported")
            }
            let output = try destination.map { try ExportOutput(file: $0, directory: format.isDirectory) } ?? ExportOutput.standardOutput()
            do {
                try await exporter.export(selection, asOf: time.asOf) { source in
                    try format.write(source) { part, text in try output.write(text, to: part) }
                }
                try output.commit()
            } catch {
                output.discard()
                throw error
            }
        }
        if let destination { warn("wrote the \(format.rawValue) export of \(target ?? "the whole store") to \(destination)") }
    }

    private func exportDrawing() async throws {
        let ref = try Reference(parsingModel: target ?? "")
        let (up, down, depth) = (!downstream, !upstream, depth ?? 10)
        let view = try await storeOptions.withBackend(creating: false) { backend in
            let before = up ? try await backend.lineage(ref, direction: .upstream, depth: depth, asOf: time.asOf) : nil
            let after = down ? try await backend.lineage(ref, direction: .downstream, depth: depth, asOf: time.asOf) : nil
            return LineageView(upstream: before, downstream: after)
        }
        try write(LineageSVG.render(view, title: "Lineage of \(ref)"), what: "the lineage drawing of \(ref) (\(view.nodes.count) nodes)")
    }

    private func write(_ text: String, what: String) throws {
        guard let output else { return print(text, terminator: "") }
        let file = try ExportOutput(file: output, directory: false)
        do {
            try file.write(text)
            try file.commit()
        } catch {
            file.discard()
            throw error
        }
        warn("wrote \(what) to \(output)")
    }

    private func exportBOM() async throws {
        let ref = try parseArtifactReference(target ?? "")
        let subject = try await storeOptions.withBackend(creating: false) { backend in
            let (detail, parents) = try await ModelRecord.gather(ref, from: backend)
            return BOMExport.Subject(detail: detail, parents: parents)
        }
        let document =
            format == "spdx" ? BOMExport.spdx(subject, toolVersion: Pedigree.version) : BOMExport.cycloneDX(subject, toolVersion: Pedigree.version)
        try write(document.prettyString() + "\n", what: "the \(format) bill of materials of \(subject.model.ref)")
    }
}

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load a `pedigree export` into an empty store, or bring in the history another tool kept (DVC, MLflow, W&B, Kubeflow, ClearML).",
        discussion: """
            --from backup (the default) loads a `pedigree export --all` file. Each event must continue its \
            namespace's hash chain exactly as exported, so a file that was altered is refused at the first altered \
            event, and a truncated one at its end. Events are committed in batches; if an import stops part-way, \
            run it again: the events already imported (the same, verified by their chain hashes) are skipped. Exits \
            1 if the verification afterwards finds problems.

              pedigree import --store postgres://pedigree@db.internal/lineage lineage.jsonl

            --from dvc reads a DVC project: each stage in dvc.lock becomes a completed run (deps → inputs, outs → \
            outputs, resolved params → hyperparameters, metrics files → metrics, the commit → code), each .dvc file \
            registers its data; artifacts are versioned by DVC's md5, kept as an alias digest, with Pedigree's \
            SHA-256 where the content is at hand (the working tree or DVC's cache). --all-commits walks every commit \
            that changed dvc.lock or a .dvc file, so each past revision of the pipeline is there too. Importing again \
            adds only what is new; bad input names the file and field and imports nothing.

              pedigree import --from dvc ~/projects/churn --all-commits --namespace churn --dry-run

            --from mlflow reads a running MLflow tracking server through its REST API ($MLFLOW_TRACKING_TOKEN is \
            sent as a bearer token): each run becomes a run with MLflow's id (params → hyperparameters, metrics, \
            git tags → code, logged datasets → inputs by MLflow's digest, input models → parents, logged models \
            → outputs with the digest of their files, downloaded through the server's artifact proxy); each \
            registered version is an output of its source run; each alias and stage a deployment of \
            alias/NAME/ALIAS or stage/NAME/STAGE, so `pedigree history` shows what it points to. Importing again \
            adds only what changed on the server.

              pedigree import --from mlflow http://mlflow.internal:5000 --namespace fraud-team

            --from wandb reads W&B run directories (wandb/offline-run-*, or synced run-*; give a run's directory, \
            a wandb/ directory or the project holding one), from their .wandb transaction logs: each run becomes a run \
            (config → hyperparameters, history and summary → metrics, git and the program → code, Python, GPU and \
            requirements.txt → environment), logged artifacts outputs and used ones inputs, versioned by W&B's \
            manifest digest (kept as an alias), with Pedigree's SHA-256 where wandb's copies are at hand.

              pedigree import --from wandb ~/projects/fraud --namespace fraud-team

            --from kubeflow reads a compiled Kubeflow Pipelines definition (the IR YAML `kfp` compiles) as \
            design-time lineage — each task a run of <pipeline>/<task> with its parameters, image and the artifacts \
            it consumes and declares, versioned by the spec's digest — or an ML Metadata store as run-time lineage: \
            its SQLite file, or a SQL dump (mysqldump, or SQLite's .dump) of the MySQL database KFP and TFX keep. \
            Each execution becomes a run (inputs, outputs, models as parents, properties as hyperparameters, \
            contexts as facets), each artifact a version with its recorded digest, with MLMD's ids as mlmd.* facets.

              pedigree import --from kubeflow pipeline.yaml --namespace fraud-team
              mysqldump metadb > mlmd.sql && pedigree import --from kubeflow mlmd.sql --namespace fraud-team

            --from clearml reads a ClearML offline session (the folder Task.set_offline(True) writes, or its zip): \
            the task becomes a run with ClearML's id — hyperparameters by section, the script's repository, commit, \
            branch and uncommitted diff as code, installed packages, the last value of each scalar, artifacts by \
            the SHA-256 ClearML recorded (checked against the file), output models digested from their weights.

              pedigree import --from clearml ~/.clearml/cache/offline/offline-1f0e….zip --namespace fraud-team
            """)

    static let sources = ["backup", "dvc", "mlflow", "wandb", "kubeflow", "clearml"]

    @Argument(help: "The export file ('-' for standard input), the project directory, the server's URL, or the source file.")
    var file: String
    @Option(
        help:
            "What PATH holds: backup (a `pedigree export --all` file), dvc (a DVC project), mlflow (an MLflow tracking server's URL), wandb (W&B run directories), kubeflow (a KFP pipeline YAML, an ML Metadata SQLite store or its SQL dump) or clearml (an offline session, folder or zip)."
    )
    var from: String = "backup"
    @Option(help: "Imports from other tools: the namespace that owns what is imported (default: $PEDIGREE_NAMESPACE, else 'default').")
    var namespace: String?
    @Flag(help: "--from dvc: every commit that changed dvc.lock or a .dvc file, not only the working tree.")
    var allCommits = false
    @Flag(help: "Imports from other tools: show what would be imported, and store nothing.")
    var dryRun = false
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard Self.sources.contains(from) else {
            throw ArgumentParser.ValidationError("--from must be one of \(Self.sources.joined(separator: ", "))")
        }
        if from == "backup" {
            for (set, option) in [(namespace != nil, "--namespace"), (dryRun, "--dry-run")] where set {
                throw ArgumentParser.ValidationError("\(option) is for imports from other tools: a backup keeps each event's own namespace")
            }
        }
        if allCommits, from != "dvc" { throw ArgumentParser.ValidationError("--all-commits is for --from dvc") }
    }

    func run() async throws {
        try await reportingErrors {
            switch from {
            case "dvc": return try await importDVC()
            case "mlflow": return try await importMLflow()
            case "kubeflow": return try await importKubeflow()
            case "clearml": return try await importClearML()
            case "wandb": return try await importWandb()
            default: break
            }
            try storeOptions.requireStoreItself("import")
            let input = file == "-" ? FileHandle.standardInput : try Self.open(file)
            // The header is checked before the store is opened: a file that is not an export creates nothing.
            let backup = try StoreBackup.Reader(FileLines(input), source: file)
            // Redacted events are checked against their redactions, which come later in the file: read them first.
            let redactions = file == "-" ? [] : try StoreBackup.redactions(in: FileLines(try Self.open(file)))
            let report = try await storeOptions.withStore("import", creating: true) { [storeOptions, redactions] store in
                let summary = try await StoreBackup.restore(backup, into: store, redactions: redactions)
                let skipped = summary.skipped > 0 ? " (\(summary.skipped) already there)" : ""
                warn(
                    "imported \(summary.imported) event\(summary.imported == 1 ? "" : "s") into \(storeOptions.displayLocation)\(skipped); verifying")
                return try await store.verify()
            }
            if output.json { printJSON(report) } else { print(TextRenderer.verification(report)) }
            if !report.ok { throw ExitCode(1) }
        }
    }

    /// The export file, or an error that says why it cannot be read.
    static func open(_ file: String) throws -> FileHandle {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory) else {
            throw PedigreeCore.ValidationError(field: "file", "cannot read \(file): there is no such file")
        }
        guard !isDirectory.boolValue else { throw PedigreeCore.ValidationError(field: "file", "cannot read \(file): it is a directory") }
        guard FileManager.default.isReadableFile(atPath: file), let handle = FileHandle(forReadingAtPath: file) else {
            throw PedigreeCore.ValidationError(field: "file", "cannot read \(file): permission denied")
        }
        return handle
    }
}
