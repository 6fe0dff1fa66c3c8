import Foundation
import GRDB
import PedigreeCore
import PedigreeStore
import ServiceLifecycle

/// The embedded store: one SQLite file in WAL mode, safe to share between a server and CLI invocations.
public typealias SQLiteStore = SQLStore<SQLiteEngine>

/// SQLite through GRDB: one `DatabasePool` per file for the process lifetime — or, for a store this user
/// may read but not write, a read-only connection that answers every query and refuses every write.
///
/// Durability: `synchronous = FULL`, so an acknowledged append survives a crash of the process or of the
/// machine. Writes are IMMEDIATE transactions: one writer at a time, which is what keeps each namespace's
/// hash chain linear (SQLite has one write lock, so `.log` and `.outsideLog` writes are alike here).
public struct SQLiteEngine: SQLEngine {
    let pool: any DatabaseWriter
    public let path: String

    /// Opens the file, creating it and its directory, and migrates it to the current schema.
    /// `busyTimeout`: how long to wait for another writer (a server, another CLI) before giving up.
    public init(path: String, busyTimeout: TimeInterval = 30) throws {
        self.path = path
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreError(.unavailable, "cannot create the store's directory \(directory.path): \(error.localizedDescription)")
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Graph walks and ingest touch index pages all over the file: keep them in memory.
            try db.execute(sql: "PRAGMA cache_size = -65536")  // 64 MiB per connection
            try db.execute(sql: "PRAGMA mmap_size = 4294967296")
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        do {
            if Self.isReadOnly(path) {
                pool = try Self.openReadOnly(path, configuration: configuration)
                return
            }
            pool = try DatabasePool(path: path, configuration: configuration)
            // The shared SQL uses RETURNING and row values.
            let version = try pool.read { try String.fetchOne($0, sql: "SELECT sqlite_version()") } ?? "0"
            guard version.split(separator: ".").compactMap({ Int($0) }).lexicographicallyPrecedes([3, 35]) == false else {
                throw StoreError(.unavailable, "SQLite \(version) is too old for Pedigree; it needs 3.35 or later (install a newer libsqlite3)")
            }
            try SQLiteSchema.migrator.migrate(pool)
        } catch let error as DatabaseError {
            throw StoreError(.unavailable, "cannot open the store at \(path): \(error.message ?? error.description)")
        }
    }

    public var location: String { path }

    /// Whether this process can read the store but not change it: a file it may not write, or a directory
    /// where it may not create SQLite's `-wal` and `-shm` files (and they are not there, writable, already).
    static func isReadOnly(_ path: String) -> Bool {
        let files = FileManager.default
        guard files.fileExists(atPath: path), files.isReadableFile(atPath: path) else { return false }
        guard files.isWritableFile(atPath: path) else { return true }
        // A directory it may not write is fine when SQLite's side files are there already and writable.
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return !files.isWritableFile(atPath: directory) && !["-wal", "-shm"].allSatisfy { files.isWritableFile(atPath: path + $0) }
    }

    /// A database file opened read-only as an immutable snapshot: nothing it does can change the file or wait on
    /// its writer (a store, or another tool's database an import reads).
    static func immutableSnapshot(_ path: String, configuration: Configuration = Configuration()) throws -> DatabaseQueue {
        var configuration = configuration
        configuration.readonly = true
        let escaped = path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "?#"))) ?? path
        return try DatabaseQueue(path: "file:\(escaped)?immutable=1", configuration: configuration)
    }

    /// Opens a store read-only as an immutable snapshot (SQLite's `immutable=1`: a WAL database cannot
    /// otherwise be read without creating its `-shm` file). Queries answer; writes fail as a read-only
    /// database; a store that needs migrating says so instead of being misread.
    static func openReadOnly(_ path: String, configuration: Configuration) throws -> DatabaseQueue {
        let queue = try immutableSnapshot(path, configuration: configuration)
        guard try queue.read({ try SQLiteSchema.migrator.hasCompletedMigrations($0) }) else {
            throw StoreError(
                .unavailable,
                "the store at \(path) needs migrating to this version of Pedigree, and this user may not write it; run a command as its owner")
        }
        return queue
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await pool.read { try body(SQLiteSession(db: $0)) }
    }

    public func write<T: Sendable>(_ kind: SQLWriteKind, _ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await pool.write { try body(SQLiteSession(db: $0)) }
    }

    /// VACUUM rewrites the file without its free pages; the checkpoint empties the write-ahead log, which
    /// held the pages as they were.
    public func eraseRemovedData() async throws {
        guard let pool = pool as? DatabasePool else { return }
        try await pool.writeWithoutTransaction { db in
            try db.execute(sql: "VACUUM")
            try db.checkpoint(.truncate)
        }
    }

    public func storageBytes(_ session: any SQLSession) throws -> Int64 {
        ["", "-wal"].reduce(Int64(0)) { total, suffix in
            total + ((try? FileManager.default.attributesOfItem(atPath: path + suffix)[.size] as? Int64) ?? 0)
        }
    }

    public func storeError(_ error: any Error) -> StoreError {
        StoreError.translating(error) { error in
            if let error = error as? DatabaseError, error.resultCode == .SQLITE_READONLY {
                return StoreError(
                    .unavailable,
                    "the store at \(path) is read-only for this user: queries answer, recording needs write access to the file and its directory")
            }
            if let error = error as? DatabaseError {
                return StoreError(.unavailable, "SQLite error on \(path): \(error.message ?? error.description)")
            }
            return StoreError(.unavailable, "SQLite error on \(path): \(error)")
        }
    }

    public func withScratchProjections<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        try Self.withScratchProjections(body)
    }

    /// An in-memory SQLite database with the projection tables: fast and private, so PostgreSQL's `verify`
    /// replays into one too (the replay is the same shared code on either engine).
    public static func withScratchProjections<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        let scratch = try DatabaseQueue()
        return try scratch.write { db in
            try db.execute(sql: SQLiteSchema.currentProjectionSQL(schema: "main"))
            return try body(SQLiteSession(db: db))
        }
    }

    /// Nothing runs in the background: waits for shutdown, so the store can sit in a `ServiceGroup`.
    public func run() async throws {
        try await gracefulShutdown()
    }
}

extension SQLStore where Engine == SQLiteEngine {
    /// Opens (creating and migrating) the SQLite store at `path`.
    public convenience init(path: String, busyTimeout: TimeInterval = 30) throws {
        self.init(engine: try SQLiteEngine(path: path, busyTimeout: busyTimeout))
    }

    public var path: String { engine.path }
}
