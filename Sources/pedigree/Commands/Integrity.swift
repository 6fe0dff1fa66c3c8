import ArgumentParser
import Foundation
import PedigreeCore
import PedigreeRender
import PedigreeStore

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recompute every hash chain and the graph projections; exit 1 at the first broken link.",
        discussion: """
            Publish the chain heads it prints (or its --json). A later `verify --expect-heads FILE` checks that \
            each published head is still in its chain at the same position: history may have grown since, but \
            nothing up to those heads was rewritten — not even by someone who recomputed every hash.

            Signed checkpoints (`pedigree checkpoint`) are checked too: the ones recorded in the store and those \
            in --checkpoints FILE (what `checkpoint --publish` wrote), each signature against --public-key \
            (default: this machine's checkpoint key), each signed head against the chain, and each redaction made \
            after a checkpoint against the checkpoint's key.
            """)

    @Option(
        name: .customLong("expect-heads"), help: ArgumentHelp("Chain heads published earlier: verify's --json output or its text.", valueName: "file")
    )
    var expectHeads: String?
    @Option(help: ArgumentHelp("Signed checkpoints published outside the store (JSON lines, as checkpoint --publish writes).", valueName: "file"))
    var checkpoints: String?
    @Option(
        name: .customLong("public-key"),
        help: ArgumentHelp("The checkpoint signer to trust (PEM; default: this machine's checkpoint key, when there is one).", valueName: "pem"))
    var publicKey: String?
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors {
            var published = try expectHeads.map(PublishedHeads.read) ?? PublishedHeads(chains: [])
            // The checkpoints published to the given file, else those this machine signed for this store.
            let local = CheckpointKey.localRecord(for: storeOptions.spoolKey)
            let file = checkpoints ?? (FileManager.default.fileExists(atPath: local) ? local : nil)
            published.checkpoints = try file.map(PublishedHeads.readCheckpoints) ?? []
            published.checkpointsFile = file
            let trusted = try CheckpointKey.trusted(publicKey)
            if checkpoints != nil, trusted == nil {
                throw PedigreeCore.ValidationError(
                    field: "--public-key", "published checkpoints are checked against the signer's public key: give --public-key KEY.pub")
            }
            let report = try await storeOptions.withBackend(creating: false) { [published] backend in
                try await published.check(try await backend.verify(), against: backend, trusting: trusted)
            }
            output.json ? printJSON(report) : print(TextRenderer.verification(report))
            if !report.ok { throw ExitCode(1) }
        }
    }
}

/// Chain heads published from an earlier `verify` (for each namespace, the event count then and the head),
/// and signed checkpoints published from `checkpoint --publish`.
struct PublishedHeads: Sendable {
    let chains: [VerificationReport.Chain]
    var checkpoints: [CheckpointRecord] = []
    /// The file the checkpoints were read from, for messages.
    var checkpointsFile: String?

    init(chains: [VerificationReport.Chain]) { self.chains = chains }

    /// JSON lines, each a checkpoint as `checkpoint --publish` (or `checkpoint --json`) writes it.
    static func readCheckpoints(_ file: String) throws -> [CheckpointRecord] {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw PedigreeCore.ValidationError(field: "--checkpoints", "cannot read \(file)")
        }
        var records: [CheckpointRecord] = []
        for (i, line) in String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated() where !line.allSatisfy(\.isWhitespace) {
            do { records.append(try CheckpointRecord(json: JSONValue.parse(String(line)), path: "\(file):\(i + 1)")) } catch {
                throw PedigreeCore.ValidationError(field: "--checkpoints", "line \(i + 1) of \(file) is not a signed checkpoint: \(error)")
            }
        }
        guard !records.isEmpty else { throw PedigreeCore.ValidationError(field: "--checkpoints", "\(file) holds no checkpoints") }
        return records
    }

    /// Reads `verify --json` output, or its text (`  NAMESPACE: N events, head HASH` lines).
    static func read(_ file: String) throws -> PublishedHeads {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw PedigreeCore.ValidationError(field: "--expect-heads", "cannot read \(file)")
        }
        if let json = try? JSONValue.parse(data), let report = try? VerificationReport(json: json) {
            return PublishedHeads(chains: report.chains)
        }
        var chains: [VerificationReport.Chain] = []
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            guard let match = line.wholeMatch(of: /\s*(?<namespace>\S+): (?<events>\d+) events, head (?<head>[0-9a-f]{64})\s*/),
                let events = Int64(match.output.events)
            else { continue }
            chains.append(VerificationReport.Chain(namespace: String(match.output.namespace), events: events, head: String(match.output.head)))
        }
        guard !chains.isEmpty else {
            throw PedigreeCore.ValidationError(
                field: "--expect-heads", "\(file) holds no chain heads; give it the output of `pedigree verify` or `verify --json`")
        }
        return PublishedHeads(chains: chains)
    }

    /// The report with a problem for each checkpoint recorded in the store that the trusted key did not sign,
    /// and for each published head or checkpoint that does not hold: a signature that does not verify, a head
    /// that is no longer where it was, a checkpoint missing from the log, a redaction after it that it does not vouch for.
    func check(_ report: VerificationReport, against backend: any Backend, trusting trusted: TrustedKey?) async throws -> VerificationReport {
        var problems = report.problems
        if let trusted {
            for checkpoint in report.checkpoints where checkpoint.keyId != trusted.keyID {
                problems.append(
                    .init(
                        namespace: CheckpointRecord.namespace, sequence: nil,
                        message:
                            "the checkpoint signed \(checkpoint.signedAt) is signed by \(checkpoint.keyId), not by the trusted key \(trusted.keyID)"))
            }
        }
        guard !chains.isEmpty || !checkpoints.isEmpty else { return report.with(problems) }
        // One pass over the log, keeping only the chain hashes at the positions published heads name.
        var wanted: [String: Set<Int64>] = [:]
        for chain in chains { wanted[chain.namespace, default: []].insert(chain.events) }
        for checkpoint in checkpoints { for head in checkpoint.heads { wanted[head.namespace, default: []].insert(head.events) } }
        var found: [String: [Int64: String]] = [:]
        var redactions: [CheckpointRules.Redaction] = []
        var recorded: Set<String> = []
        var after: Int64 = 0
        while true {
            let page = try await backend.events(afterSequence: after, limit: 5_000)
            guard let last = page.last else { break }
            for event in page {
                if wanted[event.namespace]?.contains(event.namespaceSequence) == true {
                    found[event.namespace, default: [:]][event.namespaceSequence] = event.chainHash
                }
                guard event.body.contains(#""type":"redaction""#) || event.namespace == CheckpointRecord.namespace,
                    let payload = try? LineageEvent(json: JSONValue.parse(event.body)).payload
                else { continue }
                switch payload {
                case .redaction(let record): redactions.append(.init(record: record, sequence: event.namespaceSequence))
                case .checkpoint(let record): recorded.insert(record.signature)
                default: break
                }
            }
            after = last.sequence
        }
        for chain in chains {
            if let problem = chain.problem(found: found[chain.namespace]?[chain.events], what: "the published head") { problems.append(problem) }
            // A published head covers original digests, not redacted bodies: a redaction after it must be
            // signed with the trusted key.
            for redaction in redactions
            where redaction.record.namespace == chain.namespace && redaction.record.sequence <= chain.events && redaction.sequence > chain.events {
                let problem =
                    trusted.map { redaction.record.signatureProblem(keyID: $0.keyID, publicKeyPEM: $0.pem) }
                    ?? "no key is trusted to sign redactions (--public-key)"
                if let problem {
                    problems.append(
                        .init(
                            namespace: chain.namespace, sequence: redaction.record.sequence,
                            message:
                                "was redacted after the published head #\(chain.events) by a redaction the trusted key does not vouch for (\(problem))"
                        ))
                }
            }
        }
        var holding: [CheckpointRecord] = []
        for checkpoint in checkpoints {
            let what = "the published checkpoint signed \(checkpoint.signedAt)"
            if let problem = checkpoint.signatureProblem(trusting: trusted) {
                problems.append(.init(namespace: CheckpointRecord.namespace, sequence: nil, message: "\(what): \(problem)"))
                continue
            }
            if !recorded.contains(checkpoint.signature) {
                problems.append(
                    .init(
                        namespace: CheckpointRecord.namespace, sequence: nil,
                        message:
                            "\(what) is missing from the store's log: it was removed (if this store was replaced on purpose, \(checkpointsFile ?? "the checkpoints file") belongs to the old one)"
                    ))
            }
            let before = problems.count
            for head in checkpoint.heads {
                if let problem = head.problem(found: found[head.namespace]?[head.events], what: what) { problems.append(problem) }
            }
            if problems.count == before { holding.append(checkpoint) }
        }
        for problem in CheckpointRules.unvouchedRedactions(redactions, checkpoints: holding) {
            problems.append(.init(namespace: problem.namespace, sequence: problem.sequence, message: problem.message))
        }
        return report.with(problems)
    }
}

extension VerificationReport {
    func with(_ problems: [Problem]) -> VerificationReport {
        VerificationReport(chains: chains, eventCount: eventCount, problems: problems, checkpoints: checkpoints)
    }
}

struct Rebuild: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rebuild the graph projections from the event log (on the store itself, not through a server).")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors {
            let statistics = try await storeOptions.withStore("rebuild", creating: false) { store in
                try await store.rebuildProjections()
                return try await store.statistics()
            }
            if output.json {
                printJSON(["rebuilt": true, "events": .int(statistics.events), "nodes": .int(statistics.nodes), "edges": .int(statistics.edges)])
            } else {
                print("projections rebuilt from the event log: \(statistics.events) events, \(statistics.nodes) nodes, \(statistics.edges) edges")
            }
        }
    }
}

struct Log: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print stored events in append order, with their chain hashes, as JSON lines.",
        discussion: """
            A full-fidelity audit trail: each line holds the event, who recorded it and when, and its place in \
            the chain. --json prints one JSON document instead: {"events": [...]}.
            """)

    @Option(parsing: .unconditional, help: "Start after this global sequence number.")
    var after: Int64 = 0
    @Option(parsing: .unconditional, help: "At most this many events.")
    var limit: Int = 1000
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if after < 0 { throw ArgumentParser.ValidationError("--after must be 0 or more") }
        if limit < 0 { throw ArgumentParser.ValidationError("--limit must be 0 or more") }
    }

    func run() async throws {
        try await reportingErrors {
            let events = try await storeOptions.withBackend(creating: false) { try await $0.events(afterSequence: after, limit: limit) }
            if output.json {
                printJSON(.object(["events": .array(events.map(\.json))]))
            } else {
                for event in events { print(TerminalText.escapeJSON(event.json.canonicalString)) }
            }
        }
    }
}
