import Foundation
import Hummingbird
import Logging
import PedigreeCore
import PedigreeMLflow
import PedigreeStore
import ServiceLifecycle
import UnixSignals

/// Builds the whole application from its dependencies, so `pedigree serve` and the tests run the same app.
public enum PedigreeServer {
    public static func buildRouter(
        store: any LineageStore, tokens: any TokenStore, configuration: ServerConfiguration, metrics: ServerMetrics = ServerMetrics()
    ) -> Router<PedigreeRequestContext> {
        let router = Router(context: PedigreeRequestContext.self)
        // Errors become their HTTP answers inside the metrics and the request log, so both count a 404 as a 404
        // (outside them, every domain error was counted and logged as a 500).
        router.add(middleware: MetricsMiddleware(metrics: metrics))
        router.add(middleware: RequestLogMiddleware())
        router.add(middleware: ErrorMappingMiddleware())
        router.add(middleware: AuthMiddleware(tokens: tokens, required: configuration.requiresAuth, maxBodyBytes: configuration.maxBodyBytes))
        let ingest = IngestService(store: store, tokens: tokens, metrics: metrics)
        router.addRoutes(LineageAPI(store: store, ingest: ingest, trustedKey: configuration.checkpointPublicKey).routes)
        router.addRoutes(OpenLineageAPI(store: store, ingest: ingest).routes)
        router.addRoutes(AdminAPI(store: store, tokens: tokens, metrics: metrics).routes)
        router.addRoutes(
            WebUI(store: store, tokens: tokens, trustedKey: configuration.checkpointPublicKey, authRequired: configuration.requiresAuth).routes)
        let blobs = ArtifactBlobs(
            root: URL(
                fileURLWithPath: configuration.artifactsDirectory
                    ?? FileManager.default.temporaryDirectory.appendingPathComponent("pedigree-unused").path))
        let mlflow = MLflowAPI(
            service: MLflowService(store: store, blobs: blobs), ingest: ingest, defaultNamespace: configuration.mlflowNamespace,
            artifactsEnabled: configuration.artifactsDirectory != nil)
        router.addRoutes(mlflow.routes)
        // The tracking address `pedigree run` gives the script it wraps: the same API, joined to that run.
        router.addRoutes(mlflow.routes, atPath: "/mlflow/run/{wrapped}")
        return router
    }

    public static func buildApplication(
        store: any LineageStore & TokenStore, configuration: ServerConfiguration, logger: Logger
    ) -> some ApplicationProtocol {
        Application(
            router: buildRouter(store: store, tokens: store, configuration: configuration),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "pedigree"),
            logger: logger)
    }

    /// Serves until SIGTERM or SIGINT, then stops accepting connections and lets in-flight requests —
    /// appends included — finish before exiting.
    public static func run(store: any LineageStore & TokenStore, configuration: ServerConfiguration) async throws {
        var logger = Logger(label: "pedigree.server")
        logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
        let app = buildApplication(store: store, configuration: configuration, logger: logger)
        logger.info(
            "pedigree serve",
            metadata: [
                "address": "\(configuration.host):\(configuration.port)", "store": "\(configuration.storePath)",
                "auth": "\(configuration.requiresAuth ? "on" : "off")", "artifacts": "\(configuration.artifactsDirectory ?? "none")",
            ])
        // A store with connections to manage (PostgreSQL) runs beside the app and is shut down after it.
        let services: [any Service] = [store as? any Service, app].compactMap { $0 }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
