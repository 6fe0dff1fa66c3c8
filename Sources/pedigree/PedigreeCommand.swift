import ArgumentParser
import Foundation
import PedigreeClient
import PedigreeCore
import PedigreePostgres
import PedigreeRender
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
        version: Pedigree.version,
        subcommands: [
            Quickstart.self, Run.self, LibraryCapture.self, Sync.self, Record.self, Show.self, List.self, Lineage.self, Models.self, Impact.self,
            Diff.self, History.self,
            Deploy.self, Undeploy.self, Retire.self, Incident.self,
            Verify.self, Checkpoint.self, Audit.self, Sign.self, Attest.self, Redact.self, Retention.self,
            Rebuild.self, Log.self, Serve.self, Token.self, Migrate.self, Export.self, Import.self,
        ]
    )
}

extension PedigreeCommand {
    /// Catches a mistyped subcommand (`pedigree shwo`, `pedigree help nope`) before the parser does, to
    /// suggest the nearest one and exit 64 like any other malformed command line.
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        let names = configuration.subcommands.map { $0._commandName }
        var word = arguments.first
        if word == "help" { word = arguments.dropFirst().first }
        if let word, !word.hasPrefix("-"), !names.contains(word), word != "help" {
            let nearest = names.min { editDistance($0, word) < editDistance($1, word) }
            let hint = nearest.flatMap { editDistance($0, word) <= 2 || $0.hasPrefix(word) ? "; did you mean '\($0)'?" : nil } ?? ""
            FileHandle.standardError.write(Data("error: unknown command '\(TerminalText.escape(word))'\(hint) (pedigree --help lists them)\n".utf8))
            Foundation.exit(ExitCode.validationFailure.rawValue)
        }
        await main(arguments)
    }

    /// Levenshtein distance, for suggestions.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return row[b.count]
    }
}

/// Where the answers come from: `--server`/`PEDIGREE_URL` (with `PEDIGREE_TOKEN`), else `--store`, then
/// `PEDIGREE_STORE`, then `$PEDIGREE_HOME/pedigree.db` (`~/.pedigree/pedigree.db`).
///
/// One rule for `--server`: a command either works through a server (`withBackend`) or works on the store
/// itself and refuses a server (`withStore`) — it never quietly uses the local store instead.
struct StoreOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The store: a SQLite file, or postgres://USER@HOST/DATABASE (default: $PEDIGREE_STORE, else $PEDIGREE_HOME/pedigree.db, else ~/.pedigree/pedigree.db).",
            valueName: "path|url"))
    var store: String?

    @Option(
        name: .long,
        help: ArgumentHelp("Ask a Pedigree server instead of a local store (default: $PEDIGREE_URL; token from $PEDIGREE_TOKEN).", valueName: "url"))
    var server: String?

    /// The server to ask, when one is configured (an empty PEDIGREE_URL is none; `validate` has refused a
    /// malformed one).
    var serverURL: URL? {
        let text = server ?? ProcessInfo.processInfo.environment["PEDIGREE_URL"]
        guard let text, !text.isEmpty else { return nil }
        return URL(string: text)
    }

    func validate() throws {
        let (text, source) = server.map { ($0, "--server") } ?? (ProcessInfo.processInfo.environment["PEDIGREE_URL"] ?? "", "PEDIGREE_URL")
        guard !text.isEmpty || server != nil else { return }
        guard let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
            throw ArgumentParser.ValidationError("\(source) '\(TerminalText.escape(text))' is not a server address; use http://HOST:PORT")
        }
    }

    /// The server's address for messages and the spool, without credentials.
    var serverDisplay: String? {
        serverURL.map { PedigreeClient(base: $0, token: nil).displayURL }
    }

    var resolvedPath: String {
        if let store { return store }
        if let env = ProcessInfo.processInfo.environment["PEDIGREE_STORE"], !env.isEmpty { return env }
        return PedigreeDirectories.home.appendingPathComponent("pedigree.db").path
    }

    /// The store's location with any password masked, for messages.
    var displayLocation: String {
        guard PostgresLocation.isPostgresURL(resolvedPath) else { return resolvedPath }
        return (try? PostgresLocation(resolvedPath).description) ?? "postgres://…"
    }

    /// How the spool names this store: an absolute file path, or the URL without its password.
    var spoolKey: String {
        if let serverDisplay { return serverDisplay }
        if PostgresLocation.isPostgresURL(resolvedPath) { return displayLocation }
        return URL(fileURLWithPath: resolvedPath).standardizedFileURL.path
    }

    /// The server when one is configured, else the store, for a command that works either way. A command
    /// that only reads (`creating: false`) refuses a store that does not exist rather than create an empty
    /// one and answer from it.
    func withBackend<T: Sendable>(creating: Bool, busyTimeout: TimeInterval = 30, _ body: @Sendable (any Backend) async throws -> T) async throws -> T
    {
        if let url = serverURL {
            var client = PedigreeClient(base: url, token: ProcessInfo.processInfo.environment["PEDIGREE_TOKEN"])
            // The same patience as with a busy store, but never less than a few seconds for a round trip.
            client.timeout = .seconds(max(busyTimeout, 5))
            return try await body(RemoteBackend(client: client))
        }
        return try await withLocalStore(creating: creating, busyTimeout: busyTimeout) { try await body(LocalBackend(store: $0, spoolKey: spoolKey)) }
    }

    /// The store itself, for a command that works on it directly (`purpose` names the command in the
    /// refusal when a server is configured).
    func withStore<T: Sendable>(
        _ purpose: String, creating: Bool, busyTimeout: TimeInterval = 30, _ body: @Sendable (any LineageStore & TokenStore) async throws -> T
    ) async throws -> T {
        try requireStoreItself(purpose)
        return try await withLocalStore(creating: creating, busyTimeout: busyTimeout, body)
    }

    /// Refuses `--server`/`PEDIGREE_URL` for a command that works on the store itself.
    func requireStoreItself(_ purpose: String) throws {
        guard serverURL == nil else {
            throw PedigreeCore.ValidationError(
                field: "--server",
                "\(purpose) works on the store itself (--store or PEDIGREE_STORE), not through a server; drop --server/PEDIGREE_URL")
        }
    }

    private func withLocalStore<T: Sendable>(
        creating: Bool, busyTimeout: TimeInterval, _ body: @Sendable (any LineageStore & TokenStore) async throws -> T
    ) async throws -> T {
        let location = resolvedPath
        if location.hasPrefix("http://") || location.hasPrefix("https://") {
            throw PedigreeCore.ValidationError(
                field: "--store", "'\(location)' is a server's address, not a store; did you mean --server \(location)?")
        }
        if !creating, !PostgresLocation.isPostgresURL(location), !FileManager.default.fileExists(atPath: location) {
            throw PedigreeCore.ValidationError(
                field: "--store", "there is no store at \(location); check the path, or record something first (pedigree record, run or quickstart)")
        }
        return try await StoreLocation.withStore(location, busyTimeout: busyTimeout, body)
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
/// 5 store unavailable, 6 forbidden, 7 the server's port is in use (`Serve.portInUse`); 64 is
/// swift-argument-parser's code for a malformed command line.
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
            FileHandle.standardError.write(Data("error: \(TerminalText.escape("\(error)"))\n".utf8))
            throw ExitCode(code)
        }
    }
}

/// Where Pedigree keeps its working files: the spool of undelivered events and the capture caches.
enum PedigreeDirectories {
    static var home: URL {
        if let home = ProcessInfo.processInfo.environment["PEDIGREE_HOME"], !home.isEmpty { return URL(fileURLWithPath: home) }
        // $HOME first, as every Unix tool does (tests and sandboxes set it); the password database after.
        if let home = ProcessInfo.processInfo.environment["HOME"], !home.isEmpty {
            return URL(fileURLWithPath: home).appendingPathComponent(".pedigree")
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".pedigree")
    }
    static var spool: URL { home.appendingPathComponent("spool") }
    static var cache: URL { home.appendingPathComponent("cache") }
}

/// A notice on standard error. Messages quote recorded text (names, versions, paths), so they are escaped.
func warn(_ message: String) {
    FileHandle.standardError.write(Data("pedigree: \(TerminalText.escape(message))\n".utf8))
}

func printJSON(_ value: JSONValue) {
    print(TerminalText.escapeJSON(value.prettyString()))
}

func printJSON(_ result: some QueryResult) {
    printJSON(result.json)
}

/// Who the CLI records as the writer of events.
var cliIdentity: String {
    let env = ProcessInfo.processInfo.environment
    return "cli:" + (env["USER"] ?? env["LOGNAME"] ?? "unknown")
}
