import PedigreeCore

/// Experiments. Each is an `experiment:NS/ID` artifact whose versions are its revisions; experiment "0"
/// (Default) exists in every namespace without being recorded, as the client creates runs in it directly.
extension MLflowService {
    public static let defaultExperimentID = "0"

    func experiment(_ id: String, _ state: MLflowState, _ caller: MLflowCaller) throws -> MLflowState.Experiment {
        if id == Self.defaultExperimentID {
            return MLflowState.Experiment(
                id: id, namespace: caller.namespace, name: "Default", artifactLocation: "mlflow-artifacts:/0", creationTime: 0, lastUpdateTime: 0)
        }
        return try readable(state.experiments[id], namespace: \.namespace, caller, missing: "No Experiment with id=\(id) exists")
    }

    func experimentRef(_ experiment: MLflowState.Experiment) -> ArtifactRef {
        ArtifactRef(kind: "experiment", namespace: experiment.namespace, name: experiment.id, version: String(experiment.revision + 1))
    }

    public func createExperiment(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let name = try request.string("name")
        let tags = Self.redacted(try request.tags("tags"))
        let location = try request.optionalString("artifact_location").map(SecretRedactor.stripURLCredentials)
        try requireWrite(caller.namespace, caller)
        return try await write { state in
            if state.experiments.values.contains(where: { $0.namespace == caller.namespace && $0.name == name }) || name == "Default" {
                throw MLflowError(.resourceAlreadyExists, "Experiment(name=\(name)) already exists.")
            }
            var id: String
            repeat { id = String(UInt64.random(in: 100_000_000_000...999_999_999_999)) } while state.experiments[id] != nil
            var record = MLflowRecord(.createExperiment, time: Self.now())
            record.id = id
            record.name = name
            record.tags = tags.isEmpty ? nil : tags
            record.artifactLocation = location.flatMap { $0.isEmpty ? nil : $0 }
            try await self.record(
                [Self.artifactEvent(record, ref: ArtifactRef(kind: "experiment", namespace: caller.namespace, name: id, version: "1"))], caller)
            return ["experiment_id": .string(id)]
        }
    }

    public func getExperiment(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let id = try request.string("experiment_id")
        let state = try await current()
        return ["experiment": try experiment(id, state, caller).wire]
    }

    public func getExperimentByName(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let name = try request.string("experiment_name")
        let state = try await current()
        if name == "Default" { return ["experiment": try experiment(Self.defaultExperimentID, state, caller).wire] }
        // Names are unique within a namespace: the caller's own first, then the others in order, so every
        // replica answers the same.
        let candidates = state.experiments.values.filter { $0.name == name && caller.mayRead($0.namespace) }
        guard
            let found = candidates.min(by: {
                ($0.namespace == caller.namespace ? 0 : 1, $0.namespace) < ($1.namespace == caller.namespace ? 0 : 1, $1.namespace)
            })
        else { throw MLflowError.notFound("Could not find experiment with name '\(name)'") }
        return ["experiment": found.wire]
    }

    public func searchExperiments(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let filter = try Self.filter(request)
        let orders = try Self.orders(request)
        let view = try ViewType(try request.optionalString("view_type"))
        let state = try await current()
        var experiments = state.experiments.values.filter { caller.mayRead($0.namespace) && view.includes(deleted: $0.deleted) }
        if view.includes(deleted: false) { experiments.append(try experiment(Self.defaultExperimentID, state, caller)) }
        let matching = experiments.filter { e in filter.matches { entity, key in e.field(entity, key) } }
        let sorted = Self.sort(
            matching, by: orders.isEmpty ? [SearchOrder(entity: .attribute, key: "last_update_time", ascending: false)] : orders
        ) { e, entity, key in
            e.field(entity, key).first
        } tieBreak: {
            $0.id > $1.id
        }
        let page = try Page(request, defaultSize: 1000, maximum: 50000)
        return page.answer(sorted, key: "experiments") { $0.wire }
    }

    public func updateExperiment(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let id = try request.string("experiment_id")
        let newName = try request.string("new_name")
        return try await changeExperiment(id, .updateExperiment, caller) { state, record in
            let namespace = state.experiments[id]?.namespace
            if state.experiments.values.contains(where: { $0.namespace == namespace && $0.name == newName && $0.id != id }) {
                throw MLflowError(.resourceAlreadyExists, "Experiment(name=\(newName)) already exists.")
            }
            record.newName = newName
        }
    }

    public func deleteExperiment(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        try await changeExperiment(try request.string("experiment_id"), .deleteExperiment, caller) { _, _ in }
    }

    public func restoreExperiment(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        try await changeExperiment(try request.string("experiment_id"), .restoreExperiment, caller) { _, _ in }
    }

    public func setExperimentTag(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let key = try request.string("key")
        try MLflowLimits.checkKey(key, what: "tag")
        let value = Self.redacted([.init(key: key, value: try request.optionalString("value") ?? "")])[0].value
        try MLflowLimits.checkValue(value, key: key, limit: MLflowLimits.tagValue)
        return try await changeExperiment(try request.string("experiment_id"), .setExperimentTag, caller) { _, record in
            record.key = key
            record.value = value
        }
    }

    public func deleteExperimentTag(_ request: MLflowRequest, _ caller: MLflowCaller) async throws -> JSONValue {
        let key = try request.string("key")
        return try await changeExperiment(try request.string("experiment_id"), .deleteExperimentTag, caller) { _, record in record.key = key }
    }

    private func changeExperiment(
        _ id: String, _ op: MLflowRecord.Operation, _ caller: MLflowCaller, _ fill: (MLflowState, inout MLflowRecord) throws -> Void
    ) async throws -> JSONValue {
        guard id != Self.defaultExperimentID else {
            throw MLflowError(.invalidParameterValue, "The Default experiment (id 0) cannot be changed on this server")
        }
        return try await write { state in
            let experiment = try self.experiment(id, state, caller)
            try self.requireWrite(experiment.namespace, caller)
            var record = MLflowRecord(op, time: Self.now())
            record.id = id
            try fill(state, &record)
            try await self.record([Self.artifactEvent(record, ref: self.experimentRef(experiment))], caller)
            return [:]
        }
    }
}

/// `view_type` / `run_view_type`: ACTIVE_ONLY (the default), DELETED_ONLY or ALL.
struct ViewType {
    let active: Bool
    let deleted: Bool

    init(_ text: String?) throws {
        switch text?.uppercased() {
        case nil, "", "ACTIVE_ONLY", "1": (active, deleted) = (true, false)
        case "DELETED_ONLY", "2": (active, deleted) = (false, true)
        case "ALL", "3": (active, deleted) = (true, true)
        case let other?: throw MLflowError.invalid("Invalid view type '\(other)': use ACTIVE_ONLY, DELETED_ONLY or ALL")
        }
    }

    func includes(deleted isDeleted: Bool) -> Bool { isDeleted ? deleted : active }
}

/// `max_results` and `page_token` (an offset, opaque to the client).
struct Page {
    let size: Int
    let offset: Int

    init(_ request: MLflowRequest, defaultSize: Int, maximum: Int) throws {
        let requested = try request.int("max_results") ?? Int64(defaultSize)
        guard requested >= 1, requested <= Int64(maximum) else {
            throw MLflowError.invalid("Invalid value \(requested) for parameter 'max_results': it must be at most \(maximum) and at least 1")
        }
        size = Int(requested)
        if let token = try request.optionalString("page_token"), !token.isEmpty {
            guard let decoded = Int(token), (0...Int(Int32.max)).contains(decoded) else { throw MLflowError.invalid("Invalid page token '\(token)'") }
            offset = decoded
        } else {
            offset = 0
        }
    }

    func answer<T>(_ items: [T], key: String, _ wire: (T) -> JSONValue) -> JSONValue {
        let slice = items.dropFirst(offset).prefix(size)
        var out: [String: JSONValue] = [key: .array(slice.map(wire))]
        if items.count - min(offset, items.count) > size { out["next_page_token"] = .string(String(offset + size)) }
        return .object(out)
    }
}

extension MLflowService {
    /// Sorts by the `order_by` terms, then by `tieBreak`, as MLflow does.
    static func sort<T>(
        _ items: [T], by orders: [SearchOrder], field: (T, SearchFilter.Entity, String) -> SearchFilter.Field?, tieBreak: (T, T) -> Bool
    ) -> [T] {
        items.sorted { a, b in
            for order in orders {
                if let answer = SearchOrder.compare(field(a, order.entity, order.key), field(b, order.entity, order.key), ascending: order.ascending)
                {
                    return answer
                }
            }
            return tieBreak(a, b)
        }
    }

    static func orders(_ request: MLflowRequest) throws -> [SearchOrder] {
        try request.strings("order_by").map { text throws in
            do throws(SearchSyntaxError) { return try SearchOrder(text) } catch {
                throw MLflowError.invalid("Invalid order_by clause '\(text)': \(error)")
            }
        }
    }

    static func filter(_ request: MLflowRequest, key: String = "filter") throws -> SearchFilter {
        let text = try request.optionalString(key)
        do throws(SearchSyntaxError) { return try SearchFilter(text) } catch { throw MLflowError.invalid("Invalid filter '\(text ?? "")': \(error)") }
    }
}
