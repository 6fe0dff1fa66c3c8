import PedigreeCore
import PedigreeStore

/// The model registry: registered models (`registered-model:NS/NAME`, versions are revisions) and their
/// versions (`model:NS/NAME@N`).
extension MLflowService {
    func registeredModel(_ name: String, _ state: MLflowState, _ caller: MLflowCaller) throws -> MLflowState.RegisteredModel {
        let namespaces = Set(state.registeredModels.keys.filter { state.registeredModels[$0]?[name] != nil && caller.mayRead($0) })
        // The caller's own namespace first: names are unique within a namespace.
        let namespace = namespaces.contains(caller.namespace) ? caller.namespace : namespaces.sorted().first
        guard let namespace, let model = state.registeredModel(name, in: namespace) else {
            throw MLflowError.notFound("Registered Model with name=\(name) not found")
        }
        return model
    }

    func modelVersion(
        _ request: MLflowRequest, _ state: MLflowState, _ caller: MLflowCaller
    ) throws -> (
        MLflowState.RegisteredModel, MLflowState.ModelVersion
    ) {
        let name = try request.string("name")
        let text = try request.string("version")
        let model = try registeredModel(name, state, caller)
        guard let number = Int(text), let version = model.versions[number] else {
            throw MLflowError.notFound("Model Version (name=\(name), version=\(text)) not found")
        }
        return (model, version)
    }

    static func registeredRef(_ model: MLflowState.RegisteredModel) -> ArtifactRef {
        ArtifactRef(kind: "registered-model", namespace: model.namespace, name: model.originalName, version: String(model.revision + 1))
    }

    public func createRegisteredModel(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let name = try request.string("name")
        try MLflowLimits.checkKey(name, what: "registered model")
        let tags = Self.redacted(try request.tags("tags"))
        let description = try request.optionalString("description").map(SecretRedactor.redactText)
        try requireWrite(caller.namespace, caller)
        try await write { state in
            if state.registeredModel(name, in: caller.namespace) != nil {
                throw MLflowError(.resourceAlreadyExists, "Registered Model (name=\(name)) already exists.")
            }
            var record = MLflowRecord(.createRegisteredModel, time: Self.now())
            record.name = name
            record.tags = tags.isEmpty ? nil : tags
            record.description = description
            let ref = ArtifactRef(kind: "registered-model", namespace: caller.namespace, name: name, version: "1")
            try await self.record([Self.artifactEvent(record, ref: ref)], caller)
        }
        let state = try await current()
        return ["registered_model": try registeredModel(name, state, caller).wire(latestOnly: true)]
    }

    public func getRegisteredModel(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let state = try await current()
        return ["registered_model": try registeredModel(try request.string("name"), state, caller).wire(latestOnly: true)]
    }

    public func searchRegisteredModels(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let filter = try Self.filter(request)
        let orders = try Self.orders(request)
        let state = try await current()
        let models = state.registeredModels.filter { caller.mayRead($0.key) }.values.flatMap(\.values).filter { model in
            filter.matches(absentIsUnequal: true) { entity, key in model.fields(entity, key) }
        }
        let sorted = Self.sort(models, by: orders + [SearchOrder(entity: .attribute, key: "name", ascending: true)]) { model, entity, key in
            model.fields(entity, key).first
        } tieBreak: {
            $0.namespace < $1.namespace
        }
        let page = try Page(request, defaultSize: 100, maximum: 1000)
        return page.answer(sorted, key: "registered_models") { $0.wire(latestOnly: true) }
    }

    public func renameRegisteredModel(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let name = try request.string("name")
        let newName = try request.string("new_name")
        try MLflowLimits.checkKey(newName, what: "registered model")
        try await changeRegisteredModel(name, .renameRegisteredModel, caller) { state, model, record in
            if state.registeredModel(newName, in: model.namespace) != nil {
                throw MLflowError(.resourceAlreadyExists, "Registered Model (name=\(newName)) already exists.")
            }
            record.newName = newName
        }
        return ["registered_model": try registeredModel(newName, try await current(), caller).wire(latestOnly: true)]
    }

    public func updateRegisteredModel(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let name = try request.string("name")
        let description = SecretRedactor.redactText(try request.optionalString("description") ?? "")
        try await changeRegisteredModel(name, .updateRegisteredModel, caller) { _, _, record in record.description = description }
        return ["registered_model": try registeredModel(name, try await current(), caller).wire(latestOnly: true)]
    }

    public func deleteRegisteredModel(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        try await changeRegisteredModel(try request.string("name"), .deleteRegisteredModel, caller) { _, _, _ in }
        return [:]
    }

    public func setRegisteredModelTag(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let key = try request.string("key")
        try MLflowLimits.checkKey(key, what: "tag")
        let value = Self.redacted([.init(key: key, value: try request.optionalString("value") ?? "")])[0].value
        try await changeRegisteredModel(try request.string("name"), .setRegisteredModelTag, caller) { _, _, record in
            record.key = key
            record.value = value
        }
        return [:]
    }

    public func deleteRegisteredModelTag(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let key = try request.string("key")
        try await changeRegisteredModel(try request.string("name"), .deleteRegisteredModelTag, caller) { _, model, record in
            guard model.tags[key] != nil else { throw MLflowError.notFound("No tag with key '\(key)' on registered model \(model.name)") }
            record.key = key
        }
        return [:]
    }

    public func getLatestVersions(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let stages = Set(try request.strings("stages").map { $0.lowercased() })
        let state = try await current()
        let model = try registeredModel(try request.string("name"), state, caller)
        let latest = model.latestVersions.filter { stages.isEmpty || stages.contains($0.stage.lowercased()) }
        return ["model_versions": .array(latest.map { model.wire(of: $0, withTags: false) })]
    }

    public func setAlias(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let alias = try request.string("alias")
        try Self.checkAlias(alias)
        let version = try request.string("version")
        try await write { state in
            let model = try self.registeredModel(try request.string("name"), state, caller)
            try self.requireWrite(model.namespace, caller)
            guard let number = Int(version), let entry = model.versions[number] else {
                throw MLflowError.notFound("Model Version (name=\(model.name), version=\(version)) not found")
            }
            var record = MLflowRecord(.setAlias, time: Self.now())
            record.name = model.name
            record.alias = alias
            record.version = version
            try await self.record([Self.registryMove(record, endpoint: "alias/\(model.name)/\(alias)", model: entry.ref)], caller)
        }
        return [:]
    }

    public func deleteAlias(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let alias = try request.string("alias")
        try await changeRegisteredModel(try request.string("name"), .deleteAlias, caller) { _, model, record in
            guard model.aliases[alias] != nil else { throw MLflowError.notFound("Registered model alias \(alias) not found.") }
            record.alias = alias
        }
        return [:]
    }

    public func getModelVersionByAlias(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let alias = try request.string("alias")
        let state = try await current()
        let model = try registeredModel(try request.string("name"), state, caller)
        guard let number = model.aliases[alias], let version = model.versions[number] else {
            throw MLflowError.notFound("Registered model alias \(alias) not found.")
        }
        return ["model_version": model.wire(of: version)]
    }

    private func changeRegisteredModel(
        _ name: String, _ op: MLflowRecord.Operation, _ caller: MLflowCaller,
        _ fill: (MLflowState, MLflowState.RegisteredModel, inout MLflowRecord) throws -> Void
    ) async throws {
        try await write { state in
            let model = try self.registeredModel(name, state, caller)
            try self.requireWrite(model.namespace, caller)
            var record = MLflowRecord(op, time: Self.now())
            record.name = model.name
            try fill(state, model, &record)
            try await self.record([Self.artifactEvent(record, ref: Self.registeredRef(model))], caller)
        }
    }

    static func checkAlias(_ alias: String) throws {
        guard !alias.isEmpty, alias.count <= 255, alias.lowercased() != "latest",
            !(alias.lowercased().hasPrefix("v") && Int(alias.dropFirst()) != nil),
            alias.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" })
        else {
            throw MLflowError.invalid(
                "Invalid alias name '\(alias)': use letters, digits, '_' and '-'; 'latest' and v<number> are reserved")
        }
    }

    // MARK: Model versions

    public func createModelVersion(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let name = try request.string("name")
        let source = SecretRedactor.stripURLCredentials(try request.string("source"))
        let runID = try request.optionalString("run_id").flatMap { $0.isEmpty ? nil : $0 }
        let modelID = try request.optionalString("model_id").flatMap { $0.isEmpty ? nil : $0 }
        let tags = Self.redacted(try request.tags("tags"))
        let description = try request.optionalString("description").map(SecretRedactor.redactText)
        let number = try await write { state in
            let model = try self.registeredModel(name, state, caller)
            try self.requireWrite(model.namespace, caller)
            let logged = try modelID.map { id throws in try self.loggedModel(id, state, caller) }
            let sourceRunID = runID ?? logged?.sourceRunID
            let sourceRun = sourceRunID.flatMap { state.runs[$0] }
            let directory = logged?.artifactRoot ?? self.artifactDirectory(of: source, state)
            let digest = logged?.digest.flatMap { ContentDigest($0) } ?? directory.flatMap { Self.manifestDigest(state.files(under: $0)) }
            let number = model.lastVersion + 1
            var record = MLflowRecord(.createModelVersion, time: Self.now())
            record.name = model.name
            record.version = String(number)
            record.source = source
            record.runID = sourceRunID
            record.modelID = modelID
            record.tags = tags.isEmpty ? nil : tags
            record.description = description
            record.digest = digest?.description
            // MLflow numbers a new model's versions from 1 again; Pedigree's references are never reused.
            var ref = ArtifactRef(kind: "model", namespace: model.namespace, name: model.name, version: String(number))
            var generation = 1
            while state.versionRefs.contains(ref.description) {
                generation += 1
                ref.version = "\(number)-\(generation)"
            }
            if generation > 1 { record.refVersion = ref.version }
            // The version's source is its URI, so a KServe storageUri that points there finds it.
            var events = [Self.artifactEvent(record, ref: ref, digest: digest, uri: source.isEmpty ? nil : source)]
            // The source run generated this version, so it carries the run's whole lineage.
            if let run = sourceRun, run.namespace == model.namespace {
                events.append(
                    Self.runEvent(nil, namespace: run.namespace, id: run.id, job: run.job) {
                        $0.outputs = [ArtifactUse(artifact: ArtifactSpec(ref: ref, digest: digest), role: "model")]
                    })
            }
            try await self.record(events, caller)
            return number
        }
        let state = try await current()
        let model = try registeredModel(name, state, caller)
        guard let version = model.versions[number] else { throw MLflowError.notFound("Model Version (name=\(name), version=\(number)) not found") }
        return ["model_version": model.wire(of: version)]
    }

    public func getModelVersion(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let (model, version) = try modelVersion(request, try await current(), caller)
        return ["model_version": model.wire(of: version)]
    }

    public func getModelVersionDownloadURI(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let state = try await current()
        let (_, version) = try modelVersion(request, state, caller)
        let directory = version.modelID.flatMap { state.loggedModels[$0]?.artifactRoot } ?? artifactDirectory(of: version.source, state)
        return ["artifact_uri": .string(directory.map { "mlflow-artifacts:/\($0)" } ?? version.source)]
    }

    public func searchModelVersions(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let filter = try Self.filter(request)
        let orders = try Self.orders(request)
        let state = try await current()
        let pairs = state.registeredModels.filter { caller.mayRead($0.key) }.values.flatMap(\.values).flatMap { model in
            model.versions.values.map { (model, $0) }
        }.filter { model, version in filter.matches(absentIsUnequal: true) { entity, key in model.fields(of: version, entity, key) } }
        let sorted = Self.sort(pairs, by: orders + [SearchOrder(entity: .attribute, key: "name", ascending: true)]) { pair, entity, key in
            pair.0.fields(of: pair.1, entity, key).first
        } tieBreak: {
            $0.1.version > $1.1.version
        }
        let page = try Page(request, defaultSize: 10000, maximum: 200_000)
        return page.answer(sorted, key: "model_versions") { $0.0.wire(of: $0.1) }
    }

    public func updateModelVersion(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let description = SecretRedactor.redactText(try request.optionalString("description") ?? "")
        return try await changeModelVersion(request, .updateModelVersion, caller) { _, _, record in
            record.description = description
            return nil
        }
    }

    public func transitionStage(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let requested = try request.string("stage")
        guard let stage = ["None", "Staging", "Production", "Archived"].first(where: { $0.lowercased() == requested.lowercased() }) else {
            throw MLflowError.invalid("Invalid Model Version stage: \(requested). Value must be one of None, Staging, Production, Archived.")
        }
        let archive = try request.bool("archive_existing_versions") ?? false
        return try await changeModelVersion(request, .transitionStage, caller) { model, version, record in
            record.stage = stage
            record.archiveExisting = archive
            return "stage/\(model.name)/\(stage)"
        }
    }

    public func setModelVersionTag(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let key = try request.string("key")
        try MLflowLimits.checkKey(key, what: "tag")
        let value = Self.redacted([.init(key: key, value: try request.optionalString("value") ?? "")])[0].value
        _ = try await changeModelVersion(request, .setModelVersionTag, caller) { _, _, record in
            record.key = key
            record.value = value
            return nil
        }
        return [:]
    }

    public func deleteModelVersionTag(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let key = try request.string("key")
        _ = try await changeModelVersion(request, .deleteModelVersionTag, caller) { model, version, record in
            guard version.tags[key] != nil else { throw MLflowError.notFound("No tag with key '\(key)' on \(model.name) version \(version.version)") }
            record.key = key
            return nil
        }
        return [:]
    }

    public func deleteModelVersion(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        _ = try await changeModelVersion(request, .deleteModelVersion, caller) { _, _, _ in nil }
        return [:]
    }

    /// Records an operation on a version; `fill` returns the registry endpoint when it is a move (a stage).
    private func changeModelVersion(
        _ request: MLflowRequest, _ op: MLflowRecord.Operation, _ caller: MLflowCaller,
        _ fill: (MLflowState.RegisteredModel, MLflowState.ModelVersion, inout MLflowRecord) throws -> String?
    ) async throws -> JSONValue {
        let (name, number) = try await write { state in
            let (model, version) = try self.modelVersion(request, state, caller)
            try self.requireWrite(model.namespace, caller)
            var record = MLflowRecord(op, time: Self.now())
            record.name = model.name
            record.version = String(version.version)
            let event =
                if let endpoint = try fill(model, version, &record) {
                    Self.registryMove(record, endpoint: endpoint, model: version.ref)
                } else {
                    Self.artifactEvent(record, ref: version.ref)
                }
            try await self.record([event], caller)
            return (model.name, version.version)
        }
        let state = try await current()
        guard op != .deleteModelVersion, let model = try? registeredModel(name, state, caller), let version = model.versions[number] else {
            return [:]
        }
        return ["model_version": model.wire(of: version)]
    }
}

extension MLflowService {
    /// A wrapped run (`/mlflow/run/ID/…`) asked where a model's files are: it is loading that model, which
    /// makes the model its parent — unless the run made the model itself.
    public func noteLoad(ofVersion request: MLflowRequest, by runID: String, _ caller: MLflowCaller) async throws {
        let state = try await current()
        let (_, version) = try modelVersion(request, state, caller)
        try await noteLoad(version.ref, generatedBy: version.runID, by: runID, caller)
    }

    public func noteLoad(ofLoggedModel id: String, by runID: String, _ caller: MLflowCaller) async throws {
        let model = try loggedModel(id, try await current(), caller)
        try await noteLoad(model.ref, generatedBy: model.sourceRunID, by: runID, caller)
    }

    private func noteLoad(_ ref: ArtifactRef, generatedBy source: String?, by runID: String, _ caller: MLflowCaller) async throws {
        guard source != runID else { return }
        if let run = try await current().runs[runID] {
            guard caller.mayWrite(run.namespace), !run.loadedModels.contains(ref.description) else { return }
            try await changeRun(runID, .loadModel, caller) { _, record, pedigree in
                record.source = ref.description
                pedigree.parents = [ref]
            }
        } else if let wrapper = try? await store.show(.run(runID), asOf: nil), caller.mayWrite(wrapper.summary.namespace) {
            // The script loads its base model before it starts MLflow's run: the wrapper's run is not joined yet.
            guard wrapper.run?.parents.contains(ref) != true else { return }
            try await record(
                [Self.runEvent(nil, namespace: wrapper.summary.namespace, id: runID, job: wrapper.summary.name) { $0.parents = [ref] }], caller)
        }
    }
}
