import Foundation
import PedigreeCore

/// Gathers appends that arrive while a write is in progress and hands them to the store as one group.
/// The first request of a quiet moment is written at once (no added latency); requests that arrive
/// meanwhile wait for the next group instead of each waiting for its own transaction and fsync.
final class GroupCommit: @unchecked Sendable {
    struct Request {
        let append: AppendRequest
        let continuation: CheckedContinuation<[AppendOutcome], any Error>
    }

    weak var store: (any GroupCommitting)?
    private let lock = NSLock()
    private var pending: [Request] = []
    private var draining = false

    func append(_ events: [LineageEvent], recordedBy identity: String, authority: WriteAuthority) async throws -> [AppendOutcome] {
        try await withCheckedThrowingContinuation { continuation in
            let startDrain = lock.withLock {
                pending.append(Request(append: AppendRequest(events: events, identity: identity, authority: authority), continuation: continuation))
                defer { draining = true }
                return !draining
            }
            if startDrain { Task { await drain() } }
        }
    }

    private func drain() async {
        while true {
            let group: [Request] = lock.withLock {
                let group = pending
                pending = []
                if group.isEmpty { draining = false }
                return group
            }
            if group.isEmpty { return }
            guard let store else {
                group.forEach { $0.continuation.resume(throwing: StoreError(.unavailable, "the store was closed")) }
                continue
            }
            do {
                let results = try await store.appendGroup(group.map(\.append))
                for (request, result) in zip(group, results) { request.continuation.resume(with: result) }
            } catch {
                group.forEach { $0.continuation.resume(throwing: error) }
            }
        }
    }
}

/// A store that writes a group of appends in one transaction, each all or nothing.
protocol GroupCommitting: AnyObject, Sendable {
    func appendGroup(_ requests: [AppendRequest]) async throws -> [Result<[AppendOutcome], any Error>]
}
