import ArgumentParser
import Foundation
import PedigreeCore
import PedigreeServer
import PedigreeStore

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the lineage server: REST API, OpenLineage endpoint, Marquez-compatible reads, metrics.",
        discussion: """
            Binds to 127.0.0.1 unless told otherwise. Auth is on whenever the server binds beyond loopback (and \
            with --auth on); create tokens with `pedigree token create`. Settings come from flags, then \
            PEDIGREE_HOST, PEDIGREE_PORT, PEDIGREE_AUTH, PEDIGREE_MAX_BODY, PEDIGREE_LOG_LEVEL, PEDIGREE_ARTIFACTS, \
            PEDIGREE_MLFLOW_NAMESPACE, then defaults.

            The MLflow tracking and registry API is served too: point MLFLOW_TRACKING_URI at this server. Uploaded \
            artifacts are stored by content under --artifacts (default: beside a SQLite store, or \
            ~/.pedigree/artifacts); experiments go into the namespace of the caller's token, or --mlflow-namespace.

            Example: pedigree serve --host 0.0.0.0 --port 8750
            """)

    @Option(help: "Address to bind (default 127.0.0.1).")
    var host: String?
    @Option(help: "Port (default 8750).")
    var port: Int?
    @Option(help: "Require tokens: auto (when not on loopback), on or off.")
    var auth: ServerConfiguration.AuthMode?
    @Option(name: .customLong("max-body"), help: "Largest request body in bytes, after decompression (default 16 MiB).")
    var maxBody: Int?
    @Option(help: ArgumentHelp("Where uploaded MLflow artifacts are stored (default: beside a SQLite store).", valueName: "directory"))
    var artifacts: String?
    @Option(
        name: .customLong("mlflow-namespace"),
        help: "The namespace of MLflow experiments created without a namespace token (default: default).")
    var mlflowNamespace: String?
    @Option(
        name: .customLong("checkpoint-public-key"),
        help: ArgumentHelp("The checkpoint signer audits trust (PEM; default: this machine's checkpoint key, when there is one).", valueName: "pem"))
    var checkpointPublicKey: String?
    @OptionGroup var storeOptions: StoreOptions

    func validate() throws {
        if let port, !(0...65535).contains(port) {
            throw ArgumentParser.ValidationError("--port must be from 0 (any free port) to 65535, not \(port)")
        }
        if let maxBody, maxBody <= 0 { throw ArgumentParser.ValidationError("--max-body must be a positive number of bytes") }
    }

    func run() async throws {
        var configuration = ServerConfiguration(storePath: storeOptions.displayLocation)
        do {
            try configuration.apply(environment: ProcessInfo.processInfo.environment)
            if let host { configuration.host = host }
            if let port { configuration.port = port }
            if let auth { configuration.auth = auth }
            if let maxBody { configuration.maxBodyBytes = maxBody }
            if let artifacts { configuration.artifactsDirectory = artifacts }
            if let mlflowNamespace { configuration.mlflowNamespace = mlflowNamespace }
            configuration.checkpointPublicKey = try CheckpointKey.trusted(checkpointPublicKey)
            _ = try Namespace(configuration.mlflowNamespace, field: "--mlflow-namespace")
            configuration.artifactsDirectory = configuration.artifactsDirectory ?? defaultArtifactsDirectory
        } catch {
            warn("\(error)")
            throw ExitCode(2)
        }
        try await reportingErrors {
            // The server runs the store as a service of its own (a PostgreSQL pool must outlive the requests).
            try storeOptions.requireStoreItself("serve")
            // Opened once first to check (or, for SQLite, create and migrate) its schema: a server refuses a
            // schema it would misread before it accepts any request.
            try await StoreLocation.withStore(storeOptions.resolvedPath) { _ in }
            let store = try StoreLocation.open(storeOptions.resolvedPath)
            do {
                try await PedigreeServer.run(store: store, configuration: configuration)
            } catch  where "\(error)".contains("errno: \(EADDRINUSE)") || "\(error)".contains("Address already in use") {
                warn(
                    "cannot listen on \(configuration.host):\(configuration.port): the port is in use (another pedigree serve?); choose another with --port"
                )
                throw ExitCode(Self.portInUse)
            }
        }
    }

    /// `pedigree.artifacts/` beside a SQLite store file; for a PostgreSQL store, in Pedigree's home directory.
    var defaultArtifactsDirectory: String {
        let location = storeOptions.resolvedPath
        if location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") {
            return PedigreeDirectories.home.appendingPathComponent("artifacts").path
        }
        let file = URL(fileURLWithPath: location).standardizedFileURL
        return file.deletingPathExtension().path + ".artifacts"
    }

    /// The exit code for a port that is already taken: not bad input, not the store — its own code.
    static let portInUse: Int32 = 7
}

extension ServerConfiguration.AuthMode: ExpressibleByArgument {}
