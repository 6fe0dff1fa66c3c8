import ArgumentParser
import Crypto
import Foundation
import PedigreeCapture
import PedigreeCore
import PedigreeRender
import PedigreeStore

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A model version's audit report, or (--all) the inventory of every model line.",
        discussion: """
            The report scores the five dimensions field by field (with the command that fills each gap), checks \
            every event behind the version against its hash chain and the signed checkpoints, lists its model \
            signatures, checks it against the EU AI Act (Annex IV, Art. 12, 19), NIST AI RMF and SR 11-7 with \
            the evidence for each item, and gives its line's change log and deployment history.

            Exits 1 (after writing the report) when the events behind the version fail verification or a \
            signed checkpoint no longer matches the chain.

            Formats: md (the default), html (self-contained, prints well), json, pdf (headless Chromium prints \
            the HTML; needs -o). --all: table (the default), csv, json.

            Examples:
              pedigree audit model:fraud-team/fraud@3 --format html -o fraud-3.html
              pedigree audit --all --format csv -o inventory.csv
            """)

    @Argument(help: "The model version (model:NAMESPACE/NAME@VERSION; without a version, the latest).", transform: parseArtifactReference)
    var ref: ArtifactRef?
    @Flag(help: "Every model line: score, owner, risk tier, live deployments, last checkpoint.")
    var all = false
    @Option(help: "md, html, json or pdf (table, csv or json with --all).")
    var format: String?
    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file"))
    var output: String?
    @Option(
        name: .customLong("public-key"),
        help: ArgumentHelp("The checkpoint signer to trust (PEM; default: this machine's checkpoint key, when there is one).", valueName: "pem"))
    var publicKey: String?
    @OptionGroup var time: TimeOptions
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var outputOptions: OutputOptions

    var resolvedFormat: String { outputOptions.json ? "json" : format ?? (all ? "table" : "md") }

    func validate() throws {
        guard all != (ref != nil) else { throw ArgumentParser.ValidationError("give a model version or --all, not both and not neither") }
        let allowed = all ? ["table", "csv", "json"] : ["md", "html", "json", "pdf"]
        guard allowed.contains(resolvedFormat) else {
            throw ArgumentParser.ValidationError("--format must be one of \(allowed.joined(separator: ", "))\(all ? " with --all" : "")")
        }
        if resolvedFormat == "pdf", output == nil { throw ArgumentParser.ValidationError("--format pdf needs -o FILE") }
    }

    func run() async throws {
        try await reportingErrors {
            if publicKey != nil, storeOptions.serverURL != nil {
                throw PedigreeCore.ValidationError(
                    field: "--public-key", "a server audits with the key it was started with (serve --checkpoint-public-key); drop --public-key")
            }
            let trusted = try CheckpointKey.trusted(publicKey)
            if all {
                let entries = try await storeOptions.withBackend(creating: false) { [time] in
                    try await $0.inventory(trustedKey: trusted, asOf: time.asOf)
                }
                let text =
                    switch resolvedFormat {
                    case "csv": AuditRenderer.inventoryCSVHeader + entries.map(AuditRenderer.inventoryCSVRow).joined()
                    case "json": JSONValue.object(["models": .array(entries.map(\.json))]).prettyString() + "\n"
                    default: AuditRenderer.inventoryTable(entries) + "\n"
                    }
                try write(text)
                return
            }
            let report = try await storeOptions.withBackend(creating: false) { [ref, time] in
                try await $0.audit(ref!, trustedKey: trusted, asOf: time.asOf)
            }
            switch resolvedFormat {
            case "json": try write(report.json.prettyString() + "\n")
            case "html": try write(AuditRenderer.html(report))
            case "pdf": try PDFPrinter.print(html: AuditRenderer.html(report), to: output!)
            default: try write(AuditRenderer.markdown(report))
            }
            if let output { warn("wrote the \(resolvedFormat) audit of \(report.model.ref) to \(output)") }
            // The report is written either way; a script learns from the exit status that history did not verify.
            if !report.integrity.eventsVerified || !report.integrity.checkpointProblems.isEmpty {
                warn("integrity FAILED: the events behind \(report.model.ref) do not verify (see section 2)")
                throw ExitCode(1)
            }
        }
    }

    private func write(_ text: String) throws {
        guard let output else {
            print(text, terminator: "")
            return
        }
        guard FileManager.default.createFile(atPath: output, contents: Data(text.utf8)) else {
            throw PedigreeCore.ValidationError(field: "-o", "cannot write \(output) (is its directory writable?)")
        }
    }
}

/// Headless Chromium printing an HTML file to PDF.
enum PDFPrinter {
    static func print(html: String, to file: String) throws {
        let environment = ProcessInfo.processInfo.environment
        let candidates = [environment["PEDIGREE_CHROMIUM"], "chromium", "chromium-browser", "google-chrome"].compactMap { $0 }
        let path = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        guard
            let browser = candidates.lazy.compactMap({ name -> String? in
                name.contains("/") ? name : path.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
            }).first
        else {
            throw PedigreeCore.ValidationError(
                field: "--format", "pdf needs Chromium (apt-get install chromium, or set PEDIGREE_CHROMIUM); --format html prints from any browser")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pedigree-pdf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let page = directory.appendingPathComponent("audit.html")
        try Data(html.utf8).write(to: page)
        let target = URL(fileURLWithPath: file).standardizedFileURL
        let process = Process()
        process.executableURL = URL(fileURLWithPath: browser)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer", "--user-data-dir=\(directory.path)/profile",
            "--print-to-pdf=\(target.path)", page.absoluteString,
        ]
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, FileManager.default.fileExists(atPath: target.path) else {
            throw PedigreeCore.ValidationError(
                field: "--format", "Chromium could not print the PDF: \(String(decoding: message.suffix(400), as: UTF8.self))")
        }
    }
}

/// The key `pedigree checkpoint` signs with: generated on first use, owner-only, in $PEDIGREE_HOME.
enum CheckpointKey {
    static var defaultFile: String { PedigreeDirectories.home.appendingPathComponent("checkpoint-key.pem").path }

    /// Where `pedigree checkpoint` keeps a copy of every checkpoint it signs for a store, outside the store:
    /// `verify` reads it by default, so checkpoints deleted from the log (with the history they covered
    /// rewritten) are still noticed.
    static func localRecord(for store: String) -> String {
        PedigreeDirectories.home.appendingPathComponent("checkpoints")
            .appendingPathComponent(String(ContentDigest(hashing: Array(store.utf8)).hex.prefix(16)) + ".jsonl").path
    }

    static func append(_ record: CheckpointRecord, to file: String) throws {
        let url = URL(fileURLWithPath: file)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        guard FileManager.default.fileExists(atPath: file) || FileManager.default.createFile(atPath: file, contents: nil),
            let handle = FileHandle(forWritingAtPath: file)
        else { throw PedigreeCore.ValidationError(field: "--publish", "cannot write \(file)") }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((record.json.canonicalString + "\n").utf8))
        try handle.synchronize()
        try handle.close()
    }

    /// The given key, else this machine's checkpoint key, created (owner-only) when there is none yet.
    static func loadOrCreate(_ file: String?) throws -> P256.Signing.PrivateKey {
        if let file { return try privateKey(file) }
        if FileManager.default.fileExists(atPath: defaultFile) { return try privateKey(defaultFile) }
        let key = P256.Signing.PrivateKey()
        let directory = URL(fileURLWithPath: defaultFile).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // Created owner-only before the key is written, so it is never readable by others.
        guard FileManager.default.createFile(atPath: defaultFile, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw PedigreeCore.ValidationError(field: "--key", "cannot create \(defaultFile)")
        }
        try Data((key.pemRepresentation + "\n").utf8).write(to: URL(fileURLWithPath: defaultFile))
        warn("created the checkpoint key \(defaultFile) (owner-only); keep a copy of it safe")
        return key
    }

    /// A private key file named by an option; a key that cannot be read is an error naming the option.
    static func privateKey(_ file: String, option: String = "--key") throws -> P256.Signing.PrivateKey {
        do { return try ModelSigning.privateKey(pemFile: file) } catch { throw PedigreeCore.ValidationError(field: option, "\(error)") }
    }

    /// A public key file (or a private key's public half) named by an option.
    static func publicKey(_ file: String, option: String = "--public-key") throws -> P256.Signing.PublicKey {
        do { return try ModelSigning.publicKey(pemFile: file) } catch { throw PedigreeCore.ValidationError(field: option, "\(error)") }
    }

    /// The key a redaction is signed with: the one given, else this machine's checkpoint key when it exists.
    static func signer(_ file: String?) throws -> SigningKey? {
        if let file { return SigningKey(try privateKey(file)) }
        guard FileManager.default.fileExists(atPath: defaultFile) else { return nil }
        return SigningKey(try privateKey(defaultFile))
    }

    /// The key to trust: the one given, else this machine's checkpoint key when it exists, else none.
    static func trusted(_ file: String?) throws -> TrustedKey? {
        if let file { return TrustedKey(try publicKey(file)) }
        guard FileManager.default.fileExists(atPath: defaultFile), let key = try? privateKey(defaultFile) else { return nil }
        return TrustedKey(key.publicKey)
    }
}

struct Checkpoint: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sign the head of every hash chain, after verifying the store, and record the checkpoint as an event.",
        discussion: """
            Later, `pedigree verify` checks every checkpoint's signature and reports any history rewritten or \
            truncated after it, naming the namespace and event. Publish the checkpoints outside the store \
            (--publish appends each to a JSON-lines file; keep it, or the public key, where the store's \
            administrators cannot change it) and verify against them with `verify --checkpoints FILE --public-key KEY.pub`. \
            A copy of each is also kept in $PEDIGREE_HOME/checkpoints/, which `verify` on this machine reads by default.

            The key (EC P-256) is created on first use at $PEDIGREE_HOME/checkpoint-key.pem, readable by its owner only.
            """)

    @Option(help: ArgumentHelp("The signing key (PEM; default: $PEDIGREE_HOME/checkpoint-key.pem, created if missing).", valueName: "pem"))
    var key: String?
    @Option(help: ArgumentHelp("Also append the signed checkpoint to this JSON-lines file.", valueName: "file"))
    var publish: String?
    @Option(
        name: .customLong("export-public-key"), help: ArgumentHelp("Write the key's public half (PEM) to this file and stop.", valueName: "file"))
    var exportPublicKey: String?
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors {
            // A key given is read before anything else; this machine's is created only once there is a store to sign.
            let given = try key.map { try CheckpointKey.privateKey($0) }
            if let exportPublicKey {
                let signingKey = try given ?? CheckpointKey.loadOrCreate(nil)
                try Data((signingKey.publicKey.pemRepresentation + "\n").utf8).write(to: URL(fileURLWithPath: exportPublicKey))
                warn("wrote the public key \(CheckpointRecord.keyID(of: signingKey.publicKey)) to \(exportPublicKey)")
                return
            }
            let record = try await storeOptions.withBackend(creating: false) { backend -> CheckpointRecord in
                let report = try await backend.verify()
                guard report.ok else {
                    throw StoreError(
                        .conflict, "the store does not verify (\(report.problems[0])); a checkpoint would sign broken history. Run pedigree verify",
                        field: "store")
                }
                let heads = report.chains
                guard !heads.isEmpty else { throw StoreError(.invalid, "the store holds no events yet: there is nothing to sign", field: "store") }
                let record = try CheckpointRecord(heads: heads, signedAt: .now, key: try given ?? CheckpointKey.loadOrCreate(nil))
                _ = try await backend.append(
                    [LineageEvent(namespace: CheckpointRecord.namespace, producer: TrainingRun.producer, payload: .checkpoint(record))],
                    recordedBy: cliIdentity)
                return record
            }
            try CheckpointKey.append(record, to: CheckpointKey.localRecord(for: storeOptions.spoolKey))
            if let publish { try CheckpointKey.append(record, to: publish) }
            if output.json {
                printJSON(record.json)
            } else {
                print(
                    "signed the heads of \(record.heads.count) chain\(record.heads.count == 1 ? "" : "s") at \(record.signedAt) with key \(record.keyID)"
                )
                for head in record.heads { print("  \(TerminalText.escape(head.namespace)): \(head.events) events, head \(head.head)") }
            }
        }
    }
}

struct Sign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sign a model version's files in the OpenSSF Model Signing format, and record the signature.",
        discussion: """
            Writes a Sigstore bundle (DSSE envelope, in-toto Statement v1, predicate \
            https://model_signing/signature/v1.0) that the model-signing tools verify:

              model_signing verify key MODEL_DIR --signature MODEL_DIR/model.sig --public_key key.pub

            The directory must hold exactly the recorded version (its content digest is checked first). \
            Make a key with: openssl ecparam -name prime256v1 -genkey -noout -out key.pem
            """)

    @Argument(help: "The model version.", transform: parseArtifactReference)
    var ref: ArtifactRef
    @Option(help: ArgumentHelp("The EC P-256 private key (PEM).", valueName: "pem"))
    var key: String
    @Option(name: .customLong("model-path"), help: ArgumentHelp("The model's directory (default: where the version was recorded).", valueName: "dir"))
    var modelPath: String?
    @Option(help: ArgumentHelp("Where to write the signature (default: model.sig in the model's directory).", valueName: "file"))
    var signature: String?
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors {
            let signingKey = try CheckpointKey.privateKey(key)
            let record = try await storeOptions.withBackend(creating: false) { [ref, modelPath, signature] backend -> SignatureRecord in
                let detail = try await backend.show(.artifact(ref), asOf: nil)
                guard detail.summary.kind == "model" else {
                    throw PedigreeCore.ValidationError(field: "ref", "\(detail.summary.ref) is a \(detail.summary.kind); sign model versions")
                }
                let version = ArtifactRef(
                    kind: "model", namespace: detail.summary.namespace, name: detail.summary.name, version: detail.summary.version)
                guard let directory = modelPath ?? ModelDirectory.recorded(detail.artifact) else {
                    throw PedigreeCore.ValidationError(
                        field: "--model-path", "\(version) was not recorded from a local directory; give the directory with --model-path DIR")
                }
                let root = URL(fileURLWithPath: directory)
                let file = signature.map { URL(fileURLWithPath: $0) } ?? root.appendingPathComponent("model.sig")
                if let recorded = detail.summary.digest, !ModelDirectory.holds(recorded, directory: directory) {
                    let actual = (try? Models.contentDigest(of: directory)).flatMap { $0?.description } ?? "unreadable"
                    throw PedigreeCore.ValidationError(
                        field: "--model-path",
                        "\(directory) holds content \(actual), not \(version) (\(recorded)); sign the directory the version was recorded from")
                }
                let signed: (bundle: Data, subjectDigest: String)
                do { signed = try ModelSigning.sign(directory: root, signatureFile: file, key: signingKey) } catch {
                    throw PedigreeCore.ValidationError(field: "--model-path", "\(error)")
                }
                guard FileManager.default.createFile(atPath: file.path, contents: signed.bundle) else {
                    throw PedigreeCore.ValidationError(field: "--signature", "cannot write \(file.path)")
                }
                let check = ModelSigning.verify(directory: root, signatureFile: file, key: signingKey.publicKey)
                let record = SignatureRecord(
                    model: version, file: file.standardizedFileURL.path, fileDigest: ContentDigest(hashing: signed.bundle),
                    subjectDigest: check.subjectDigest, keyID: ModelSigning.hint(of: signingKey.publicKey),
                    publicKey: signingKey.publicKey.pemRepresentation, verified: check.verified, filesMatch: check.filesMatch, problem: check.problem,
                    checkedAt: .now)
                _ = try await backend.append(
                    [LineageEvent(namespace: version.namespace, producer: TrainingRun.producer, payload: .signature(record))], recordedBy: cliIdentity
                )
                return record
            }
            if output.json {
                printJSON(record.json)
            } else {
                print(
                    "signed \(record.model) → \(TerminalText.escape(record.file)) (subject \(record.subjectDigest ?? "?"), key \(record.keyID ?? "?"))"
                )
            }
        }
    }
}

/// A `model.sig` in a model's directory — one a run wrote, or the one a deployment serves from: verified
/// (with $PEDIGREE_SIGNING_PUBLIC_KEY, when set) and recorded as the version's signature, whatever the result —
/// a signature that fails is evidence too. The directory must hold exactly the version's content.
enum ModelSignatureCheck {
    static var trustedKey: P256.Signing.PublicKey? {
        guard let file = ProcessInfo.processInfo.environment["PEDIGREE_SIGNING_PUBLIC_KEY"], !file.isEmpty else { return nil }
        do { return try ModelSigning.publicKey(pemFile: file) } catch {
            warn("PEDIGREE_SIGNING_PUBLIC_KEY: \(error); signatures are checked against the files only")
            return nil
        }
    }

    /// After `pedigree run`: each output directory that holds a `model.sig` and is one of the models registered.
    static func recordSignatures(of models: [NodeSummary], outputs: [String], directory: URL, backend: any Backend) async {
        for output in outputs {
            let path = URL(fileURLWithPath: output, relativeTo: directory).standardizedFileURL
            guard FileManager.default.fileExists(atPath: path.appendingPathComponent("model.sig").path),
                let model = models.first(where: { ModelDirectory.holds($0.digest, directory: path.path) })
            else { continue }
            await record(path, for: model, backend: backend)
        }
    }

    /// After `pedigree deploy`: the directory the deployment serves from, when it is here and holds the version.
    static func recordSignature(of version: ArtifactRef, servedFrom path: String, backend: any Backend) async {
        let directory = URL(fileURLWithPath: path).standardizedFileURL
        guard FileManager.default.fileExists(atPath: directory.appendingPathComponent("model.sig").path),
            let model = try? await backend.show(.artifact(version), asOf: nil).summary, ModelDirectory.holds(model.digest, directory: directory.path)
        else { return }
        await record(directory, for: model, backend: backend)
    }

    private static func record(_ directory: URL, for model: NodeSummary, backend: any Backend) async {
        let signature = directory.appendingPathComponent("model.sig")
        guard let bytes = FileManager.default.contents(atPath: signature.path) else { return }
        let key = trustedKey
        let check = ModelSigning.verify(directory: directory, signatureFile: signature, key: key)
        let version = ArtifactRef(kind: "model", namespace: model.namespace, name: model.name, version: model.version)
        let record = SignatureRecord(
            model: version, file: signature.path, fileDigest: ContentDigest(hashing: bytes), subjectDigest: check.subjectDigest,
            keyID: check.hint ?? key.map(ModelSigning.hint), publicKey: check.verified ? key?.pemRepresentation : nil, verified: check.verified,
            filesMatch: check.filesMatch, problem: check.problem, checkedAt: .now)
        do {
            _ = try await backend.append(
                [LineageEvent(namespace: version.namespace, producer: TrainingRun.producer, payload: .signature(record))], recordedBy: cliIdentity)
            warn("signature \(signature.path): \(check.verified ? "verified" : "NOT verified: \(check.problem ?? "")") (recorded for \(version))")
        } catch {
            warn("could not record the signature \(signature.path): \(error)")
        }
    }
}

/// Where a model version's files were recorded from.
enum ModelDirectory {
    /// Whether the directory holds exactly the version with this digest: all its files, or all but a
    /// `model.sig` written into it after the version was recorded (signing must not make a model unrecognisable).
    static func holds(_ digest: ContentDigest?, directory: String) -> Bool {
        guard let digest,
            let print = try? Fingerprinter(cache: CaptureCache(directory: PedigreeDirectories.cache)).fingerprint([directory]).first,
            print.isDirectory
        else { return false }
        return print.digest == digest || Fingerprinter.manifestDigest(print.files.filter { $0.path != "model.sig" }) == digest
    }

    static func recorded(_ artifact: ArtifactSpec?) -> String? {
        guard let uri = artifact?.uri else { return nil }
        let path = uri.hasPrefix("file://") ? String(uri.dropFirst("file://".count)) : uri.contains("://") ? nil : uri
        var isDirectory: ObjCBool = false
        guard let path, FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { return nil }
        return path
    }
}

struct Attest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Emit a signed in-toto statement of a model version's lineage (SLSA Provenance v1), or verify one.",
        discussion: """
            The statement's subject is the model version's content digest; its predicate records the \
            hyperparameters, the resolved dependencies (input datasets and parent models, with digests) and the \
            run that built it. It is signed into the same Sigstore bundle (DSSE) as model signatures.

              pedigree attest model:fraud-team/fraud@3 --key key.pem -o fraud-3.intoto.json
              pedigree attest --verify fraud-3.intoto.json --public-key key.pub
            """)

    @Argument(help: "The model version.", transform: parseArtifactReference)
    var ref: ArtifactRef?
    @Option(help: ArgumentHelp("The EC P-256 private key to sign with (PEM).", valueName: "pem"))
    var key: String?
    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("Write the bundle here (default: standard output).", valueName: "file"))
    var output: String?
    @Option(help: ArgumentHelp("Verify this attestation bundle instead.", valueName: "file"))
    var verify: String?
    @Option(name: .customLong("public-key"), help: ArgumentHelp("The public key to verify with (PEM).", valueName: "pem"))
    var publicKey: String?
    @OptionGroup var storeOptions: StoreOptions

    func validate() throws {
        if verify != nil {
            guard publicKey != nil, ref == nil else { throw ArgumentParser.ValidationError("--verify FILE needs --public-key PEM and no model") }
        } else {
            guard ref != nil, key != nil else { throw ArgumentParser.ValidationError("give the model version and --key PEM (or --verify FILE)") }
        }
    }

    func run() async throws {
        try await reportingErrors {
            if let verify, let publicKey {
                let key = try CheckpointKey.publicKey(publicKey)
                guard let data = FileManager.default.contents(atPath: verify) else {
                    throw PedigreeCore.ValidationError(field: "--verify", "cannot read \(verify)")
                }
                let statement: JSONValue
                do { statement = try ModelSigning.openEnvelope(data, key: key).statement } catch {
                    warn("FAILED: \(verify): \(error)")
                    throw ExitCode(1)
                }
                guard statement["predicateType"]?.stringValue == ModelSigning.provenancePredicate else {
                    warn("FAILED: \(verify) is signed but is not a SLSA provenance statement")
                    throw ExitCode(1)
                }
                let subject = statement["subject"]?[0]
                print(
                    "ok: \(TerminalText.escape(subject?["name"]?.stringValue ?? "?")) sha256:\(subject?["digest"]?["sha256"]?.stringValue ?? "?"), signed by \(ModelSigning.hint(of: key))"
                )
                return
            }
            let signingKey = try CheckpointKey.privateKey(key!)
            let statement = try await storeOptions.withBackend(creating: false) { [ref] backend in
                let (detail, parents) = try await ModelRecord.gather(ref!, from: backend)
                return try Provenance.statement(detail: detail, parents: parents)
            }
            let bundle = try ModelSigning.envelope(statement, key: signingKey)
            if let output {
                guard FileManager.default.createFile(atPath: output, contents: bundle) else {
                    throw PedigreeCore.ValidationError(field: "-o", "cannot write \(output)")
                }
                warn("wrote the signed provenance of \(ref!) to \(output)")
            } else {
                print(String(decoding: bundle, as: UTF8.self))
            }
        }
    }
}

/// A model version's record and its parents with their digests, where they are known: what an
/// attestation or a bill of materials describes.
enum ModelRecord {
    static func gather(_ ref: ArtifactRef, from backend: any Backend) async throws -> (NodeDetail, [(ref: ArtifactRef, digest: ContentDigest?)]) {
        let detail = try await backend.show(.artifact(ref), asOf: nil)
        guard detail.summary.kind == "model" else {
            throw PedigreeCore.ValidationError(field: "ref", "\(detail.summary.ref) is a \(detail.summary.kind); this describes model versions")
        }
        // Parents are the generating run's model inputs (a base model, or a parent named by reference).
        let parents = (detail.generatedBy?.inputs ?? []).filter { $0.node.kind == "model" }.map { link in
            (
                ref: ArtifactRef(kind: "model", namespace: link.node.namespace, name: link.node.name, version: link.node.version),
                digest: link.node.digest
            )
        }
        return (detail, parents)
    }
}

/// A model version's lineage as a SLSA Provenance v1 in-toto statement.
enum Provenance {
    static let buildType = "https://pedigree.dev/training/v1"

    static func statement(detail: NodeDetail, parents: [(ref: ArtifactRef, digest: ContentDigest?)]) throws -> JSONValue {
        guard let digest = detail.summary.digest else {
            throw PedigreeCore.ValidationError(field: "ref", "\(detail.summary.ref) has no content digest: an attestation's subject needs one")
        }
        func dependency(_ name: String, _ digest: ContentDigest?, role: String) -> JSONValue {
            var out: [String: JSONValue] = ["name": .string(name), "annotations": ["role": .string(role)]]
            if let digest { out["digest"] = ["sha256": .string(digest.hex)] }
            return .object(out)
        }
        let run = detail.generatedBy?.record
        var dependencies = (detail.generatedBy?.inputs ?? []).map { dependency($0.node.ref, $0.node.digest, role: $0.role) }
        dependencies += parents.map { dependency($0.0.description, $0.1, role: "parent") }
        if let code = run?.code, let repository = code.repository, let commit = code.commit {
            dependencies.append(["name": "code", "uri": .string("git+\(repository)"), "digest": ["gitCommit": .string(commit)]])
        }
        var metadata: [String: JSONValue] = [:]
        if let run { metadata["invocationId"] = .string("run:\(run.id)") }
        if let started = run?.startedAt { metadata["startedOn"] = .string(started.description) }
        if let ended = run?.endedAt { metadata["finishedOn"] = .string(ended.description) }
        var external: [String: JSONValue] = [:]
        if let run {
            external["job"] = .string(run.job)
            external["hyperparameters"] = .object(run.hyperparameters ?? [:])
        }
        var internalParameters: [String: JSONValue] = [:]
        if let environment = run?.environment { internalParameters["environment"] = .object(environment.json) }
        return [
            "_type": .string(ModelSigning.statementType),
            "subject": [["name": .string(detail.summary.ref), "digest": ["sha256": .string(digest.hex)]]],
            "predicateType": .string(ModelSigning.provenancePredicate),
            "predicate": [
                "buildDefinition": [
                    "buildType": .string(buildType), "externalParameters": .object(external), "internalParameters": .object(internalParameters),
                    "resolvedDependencies": .array(dependencies),
                ],
                "runDetails": [
                    "builder": ["id": "https://pedigree.dev/pedigree-run", "version": ["pedigree": .string(Pedigree.version)]],
                    "metadata": .object(metadata),
                ],
            ],
        ]
    }
}

struct Redact: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove fields (personal data, secrets) from the events behind a node, keeping the chain verifiable.",
        discussion: """
            Each event that holds a field keeps its digest, so its hash chain still verifies; the field's value is \
            replaced by "[redacted]" wherever it is shown or exported, and a redaction event records who removed \
            which fields and why. The graph is rebuilt and the store's files rewritten, so no copy of the value \
            is left in them. Only free-form payloads can be removed: parameters, metrics, facets, data \
            preparation, environment, code and deployment configuration. An event under a signed checkpoint is \
            redacted only with that checkpoint's key (--key; by default this machine's checkpoint key), so \
            `verify` can tell a redaction from a rewrite.

              pedigree redact run:7f3a… --field run.hyperparameters.customer_email --reason "personal data (GDPR art. 17)"
              pedigree redact model:fraud-team/fraud@3 --field run.environment.variables --reason "leaked token" --dry-run
            """)

    @Argument(help: "The node whose events to redact: an artifact version, a run or an endpoint.", transform: parseReference)
    var ref: Reference
    @Option(
        name: .customLong("field"), help: ArgumentHelp("A field path in the event, e.g. run.hyperparameters.email (repeatable).", valueName: "path"))
    var fields: [String] = []
    @Option(help: "Why, for the audit trail.")
    var reason: String
    @Flag(name: .customLong("dry-run"), help: "List what would be redacted; change nothing.")
    var dryRun = false
    @Option(help: ArgumentHelp("The checkpoint key to sign the redaction with (default: $PEDIGREE_HOME/checkpoint-key.pem).", valueName: "pem"))
    var key: String?
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard !fields.isEmpty else { throw ArgumentParser.ValidationError("give at least one --field PATH") }
        for field in fields where !Redactor.isRedactable(field) {
            throw ArgumentParser.ValidationError(
                "--field \(TerminalText.escape(field)) cannot be redacted; only fields under \(Redactor.redactable.joined(separator: ", ")) can")
        }
    }

    func run() async throws {
        try await reportingErrors {
            let signer = try CheckpointKey.signer(key)
            let outcomes = try await storeOptions.withStore("redact", creating: false) { [ref, fields, reason, dryRun] store in
                try await store.redact(ref, fields: fields, reason: reason, recordedBy: cliIdentity, signer: signer, dryRun: dryRun)
            }
            RedactionReport.print(outcomes, dryRun: dryRun, json: output.json)
        }
    }
}

struct Retention: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply retention policies: redact the payloads of events older than each namespace's period.",
        subcommands: [Apply.self])

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Redact the payloads (parameters, metrics, facets, environment, code, configuration) of expired events.",
            discussion: """
                The policy file is JSON: the years to keep each namespace's records in full, e.g.

                  {"fraud-team": 10, "marketing": 3}

                Expired events keep their ids, references, times and digests, so the lineage graph and the hash \
                chains stay; their payloads are redacted as `pedigree redact` does, with the policy as the reason. \
                The EU AI Act asks providers of high-risk systems to keep documentation for 10 years.
                """)

        @Option(help: ArgumentHelp("The retention policy (JSON: namespace → years).", valueName: "file"))
        var policy: String
        @Flag(name: .customLong("dry-run"), help: "List what would be redacted; change nothing.")
        var dryRun = false
        @Option(help: ArgumentHelp("The checkpoint key to sign the redactions with (default: $PEDIGREE_HOME/checkpoint-key.pem).", valueName: "pem"))
        var key: String?
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await reportingErrors {
                guard let data = FileManager.default.contents(atPath: policy), case .object(let members)? = try? JSONValue.parse(data) else {
                    throw PedigreeCore.ValidationError(
                        field: "--policy", "\(policy) is not a JSON object of namespace → years, e.g. {\"fraud-team\": 10}")
                }
                var years: [String: Int] = [:]
                for (namespace, value) in members {
                    guard case .int(let n) = value, n >= 1, n <= 100 else {
                        throw PedigreeCore.ValidationError(field: "--policy", "\(namespace): the years to keep must be a whole number from 1 to 100")
                    }
                    _ = try Namespace(namespace, field: "--policy")
                    years[namespace] = Int(n)
                    if n < 10 { warn("\(namespace): \(n) years is less than the 10 years the EU AI Act requires for high-risk systems") }
                }
                let signer = try CheckpointKey.signer(key)
                let outcomes = try await storeOptions.withStore("retention apply", creating: false) { [years, dryRun] store in
                    try await store.applyRetention(years, now: .now, recordedBy: cliIdentity, signer: signer, dryRun: dryRun)
                }
                RedactionReport.print(outcomes, dryRun: dryRun, json: output.json)
            }
        }
    }
}

enum RedactionReport {
    static func print(_ outcomes: [RedactionOutcome], dryRun: Bool, json: Bool) {
        if json { return printJSON(.object(["dryRun": .bool(dryRun), "redacted": .array(outcomes.map(\.json))])) }
        for outcome in outcomes {
            Swift.print(
                "\(dryRun ? "would redact" : "redacted") \(TerminalText.escape(outcome.namespace)) #\(outcome.sequence) (\(outcome.type)): \(outcome.fields.map(TerminalText.escape).joined(separator: ", "))"
            )
        }
        Swift.print(
            outcomes.isEmpty
                ? "nothing to redact"
                : "\(outcomes.count) event\(outcomes.count == 1 ? "" : "s") \(dryRun ? "would be " : "")redacted; the chains still verify")
    }
}
