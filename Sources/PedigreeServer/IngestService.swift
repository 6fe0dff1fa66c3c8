import HTTPTypes
import PedigreeCore
import PedigreeMLflow
import PedigreeStore

/// The server's one way to store events, whichever API they came through (native, OpenLineage, and the
/// ones to come): check the caller may write every namespace involved, append through the store's single
/// write path (which re-validates each event), count the outcome.
struct IngestService: Sendable {
    let store: any LineageWriting
    let tokens: any TokenStore
    let metrics: ServerMetrics

    /// All the events, in one transaction, or none. `mlflow` records (the `mlflow` facet of runs and artifacts,
    /// the `mlflow` key of a deployment's config) are accepted only from the MLflow API, which checked them.
    func append(_ events: [LineageEvent], as identity: Identity, fromMLflowAPI: Bool = false) async throws -> [AppendOutcome] {
        if !fromMLflowAPI { try Self.refuseMLflowRecords(events) }
        for namespace in Set(events.map(\.namespace)).sorted() { try identity.requireWrite(namespace) }
        let outcomes = try await store.append(events, recordedBy: identity.name, authority: try await authority(of: identity))
        metrics.recorded(outcomes)
        return outcomes
    }

    static func refuseMLflowRecords(_ events: [LineageEvent]) throws {
        guard let event = events.first(where: MLflowState.carriesRecord) else { return }
        let field =
            switch event.payload {
            case .run: "run.facets.mlflow"
            case .artifact: "artifact.facets.mlflow"
            case .deployment: "deployment.config.mlflow"
            case .retirement: "retirement"
            case .checkpoint: "checkpoint"
            case .signature: "signature"
            case .redaction: "redaction"
            }
        throw APIError(
            .unprocessableContent, code: "invalid", "is reserved for the records of the MLflow API (/api/2.0/mlflow); use another facet name",
            field: field)
    }

    /// A document that could not be turned into events: counted, then reported to the caller.
    func rejected(_ count: Int) { metrics.rejected(count) }

    /// Where `identity` may create artifacts when it appends: namespaces it can write, and namespaces no
    /// team has claimed with tokens (OpenLineage's `s3://bucket`-style dataset namespaces are shared ground).
    func authority(of identity: Identity) async throws -> WriteAuthority {
        guard let token = identity.token else { return .unrestricted }
        let claimed = try await tokens.claimedNamespaces()
        return WriteAuthority { namespace in token.allows(.writer, in: namespace) || !claimed.contains(namespace) }
    }

    /// Items decoded on their own (a batch): the valid ones are stored together when they can be, each on
    /// its own when one of them conflicts with the store; failures are reported by index.
    func appendEach(_ items: [BatchItem], as identity: Identity) async throws -> BatchOutcome {
        var outcome = BatchOutcome(received: items.count)
        var accepted: [(index: Int, events: [LineageEvent])] = []
        for item in items {
            switch item.events {
            case .success(let events):
                do {
                    try Self.refuseMLflowRecords(events)
                    for namespace in Set(events.map(\.namespace)) { try identity.requireWrite(namespace) }
                    accepted.append((item.index, events))
                } catch {
                    outcome.failures.append((item.index, error))
                }
            case .failure(let error):
                outcome.failures.append((item.index, error))
            }
        }
        let authority = try await authority(of: identity)
        do {
            metrics.recorded(try await store.append(accepted.flatMap(\.events), recordedBy: identity.name, authority: authority))
            outcome.stored = accepted.count
        } catch let error as StoreError where error.code == .unavailable {
            // Not the events' fault: the caller answers 503, so clients retry instead of dropping them.
            throw error
        } catch {
            for item in accepted {
                do {
                    metrics.recorded(try await store.append(item.events, recordedBy: identity.name, authority: authority))
                    outcome.stored += 1
                } catch let error as StoreError where error.code == .unavailable {
                    // The store went away part-way: 503 for the whole batch, which clients retry (stored
                    // events are acknowledged as duplicates then).
                    throw error
                } catch {
                    outcome.failures.append((item.index, error))
                }
            }
        }
        outcome.failures.sort { $0.index < $1.index }
        metrics.rejected(outcome.failures.count)
        return outcome
    }
}

/// One element of a batch, decoded into events or not.
struct BatchItem {
    let index: Int
    let events: Result<[LineageEvent], any Error>
}

struct BatchOutcome {
    let received: Int
    var stored = 0
    var failures: [(index: Int, error: any Error)] = []

    init(received: Int) { self.received = received }
}
