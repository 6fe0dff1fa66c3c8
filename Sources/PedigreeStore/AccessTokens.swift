import Foundation
import PedigreeCore

/// What a token may do in its namespace. Each role includes the ones before it.
public enum Role: String, Sendable, CaseIterable, Comparable {
    case reader, writer, admin

    public static func < (a: Role, b: Role) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }
}

/// An API token. Only the SHA-256 of its secret is stored; the secret is shown once, when it is created.
public struct AccessToken: Hashable, Sendable {
    /// A namespace, or `*` for every namespace (created only by someone with the store file itself).
    public let namespace: String
    public let id: String
    public let role: Role
    public let name: String?
    public let createdAt: Timestamp
    public let revokedAt: Timestamp?

    public static let everyNamespace = "*"

    public init(id: String, namespace: String, role: Role, name: String?, createdAt: Timestamp, revokedAt: Timestamp?) {
        self.id = id
        self.namespace = namespace
        self.role = role
        self.name = name
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }

    public func allows(_ role: Role, in namespace: String) -> Bool {
        revokedAt == nil && self.role >= role && (self.namespace == Self.everyNamespace || self.namespace == namespace)
    }

    public var json: JSONValue {
        var out: [String: JSONValue] = [
            "id": .string(id), "namespace": .string(namespace), "role": .string(role.rawValue), "createdAt": .string(createdAt.description),
        ]
        if let name { out["name"] = .string(name) }
        out["revokedAt"] = revokedAt.map { .string($0.description) } ?? .null
        return .object(out)
    }

    /// A new secret: 32 random bytes, base64url, with a recognisable prefix (so leaked ones can be found by
    /// secret scanners).
    public static func generateSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return "pdg_" + Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func hash(secret: String) -> String { ContentDigest(hashing: Array(secret.utf8)).hex }
}

/// Where tokens live: beside the lineage they guard, so every server replica sees the same ones.
public protocol TokenStore: Sendable {
    /// Creates a token and returns it with its secret, which is not stored and cannot be shown again.
    func createToken(namespace: String, role: Role, name: String?) async throws -> (token: AccessToken, secret: String)
    /// The live (not revoked) token with this secret.
    func token(secret: String) async throws -> AccessToken?
    func tokens(namespace: String?) async throws -> [AccessToken]
    /// Revokes a token; false when there is no such token.
    func revokeToken(id: String) async throws -> Bool
}
