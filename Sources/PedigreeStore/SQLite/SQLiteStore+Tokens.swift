import Foundation
import GRDB
import PedigreeCore

extension SQLiteStore: TokenStore {
    public func createToken(namespace: String, role: Role, name: String?) async throws -> (token: AccessToken, secret: String) {
        let secret = AccessToken.generateSecret()
        let token = AccessToken(
            id: String(UUID().uuidString.lowercased().prefix(8)), namespace: namespace, role: role, name: name, createdAt: .now, revokedAt: nil)
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO tokens(id, secret_hash, namespace, role, name, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [token.id, AccessToken.hash(secret: secret), namespace, role.rawValue, name, token.createdAt.microseconds])
        }
        return (token, secret)
    }

    public func token(secret: String) async throws -> AccessToken? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM tokens WHERE secret_hash = ? AND revoked_at IS NULL", arguments: [AccessToken.hash(secret: secret)])
                .map(Self.token(row:))
        }
    }

    public func tokens(namespace: String?) async throws -> [AccessToken] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM tokens WHERE ? IS NULL OR namespace = ? ORDER BY created_at", arguments: [namespace, namespace])
                .map(Self.token(row:))
        }
    }

    public func revokeToken(id: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", arguments: [Timestamp.now.microseconds, id])
            return db.changesCount > 0
        }
    }

    static func token(row: Row) -> AccessToken {
        let revoked: Int64? = row["revoked_at"]
        return AccessToken(
            id: row["id"], namespace: row["namespace"], role: Role(rawValue: row["role"]) ?? .reader, name: row["name"],
            createdAt: Timestamp(microseconds: row["created_at"]), revokedAt: revoked.map(Timestamp.init(microseconds:)))
    }
}
