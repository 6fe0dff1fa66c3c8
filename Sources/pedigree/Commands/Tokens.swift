import ArgumentParser
import Foundation
import PedigreeCore
import PedigreeRender
import PedigreeStore

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
        var role: AccessRole
        @Option(help: "A label to recognise it by.")
        var name: String?
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await reportingErrors {
                if namespace != AccessToken.everyNamespace { _ = try Namespace(namespace, field: "--namespace") }
                let (token, secret) = try await storeOptions.withBackend(creating: true) {
                    try await $0.createToken(namespace: namespace, role: role, name: name)
                }
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
                let tokens = try await storeOptions.withBackend(creating: false) { try await $0.tokens(namespace: namespace) }
                if output.json { return printJSON(.object(["tokens": .array(tokens.map(\.json))])) }
                print(
                    TextRenderer.table(
                        ["ID", "NAMESPACE", "ROLE", "NAME", "CREATED", "REVOKED"],
                        tokens.map {
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
                guard try await storeOptions.withBackend(creating: false, { try await $0.revokeToken(id: id) }) else {
                    throw StoreError(.notFound, "no live token \(id)", field: "id")
                }
                print("revoked \(id)")
            }
        }
    }
}

extension AccessRole: ExpressibleByArgument {}
