import GRDB
import PedigreeCore

extension SQLiteStore: TokenStore {
    public func createToken(namespace: String, role: Role, name: String?) async throws -> (token: AccessToken, secret: String) {
        try await pool.write { try TokenQueries(db: SQLiteSession(db: $0)).create(namespace: namespace, role: role, name: name) }
    }

    public func token(secret: String) async throws -> AccessToken? {
        try await pool.read { try TokenQueries(db: SQLiteSession(db: $0)).token(secret: secret) }
    }

    public func tokens(namespace: String?) async throws -> [AccessToken] {
        try await pool.read { try TokenQueries(db: SQLiteSession(db: $0)).tokens(namespace: namespace) }
    }

    public func revokeToken(id: String) async throws -> Bool {
        try await pool.write { try TokenQueries(db: SQLiteSession(db: $0)).revoke(id: id) }
    }
}
