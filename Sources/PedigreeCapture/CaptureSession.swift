import Foundation
import PedigreeCore
import PedigreeStore

/// Records what capture produced — a training run's START and COMPLETE events now, a deployment's and the
/// Python library's later — to its destination, or spools it when the destination cannot be reached.
/// Capture never blocks or breaks what it observes: every failure becomes a notice, never an error.
///
/// Events reach the destination in the order they were captured: while anything is spooled for it, a new
/// event is recorded only after the spool has been delivered (a run's COMPLETE must not overtake its START,
/// or the run would be projected as started again).
public actor CaptureSession {
    /// Where events go; nil when it could not even be opened (then everything is spooled).
    public let destination: (any EventDestination)?
    /// How the spool names the destination: `destination.spoolKey`, or the key it would have.
    public nonisolated let spoolKey: String
    public nonisolated let spool: EventSpool
    public nonisolated let identity: String
    /// Where notices go (the CLI: standard error).
    private let notice: @Sendable (String) -> Void
    /// When the destination last could not be reached. Within `retryAfter` of that, events are spooled
    /// without waiting for it again: a run must not pay a connection timeout for each event and query in a
    /// row, but a run that lasts hours tries again at its end.
    private var lastFailure: ContinuousClock.Instant?
    private let retryAfter: Duration

    public var destinationIsDown: Bool {
        guard let lastFailure else { return false }
        return ContinuousClock.now - lastFailure < retryAfter
    }

    public init(
        destination: (any EventDestination)?, spoolKey: String, spool: EventSpool, identity: String, retryAfter: Duration = .seconds(30),
        notice: @escaping @Sendable (String) -> Void
    ) {
        self.retryAfter = retryAfter
        self.destination = destination
        self.spoolKey = destination?.spoolKey ?? spoolKey
        self.spool = spool
        self.identity = identity
        self.notice = notice
    }

    public enum Outcome: Sendable, Equatable {
        case recorded, spooled, rejected, lost
    }

    /// Tells the session its destination just failed to answer (a lookup made on the side, such as finding a
    /// parent model by digest), so what follows does not wait for it again.
    public func noteUnavailable() { lastFailure = .now }

    /// Delivers what was spooled for this destination, oldest first.
    public func deliverPending() async {
        guard let destination, !destinationIsDown, spool.hasPending(for: spoolKey) else { return }
        let delivery = await spool.deliver(to: destination)
        if delivery.stoppedUnavailable { lastFailure = .now }
        if delivery.events > 0 { notice("delivered \(delivery.events) spooled event\(delivery.events == 1 ? "" : "s") to \(spoolKey)") }
        for rejection in delivery.rejected { notice("rejected spooled events (kept in \(spool.directory.path)/rejected): \(rejection)") }
        if let refused = delivery.refused { notice("spooled events kept: \(refused)") }
    }

    @discardableResult
    public func record(_ event: LineageEvent) async -> Outcome {
        if let destination, !destinationIsDown {
            await deliverPending()
            if !destinationIsDown, !spool.hasPending(for: spoolKey) {
                do {
                    _ = try await destination.append([event], recordedBy: identity)
                    return .recorded
                } catch let error as StoreError where error.code == .invalid || error.code == .conflict {
                    notice("the store rejected the \(event.typeName) event: \(error)")
                    return .rejected
                } catch let error as StoreError where error.code != .unavailable {
                    // Refused, not invalid (a token the server does not accept): kept for when it is fixed.
                    notice("the store refused the \(event.typeName) event (\(error)); spooling")
                } catch {
                    lastFailure = .now
                    notice("the store is unavailable (\(error)); spooling")
                }
            }
        }
        do {
            try spool.spool([event], for: spoolKey, recordedBy: identity)
            notice("spooled \(event.typeName) event \(event.digest) for \(spoolKey) in \(spool.directory.path); `pedigree sync` delivers it")
            return .spooled
        } catch {
            notice("could not spool the event either (\(error)); its lineage is lost")
            return .lost
        }
    }
}
