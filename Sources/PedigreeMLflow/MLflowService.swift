import Foundation
import PedigreeCore
import PedigreeStore

/// Who is calling the MLflow API, as the server decided: the name recorded as the writer, the namespace new
/// experiments and registered models go into, what may be read and written, and the server's one write path.
public struct MLflowCaller: Sendable {
    public let name: String
    public let namespace: String
    public let mayRead: @Sendable (String) -> Bool
    public let mayWrite: @Sendable (String) -> Bool
    public let append: @Sendable ([LineageEvent]) async throws -> Void

    public init(
        name: String, namespace: String, mayRead: @escaping @Sendable (String) -> Bool, mayWrite: @escaping @Sendable (String) -> Bool,
        append: @escaping @Sendable ([LineageEvent]) async throws -> Void
    ) {
        self.name = name
        self.namespace = namespace
        self.mayRead = mayRead
        self.mayWrite = mayWrite
        self.append = append
    }
}

/// The MLflow tracking and registry API over the event log. Each write is checked against the folded state,
/// recorded as events through the caller's write path, and then read back from the log like any other
/// server's write would be; each read first folds whatever the log gained (another replica may have written).
/// Writes take turns, so the check and the record of one cannot interleave with another's.
public actor MLflowService {
    let store: any LineageQuerying
    public nonisolated let blobs: ArtifactBlobs
    private(set) var state = MLflowState()
    /// The bodies of events this server appended and has not folded yet: folded without parsing them again.
    private var appended: [ContentDigest: JSONValue] = [:]
    /// Whether a record this server appended in the current write did not apply when folded.
    private var lostRace = false
    private var writing = false
    private var waitingWriters: [CheckedContinuation<Void, Never>] = []

    public init(store: any LineageQuerying, blobs: ArtifactBlobs) {
        self.store = store
        self.blobs = blobs
    }

    /// The state with everything the log holds folded in.
    public func current() async throws -> MLflowState {
        try await catchUp()
        return state
    }

    /// Folds the log from where the state stands. Concurrent callers fold each event once: the actor runs
    /// one fold step at a time, and events the state already holds are skipped.
    func catchUp() async throws {
        while true {
            let page = try await store.events(afterSequence: state.sequence, limit: 2000)
            for event in page where event.sequence > state.sequence {
                let own = appended.removeValue(forKey: event.digest)
                if !state.fold(event, body: own), own != nil { lostRace = true }
            }
            if page.count < 2000 { return }
        }
    }

    /// Runs a write with the state current and no other write in between.
    func write<T: Sendable>(_ body: (MLflowState) async throws -> T) async throws -> T {
        if writing {
            await withCheckedContinuation { waitingWriters.append($0) }
        } else {
            writing = true
        }
        defer {
            if waitingWriters.isEmpty { writing = false } else { waitingWriters.removeFirst().resume() }
        }
        try await catchUp()
        lostRace = false
        let result = try await body(state)
        // The write is stored; if reading it back fails, the next request folds it.
        try? await catchUp()
        appended.removeAll()
        if lostRace {
            // Another replica changed the same object first, so this record was skipped: the client's retry
            // (MLflow retries 503) sees the state as it now is.
            throw MLflowError(.temporarilyUnavailable, "another server changed this object at the same moment; retry the request")
        }
        return result
    }

    // MARK: Building events

    static let producer = "pedigree-mlflow-api"

    static func now() -> Int64 { Timestamp.now.microseconds / 1000 }

    static func timestamp(ms: Int64) -> Timestamp { Timestamp(microseconds: ms * 1000) }

    /// A run event carrying the record; `build` fills in what it means for lineage.
    static func runEvent(
        _ record: MLflowRecord?, namespace: String, id: String, job: String, _ build: (inout RunRecord) -> Void = { _ in }
    )
        -> LineageEvent
    {
        var run = RunRecord(id: id, job: job)
        build(&run)
        if let record { run.facets["mlflow"] = record.json }
        return LineageEvent(namespace: namespace, eventTime: .now, producer: producer, payload: .run(run))
    }

    /// An artifact event carrying the record: experiments, registered models and model versions.
    static func artifactEvent(
        _ record: MLflowRecord, ref: ArtifactRef, digest: ContentDigest? = nil, aliases: [String] = [], uri: String? = nil
    ) -> LineageEvent {
        let spec = ArtifactSpec(ref: ref, digest: digest, aliasDigests: aliases, uri: uri, facets: ["mlflow": record.json])
        return LineageEvent(namespace: ref.namespace, eventTime: .now, producer: producer, payload: .artifact(spec))
    }

    /// A registry move (alias or stage) as a deployment, so `pedigree history` answers what it pointed to when.
    static func registryMove(_ record: MLflowRecord, endpoint: String, model: ArtifactRef) -> LineageEvent {
        let deployment = DeploymentRecord(endpoint: endpoint, model: model, config: ["mlflow": record.json], validFrom: timestamp(ms: record.time))
        return LineageEvent(namespace: model.namespace, eventTime: .now, producer: producer, payload: .deployment(deployment))
    }

    // MARK: Access

    func readable<T>(_ value: T?, namespace: (T) -> String, _ caller: MLflowCaller, missing: @autoclosure () -> String) throws -> T {
        guard let value, caller.mayRead(namespace(value)) else { throw MLflowError.notFound(missing()) }
        return value
    }

    func requireWrite(_ namespace: String, _ caller: MLflowCaller) throws {
        guard caller.mayWrite(namespace) else {
            throw MLflowError(.permissionDenied, "this token may read namespace \(namespace) but not write to it")
        }
    }

    /// Appends through the caller's write path, with store errors in MLflow's terms.
    func record(_ events: [LineageEvent], _ caller: MLflowCaller) async throws {
        do {
            try await caller.append(events)
            for event in events { appended[event.digest] = event.body }
        } catch let error as StoreError {
            throw MLflowError(store: error)
        } catch let error as ValidationError {
            throw MLflowError(.invalidParameterValue, error.description)
        }
    }
}
