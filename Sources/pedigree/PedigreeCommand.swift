import ArgumentParser
import Foundation
import PedigreeCore
import PedigreeStore

@main
struct PedigreeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pedigree",
        abstract: "Where did this model come from? Model lineage: data, code, parent models, hyperparameters, environment.",
        discussion: """
            References name every artifact, run and endpoint: KIND:NAMESPACE/NAME[@VERSION] (no version means the \
            latest), run:<id>, deployment:NAMESPACE/ENDPOINT. A namespace containing '/' writes it as %2F, e.g. \
            dataset:s3:%2F%2Fdatasets/imagenet/train@v3.

            Start with `pedigree quickstart`, which records an example history and shows what to ask it.
            """,
        subcommands: [
            Quickstart.self, Run.self, Sync.self, Record.self, Show.self, Lineage.self, Models.self, Impact.self, Diff.self, History.self, Verify.self,
            Rebuild.self, Log.self, Serve.self, Token.self, Migrate.self, Export.self, Import.self,
        ]
    )
}

/// Where the store is: `--store`, then `PEDIGREE_STORE`, then `~/.pedigree/pedigree.db`.
struct StoreOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The store: a SQLite file, or postgres://USER@HOST/DATABASE (default: $PEDIGREE_STORE, else $PEDIGREE_HOME/pedigree.db, else ~/.pedigree/pedigree.db).",
            valueName: "path|url"))
    var store: String?

    @Option(name: .long, help: ArgumentHelp("Ask a Pedigree server instead of a local store (default: $PEDIGREE_URL; token from $PEDIGREE_TOKEN).", valueName: "url"))
    var server: String?

    /// The server to ask, when one is configured.
    var serverURL: URL? {
        let text = server ?? ProcessInfo.processInfo.environment["PEDIGREE_URL"]
        guard let text, !text.isEmpty else { return nil }
        return URL(string: text)
    }

    /// The local store, or the server when `--server`/`PEDIGREE_URL` is set.
    func backend() async throws -> any Backend {
        if let url = serverURL { return RemoteBackend(base: url, token: ProcessInfo.processInfo.environment["PEDIGREE_TOKEN"]) }
        return LocalBackend(store: try await open())
    }

    var resolvedPath: String {
        if let store { return store }
        if let env = ProcessInfo.processInfo.environment["PEDIGREE_STORE"], !env.isEmpty { return env }
        return PedigreeDirectories.home.appendingPathComponent("pedigree.db").path
    }

    /// For commands that work on the store itself, never through a server: refuses `--server`/`PEDIGREE_URL`
    /// rather than silently using the local store instead.
    func requireStoreItself(_ purpose: String) throws {
        guard serverURL == nil else {
            throw PedigreeCore.ValidationError(
                field: "--server", "\(purpose) works on the store itself (--store or PEDIGREE_STORE), not through a server; drop --server/PEDIGREE_URL")
        }
    }

    /// The store's location with any password masked, for messages.
    var displayLocation: String {
        guard PostgresLocation.isPostgresURL(resolvedPath) else { return resolvedPath }
        return (try? PostgresLocation(resolvedPath).description) ?? "postgres://…"
    }

    /// Opens the store and delivers any events spooled while it was unreachable.
    func open(busyTimeout: TimeInterval = 30) async throws -> any LineageStore & TokenStore {
        let store = try await StoreLocation.open(resolvedPath, busyTimeout: busyTimeout)
        let spool = EventSpool(directory: PedigreeDirectories.spool)
        if !spool.pendingFiles.isEmpty {
            let delivery = await spool.deliver(to: store)
            if delivery.events > 0 { warn("delivered \(delivery.events) spooled event\(delivery.events == 1 ? "" : "s") to \(displayLocation)") }
            for rejection in delivery.rejected { warn("rejected spooled events (kept in \(spool.directory.path)/rejected): \(rejection)") }
        }
        return store
    }
}

struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON instead of text; every node carries its canonical reference in `ref`.")
    var json = false
}

struct TimeOptions: ParsableArguments {
    @Option(
        name: .customLong("as-of"),
        help: ArgumentHelp("Answer as the store knew it at this time (RFC 3339, a date, or 'now').", valueName: "time"),
        transform: parseTime)
    var asOf: Timestamp?
}

func parseTime(_ text: String) throws -> Timestamp {
    guard let time = Timestamp(text) else {
        throw PedigreeCore.ValidationError(field: "time", "'\(text)' is not a time; use RFC 3339 (2026-11-28T13:39:04Z) or a date (2026-11-28)")
    }
    return time
}

func parseReference(_ text: String) throws -> Reference { try Reference(parsingModel: text) }

func parseArtifactReference(_ text: String) throws -> ArtifactRef {
    guard case .artifact(let ref) = try Reference(parsingModel: text) else {
        throw PedigreeCore.ValidationError(field: "reference", "'\(text)' is not an artifact; expected KIND:NAMESPACE/NAME[@VERSION]")
    }
    return ref
}

/// Exit codes: 0 success, 1 verification found problems, 2 invalid input, 3 not found, 4 conflict,
/// 5 store unavailable, 6 forbidden; 64 is swift-argument-parser's code for a malformed command line.
enum ExitStatus {
    static func code(for error: any Error) -> Int32? {
        switch error {
        case let error as StoreError:
            switch error.code {
            case .invalid: 2
            case .notFound: 3
            case .conflict: 4
            case .unavailable: 5
            case .forbidden: 6
            }
        case is PedigreeCore.ValidationError, is MalformedDocument: 2
        default: nil
        }
    }
}

extension AsyncParsableCommand {
    /// Runs the body, turning domain errors into one line on stderr and the documented exit code.
    func reportingErrors(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            guard let code = ExitStatus.code(for: error) else { throw error }
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(code)
        }
    }
}

/// Where Pedigree keeps its working files: the spool of undelivered events and the capture caches.
enum PedigreeDirectories {
    static var home: URL {
        if let home = ProcessInfo.processInfo.environment["PEDIGREE_HOME"], !home.isEmpty { return URL(fileURLWithPath: home) }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".pedigree")
    }
    static var spool: URL { home.appendingPathComponent("spool") }
    static var cache: URL { home.appendingPathComponent("cache") }
}

func warn(_ message: String) {
    FileHandle.standardError.write(Data("pedigree: \(message)\n".utf8))
}

func printJSON(_ value: JSONValue) {
    print(value.prettyString())
}

/// Who the CLI records as the writer of events.
var cliIdentity: String {
    let env = ProcessInfo.processInfo.environment
    return "cli:" + (env["USER"] ?? env["LOGNAME"] ?? "unknown")
}
