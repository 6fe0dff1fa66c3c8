import ArgumentParser
import Foundation
import PedigreeCore
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
        abstract: "Back up a whole store, export a model version as an AI bill of materials (CycloneDX, SPDX), or draw a lineage (SVG).",
        discussion: """
            --format backup (the default) writes every event with its original sequence numbers, times and chain \
            hashes, as JSON Lines that `pedigree import` loads into an empty store of either kind and verifies, \
            e.g. to move an embedded SQLite store to PostgreSQL:

              pedigree export --all lineage.jsonl
              pedigree import --store postgres://pedigree@db.internal/lineage lineage.jsonl

            The graph is not exported: it is rebuilt from the events. Tokens are not exported either.

            --format cyclonedx writes a CycloneDX 1.6 ML-BOM of a model version (the model with its model card, \
            its datasets with digests, its parent models as ancestors, its packages as libraries); --format spdx \
            an SPDX 3.0.1 JSON-LD document (AIPackage, DatasetPackage, trainedOn and testedOn):

              pedigree export model:fraud-team/fraud@3 --format cyclonedx -o fraud-3.cdx.json

            --format svg draws the lineage of any node with the web UI's layered layout, as a self-contained SVG             file to attach to a report: both directions by default (--upstream or --downstream for one), --depth             hops each way (default 10). Crowds of alike siblings are folded into clusters, as in the web UI:

              pedigree export model:fraud-team/fraud@3 --format svg -o fraud-3.svg
            """)

    @Flag(help: "Export every namespace (required for a backup: a partial export could not keep the chains verifiable).")
    var all = false
    @Option(help: "backup, cyclonedx, spdx or svg.")
    var format: String = "backup"
    @Argument(help: "With --all: where to write the backup ('-' for standard output). With a BOM format: the model version.")
    var target: String
    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("Where to write a BOM (default: standard output).", valueName: "file"))
    var output: String?
    @Flag(help: "--format svg: only what the node came from.")
    var upstream = false
    @Flag(help: "--format svg: only what came from the node.")
    var downstream = false
    @Option(help: "--format svg: hops to draw in each direction.")
    var depth: Int = 10
    @OptionGroup var storeOptions: StoreOptions

    func validate() throws {
        guard ["backup", "cyclonedx", "spdx", "svg"].contains(format) else {
            throw ArgumentParser.ValidationError("--format must be backup, cyclonedx, spdx or svg")
        }
        guard depth >= 0 else { throw ArgumentParser.ValidationError("--depth must be 0 or more") }
        guard !(upstream && downstream) else {
            throw ArgumentParser.ValidationError("give --upstream or --downstream, not both (neither draws both)")
        }
        if format == "svg" {
            guard !all else { throw ArgumentParser.ValidationError("--format svg draws the lineage of one node: give its reference, not --all") }
            do { _ = try Reference(parsingModel: target) } catch { throw ArgumentParser.ValidationError("\(error)") }
        } else if format != "backup" {
            guard !all else { throw ArgumentParser.ValidationError("--format \(format) describes one model version: give its reference, not --all") }
            do { _ = try parseArtifactReference(target) } catch { throw ArgumentParser.ValidationError("\(error)") }
        }
    }

    func run() async throws {
        try await reportingErrors {
            if format == "svg" { return try await exportDrawing() }
            guard format == "backup" else { return try await exportBOM() }
            guard all else { throw PedigreeCore.ValidationError(field: "--all", "exports are of the whole store; pass --all") }
            let file = target
            let count = try await storeOptions.withStore("export", creating: false) { [file] store in
                guard file != "-" else {
                    return try await StoreBackup.export(store) { try FileHandle.standardOutput.write(contentsOf: Data($0.utf8)) }
                }
                // Written beside the target and renamed when complete: a failed export never replaces or
                // truncates an earlier backup.
                let target = URL(fileURLWithPath: file)
                let partial = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).partial")
                guard FileManager.default.createFile(atPath: partial.path, contents: nil), let output = try? FileHandle(forWritingTo: partial) else {
                    throw PedigreeCore.ValidationError(field: "file", "cannot create \(file) (is its directory writable?)")
                }
                do {
                    let count = try await StoreBackup.export(store) { try output.write(contentsOf: Data($0.utf8)) }
                    try output.synchronize()
                    try output.close()
                    guard rename(partial.path, target.path) == 0 else {
                        throw PedigreeCore.ValidationError(field: "file", "cannot write \(file): \(String(cString: strerror(errno)))")
                    }
                    return count
                } catch {
                    try? output.close()
                    try? FileManager.default.removeItem(at: partial)
                    throw error
                }
            }
            warn("exported \(count) event\(count == 1 ? "" : "s") from \(storeOptions.displayLocation)")
        }
    }

    private func exportDrawing() async throws {
        let ref = try Reference(parsingModel: target)
        let (up, down, depth) = (!downstream, !upstream, depth)
        let view = try await storeOptions.withBackend(creating: false) { backend in
            let before = up ? try await backend.lineage(ref, direction: .upstream, depth: depth, asOf: nil) : nil
            let after = down ? try await backend.lineage(ref, direction: .downstream, depth: depth, asOf: nil) : nil
            return LineageView(upstream: before, downstream: after)
        }
        try write(LineageSVG.render(view, title: "Lineage of \(ref)"), what: "the lineage drawing of \(ref) (\(view.nodes.count) nodes)")
    }

    private func write(_ text: String, what: String) throws {
        guard let output else { return print(text, terminator: "") }
        guard FileManager.default.createFile(atPath: output, contents: Data(text.utf8)) else {
            throw PedigreeCore.ValidationError(field: "-o", "cannot write \(output) (is its directory writable?)")
        }
        warn("wrote \(what) to \(output)")
    }

    private func exportBOM() async throws {
        let ref = try parseArtifactReference(target)
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
        abstract: "Load a `pedigree export` into an empty store, build its graph and verify it.",
        discussion: """
            Each event must continue its namespace's hash chain exactly as exported, so a file that was altered \
            is refused at the first altered event, and a truncated one at its end. Events are committed in batches; \
            if an import stops part-way, run it again: the events already imported (the same, verified by their \
            chain hashes) are skipped. Exits 1 if the verification afterwards finds problems.

            Example: pedigree import --store postgres://pedigree@db.internal/lineage lineage.jsonl
            """)

    @Argument(help: "The export file ('-' for standard input).")
    var file: String
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors {
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
