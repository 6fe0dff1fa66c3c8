import PedigreeCapture
import PedigreeCore

/// A DVC project's history as Pedigree events. Every stage in a revision's `dvc.lock` is a completed run (its
/// deps are inputs, its outs outputs, its resolved params the hyperparameters, its metrics files the metrics,
/// the revision's commit its code); every `.dvc` file registers the data it tracks. Artifacts are named by
/// their path in the project and versioned by DVC's md5 (its first 12 hex digits), which is also kept as an
/// alias digest (`md5:…`, directories' with `.dir`). A stage whose lock entry did not change since the previous
/// revision did not run again and is not recorded again. Secrets in parameters, commands and paths are
/// redacted by the rules `pedigree run` uses.
///
/// Run and `.dvc` events are a function of the revision's files alone, so importing a project again adds
/// nothing wherever it is imported. Pedigree's SHA-256 of a version, which depends on what this machine still
/// holds (the working tree, DVC's cache), is a registration of its own, added when the content is at hand.
public enum DVCImport {
    /// File names that make an output a model rather than a dataset.
    static let modelExtensions: Set<String> = ["pkl", "pickle", "pt", "pth", "onnx", "joblib", "h5", "keras", "safetensors", "ckpt", "pb", "tflite"]

    public static func events(
        _ revisions: [DVCRevision], namespace: String, digest: (_ path: String, _ md5: String) -> ContentDigest?
    ) throws(ValidationError) -> ImportResult {
        var result = ImportResult()
        var lastStages: [String: JSONValue] = [:]
        var lastTracked: [String: JSONValue] = [:]
        var located: Set<String> = []
        for revision in revisions {
            var uses: [ArtifactUse] = []
            for (file, document) in revision.tracked.sorted(by: { $0.key < $1.key }) {
                guard lastTracked[file] != document else { continue }
                lastTracked[file] = document
                let directory = file.contains("/") ? String(file[..<file.lastIndex(of: "/")!]) + "/" : ""
                for (i, out) in (document["outs"]?.arrayValue ?? []).enumerated() {
                    let field = "\(file) (\(revision.label)): outs[\(i)]"
                    guard var use = try artifact(out, prefix: directory, namespace: namespace, field: field, skipped: &result.skipped) else {
                        continue
                    }
                    use.artifact.facets["dvcFile"] = .string(file)
                    uses.append(use)
                    result.events.append(LineageEvent(namespace: namespace, eventTime: revision.time, payload: .artifact(use.artifact)))
                }
            }
            if let lock = revision.lock {
                guard let stages = lock["stages"]?.objectValue else {
                    throw ValidationError(field: "dvc.lock (\(revision.label)): stages", "is missing: a dvc.lock (schema 2.0) lists its stages there")
                }
                for (name, stage) in stages.sorted(by: { $0.key < $1.key }) {
                    if lastStages[name] == stage {
                        result.skipped.append("stage \(name) at \(revision.label): unchanged since the previous revision (DVC did not run it)")
                        continue
                    }
                    lastStages[name] = stage
                    let event = try run(
                        name, stage, revision: revision, namespace: namespace, field: "dvc.lock (\(revision.label)): stages.\(name)",
                        skipped: &result.skipped)
                    if case .run(let run) = event.payload { uses += run.inputs + run.outputs }
                    result.events.append(event)
                }
            }
            // Pedigree's own digest of each version whose content is still at hand, once.
            for use in uses where !located.contains(use.artifact.ref.description) {
                guard let md5 = use.artifact.aliasDigests.first?.dropFirst("md5:".count),
                    let sha256 = digest(use.artifact.ref.name, String(md5))
                else { continue }
                located.insert(use.artifact.ref.description)
                var spec = use.artifact
                spec.digest = sha256
                result.events.append(LineageEvent(namespace: namespace, payload: .artifact(spec)))
            }
        }
        return result
    }

    static func run(
        _ name: String, _ stage: JSONValue, revision: DVCRevision, namespace: String, field: String, skipped: inout [String]
    ) throws(ValidationError) -> LineageEvent {
        let idSource = JSONValue.object([
            "namespace": .string(namespace), "stage": .string(name), "lock": stage, "revision": .string(revision.commit ?? "working tree"),
        ])
        var run = RunRecord(id: "dvc-" + idSource.digest.hex.prefix(32), job: name, status: .complete)
        run.endedAt = revision.time
        for (i, dep) in (stage["deps"]?.arrayValue ?? []).enumerated() {
            if let use = try artifact(dep, prefix: "", namespace: namespace, field: "\(field).deps[\(i)]", skipped: &skipped) {
                run.inputs.append(use)
            }
        }
        var metrics: [String: JSONValue] = [:]
        for (i, out) in (stage["outs"]?.arrayValue ?? []).enumerated() {
            if let path = out["path"]?.stringValue, let values = revision.metrics[path]?.objectValue {
                metrics.merge(values) { a, _ in a }
                continue
            }
            guard var use = try artifact(out, prefix: "", namespace: namespace, field: "\(field).outs[\(i)]", skipped: &skipped) else { continue }
            use.role = use.artifact.ref.kind == "model" ? "model" : "output"
            run.outputs.append(use)
        }
        var parameters: JSONValue = .object([:])
        for (_, values) in stage["params"]?.objectValue ?? [:] {
            for (key, value) in values.objectValue ?? [:] {
                parameters = setting(parameters, path: key.split(separator: ".").map(String.init)[...], to: value)
            }
        }
        if let parameters = SecretRedactor.redactSecrets(parameters).objectValue, !parameters.isEmpty { run.hyperparameters = parameters }
        if !metrics.isEmpty { run.metrics = metrics }
        run.code = try CodeFacet(json: revision.code, path: "\(field) code")
        run.facets["dvcStage"] = .string(name)
        if let command = stage["cmd"]?.stringValue ?? stage["cmd"]?.arrayValue?.compactMap(\.stringValue).joined(separator: " && ") {
            run.facets["dvcCommand"] = .string(SecretRedactor.redactArguments(command.split(separator: " ").map(String.init)).joined(separator: " "))
        }
        if let commit = revision.commit { run.facets["dvcRevision"] = .string(commit) }
        return LineageEvent(namespace: namespace, eventTime: revision.time, payload: .run(run))
    }

    /// `document` with `value` at the dotted key's path (DVC resolves `train.lr` from `params.yaml`).
    static func setting(_ document: JSONValue, path: ArraySlice<String>, to value: JSONValue) -> JSONValue {
        guard let key = path.first else { return value }
        var members = document.objectValue ?? [:]
        members[key] = setting(members[key] ?? .object([:]), path: path.dropFirst(), to: value)
        return .object(members)
    }

    /// A dep or out (`{path, md5, …}`) as the artifact version it names, without Pedigree's digest (see
    /// `events`); nil, with the reason in `skipped`, for one DVC tracks by another hash (an `import-url` or
    /// cloud dependency's etag or checksum).
    static func artifact(
        _ entry: JSONValue, prefix: String, namespace: String, field: String, skipped: inout [String]
    ) throws(ValidationError) -> ArtifactUse? {
        guard let path = entry["path"]?.stringValue, !path.isEmpty else { throw ValidationError(field: "\(field).path", "is missing") }
        let name = SecretRedactor.stripURLCredentials(prefix + path)
        guard let md5 = entry["md5"]?.stringValue else {
            if let other = ["etag", "checksum", "version_id"].first(where: { entry[$0] != nil }) {
                skipped.append("\(name) at \(field): tracked by its \(other), not an md5 (an external dependency); not imported")
                return nil
            }
            throw ValidationError(field: "\(field).md5", "is missing: DVC's md5 of \(path) (32 hex digits, '.dir' for a directory)")
        }
        guard md5.count >= 32, md5.prefix(32).allSatisfy(\.isHexDigit), md5.count == 32 || md5.dropFirst(32) == ".dir" else {
            throw ValidationError(field: "\(field).md5", "'\(md5)' is not DVC's md5 of \(path) (32 hex digits, '.dir' for a directory)")
        }
        // A model by its file name: model.* or a serialised-model extension.
        let last = name.split(separator: "/").last.map(String.init) ?? name
        let parts = last.lowercased().split(separator: ".", omittingEmptySubsequences: false)
        let isModel = parts.first == "model" || (parts.count > 1 && modelExtensions.contains(String(parts.last!)))
        var spec = ArtifactSpec(
            ref: ArtifactRef(kind: isModel ? "model" : "dataset", namespace: namespace, name: name, version: String(md5.prefix(12))),
            aliasDigests: ["md5:" + md5])
        if let size = entry["size"]?.intValue { spec.facets["size"] = .int(size) }
        if let files = entry["nfiles"]?.intValue { spec.facets["files"] = .int(files) }
        return ArtifactUse(artifact: spec, role: "input")
    }
}
