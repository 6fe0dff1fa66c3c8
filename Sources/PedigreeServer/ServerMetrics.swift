import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PedigreeCore
import PedigreeStore
import Prometheus

/// Prometheus metrics: requests and latency by route, events ingested, store size. Kept in a registry of
/// the application's own (not the process-global metrics system), so every test builds an independent app.
public final class ServerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let eventsStored: Counter
    private let eventsDuplicate: Counter
    private let eventsRejected: Counter

    public init() {
        eventsStored = registry.makeCounter(descriptor: .init(metricName: "pedigree_events_stored_total", helpText: "Events appended to the log"))
        eventsDuplicate = registry.makeCounter(
            descriptor: .init(metricName: "pedigree_events_duplicate_total", helpText: "Re-delivered events acknowledged without storing"))
        eventsRejected = registry.makeCounter(descriptor: .init(metricName: "pedigree_events_rejected_total", helpText: "Events rejected as invalid"))
    }

    func recorded(_ outcomes: [AppendOutcome]) {
        let duplicates = outcomes.filter(\.duplicate).count
        eventsStored.increment(by: Int64(outcomes.count - duplicates))
        eventsDuplicate.increment(by: Int64(duplicates))
    }

    func rejected(_ count: Int) { eventsRejected.increment(by: Int64(count)) }

    func request(route: String, method: String, status: Int, duration: Duration) {
        registry.makeCounter(
            descriptor: .init(metricName: "pedigree_http_requests_total", helpText: "HTTP requests by route, method and status"),
            labels: [("route", route), ("method", method), ("status", String(status))]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: .init(metricName: "pedigree_http_request_duration_seconds", helpText: "HTTP request latency by route"),
            labels: [("route", route), ("method", method)],
            buckets: [.microseconds(250), .milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(2)]
        ).record(duration)
    }

    /// The exposition text, with the store's size read at scrape time.
    func exposition(_ statistics: StoreStatistics) -> [UInt8] {
        for (name, help, value) in [
            ("pedigree_store_events", "Events in the log", statistics.events), ("pedigree_store_nodes", "Nodes in the graph", statistics.nodes),
            ("pedigree_store_edges", "Edges in the graph", statistics.edges), ("pedigree_store_bytes", "Size of the store on disk", statistics.bytes),
        ] {
            registry.makeGauge(descriptor: .init(metricName: name, helpText: help)).set(Double(value))
        }
        return registry.emitToBuffer()
    }
}

/// Counts and times every request under its route pattern (`/api/v1/namespaces/{namespace}/jobs`), never
/// its raw path, so label cardinality stays bounded.
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = PedigreeRequestContext
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            metrics.request(
                route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: response.status.code, duration: .now - start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.request(route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: status, duration: .now - start)
            throw error
        }
    }
}

/// One log line per request, when it ends: method, path, status and latency, under the request's id (which
/// every other line about the request carries too). Query strings are left out: they hold references, not
/// secrets, but they are long; the route and status say what happened.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = PedigreeRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        func log(_ status: Int) {
            let elapsed = ContinuousClock.now - start
            let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            context.logger.info(
                "\(request.method) \(request.uri.path) \(status)",
                metadata: ["status": "\(status)", "ms": "\(String(format: "%.2f", milliseconds))", "route": "\(context.endpointPath ?? "unmatched")"])
        }
        do {
            let response = try await next(request, context)
            log(response.status.code)
            return response
        } catch {
            log((error as? any HTTPResponseError)?.status.code ?? 500)
            throw error
        }
    }
}
