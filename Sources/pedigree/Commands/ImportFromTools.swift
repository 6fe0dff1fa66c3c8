import ArgumentParser
import Foundation
import PedigreeCapture
import PedigreeClient
import PedigreeCore
import PedigreeInterop
import PedigreeRender
import PedigreeSQLite
import PedigreeStore

/// `pedigree import --from dvc|mlflow|kubeflow|…`: each reads its whole source before the store is opened, maps
/// it with its importer (PedigreeInterop) and records the events in one transaction, so a source that cannot be
/// imported imports nothing.
extension Import {
    /// The namespace imported history goes to.
    func owner() throws -> String {
        try Namespace(
            namespace ?? ProcessInfo.processInfo.environment["PEDIGREE_NAMESPACE"] ?? Reference.defaultNamespace,
            field: namespace == nil ? "PEDIGREE_NAMESPACE" : "--namespace"
        ).rawValue
    }

    /// Reads the whole project before the store is opened: a project with a bad file imports nothing.
    func importDVC() async throws {
        let owner = try owner()
        let project = try DVCProject(directory: URL(fileURLWithPath: file))
        // The working tree last: what it holds beyond its last commit (or, alone, everything) is its own revision.
        let revisions = (allCommits ? try project.history() : []) + [try project.workingTree()]
        let result = try DVCImport.events(revisions, namespace: owner) { path, md5 in project.contentDigest(path: path, md5: md5) }
        try await record(
            result.validated(source: project.root.path), source: "dvc", into: owner,
            from: "\(revisions.count) revision\(revisions.count == 1 ? "" : "s") of \(project.root.path)",
            details: ["revisions": .array(revisions.map { .string($0.label) })])
    }

    /// Reads everything the server answers before the store is opened: a server whose answers cannot be
    /// imported imports nothing.
    func importMLflow() async throws {
        let owner = try owner()
        guard let url = URL(string: file), ["http", "https"].contains(url.scheme ?? "") else {
            throw PedigreeCore.ValidationError(field: "URL", "'\(file)' is not an MLflow tracking server's address, such as http://localhost:5000")
        }
        let reader = MLflowServerReader(base: url, token: ProcessInfo.processInfo.environment["MLFLOW_TRACKING_TOKEN"])
        let snapshot = try await reader.snapshot()
        let result = try MLflowImport.events(snapshot, namespace: owner).validated(source: reader.displayURL)
        try await record(
            result, source: "mlflow", into: owner,
            from:
                "\(snapshot.runs.count) run\(snapshot.runs.count == 1 ? "" : "s") and \(snapshot.modelVersions.count) registered version\(snapshot.modelVersions.count == 1 ? "" : "s") of \(reader.displayURL)",
            details: [
                "experiments": .int(Int64(snapshot.experiments.count)), "runs": .int(Int64(snapshot.runs.count)),
                "loggedModels": .int(Int64(snapshot.loggedModels.count)), "modelVersions": .int(Int64(snapshot.modelVersions.count)),
            ])
    }

    /// A compiled KFP pipeline (IR YAML) as design-time lineage, or an ML Metadata store (its SQLite file, or a
    /// SQL dump of its MySQL database) as run-time lineage; which one is read from the file itself.
    func importKubeflow() async throws {
        let owner = try owner()
        let url = URL(fileURLWithPath: file)
        _ = try Self.open(file)
        if SQLiteFileReader.isSQLite(url) {
            let tables: [String: [[String: JSONValue]]]
            do { tables = try SQLiteFileReader.tables(at: url, MLMDImport.tableNames) } catch {
                throw PedigreeCore.ValidationError(field: file, "cannot be read as SQLite: \(error)")
            }
            return try await importMLMD(tables, owner: owner)
        }
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
            throw PedigreeCore.ValidationError(field: file, "is neither an ML Metadata SQLite store nor text (a KFP pipeline YAML or a SQL dump)")
        }
        // A compiled pipeline is YAML whose document names a pipeline (its components' source may hold SQL);
        // anything else with SQL statements is read as a dump.
        let documents = try? ConfigLoader.yamlDocuments(text, file: file)
        guard let spec = documents?.first(where: KFPPipelineImport.isPipelineSpec) else {
            if text.range(of: "INSERT INTO", options: .caseInsensitive) != nil || text.range(of: "CREATE TABLE", options: .caseInsensitive) != nil {
                return try await importMLMD(try SQLDump(text, file: file).tables, owner: owner)
            }
            if documents == nil { _ = try ConfigLoader.yamlDocuments(text, file: file) }  // says why it is not YAML
            throw PedigreeCore.ValidationError(
                field: file, "is not a compiled KFP pipeline (no document has pipelineInfo), an ML Metadata SQLite store or a SQL dump of one")
        }
        let (result, pipeline, tasks) = try KFPPipelineImport.events(spec, digest: ContentDigest(hashing: data), source: file, namespace: owner)
        try await record(
            result.validated(source: file), source: "kubeflow", into: owner,
            from: "\(tasks) task\(tasks == 1 ? "" : "s") of pipeline \(pipeline) in \(file)",
            details: ["pipeline": .string(pipeline), "tasks": .int(Int64(tasks))])
    }

    private func importMLMD(_ tables: [String: [[String: JSONValue]]], owner: String) async throws {
        let base = URL(fileURLWithPath: file).deletingLastPathComponent()
        let (result, summary) = try MLMDImport.events(tables, source: file, namespace: owner) { uri in Self.localDigest(uri, relativeTo: base) }
        try await record(
            result.validated(source: file), source: "kubeflow", into: owner,
            from:
                "\(summary.executions) execution\(summary.executions == 1 ? "" : "s") and \(summary.artifacts) artifact\(summary.artifacts == 1 ? "" : "s") of the ML Metadata store \(file)",
            details: [
                "executions": .int(Int64(summary.executions)), "artifacts": .int(Int64(summary.artifacts)), "contexts": .int(Int64(summary.contexts)),
                "schemaVersion": summary.schemaVersion.map(JSONValue.int) ?? .null,
            ])
    }

    /// Pedigree's SHA-256 of what a local URI names, when it is a file this machine holds (a `file://` URI or
    /// a path; a relative path is taken from the source's directory): hashed as capture hashes, streamed.
    static func localDigest(_ uri: String, relativeTo base: URL) -> ContentDigest? {
        let path = uri.hasPrefix("file://") ? String(uri.dropFirst("file://".count)) : uri
        guard !path.contains("://") else { return nil }
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : base.appendingPathComponent(path)
        guard (try? FileManager.default.attributesOfItem(atPath: url.path)[.type] as? FileAttributeType) == .typeRegular else { return nil }
        return (try? Fingerprinter(cache: nil).fingerprint([url.path]))?.first?.digest
    }

    /// A ClearML offline session: the folder or its zip.
    func importClearML() async throws {
        let owner = try owner()
        let session = try ClearMLSession(path: file)
        let result = try ClearMLImport.events(session, namespace: owner)
        let task = session.task["id"]?.stringValue ?? ""
        try await record(
            result.validated(source: file), source: "clearml", into: owner, from: "the ClearML offline session \(file)",
            details: ["task": .string(task), "closed": .bool(session.closed)])
    }

    /// W&B run directories: a run's own, or every run in a `wandb/` directory or the project holding one.
    func importWandb() async throws {
        let owner = try owner()
        let runs = try WandbRunDirectory.find(under: file)
        let result = try WandbImport.events(runs, namespace: owner)
        try await record(
            result.validated(source: file), source: "wandb", into: owner, from: "\(runs.count) W&B run\(runs.count == 1 ? "" : "s") in \(file)",
            details: ["runs": .array(runs.map { .string($0.path) })])
    }

    /// Appends an importer's events in one transaction (all or none) and reports what was imported, what was
    /// already there and what was skipped.
    func record(
        _ result: ImportResult, source: String, into owner: String, from description: String, details: [String: JSONValue]
    ) async throws {
        let outcomes =
            dryRun || result.events.isEmpty
            ? [] : try await storeOptions.withBackend(creating: true) { try await $0.append(result.events, recordedBy: cliIdentity) }
        let added = outcomes.filter { !$0.duplicate }.count
        if output.json {
            var byType: [String: JSONValue] = [:]
            for (event, outcome) in zip(result.events, outcomes) where !outcome.duplicate {
                byType[event.typeName] = .int((byType[event.typeName]?.intValue ?? 0) + 1)
            }
            let report: [String: JSONValue] = [
                "source": .string(source), "namespace": .string(owner), "events": .int(Int64(result.events.count)), "imported": .int(Int64(added)),
                "importedByType": .object(byType), "alreadyThere": .int(Int64(outcomes.count - added)), "dryRun": .bool(dryRun),
                "skipped": .array(result.skipped.map(JSONValue.string)),
            ]
            printJSON(JSONValue.object(report.merging(details) { a, _ in a }))
            return
        }
        for event in result.events {
            // An artifact event's subject is its line; the listing names the version.
            let what = if case .artifact(let spec) = event.payload { spec.ref.description } else { event.subject }
            print((dryRun ? "would import " : "  ") + "\(TerminalText.escape(what))  (\(event.typeName))")
        }
        for reason in result.skipped { print("skipped: \(TerminalText.escape(reason))") }
        let summary =
            dryRun
            ? "would import \(result.events.count) event\(result.events.count == 1 ? "" : "s")"
            : "imported \(added) event\(added == 1 ? "" : "s")\(outcomes.count > added ? " (\(outcomes.count - added) already there)" : "")"
        print("\(summary) from \(TerminalText.escape(description)) into \(TerminalText.escape(owner))")
    }

}
