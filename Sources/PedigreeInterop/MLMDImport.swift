import Foundation
import PedigreeCore

/// An ML Metadata store (what TFX and Kubeflow Pipelines record at run time) as Pedigree events, read from its
/// tables — an MLMD SQLite file, or a SQL dump of the MySQL database production KFP keeps — so its whole
/// graph comes in, without MLMD's lineage-query hop limits afterwards.
///
/// Each execution is a run (`mlmd-<id>-<creation ms>`, stable across imports and distinct across stores): its
/// INPUT events are its inputs (models among them its parents), its OUTPUT events its outputs, each in the
/// role its event path names; its properties are its hyperparameters (KFP's `inputs` struct flattened), its
/// state its status; KFP's bookkeeping properties (`display_name`, `pod_name`, `image`, …) and the contexts it
/// belongs to are facets, and its job is `<pipeline>/<task>` when a Pipeline context holds it. Each artifact
/// is a version named by its MLMD name and versioned by its `version` property (else its MLMD id), with its
/// recorded `sha256:` digest, its URI, type, state and properties; one no execution touched is registered on
/// its own. MLMD's ids are kept as `mlmd.*` facets.
public enum MLMDImport {
    public static let tableNames = [
        "Type", "Artifact", "ArtifactProperty", "Execution", "ExecutionProperty", "Context", "ContextProperty", "Event", "EventPath",
        "Association", "Attribution", "ParentContext", "MLMDEnv",
    ]
    typealias Row = [String: JSONValue]

    /// KFP's and TFX's bookkeeping on an execution: kept as facets, not hyperparameters.
    static let bookkeeping: Set<String> = [
        "display_name", "task_name", "pod_name", "pod_uid", "image", "namespace", "cache_fingerprint", "cached_execution_id",
        "parent_dag_id", "run_id", "outputs", "component_id", "pipeline_name", "pipeline_run_id", "is_cached",
    ]
    static let codeKeys = ["git_commit": "commit", "commit": "commit", "git_repo": "repository", "git_url": "repository", "git_branch": "branch"]

    public struct Summary: Sendable {
        public var artifacts = 0
        public var executions = 0
        public var contexts = 0
        public var schemaVersion: Int64?
    }

    /// `source` names the file in errors; `digest` is Pedigree's SHA-256 of an artifact's URI where this machine
    /// holds its content.
    public static func events(
        _ tables: [String: [[String: JSONValue]]], source: String, namespace: String, digest: (String) -> ContentDigest?
    ) throws(ValidationError) -> (ImportResult, Summary) {
        for table in ["Type", "Artifact", "Execution", "Event"] where tables[table] == nil {
            throw ValidationError(field: source, "is not an ML Metadata store: it has no \(table) table")
        }
        var summary = Summary()
        summary.schemaVersion = tables["MLMDEnv"]?.first?["schema_version"]?.intValue
        var types: [Int64: String] = [:]
        for (i, row) in tables["Type", default: []].enumerated() {
            guard let id = row["id"]?.intValue, let name = row["name"]?.stringValue else {
                throw ValidationError(field: "\(source): Type[\(i)]", "needs id and name")
            }
            types[id] = name
        }
        let artifactProperties = try properties(tables["ArtifactProperty"] ?? [], owner: "artifact_id", source: source)
        let executionProperties = try properties(tables["ExecutionProperty"] ?? [], owner: "execution_id", source: source)

        var artifacts: [Int64: ArtifactSpec] = [:]
        var artifactTimes: [Int64: Timestamp] = [:]
        for (i, row) in tables["Artifact", default: []].enumerated() {
            let field = "\(source): Artifact[\(i)]"
            guard let id = row["id"]?.intValue, let typeID = row["type_id"]?.intValue else {
                throw ValidationError(field: field, "needs id and type_id")
            }
            guard let type = types[typeID] else {
                throw ValidationError(field: "\(field).type_id", "names type \(typeID), which the store does not have")
            }
            artifacts[id] = try artifact(id: id, row, type: type, properties: artifactProperties[id] ?? [:], namespace: namespace, field: field)
            artifactTimes[id] = time(row["create_time_since_epoch"])
        }
        summary.artifacts = artifacts.count

        // Contexts, with each one's pipeline: its own type, or its parent's.
        var contexts: [Int64: (name: String, type: String)] = [:]
        for row in tables["Context"] ?? [] {
            guard let id = row["id"]?.intValue, let name = row["name"]?.stringValue else { continue }
            contexts[id] = (name, row["type_id"]?.intValue.flatMap { types[$0] } ?? "")
        }
        summary.contexts = contexts.count
        var parents: [Int64: [Int64]] = [:]
        for row in tables["ParentContext"] ?? [] {
            if let child = row["context_id"]?.intValue, let parent = row["parent_context_id"]?.intValue { parents[child, default: []].append(parent) }
        }
        func pipeline(of context: Int64) -> String? {
            for candidate in [context] + (parents[context] ?? []) {
                if let found = contexts[candidate], isPipelineType(found.type) { return found.name }
            }
            return nil
        }
        var executionContexts: [Int64: [Int64]] = [:]
        for row in tables["Association"] ?? [] {
            if let execution = row["execution_id"]?.intValue, let context = row["context_id"]?.intValue {
                executionContexts[execution, default: []].append(context)
            }
        }

        var paths: [Int64: String] = [:]
        for row in (tables["EventPath"] ?? []) where row["is_index_step"]?.intValue == 0 {
            if let event = row["event_id"]?.intValue, paths[event] == nil, let key = row["step_key"]?.stringValue { paths[event] = key }
        }
        var eventsByExecution: [Int64: [Row]] = [:]
        for (i, row) in tables["Event", default: []].enumerated() {
            let field = "\(source): Event[\(i)]"
            guard let execution = row["execution_id"]?.intValue, let artifact = row["artifact_id"]?.intValue, row["type"]?.intValue != nil else {
                throw ValidationError(field: field, "needs artifact_id, execution_id and type")
            }
            guard artifacts[artifact] != nil else {
                throw ValidationError(field: "\(field).artifact_id", "names artifact \(artifact), which the store does not have")
            }
            eventsByExecution[execution, default: []].append(row)
        }

        var result = ImportResult()
        var touched: Set<Int64> = []
        let executions = tables["Execution", default: []].enumerated().sorted {
            ($0.element["create_time_since_epoch"]?.intValue ?? 0, $0.element["id"]?.intValue ?? 0)
                < ($1.element["create_time_since_epoch"]?.intValue ?? 0, $1.element["id"]?.intValue ?? 0)
        }
        for (i, row) in executions {
            let field = "\(source): Execution[\(i)]"
            guard let id = row["id"]?.intValue, let typeID = row["type_id"]?.intValue else {
                throw ValidationError(field: field, "needs id and type_id")
            }
            guard let type = types[typeID] else {
                throw ValidationError(field: "\(field).type_id", "names type \(typeID), which the store does not have")
            }
            let props = executionProperties[id] ?? [:]
            let memberOf = (executionContexts[id] ?? []).sorted()
            let task = props["task_name"]?.value.stringValue ?? props["display_name"]?.value.stringValue ?? row["name"]?.stringValue ?? short(type)
            let job = memberOf.lazy.compactMap(pipeline).first.map { "\($0)/\(task)" } ?? task
            let created = time(row["create_time_since_epoch"])
            var run = RunRecord(
                id: "mlmd-\(id)-\(row["create_time_since_epoch"]?.intValue ?? 0)", job: job, status: status(row["last_known_state"]?.intValue))
            run.startedAt = created
            if run.status?.isTerminal == true { run.endedAt = time(row["last_update_time_since_epoch"]) ?? created }
            var hyperparameters: [String: JSONValue] = [:]
            var code: [String: JSONValue] = [:]
            for (name, property) in props.sorted(by: { $0.key < $1.key }) {
                if let key = codeKeys[name], let text = property.value.stringValue {
                    code[key] = .string(key == "repository" ? SecretRedactor.stripURLCredentials(text) : text)
                } else if name == "image", let image = property.value.stringValue {
                    run.environment = try EnvironmentFacet(json: ["containerImage": .string(image)], path: "\(field).image")
                    run.facets["mlmd.image"] = property.value
                } else if property.custom, bookkeeping.contains(name) {
                    run.facets["mlmd.\(name)"] = property.value
                } else if name == "inputs", case .object(let inputs) = property.value {
                    hyperparameters.merge(inputs) { _, new in new }
                } else {
                    hyperparameters[name] = property.value
                }
            }
            if !hyperparameters.isEmpty { run.hyperparameters = SecretRedactor.redactSecrets(.object(hyperparameters)).objectValue }
            if !code.isEmpty { run.code = try CodeFacet(json: .object(code), path: "\(field).properties") }
            run.facets["mlmd.execution_id"] = .int(id)
            run.facets["mlmd.type"] = .string(type)
            if let state = row["last_known_state"]?.intValue { run.facets["mlmd.state"] = .string(executionStates[state] ?? String(state)) }
            if let name = row["name"]?.stringValue { run.facets["mlmd.name"] = .string(name) }
            if !memberOf.isEmpty {
                run.facets["mlmd.contexts"] = .array(memberOf.compactMap { contexts[$0] }.map { .string("\($0.name) (\($0.type))") })
            }
            let events = (eventsByExecution[id] ?? []).sorted { ($0["id"]?.intValue ?? 0) < ($1["id"]?.intValue ?? 0) }
            for event in events {
                guard let artifactID = event["artifact_id"]?.intValue, let spec = artifacts[artifactID], let kind = event["type"]?.intValue else {
                    continue
                }
                let step = event["id"]?.intValue.flatMap { paths[$0] }
                switch kind {
                case 2, 3, 5:  // DECLARED_INPUT, INPUT, INTERNAL_INPUT
                    if spec.ref.kind == "model" {
                        run.parents.append(spec.ref)
                    } else {
                        run.inputs.append(ArtifactUse(artifact: spec, role: role(step, default: "input")))
                    }
                case 1, 4, 6:  // DECLARED_OUTPUT, OUTPUT, INTERNAL_OUTPUT
                    run.outputs.append(ArtifactUse(artifact: spec, role: role(step, default: spec.ref.kind == "model" ? "model" : "output")))
                default:  // PENDING_OUTPUT: not yet written
                    continue
                }
                touched.insert(artifactID)
            }
            result.events.append(
                LineageEvent(namespace: namespace, eventTime: time(row["last_update_time_since_epoch"]) ?? created, payload: .run(run)))
        }
        summary.executions = executions.count

        for (id, spec) in artifacts.sorted(by: { $0.key < $1.key }) where !touched.contains(id) {
            result.events.append(LineageEvent(namespace: namespace, eventTime: artifactTimes[id], payload: .artifact(spec)))
        }
        // Pedigree's own digest of a version whose recorded one is missing, where the content is at hand: a
        // registration of its own, as it depends on this machine.
        for (_, spec) in artifacts.sorted(by: { $0.key < $1.key }) where spec.digest == nil {
            guard let uri = spec.uri, let found = digest(uri) else { continue }
            var located = spec
            located.digest = found
            result.events.append(LineageEvent(namespace: namespace, payload: .artifact(located)))
        }
        return (result, summary)
    }

    struct Property {
        var value: JSONValue
        var custom: Bool
    }

    /// Each owner's properties by name; a custom property and a declared one of the same name: the declared.
    static func properties(_ rows: [Row], owner: String, source: String) throws(ValidationError) -> [Int64: [String: Property]] {
        var out: [Int64: [String: Property]] = [:]
        for (i, row) in rows.enumerated() {
            guard let id = row[owner]?.intValue, let name = row["name"]?.stringValue else {
                throw ValidationError(field: "\(source): property row \(i)", "needs \(owner) and name")
            }
            let custom = row["is_custom_property"]?.intValue != 0
            if custom, out[id]?[name] != nil { continue }
            out[id, default: [:]][name] = Property(value: try value(row, field: "\(source): \(name) of \(owner) \(id)"), custom: custom)
        }
        return out
    }

    /// A property row's value: whichever of its typed columns is set. MLMD keeps a struct as
    /// "mlmd-struct::" and the base64 of a serialized `google.protobuf.Struct`.
    static func value(_ row: Row, field: String) throws(ValidationError) -> JSONValue {
        if let int = row["int_value"], int != .null { return int }
        if let double = row["double_value"], double != .null { return double }
        if let bool = row["bool_value"]?.intValue { return .bool(bool != 0) }
        guard let text = row["string_value"]?.stringValue else { return .null }
        guard text.hasPrefix("mlmd-struct::") else { return .string(text) }
        guard let bytes = Data(base64Encoded: String(text.dropFirst("mlmd-struct::".count))) else {
            throw ValidationError(field: field, "is a struct that is not base64")
        }
        do { return try ProtobufMessage([UInt8](bytes)).structValue() } catch {
            throw ValidationError(field: field, "is a struct that cannot be read: \(error)")
        }
    }

    static func artifact(
        id: Int64, _ row: Row, type: String, properties: [String: Property], namespace: String, field: String
    ) throws(ValidationError) -> ArtifactSpec {
        let name =
            properties["display_name"]?.value.stringValue ?? row["name"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? "\(short(type))-\(id)"
        // Without a version of its own, MLMD's id and creation time: distinct across stores, like run ids.
        let version =
            properties["version"]?.value.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            ?? "mlmd-\(id)-\(row["create_time_since_epoch"]?.intValue ?? 0)"
        var spec = ArtifactSpec(ref: ArtifactRef(kind: kind(type), namespace: namespace, name: name, version: version))
        if let uri = row["uri"]?.stringValue, !uri.isEmpty { spec.uri = SecretRedactor.stripURLCredentials(uri) }
        if let recorded = properties["digest"]?.value.stringValue {
            guard let digest = ContentDigest(recorded) else {
                throw ValidationError(field: "\(field).digest", "'\(recorded)' is not sha256:<64 hex digits>")
            }
            spec.digest = digest
        }
        spec.facets["mlmd.artifact_id"] = .int(id)
        spec.facets["mlmd.type"] = .string(type)
        if let state = row["state"]?.intValue { spec.facets["mlmd.state"] = .string(artifactStates[state] ?? String(state)) }
        if let external = row["external_id"]?.stringValue { spec.facets["mlmd.external_id"] = .string(external) }
        let rest = properties.filter { !["digest", "display_name", "version"].contains($0.key) }.mapValues(\.value)
        if !rest.isEmpty { spec.facets["mlmd.properties"] = SecretRedactor.redactSecrets(.object(rest)) }
        return spec
    }

    /// A Pedigree kind for an MLMD type: models and datasets (TFX's Examples too) by name, anything else as
    /// its name in kebab case (`system.ClassificationMetrics` → `classification-metrics`).
    static func kind(_ type: String) -> String {
        let base = short(type)
        if base.contains("Model") { return "model" }
        if base == "Dataset" || base == "Examples" { return "dataset" }
        var out = ""
        for (i, c) in base.enumerated() {
            if c.isUppercase, i > 0 { out += "-" }
            out += c.isLetter || c.isNumber ? c.lowercased() : "-"
        }
        return out.isEmpty || !(out.first?.isLetter ?? false) ? "artifact" : out
    }

    /// `system.Dataset` → `Dataset`.
    static func short(_ type: String) -> String { type.split(separator: ".").last.map(String.init) ?? type }

    static func isPipelineType(_ type: String) -> Bool { ["Pipeline", "system.Pipeline", "pipeline"].contains(type) }

    static func role(_ step: String?, default fallback: String) -> String {
        guard let step, !step.isEmpty else { return fallback }
        let cleaned = String(step.map { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) ? $0 : "-" })
        return (try? Role(cleaned).rawValue) ?? fallback
    }

    static let executionStates: [Int64: String] = [0: "UNKNOWN", 1: "NEW", 2: "RUNNING", 3: "COMPLETE", 4: "FAILED", 5: "CACHED", 6: "CANCELED"]
    static let artifactStates: [Int64: String] = [
        0: "UNKNOWN", 1: "PENDING", 2: "LIVE", 3: "MARKED_FOR_DELETION", 4: "DELETED", 5: "ABANDONED", 6: "REFERENCE",
    ]

    static func status(_ state: Int64?) -> RunStatus? {
        switch state {
        case 1: .start
        case 2: .running
        case 3, 5: .complete
        case 4: .fail
        case 6: .abort
        case nil: nil
        default: .other
        }
    }

    /// MLMD's milliseconds since the epoch.
    static func time(_ value: JSONValue?) -> Timestamp? {
        value?.intValue.flatMap(SourceTime.milliseconds)
    }
}
