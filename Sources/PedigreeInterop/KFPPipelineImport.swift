import Foundation
import PedigreeCore

/// A compiled Kubeflow Pipelines definition (the IR YAML, a `PipelineSpec`) as design-time lineage: what the
/// pipeline will read, run and write, before any run. Each task of the root DAG (and of sub-DAGs, as
/// `outer/inner`) is a run with no status, `kfp-<spec>-<task>`, of the job `<pipeline>/<task>`: its input
/// parameters are its hyperparameters (a pipeline parameter as its default, named in `kfp.pipeline_parameters`;
/// an upstream output as `{{tasks.T.outputs.K}}`), its executor's image its environment, the artifacts it
/// consumes its inputs (models its parents), those it declares its outputs. An artifact is named
/// `<pipeline>/<task>/<output>` and versioned by the spec's digest (its first 12 hex digits), so recompiling a
/// changed pipeline makes new versions and importing the same file again adds nothing; an importer's artifact
/// keeps the URI it imports.
public enum KFPPipelineImport {
    public static func isPipelineSpec(_ document: JSONValue) -> Bool { document["pipelineInfo"] != nil }

    public static func events(
        _ spec: JSONValue, digest: ContentDigest, source: String, namespace: String
    ) throws(ValidationError) -> (ImportResult, pipeline: String, tasks: Int) {
        guard let pipeline = spec["pipelineInfo"]?["name"]?.stringValue, !pipeline.isEmpty else {
            throw ValidationError(field: "\(source): pipelineInfo.name", "is missing: a compiled KFP pipeline names itself there")
        }
        guard let tasks = spec["root"]?["dag"]?["tasks"]?.objectValue, !tasks.isEmpty else {
            throw ValidationError(field: "\(source): root.dag.tasks", "is missing or empty: the pipeline has no tasks")
        }
        let version = String(digest.hex.prefix(12))
        var context = Context(spec: spec, source: source, namespace: namespace, pipeline: pipeline, version: version)
        context.facets = ["kfp.pipeline": .string(pipeline), "kfp.spec_digest": .string(digest.description)]
        if let sdk = spec["sdkVersion"]?.stringValue { context.facets["kfp.sdk_version"] = .string(sdk) }
        if let schema = spec["schemaVersion"]?.stringValue { context.facets["kfp.schema_version"] = .string(schema) }
        var result = ImportResult()
        // The root DAG's parameters are the pipeline's, at their defaults.
        let parameters = (spec["root"]?["inputDefinitions"]?["parameters"]?.objectValue ?? [:]).mapValues { definition in
            definition["defaultValue"].map { context.typed($0, definition["parameterType"]?.stringValue) } ?? .null
        }
        let count = try context.dag(tasks, prefix: "", field: "root.dag.tasks", received: [:], parameters: parameters, into: &result)
        return (result, pipeline, count)
    }

    struct Context {
        let spec: JSONValue
        let source: String
        let namespace: String
        let pipeline: String
        let version: String
        var facets: [String: JSONValue] = [:]

        init(spec: JSONValue, source: String, namespace: String, pipeline: String, version: String) {
            self.spec = spec
            self.source = source
            self.namespace = namespace
            self.pipeline = pipeline
            self.version = version
        }

        func fail(_ field: String, _ message: String) -> ValidationError { ValidationError(field: "\(source): \(field)", message) }

        /// How deep DAGs may nest: a component that contains itself would otherwise recurse without end.
        static let maximumNesting = 64

        /// One DAG's tasks: the artifacts each declares first (a task may consume one declared by a task listed
        /// after it), then a run per task. `received` and `parameters` are what the DAG's own inputs are bound
        /// to (the root's parameters are the pipeline's defaults). The tasks counted.
        func dag(
            _ tasks: [String: JSONValue], prefix: String, field: String, received: [String: ArtifactSpec], parameters: [String: JSONValue],
            depth: Int = 0, into result: inout ImportResult
        ) throws(ValidationError) -> Int {
            guard depth < Self.maximumNesting else {
                throw fail(field, "nests DAGs deeper than \(Self.maximumNesting) levels: a component contains itself")
            }
            var declared: [String: [String: ArtifactSpec]] = [:]
            for (name, task) in tasks {
                declared[name] = try outputs(of: task, named: prefix + name, field: "\(field).\(name)", depth: depth)
            }
            var count = 0
            for (name, task) in tasks.sorted(by: { $0.key < $1.key }) {
                let taskField = "\(field).\(name)"
                let component = try self.component(of: task, field: taskField)
                var inputs: [String: ArtifactSpec] = [:]
                for (key, binding) in task["inputs"]?["artifacts"]?.objectValue ?? [:] {
                    if let producer = binding["taskOutputArtifact"] {
                        let from = producer["producerTask"]?.stringValue ?? ""
                        let output = producer["outputArtifactKey"]?.stringValue ?? ""
                        guard let spec = declared[from]?[output] else {
                            throw fail("\(taskField).inputs.artifacts.\(key)", "takes \(from).\(output), which no task of this DAG declares")
                        }
                        inputs[key] = spec
                    } else if let outer = binding["componentInputArtifact"]?.stringValue {
                        if let bound = received[outer] {
                            inputs[key] = bound
                        } else {
                            let definition = spec["root"]?["inputDefinitions"]?["artifacts"]?[outer] ?? [:]
                            inputs[key] = try artifact(task: "inputs", key: outer, definition, field: "\(taskField).inputs.artifacts.\(key)")
                        }
                    }
                }
                if let sub = component["dag"]?["tasks"]?.objectValue {
                    count += try dag(
                        sub, prefix: prefix + name + "/", field: "\(taskField) (\(task["componentRef"]?["name"]?.stringValue ?? "")).dag.tasks",
                        received: inputs, parameters: bound(task, component: component, parameters: parameters).values, depth: depth + 1,
                        into: &result)
                    continue
                }
                result.events.append(
                    LineageEvent(
                        namespace: namespace,
                        payload: .run(
                            try run(
                                prefix + name, task, component: component, inputs: inputs, outputs: declared[name] ?? [:], parameters: parameters,
                                field: taskField))))
                count += 1
            }
            return count
        }

        /// The artifacts a task declares: its component's outputs (an importer's with the URI it imports), or, for
        /// a sub-DAG, the outputs of the inner tasks its `dag.outputs` select — so a consumer of a nested
        /// pipeline's output reads what an inner task wrote.
        func outputs(of task: JSONValue, named name: String, field: String, depth: Int) throws(ValidationError) -> [String: ArtifactSpec] {
            guard depth < Self.maximumNesting else {
                throw fail(field, "nests DAGs deeper than \(Self.maximumNesting) levels: a component contains itself")
            }
            let component = try self.component(of: task, field: field)
            var declared: [String: ArtifactSpec] = [:]
            if let inner = component["dag"] {
                for (key, output) in inner["outputs"]?["artifacts"]?.objectValue ?? [:] {
                    let selector = output["artifactSelectors"]?.arrayValue?.first
                    guard let subtask = selector?["producerSubtask"]?.stringValue, let innerKey = selector?["outputArtifactKey"]?.stringValue,
                        let producer = inner["tasks"]?[subtask]
                    else {
                        throw fail("\(field).dag.outputs.artifacts.\(key)", "selects no task of the sub-DAG (artifactSelectors)")
                    }
                    let produced = try outputs(of: producer, named: "\(name)/\(subtask)", field: "\(field).dag.tasks.\(subtask)", depth: depth + 1)
                    guard let spec = produced[innerKey] else {
                        throw fail("\(field).dag.outputs.artifacts.\(key)", "selects \(subtask).\(innerKey), which that task does not declare")
                    }
                    declared[key] = spec
                }
                return declared
            }
            for (key, definition) in component["outputDefinitions"]?["artifacts"]?.objectValue ?? [:] {
                declared[key] = try artifact(task: name, key: key, definition, field: "\(field).outputs.\(key)")
            }
            if let importer = try executor(of: component)?["importer"], let uri = importer["artifactUri"]?["constant"]?.stringValue {
                for key in declared.keys { declared[key]?.uri = SecretRedactor.stripURLCredentials(uri) }
            }
            return declared
        }

        func component(of task: JSONValue, field: String) throws(ValidationError) -> JSONValue {
            guard let name = task["componentRef"]?["name"]?.stringValue else { throw fail("\(field).componentRef.name", "is missing") }
            guard let component = spec["components"]?[name] else {
                throw fail("\(field).componentRef.name", "names \(name), which components does not define")
            }
            return component
        }

        func executor(of component: JSONValue) throws(ValidationError) -> JSONValue? {
            guard let label = component["executorLabel"]?.stringValue else { return nil }
            guard let executor = spec["deploymentSpec"]?["executors"]?[label] else {
                throw fail("deploymentSpec.executors", "has no \(label), which a component names as its executor")
            }
            return executor
        }

        func artifact(task: String, key: String, _ definition: JSONValue, field: String) throws(ValidationError) -> ArtifactSpec {
            let title = definition["artifactType"]?["schemaTitle"]?.stringValue ?? "system.Artifact"
            var spec = ArtifactSpec(
                ref: ArtifactRef(kind: MLMDImport.kind(title), namespace: namespace, name: "\(pipeline)/\(task)/\(key)", version: version))
            spec.facets["kfp.schema_title"] = .string(title)
            return spec
        }

        /// A task's input parameters: constants, the enclosing DAG's parameters it takes (named in `fromDAG`),
        /// and upstream outputs as `{{tasks.T.outputs.K}}`.
        func bound(
            _ definition: JSONValue, component: JSONValue, parameters scope: [String: JSONValue]
        ) -> (values: [String: JSONValue], fromDAG: [String: JSONValue]) {
            var values: [String: JSONValue] = [:]
            var fromDAG: [String: JSONValue] = [:]
            let types = component["inputDefinitions"]?["parameters"]?.objectValue ?? [:]
            for (name, binding) in definition["inputs"]?["parameters"]?.objectValue ?? [:] {
                if let constant = binding["runtimeValue"]?["constant"] {
                    values[name] = typed(constant, types[name]?["parameterType"]?.stringValue)
                } else if let outer = binding["componentInputParameter"]?.stringValue {
                    fromDAG[name] = .string(outer)
                    values[name] = scope[outer] ?? .null
                } else if let producer = binding["taskOutputParameter"] {
                    values[name] = .string(
                        "{{tasks.\(producer["producerTask"]?.stringValue ?? "").outputs.\(producer["outputParameterKey"]?.stringValue ?? "")}}")
                }
            }
            return (values, fromDAG)
        }

        func run(
            _ task: String, _ definition: JSONValue, component: JSONValue, inputs: [String: ArtifactSpec], outputs: [String: ArtifactSpec],
            parameters scope: [String: JSONValue], field: String
        ) throws(ValidationError) -> RunRecord {
            var run = RunRecord(id: "kfp-\(version)-\(task.replacingOccurrences(of: "/", with: "."))", job: "\(pipeline)/\(task)")
            run.facets = facets
            run.facets["kfp.task"] = .string(task)
            if let display = definition["taskInfo"]?["name"]?.stringValue, display != task { run.facets["kfp.display_name"] = .string(display) }
            run.facets["kfp.component"] = definition["componentRef"]?["name"] ?? .null
            if let after = definition["dependentTasks"]?.arrayValue, !after.isEmpty { run.facets["kfp.dependent_tasks"] = .array(after) }
            let (parameters, fromPipeline) = bound(definition, component: component, parameters: scope)
            if !parameters.isEmpty { run.hyperparameters = SecretRedactor.redactSecrets(.object(parameters)).objectValue }
            if !fromPipeline.isEmpty { run.facets["kfp.pipeline_parameters"] = .object(fromPipeline) }
            if let executor = try executor(of: component) {
                if let image = executor["container"]?["image"]?.stringValue {
                    run.environment = try EnvironmentFacet(json: ["containerImage": .string(image)], path: "\(field).image")
                }
                // The executor (image, command, the component's source) by digest: a changed component is a changed run.
                run.facets["kfp.executor_digest"] = .string(executor.digest.description)
            }
            for (key, spec) in inputs.sorted(by: { $0.key < $1.key }) {
                if spec.ref.kind == "model" {
                    run.parents.append(spec.ref)
                } else {
                    run.inputs.append(ArtifactUse(artifact: spec, role: MLMDImport.role(key, default: "input")))
                }
            }
            for (key, spec) in outputs.sorted(by: { $0.key < $1.key }) {
                run.outputs.append(ArtifactUse(artifact: spec, role: MLMDImport.role(key, default: "output")))
            }
            return run
        }

        /// KFP keeps every number as a protobuf double: an integer parameter's 100 is written 100.0.
        func typed(_ value: JSONValue, _ type: String?) -> JSONValue {
            if type == "NUMBER_INTEGER", case .double(let double) = value, double.rounded() == double, abs(double) < 1e15 {
                return .int(Int64(double))
            }
            return value
        }
    }
}
