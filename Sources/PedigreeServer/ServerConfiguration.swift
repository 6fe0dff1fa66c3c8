import Foundation
import PedigreeCore

/// Everything `pedigree serve` can be told, read in one place: flags first, then environment variables,
/// then defaults.
public struct ServerConfiguration: Sendable {
    public enum AuthMode: String, Sendable, CaseIterable {
        /// On when the server binds beyond loopback, off on loopback.
        case auto
        case on
        case off
    }

    public var host = "127.0.0.1"
    public var port = 8750
    public var storePath: String
    public var auth = AuthMode.auto
    /// The largest request body accepted (after decompression), in bytes.
    public var maxBodyBytes = 16 << 20
    public var logLevel = "info"
    /// Where uploaded MLflow artifacts are stored by content; nil: the MLflow artifact routes refuse uploads.
    public var artifactsDirectory: String?
    /// The namespace MLflow experiments and registered models go into when the caller's token does not name
    /// one (no token, or a `*` token).
    public var mlflowNamespace = "default"
    /// The key audits trust to have signed checkpoints.
    public var checkpointPublicKey: TrustedKey?

    public init(storePath: String) {
        self.storePath = storePath
    }

    /// Applies `PEDIGREE_HOST`, `PEDIGREE_PORT`, `PEDIGREE_AUTH`, `PEDIGREE_MAX_BODY`, `PEDIGREE_LOG_LEVEL`,
    /// `PEDIGREE_ARTIFACTS` and `PEDIGREE_MLFLOW_NAMESPACE`; flags applied afterwards override them.
    public mutating func apply(environment: [String: String]) throws {
        if let host = environment["PEDIGREE_HOST"], !host.isEmpty { self.host = host }
        if let text = environment["PEDIGREE_PORT"], !text.isEmpty {
            guard let port = Int(text), (0...65535).contains(port) else { throw ConfigurationError("PEDIGREE_PORT='\(text)' is not a port number") }
            self.port = port
        }
        if let text = environment["PEDIGREE_AUTH"], !text.isEmpty {
            guard let auth = AuthMode(rawValue: text) else { throw ConfigurationError("PEDIGREE_AUTH='\(text)' must be auto, on or off") }
            self.auth = auth
        }
        if let text = environment["PEDIGREE_MAX_BODY"], !text.isEmpty {
            guard let bytes = Int(text), bytes > 0 else { throw ConfigurationError("PEDIGREE_MAX_BODY='\(text)' must be a number of bytes") }
            maxBodyBytes = bytes
        }
        if let level = environment["PEDIGREE_LOG_LEVEL"], !level.isEmpty { logLevel = level }
        if let directory = environment["PEDIGREE_ARTIFACTS"], !directory.isEmpty { artifactsDirectory = directory }
        if let namespace = environment["PEDIGREE_MLFLOW_NAMESPACE"], !namespace.isEmpty { mlflowNamespace = namespace }
    }

    /// Whether requests need a token: always when asked, and by default whenever the server is reachable
    /// from other machines.
    public var requiresAuth: Bool {
        switch auth {
        case .on: true
        case .off: false
        case .auto: !Self.isLoopback(host)
        }
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}

public struct ConfigurationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
