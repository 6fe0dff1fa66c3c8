import Foundation
import PedigreeCore

/// What a token may do in its namespace. Each role includes the ones before it.
public enum AccessRole: String, Sendable, CaseIterable, Comparable, Codable {
    case reader, writer, admin

    public static func < (a: AccessRole, b: AccessRole) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }
}

/// An API token. Only the SHA-256 of its secret is stored; the secret is shown once, when it is created.
public struct AccessToken: Hashable, QueryResult {
    /// A namespace, or `*` for every namespace (created only by someone with the store file itself).
    public let namespace: String
    public let id: String
    public let role: AccessRole
    public let name: String?
    public let createdAt: Timestamp
    public let revokedAt: Timestamp?

    public static let everyNamespace = "*"

    public init(id: String, namespace: String, role: AccessRole, name: String?, createdAt: Timestamp, revokedAt: Timestamp?) {
        self.id = id
        self.namespace = namespace
        self.role = role
        self.name = name
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }

    public func allows(_ role: AccessRole, in namespace: String) -> Bool {
        revokedAt == nil && self.role >= role && (self.namespace == Self.everyNamespace || self.namespace == namespace)
    }

    private enum CodingKeys: String, CodingKey { case id, namespace, role, name, createdAt, revokedAt }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(namespace, forKey: .namespace)
        try container.encode(role, forKey: .role)
        try container.encodeIfPresent(name, forKey: .name)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(revokedAt, forKey: .revokedAt)  // null while live
    }

    /// A new secret: 32 random bytes, base64url, with a recognisable prefix (so leaked ones can be found by
    /// secret scanners).
    public static func generateSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return "pdg_"
            + Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func hash(secret: String) -> String { ContentDigest(hashing: Array(secret.utf8)).hex }
}

/// Where tokens live: beside the lineage they guard, so every server replica sees the same ones.
public protocol TokenStore: Sendable {
    /// Creates a token and returns it with its secret, which is not stored and cannot be shown again.
    func createToken(namespace: String, role: AccessRole, name: String?) async throws -> (token: AccessToken, secret: String)
    /// The live (not revoked) token with this secret.
    func token(secret: String) async throws -> AccessToken?
    func tokens(namespace: String?) async throws -> [AccessToken]
    /// The namespaces some live token is for: those a team has claimed (`*` included when such a token exists).
    func claimedNamespaces() async throws -> Set<String>
    /// Revokes a token; false when there is no such token.
    func revokeToken(id: String) async throws -> Bool
}
