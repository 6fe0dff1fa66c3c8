import Crypto
import Foundation
import PedigreeCapture
import PedigreeCore
import PedigreeMLflow

/// W&B runs, read from their transaction logs, as Pedigree runs (`wandb-<run id>`, of the job
/// `<project>/<job type>`): the config (the run record's, then each config update; wandb's own `_wandb` left out,
/// secrets redacted) is the hyperparameters; the history the metrics over steps, the folded summary the rest; git
/// (remote and commit) and the program the code; the Python, OS, GPU and `requirements.txt` the environment.
/// A logged artifact is an output and a used one an input (models among them parents), named by W&B's artifact
/// name and versioned by its manifest digest (the first 12 hex digits), kept as the alias `wandb:<digest>`;
/// Pedigree's manifest digest of the files is a registration of its own where wandb's staging copies are still
/// at hand, each checked against the MD5 the manifest records. W&B's ids are `wandb.*` facets.
public enum WandbImport {
    public static func events(_ runs: [WandbRunDirectory], namespace: String) throws(ValidationError) -> ImportResult {
        var result = ImportResult()
        var located: Set<String> = []
        var parsed: [(run: RunRecord, sources: [ArtifactSource])] = []
        for directory in runs {
            parsed.append(try run(directory, namespace: namespace, skipped: &result.skipped))
        }
        // A draft a run used that no run logged was logged by its use: that run is its producer too.
        let logged = Set(parsed.flatMap { $0.sources.filter { !$0.used }.map(\.spec.ref) })
        for i in parsed.indices {
            for source in parsed[i].sources where source.used && !logged.contains(source.spec.ref) {
                parsed[i].run.outputs.append(ArtifactUse(artifact: source.spec, role: source.spec.ref.kind == "model" ? "model" : "output"))
            }
        }
        // In the order the runs started, so a run that uses an artifact comes after the one that logged it.
        for (run, sources) in parsed.sorted(by: {
            ($0.run.startedAt?.microseconds ?? 0, $0.run.id) < ($1.run.startedAt?.microseconds ?? 0, $1.run.id)
        }) {
            result.events.append(LineageEvent(namespace: namespace, eventTime: run.endedAt ?? run.startedAt, payload: .run(run)))
            for source in sources where !located.contains(source.spec.ref.description) {
                guard let files = source.files else { continue }
                located.insert(source.spec.ref.description)
                var spec = source.spec
                spec.digest = Fingerprinter.manifestDigest(files)
                result.events.append(LineageEvent(namespace: namespace, payload: .artifact(spec)))
            }
        }
        return result
    }

    /// An artifact a run logged or used, with its files when wandb's staging copies are all still there.
    struct ArtifactSource {
        var spec: ArtifactSpec
        var files: [Fingerprint.File]?
        /// Recorded as a use (`use_after_commit`): W&B's `use_artifact` of a draft, which also logs the version
        /// when no run logged that content.
        var used = false
    }

    static func run(
        _ directory: WandbRunDirectory, namespace: String, skipped: inout [String]
    ) throws(ValidationError) -> (RunRecord, [ArtifactSource]) {
        let log = try WandbTransactionLog(directory.log, file: directory.logFile)
        let file = directory.logFile
        guard let runRecord = log.records.first(where: { $0.type == 17 }) else {
            throw ValidationError(field: file, "has no run record: it is not the log of a W&B run, or it is cut before its start")
        }
        let info = runRecord.message
        guard let id = info.string(1), !id.isEmpty else {
            throw ValidationError(field: "\(file) at byte \(runRecord.offset): run.run_id", "is missing")
        }
        let project = info.string(3) ?? ""
        let jobType = info.string(7).flatMap { $0.isEmpty ? nil : $0 } ?? info.string(8).flatMap { $0.isEmpty ? nil : $0 } ?? "run"
        var run = RunRecord(id: "wandb-\(id)", job: project.isEmpty ? jobType : "\(project)/\(jobType)")
        let started = try timestamp(info, 17, file: file, at: runRecord.offset)
        run.startedAt = started

        var config: JSONValue = .object([:])
        var summary: JSONValue = .object([:])
        var history: [String: [JSONValue]] = [:]
        var environment: [String: JSONValue] = [:]
        var program: (path: String?, root: String?, args: [String]) = (nil, nil, [])
        var sources: [ArtifactSource] = []
        var lastTime: Double? = nil
        var exit: ProtobufMessage? = nil
        func field(_ record: WandbTransactionLog.Record, _ name: String) -> String { "\(file) at byte \(record.offset): \(name)" }

        if let initial = try message(info, 4, file: file, at: runRecord.offset) {
            config = try apply(initial, to: config, field: field(runRecord, "run.config"))
        }
        for record in log.records {
            let body = record.message
            switch record.type {
            case 5: config = try apply(body, to: config, field: field(record, "config"))
            case 3: summary = try apply(body, to: summary, field: field(record, "summary"))
            case 2:
                let items: [ProtobufMessage]
                var step: Int64
                do { (items, step) = (try body.messages(1), try body.message(2)?.int(1) ?? 0) } catch {
                    throw ValidationError(field: field(record, "history"), "cannot be read: \(error)")
                }
                var row: [(String, JSONValue)] = []
                for item in items {
                    let path = try keyPath(item, field: field(record, "history"))
                    let value = try historyValue(item, field: field(record, "history.\(path.joined(separator: "."))"))
                    if path == ["_step"], let number = value.intValue { step = number }
                    if path == ["_timestamp"], let seconds = seconds(value) { lastTime = max(lastTime ?? seconds, seconds) }
                    if let first = path.first, !first.hasPrefix("_") { row.append((path.joined(separator: "."), value)) }
                }
                for (key, value) in row { history[key, default: []].append(["step": .int(step), "value": value]) }
            case 26:
                if let os = body.string(1), !os.isEmpty { environment["os"] = .string(os) }
                if let python = body.string(2), !python.isEmpty {
                    let parts = python.split(separator: " ")
                    environment["runtime"] = ["name": "python", "version": .string(String(parts.last ?? ""))]
                }
                if let gpu = body.string(18), !gpu.isEmpty {
                    environment["gpu"] = ["model": .string(gpu), "count": .int(body.int(19) ?? 1)]
                }
                if let cuda = body.string(25), !cuda.isEmpty { environment["cuda"] = .string(cuda) }
                if let cpus = body.int(16), cpus > 0 { environment["cpuCount"] = .int(cpus) }
                if let path = body.string(6), !path.isEmpty { program.path = path }
                if let root = body.string(11), !root.isEmpty { program.root = root }
                let args = body.strings(5)
                if !args.isEmpty { program.args = args }
            case 8:
                var source = try artifact(body, namespace: namespace, field: field(record, "artifact"), skipped: &skipped)
                source.used = body.bool(10) == true
                sources.append(source)
                if source.used {
                    if source.spec.ref.kind == "model" {
                        run.parents.append(source.spec.ref)
                    } else {
                        run.inputs.append(ArtifactUse(artifact: source.spec, role: "input"))
                    }
                } else {
                    run.outputs.append(ArtifactUse(artifact: source.spec, role: source.spec.ref.kind == "model" ? "model" : "output"))
                }
            case 25:
                // A use recorded online: the server's name (`collection:v3`) and id, without a digest.
                guard let name = body.string(3), !name.isEmpty else { continue }
                let parts = name.split(separator: ":", maxSplits: 1).map(String.init)
                guard let collection = parts.first, !collection.isEmpty else {
                    throw ValidationError(field: field(record, "use_artifact.name"), "'\(name)' names no artifact")
                }
                var spec = ArtifactSpec(
                    ref: ArtifactRef(
                        kind: kind(body.string(2) ?? ""), namespace: namespace, name: collection, version: parts.count == 2 ? parts[1] : "latest"))
                if let serverID = body.string(1), !serverID.isEmpty { spec.facets["wandb.artifact_id"] = .string(serverID) }
                if spec.ref.kind == "model" { run.parents.append(spec.ref) } else { run.inputs.append(ArtifactUse(artifact: spec, role: "input")) }
            case 18: exit = body
            default: continue
            }
        }

        if let exit {
            let code = exit.int(1) ?? 0
            run.status = code == 0 ? .complete : .fail
            let runtime = Double(exit.int(2) ?? 0)
            run.endedAt =
                lastTime.flatMap(SourceTime.seconds) ?? started.flatMap { SourceTime.seconds(Double($0.microseconds) / 1e6 + runtime) }
            if code != 0 { run.facets["wandb.exit_code"] = .int(code) }
        } else {
            skipped.append("run \(id): its log has no exit record (the run crashed or is still running); imported without a status")
        }
        if let members = config.objectValue?.filter({ !$0.key.hasPrefix("_") }), !members.isEmpty {
            run.hyperparameters = SecretRedactor.redactSecrets(.object(members)).objectValue
        }
        var metrics: [String: JSONValue] = [:]
        for (key, value) in flattened(summary) where !key.hasPrefix("_") { metrics[key] = value }
        for (key, points) in history where points.count > 1 { metrics[key] = .array(points) }
        if !metrics.isEmpty { run.metrics = metrics }

        var code: [String: JSONValue] = [:]
        if let git = try message(info, 21, file: file, at: runRecord.offset) {
            if let remote = git.string(1), !remote.isEmpty { code["repository"] = .string(SecretRedactor.stripURLCredentials(remote)) }
            if let commit = git.string(2), !commit.isEmpty { code["commit"] = .string(commit) }
        }
        if let path = program.path {
            code["path"] = .string(program.root.map { path.hasPrefix($0 + "/") ? String(path.dropFirst($0.count + 1)) : path } ?? path)
        }
        if !code.isEmpty { run.code = try CodeFacet(json: .object(code), path: "\(file): git") }
        if let requirements = directory.requirements,
            let packages = MLflowService.environment(text: { $0 == "requirements.txt" ? requirements : nil })?.json["packages"]
        {
            environment["packages"] = packages
        }
        if !environment.isEmpty { run.environment = try EnvironmentFacet(json: .object(environment), path: "\(file): environment") }

        run.facets["wandb.run_id"] = .string(id)
        if !project.isEmpty { run.facets["wandb.project"] = .string(project) }
        for (number, name) in [(2, "wandb.entity"), (6, "wandb.group"), (8, "wandb.display_name"), (9, "wandb.notes"), (13, "wandb.host")] {
            if let text = info.string(number), !text.isEmpty { run.facets[name] = .string(SecretRedactor.redactText(text)) }
        }
        let tags = info.strings(10)
        if !tags.isEmpty { run.facets["wandb.tags"] = .array(tags.map(JSONValue.string)) }
        if !program.args.isEmpty { run.facets["wandb.args"] = .array(SecretRedactor.redactArguments(program.args).map(JSONValue.string)) }
        return (run, sources)
    }

    /// An ArtifactRecord: W&B's name and type, its manifest digest as version and alias, its entries' files
    /// when wandb's staging copies are all still there (each checked against its recorded MD5).
    static func artifact(_ body: ProtobufMessage, namespace: String, field: String, skipped: inout [String]) throws(ValidationError) -> ArtifactSource
    {
        guard let name = body.string(5), !name.isEmpty else { throw ValidationError(field: "\(field).name", "is missing") }
        guard let digest = body.string(6), !digest.isEmpty else {
            throw ValidationError(field: "\(field).digest", "is missing: W&B digests every artifact's manifest")
        }
        var spec = ArtifactSpec(
            ref: ArtifactRef(kind: kind(body.string(4) ?? ""), namespace: namespace, name: name, version: String(digest.prefix(12))),
            aliasDigests: ["wandb:\(digest)"])
        spec.facets["wandb.artifact_type"] = .string(body.string(4) ?? "")
        if let description = body.string(7), !description.isEmpty {
            spec.facets["wandb.description"] = .string(SecretRedactor.redactText(description))
        }
        if let metadata = body.string(8), !metadata.isEmpty, let parsed = lenientJSON(metadata) {
            spec.facets["wandb.metadata"] = SecretRedactor.redactSecrets(parsed)
        }
        let aliases = body.strings(11)
        if !aliases.isEmpty { spec.facets["wandb.aliases"] = .array(aliases.map(JSONValue.string)) }
        let entries: [ProtobufMessage]
        do { entries = try body.message(12)?.messages(4) ?? [] } catch {
            throw ValidationError(field: "\(field).manifest", "cannot be read: \(error)")
        }
        spec.facets["wandb.files"] = .int(Int64(entries.count))
        var files: [Fingerprint.File] = []
        for (i, entry) in entries.enumerated() {
            guard let path = entry.string(1), let recorded = entry.string(2) else {
                throw ValidationError(field: "\(field).manifest.contents[\(i)]", "needs path and digest")
            }
            if let reference = entry.string(3), !reference.isEmpty {
                skipped.append(
                    "artifact \(name): \(path) is a reference to \(SecretRedactor.stripURLCredentials(reference)), not a file; no Pedigree digest")
                return ArtifactSource(spec: spec, files: nil)
            }
            guard let local = entry.string(6), let bytes = WandbRunDirectory.localFile(local) else { return ArtifactSource(spec: spec, files: nil) }
            let md5 = Data(Insecure.MD5.hash(data: bytes)).base64EncodedString()
            guard md5 == recorded else {
                throw ValidationError(
                    field: "\(field).manifest.contents[\(i)].digest", "is \(recorded) but wandb's copy of \(path) has MD5 \(md5): the copy is altered"
                )
            }
            files.append(Fingerprint.File(path: path, digest: ContentDigest(hashing: bytes), size: Int64(bytes.count)))
        }
        return ArtifactSource(spec: spec, files: files.isEmpty ? nil : files.sorted { $0.path < $1.path })
    }

    /// A Pedigree kind for a W&B artifact type: `dataset`, `model`, else the type itself in kebab case.
    static func kind(_ type: String) -> String { MLMDImport.kind(type.prefix(1).uppercased() + type.dropFirst()) }

    /// Applies a ConfigRecord or SummaryRecord (updates 1, removes 2: `key`, or the `nested_key` path, and
    /// `value_json`).
    static func apply(_ record: ProtobufMessage, to document: JSONValue, field: String) throws(ValidationError) -> JSONValue {
        let (updates, removes): ([ProtobufMessage], [ProtobufMessage])
        do { (updates, removes) = (try record.messages(1), try record.messages(2)) } catch {
            throw ValidationError(field: field, "cannot be read: \(error)")
        }
        var document = document
        for item in updates {
            let path = try keyPath(item, field: field)
            guard !path.isEmpty else { continue }
            guard let text = item.string(16), let value = lenientJSON(text) else {
                throw ValidationError(field: "\(field).\(path.joined(separator: "."))", "is not JSON: the file is damaged")
            }
            document = DVCImport.setting(document, path: path[...], to: value)
        }
        for item in removes { document = removing(document, path: try keyPath(item, field: field)[...]) }
        return document
    }

    static func removing(_ document: JSONValue, path: ArraySlice<String>) -> JSONValue {
        guard let key = path.first, var members = document.objectValue else { return document }
        if path.count == 1 { members[key] = nil } else if let inner = members[key] { members[key] = removing(inner, path: path.dropFirst()) }
        return .object(members)
    }

    /// An item's path: `nested_key`, else `[key]`; a path deeper than JSON may nest is refused.
    static func keyPath(_ item: ProtobufMessage, field: String) throws(ValidationError) -> [String] {
        let nested = item.strings(2)
        guard nested.count <= ProtobufMessage.maximumDepth else {
            throw ValidationError(field: field, "a key path of \(nested.count) levels is deeper than \(ProtobufMessage.maximumDepth)")
        }
        if !nested.isEmpty { return nested }
        return item.string(1).map { [$0] } ?? []
    }

    /// A history value: `value_json`, or the typed oneof (none 3, boolean 4, integer 5 zigzag, number 6, text 7, json 8).
    static func historyValue(_ item: ProtobufMessage, field: String) throws(ValidationError) -> JSONValue {
        if let text = item.string(16) {
            guard let value = lenientJSON(text) else { throw ValidationError(field: field, "is not JSON: the file is damaged") }
            return value
        }
        if item.first(3) != nil { return .null }
        if let flag = item.bool(4) { return .bool(flag) }
        if case .varint(let raw)? = item.first(5) { return .int(Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)) }
        if let number = item.double(6) { return number.isFinite ? JSONValue(number: number) : .string(String(number)) }
        if let text = item.string(7) { return .string(text) }
        if let text = item.string(8), let value = lenientJSON(text) { return value }
        return .null
    }

    /// JSON as wandb writes it, which may hold the bare tokens NaN, Infinity and -Infinity: they become strings.
    static func lenientJSON(_ text: String) -> JSONValue? {
        if let value = try? JSONValue.parse(text) { return value }
        var out = ""
        var inString = false
        var escaped = false
        var rest = Substring(text)
        while let c = rest.first {
            if inString {
                out.append(c)
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
                rest = rest.dropFirst()
                continue
            }
            if c == "\"" { inString = true }
            if let token = ["-Infinity", "Infinity", "NaN"].first(where: { rest.hasPrefix($0) }) {
                out += "\"\(token)\""
                rest = rest.dropFirst(token.count)
                continue
            }
            out.append(c)
            rest = rest.dropFirst()
        }
        return try? JSONValue.parse(out)
    }

    /// A nested summary as dotted keys (`{"val": {"loss": 1}}` → `val.loss`).
    static func flattened(_ value: JSONValue, prefix: String = "") -> [String: JSONValue] {
        guard case .object(let members) = value, !members.isEmpty else { return prefix.isEmpty ? [:] : [prefix: value] }
        var out: [String: JSONValue] = [:]
        for (key, member) in members { out.merge(flattened(member, prefix: prefix.isEmpty ? key : "\(prefix).\(key)")) { a, _ in a } }
        return out
    }

    static func seconds(_ value: JSONValue) -> Double? {
        switch value {
        case .double(let d): d
        case .int(let i): Double(i)
        default: nil
        }
    }

    static func timestamp(_ message: ProtobufMessage, _ number: Int, file: String, at offset: Int) throws(ValidationError) -> Timestamp? {
        do { return try message.timestamp(number) } catch {
            throw ValidationError(field: "\(file) at byte \(offset)", "a timestamp cannot be read: \(error)")
        }
    }

    static func message(_ message: ProtobufMessage, _ number: Int, file: String, at offset: Int) throws(ValidationError) -> ProtobufMessage? {
        do { return try message.message(number) } catch {
            throw ValidationError(field: "\(file) at byte \(offset)", "a field cannot be read: \(error)")
        }
    }
}
