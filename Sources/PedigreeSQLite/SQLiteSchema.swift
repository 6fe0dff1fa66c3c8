import GRDB

/// The SQLite schema, as versioned migrations. Migrations spell out their SQL and never use app types, so
/// an old database always migrates the same way.
enum SQLiteSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: event log and graph projections") { db in
            try db.execute(sql: eventLogSQL)
            try db.execute(sql: projectionSQL(schema: "main"))
        }
        migrator.registerMigration("v2: access tokens") { db in
            try db.execute(sql: tokensSQL)
        }
        migrator.registerMigration("v3: deployment actions") { db in
            try db.execute(sql: deploymentActionsSQL(schema: "main"))
        }
        migrator.registerMigration("v4: redaction") { db in
            try db.execute(sql: redactionSQL)
        }
        migrator.registerMigration("v5: artifact lines") { db in
            try db.execute(sql: linesSQL(schema: "main"))
            // Each line's first node, as the projector (which keeps the first) records it on a replay.
            try db.execute(
                sql: """
                    INSERT INTO lines SELECT kind, namespace, name, recorded_at FROM nodes WHERE kind <> 'run' ORDER BY id ON CONFLICT DO NOTHING
                    """)
        }
        return migrator
    }

    /// The log: append-only, enforced by triggers so that no code path (ours or a stray SQL shell) can
    /// update or delete history by accident. Deliberate tampering is caught by `pedigree verify`.
    static let eventLogSQL = """
        CREATE TABLE events (
            seq         INTEGER PRIMARY KEY,   -- global append order, the replay order of projections
            namespace   TEXT    NOT NULL,
            ns_seq      INTEGER NOT NULL,      -- position in the namespace's hash chain, from 1
            type        TEXT    NOT NULL,
            subject     TEXT    NOT NULL,      -- run:<id>, kind:ns/name or deployment:ns/endpoint
            digest      TEXT    NOT NULL,      -- SHA-256 hex of body
            body        TEXT    NOT NULL,      -- canonical JSON of the normalised event
            recorded_at INTEGER NOT NULL,      -- microseconds since the epoch, UTC
            recorded_by TEXT    NOT NULL,
            prev_hash   TEXT    NOT NULL,
            chain_hash  TEXT    NOT NULL,
            supersedes  TEXT,                  -- digest hex of the event this one corrects
            UNIQUE (namespace, ns_seq),
            UNIQUE (namespace, digest)
        );
        CREATE INDEX events_subject ON events(subject, seq);
        CREATE TRIGGER events_are_immutable BEFORE UPDATE ON events
            BEGIN SELECT RAISE(ABORT, 'events are immutable: append a correction event instead'); END;
        CREATE TRIGGER events_are_permanent BEFORE DELETE ON events
            BEGIN SELECT RAISE(ABORT, 'events are immutable: append a correction event instead'); END;
        CREATE TABLE chain_heads (
            namespace   TEXT PRIMARY KEY,
            ns_seq      INTEGER NOT NULL,
            chain_hash  TEXT    NOT NULL,
            recorded_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        """

    /// `pedigree redact` rewrites one event's body, and nothing else of it, while it holds a grant for that
    /// event; every other update is refused as before.
    static let redactionSQL = """
        CREATE TABLE redaction_grants (seq INTEGER PRIMARY KEY);
        DROP TRIGGER events_are_immutable;
        CREATE TRIGGER events_are_immutable BEFORE UPDATE ON events
            WHEN NEW.seq IS NOT OLD.seq OR NEW.namespace IS NOT OLD.namespace OR NEW.ns_seq IS NOT OLD.ns_seq OR NEW.type IS NOT OLD.type
                OR NEW.subject IS NOT OLD.subject OR NEW.digest IS NOT OLD.digest OR NEW.recorded_at IS NOT OLD.recorded_at
                OR NEW.recorded_by IS NOT OLD.recorded_by OR NEW.prev_hash IS NOT OLD.prev_hash OR NEW.chain_hash IS NOT OLD.chain_hash
                OR NEW.supersedes IS NOT OLD.supersedes OR NOT EXISTS (SELECT 1 FROM redaction_grants g WHERE g.seq = OLD.seq)
            BEGIN SELECT RAISE(ABORT, 'events are immutable: append a correction event instead (pedigree redact removes fields)'); END;
        """

    /// The graph: derived from the log, rebuilt by `pedigree rebuild`, compared with a fresh replay by
    /// `pedigree verify`. One `nodes` table for artifacts, runs and endpoints keeps graph walks to one
    /// indexed lookup per hop; `edges` is indexed both ways for upstream and downstream walks.
    static func projectionSQL(schema: String) -> String {
        """
        CREATE TABLE \(schema).nodes (
            id          INTEGER PRIMARY KEY,
            ref         TEXT    NOT NULL UNIQUE,
            kind        TEXT    NOT NULL,
            namespace   TEXT    NOT NULL,
            name        TEXT    NOT NULL,
            version     TEXT,
            ordinal     INTEGER,               -- artifact versions in registration order: the latest is the largest
            digest      TEXT,
            status      TEXT,                  -- runs only
            recorded_at INTEGER NOT NULL,
            state       TEXT                   -- canonical JSON: artifact spec, merged run record
        );
        CREATE INDEX \(schema).nodes_versions ON nodes(kind, namespace, name, ordinal);
        CREATE INDEX \(schema).nodes_digest ON nodes(digest) WHERE digest IS NOT NULL;
        CREATE TABLE \(schema).edges (
            src         INTEGER NOT NULL,
            dst         INTEGER NOT NULL,
            role        TEXT    NOT NULL,
            recorded_at INTEGER NOT NULL,
            PRIMARY KEY (src, dst, role)
        ) WITHOUT ROWID;
        CREATE INDEX \(schema).edges_upstream ON edges(dst, src);
        CREATE TABLE \(schema).deployments (
            seq           INTEGER PRIMARY KEY, -- the event that recorded it
            endpoint_node INTEGER NOT NULL,
            model_node    INTEGER NOT NULL,
            valid_from    INTEGER NOT NULL,
            recorded_at   INTEGER NOT NULL,
            config        TEXT
        );
        CREATE INDEX \(schema).deployments_endpoint ON deployments(endpoint_node, valid_from);
        CREATE INDEX \(schema).deployments_model ON deployments(model_node);
        """
    }
}

extension SQLiteSchema {
    /// The projection tables as the latest migration leaves them, for scratch databases.
    static func currentProjectionSQL(schema: String) -> String {
        projectionSQL(schema: schema) + "\n" + deploymentActionsSQL(schema: schema) + "\n" + linesSQL(schema: schema)
    }

    /// One row per artifact line (a dataset's or model's versions, an endpoint): the registry pages and searches
    /// these, tens of thousands, instead of every version of every line.
    static func linesSQL(schema: String) -> String {
        """
        CREATE TABLE \(schema).lines (
            kind        TEXT    NOT NULL,
            namespace   TEXT    NOT NULL,
            name        TEXT    NOT NULL,
            recorded_at INTEGER NOT NULL,      -- when its first version was recorded
            PRIMARY KEY (kind, namespace, name)
        ) WITHOUT ROWID;
        """
    }

    /// Deployments gain undeploys (no model) and canaries (a traffic share); what else a deployment says
    /// (configuration, serving code and environment) is read from its event.
    static func deploymentActionsSQL(schema: String) -> String {
        """
        CREATE TABLE \(schema).deployments_v3 (
            seq           INTEGER PRIMARY KEY, -- the event that recorded it
            endpoint_node INTEGER NOT NULL,
            model_node    INTEGER,             -- NULL: an undeploy
            valid_from    INTEGER NOT NULL,
            recorded_at   INTEGER NOT NULL,
            traffic       INTEGER              -- a canary's share in percent; NULL: all traffic
        );
        INSERT INTO \(schema).deployments_v3 SELECT seq, endpoint_node, model_node, valid_from, recorded_at, NULL FROM \(schema).deployments;
        DROP TABLE \(schema).deployments;
        ALTER TABLE \(schema).deployments_v3 RENAME TO deployments;
        CREATE INDEX \(schema).deployments_endpoint ON deployments(endpoint_node, valid_from);
        CREATE INDEX \(schema).deployments_model ON deployments(model_node);
        """
    }

    /// Tokens are access control, not lineage: they live outside the event log and revocation updates them.
    static let tokensSQL = """
        CREATE TABLE tokens (
            id          TEXT PRIMARY KEY,
            secret_hash TEXT NOT NULL UNIQUE,
            namespace   TEXT NOT NULL,
            role        TEXT NOT NULL,
            name        TEXT,
            created_at  INTEGER NOT NULL,
            revoked_at  INTEGER
        );
        """
}
