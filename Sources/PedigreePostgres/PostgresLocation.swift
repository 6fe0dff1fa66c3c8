import Foundation
import NIOSSL
import PedigreeStore
import PostgresNIO

/// Where a PostgreSQL store is: a `postgres://` URL as libpq understands it.
///
///     postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require|verify-full]
///     postgres://USER@/DATABASE?host=/var/run/postgresql        (a Unix socket directory, as libpq)
///
/// The password may instead come from `PGPASSWORD`, which keeps it out of process listings.
public struct PostgresLocation: Sendable, CustomStringConvertible {
    public let configuration: PostgresClient.Configuration
    /// The same target for one connection of its own: how an unreachable database is diagnosed.
    var singleConnection: PostgresConnection.Configuration
    /// The URL with the password masked, for logs and messages.
    public let description: String

    public static func isPostgresURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    public init(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        // The text is never echoed back: it may hold a password.
        guard Self.isPostgresURL(text), let url = URLComponents(string: text) else {
            throw StoreError(
                .invalid,
                "the store is not a valid PostgreSQL URL; expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE, with special characters in the password %-encoded",
                field: "store")
        }
        let query = Dictionary((url.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        if let unknown = query.keys.sorted().first(where: { !["sslmode", "host"].contains($0) }) {
            throw StoreError(
                .invalid,
                "the PostgreSQL URL has a parameter '\(unknown)' Pedigree does not use; it understands sslmode and host (put a password in the URL's user part or PGPASSWORD)",
                field: "store")
        }
        guard let user = url.user?.removingPercentEncoding, !user.isEmpty else {
            throw StoreError(.invalid, "the PostgreSQL URL names no user; write postgres://USER@HOST/DATABASE", field: "store")
        }
        let database = String(url.path.drop(while: { $0 == "/" })).removingPercentEncoding ?? ""
        guard !database.isEmpty else {
            throw StoreError(.invalid, "the PostgreSQL URL names no database; write postgres://USER@HOST/DATABASE", field: "store")
        }
        let password = url.percentEncodedPassword.map { $0.removingPercentEncoding ?? $0 } ?? environment["PGPASSWORD"]
        let port = url.port ?? 5432
        var configuration: PostgresClient.Configuration
        if let socketDirectory = query["host"], socketDirectory.hasPrefix("/") {
            let socket = "\(socketDirectory)/.s.PGSQL.\(port)"
            configuration = .init(unixSocketPath: socket, username: user, password: password, database: database)
            singleConnection = .init(unixSocketPath: socket, username: user, password: password, database: database)
        } else {
            guard let host = url.host, !host.isEmpty else {
                throw StoreError(
                    .invalid, "the PostgreSQL URL names no host; write postgres://USER@HOST/DATABASE or add ?host=/socket/directory", field: "store")
            }
            let tls = try Self.tls(query["sslmode"])
            configuration = .init(host: host, port: port, username: user, password: password, database: database, tls: tls.pool)
            singleConnection = .init(host: host, port: port, username: user, password: password, database: database, tls: tls.connection)
        }
        configuration.options.connectTimeout = .seconds(10)
        self.configuration = configuration
        singleConnection.options.connectTimeout = .seconds(2)
        var masked = url
        if url.percentEncodedPassword != nil { masked.percentEncodedPassword = "***" }
        description = masked.string ?? "postgres://\(user)@…/\(database)"
    }

    /// libpq's `sslmode`: `prefer` (the default) and `require` encrypt without checking the certificate;
    /// `verify-ca`/`verify-full` check it against the system's trust roots.
    private static func tls(_ mode: String?) throws -> (pool: PostgresClient.Configuration.TLS, connection: PostgresConnection.Configuration.TLS) {
        var unverified = TLSConfiguration.makeClientConfiguration()
        unverified.certificateVerification = .none
        do {
            switch mode ?? "prefer" {
            case "disable": return (.disable, .disable)
            case "allow", "prefer": return (.prefer(unverified), .prefer(try NIOSSLContext(configuration: unverified)))
            case "require": return (.require(unverified), .require(try NIOSSLContext(configuration: unverified)))
            case "verify-ca", "verify-full":
                return (.require(.makeClientConfiguration()), .require(try NIOSSLContext(configuration: .makeClientConfiguration())))
            case let other:
                throw StoreError(.invalid, "sslmode '\(other)' is not disable, allow, prefer, require, verify-ca or verify-full", field: "store")
            }
        } catch let error as NIOSSLError {
            throw StoreError(.unavailable, "cannot set up TLS for PostgreSQL: \(error)")
        }
    }
}
