import Foundation
import PedigreeCore

/// The token table's statements, on either backend.
struct TokenQueries {
    let db: any SQLSession

    static let columns = "id, namespace, role, name, created_at, revoked_at"

    /// A token with a fresh secret, inserted; the secret is returned once and only its hash is stored.
    func create(namespace: String, role: AccessRole, name: String?) throws -> (token: AccessToken, secret: String) {
        let secret = AccessToken.generateSecret()
        let token = AccessToken(
            id: String(UUID().uuidString.lowercased().prefix(8)), namespace: namespace, role: role, name: name, createdAt: .now, revokedAt: nil)
        try db.execute(
            "INSERT INTO tokens(id, secret_hash, namespace, role, name, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            .text(token.id), .text(AccessToken.hash(secret: secret)), .text(namespace), .text(role.rawValue), .init(name),
            .int(token.createdAt.microseconds))
        return (token, secret)
    }

    func token(secret: String) throws -> AccessToken? {
        try db.rows("SELECT \(Self.columns) FROM tokens WHERE secret_hash = ? AND revoked_at IS NULL", .text(AccessToken.hash(secret: secret)))
            .first.map(Self.token(row:))
    }

    func tokens(namespace: String?) throws -> [AccessToken] {
        try db.rows(
            "SELECT \(Self.columns) FROM tokens WHERE CAST(? AS TEXT) IS NULL OR namespace = ? ORDER BY created_at", .init(namespace),
            .init(namespace)
        ).map(Self.token(row:))
    }

    func claimedNamespaces() throws -> Set<String> {
        Set(try db.texts("SELECT DISTINCT namespace FROM tokens WHERE revoked_at IS NULL"))
    }

    func revoke(id: String) throws -> Bool {
        try !db.rows("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL RETURNING id", .int(Timestamp.now.microseconds), .text(id))
            .isEmpty
    }

    private static func token(row: SQLRow) throws -> AccessToken {
        AccessToken(
            id: try row.text(0), namespace: try row.text(1), role: AccessRole(rawValue: try row.text(2)) ?? .reader, name: row.optionalText(3),
            createdAt: Timestamp(microseconds: try row.int(4)), revokedAt: row.optionalInt(5).map(Timestamp.init(microseconds:)))
    }
}
