import ArgumentParser
import Foundation
import PedigreeCore
import PedigreeServer
import PedigreeStore

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the lineage server: REST API, OpenLineage endpoint, Marquez-compatible reads, metrics.",
        discussion: """
            Binds to 127.0.0.1 unless told otherwise. Auth is on whenever the server binds beyond loopback (and \
            with --auth on); create tokens with `pedigree token create`. Settings come from flags, then \
            PEDIGREE_HOST, PEDIGREE_PORT, PEDIGREE_AUTH, PEDIGREE_MAX_BODY, PEDIGREE_LOG_LEVEL, then defaults.

            Example: pedigree serve --host 0.0.0.0 --port 8750
            """)

    @Option(help: "Address to bind (default 127.0.0.1).")
    var host: String?
    @Option(help: "Port (default 8750).")
    var port: Int?
    @Option(help: "Require tokens: auto (when not on loopback), on or off.")
    var auth: String?
    @Option(name: .customLong("max-body"), help: "Largest request body in bytes, after decompression (default 16 MiB).")
    var maxBody: Int?
    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        var configuration = ServerConfiguration(storePath: storeOptions.displayLocation)
        do {
            try configuration.apply(environment: ProcessInfo.processInfo.environment)
            if let host { configuration.host = host }
            if let port { configuration.port = port }
            if let auth {
                guard let mode = ServerConfiguration.AuthMode(rawValue: auth) else { throw ConfigurationError("--auth must be auto, on or off") }
                configuration.auth = mode
            }
            if let maxBody { configuration.maxBodyBytes = maxBody }
        } catch {
            warn("\(error)")
            throw ExitCode(2)
        }
        try await reportingErrors {
            let store = try await storeOptions.open()
            try await PedigreeServer.run(store: store, configuration: configuration)
        }
    }
}

struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list and revoke API tokens (stored only as hashes; a secret is shown once).",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token for a namespace ('*' for every namespace) with a role.",
            discussion: "Example: pedigree token create --namespace fraud-team --role writer --name airflow")
        @Option(help: "The namespace the token is for; '*' for all.")
        var namespace: String
        @Option(help: "reader, writer or admin.")
        var role: String
        @Option(help: "A label to recognise it by.")
        var name: String?
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await reportingErrors {
                guard let role = Role(rawValue: role) else {
                    throw PedigreeCore.ValidationError(field: "--role", "'\(role)' is not reader, writer or admin")
                }
                let (token, secret) = try await storeOptions.open().createToken(namespace: namespace, role: role, name: name)
                if output.json {
                    guard case .object(var body) = token.json else { return }
                    body["secret"] = .string(secret)
                    printJSON(.object(body))
                } else {
                    print(secret)
                    warn("token \(token.id): \(role.rawValue) of \(namespace). The secret above is not stored and cannot be shown again.")
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).")
        @Option(help: "Only tokens of this namespace.")
        var namespace: String?
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await reportingErrors {
                let tokens = try await storeOptions.open().tokens(namespace: namespace)
                if output.json { return printJSON(.object(["tokens": .array(tokens.map(\.json))])) }
                print(TextRenderer.table(["ID", "NAMESPACE", "ROLE", "NAME", "CREATED", "REVOKED"], tokens.map {
                    [$0.id, $0.namespace, $0.role.rawValue, $0.name ?? "", $0.createdAt.description, $0.revokedAt?.description ?? ""]
                }))
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by id.")
        @Argument(help: "The token's id (from `pedigree token list`).")
        var id: String
        @OptionGroup var storeOptions: StoreOptions

        func run() async throws {
            try await reportingErrors {
                guard try await storeOptions.open().revokeToken(id: id) else { throw StoreError(.notFound, "no live token \(id)", field: "id") }
                print("revoked \(id)")
            }
        }
    }
}
