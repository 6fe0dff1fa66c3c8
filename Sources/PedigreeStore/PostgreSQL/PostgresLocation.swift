import Foundation
import NIOSSL
import PostgresNIO

/// Where a PostgreSQL store is: a `postgres://` URL as libpq understands it.
///
///     postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require|verify-full]
///     postgres://USER@/DATABASE?host=/var/run/postgresql        (a Unix socket directory, as libpq)
///
/// The password may instead come from `PGPASSWORD`, which keeps it out of process listings.
public struct PostgresLocation: Sendable, CustomStringConvertible {
    public let configuration: PostgresClient.Configuration
    /// The URL with the password masked, for logs and messages.
    public let description: String

    public static func isPostgresURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    public init(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard Self.isPostgresURL(text), let url = URLComponents(string: text) else {
            throw StoreError(.invalid, "'\(text)' is not a PostgreSQL URL; expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE", field: "store")
        }
        let query = Dictionary((url.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        guard let user = url.user?.removingPercentEncoding, !user.isEmpty else {
            throw StoreError(.invalid, "the PostgreSQL URL names no user; write postgres://USER@HOST/DATABASE", field: "store")
        }
        let database = String(url.path.drop(while: { $0 == "/" })).removingPercentEncoding ?? ""
        guard !database.isEmpty else {
            throw StoreError(.invalid, "the PostgreSQL URL names no database; write postgres://USER@HOST/DATABASE", field: "store")
        }
        let password = url.password?.removingPercentEncoding ?? environment["PGPASSWORD"]
        let port = url.port ?? 5432
        var configuration: PostgresClient.Configuration
        if let socketDirectory = query["host"], socketDirectory.hasPrefix("/") {
            configuration = .init(
                unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: user, password: password, database: database)
        } else {
            guard let host = url.host, !host.isEmpty else {
                throw StoreError(.invalid, "the PostgreSQL URL names no host; write postgres://USER@HOST/DATABASE or add ?host=/socket/directory", field: "store")
            }
            configuration = .init(host: host, port: port, username: user, password: password, database: database, tls: try Self.tls(query["sslmode"]))
        }
        configuration.options.connectTimeout = .seconds(10)
        self.configuration = configuration
        var masked = url
        if url.password != nil { masked.password = "***" }
        description = masked.string ?? "postgres://\(user)@…/\(database)"
    }

    /// libpq's `sslmode`: `prefer` (the default) and `require` encrypt without checking the certificate;
    /// `verify-ca`/`verify-full` check it against the system's trust roots.
    private static func tls(_ mode: String?) throws -> PostgresClient.Configuration.TLS {
        var unverified = TLSConfiguration.makeClientConfiguration()
        unverified.certificateVerification = .none
        switch mode ?? "prefer" {
        case "disable": return .disable
        case "allow", "prefer": return .prefer(unverified)
        case "require": return .require(unverified)
        case "verify-ca", "verify-full": return .require(.makeClientConfiguration())
        case let other:
            throw StoreError(.invalid, "sslmode '\(other)' is not disable, allow, prefer, require, verify-ca or verify-full", field: "store")
        }
    }
}
