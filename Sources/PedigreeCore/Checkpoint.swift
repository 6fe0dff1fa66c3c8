import Crypto
import Foundation

/// A signed statement of every hash chain's head at one moment: "namespace N held E events, the last one
/// hashing to H". Anyone holding the public key can later prove that history up to those heads was not
/// rewritten or cut short, even by someone able to recompute every hash in the store — they cannot sign.
///
/// Checkpoints are events too (type `checkpoint`, in the reserved namespace `CheckpointRecord.namespace`),
/// so they are replicated, backed up and exported with the log, and can also be published outside it
/// (`pedigree checkpoint --publish FILE`). An event's signature is checked when it is recorded: a
/// checkpoint that its own key does not verify is refused like any other malformed event.
public struct CheckpointRecord: Hashable, Sendable {
    /// The namespace checkpoints are recorded in; no other kind of event may be.
    public static let namespace = "_checkpoints"
    public static let algorithm = "ecdsa-p256-sha256"
    static let statement = "pedigree-checkpoint-v1"

    /// A chain's length and head hash, as `verify` reports them.
    public typealias Head = VerificationReport.Chain

    /// Every chain's head when it was signed, sorted by namespace.
    public let heads: [Head]
    public let signedAt: Timestamp
    /// `sha256:` of the public key's DER (SubjectPublicKeyInfo) encoding.
    public let keyID: String
    public let publicKey: String
    /// Base64 of the DER-encoded ECDSA signature over `signedBytes`.
    public let signature: String

    /// Signs the heads with the key.
    public init(heads: [Head], signedAt: Timestamp, key: P256.Signing.PrivateKey) throws {
        self.heads = heads.sorted { $0.namespace < $1.namespace }
        self.signedAt = signedAt
        publicKey = key.publicKey.pemRepresentation
        keyID = Self.keyID(of: key.publicKey)
        signature = try key.signature(for: Self.signedBytes(heads: self.heads, signedAt: signedAt, keyID: keyID)).derRepresentation
            .base64EncodedString()
    }

    public static func keyID(of key: P256.Signing.PublicKey) -> String {
        ContentDigest(hashing: Array(key.derRepresentation)).description
    }

    /// What is signed: the canonical JSON of the statement, the time, the heads and the key's id.
    static func signedBytes(heads: [Head], signedAt: Timestamp, keyID: String) -> [UInt8] {
        let document: JSONValue = [
            "statement": .string(statement), "signedAt": .string(signedAt.description), "keyId": .string(keyID),
            "heads": .array(heads.map { ["namespace": .string($0.namespace), "events": .int($0.events), "head": .string($0.head)] }),
        ]
        return document.canonicalBytes
    }

    /// Whether the signature is valid under `trusted` (or, when nil, under the key the checkpoint names).
    /// Returns what is wrong, or nil.
    public func signatureProblem(trusting trusted: TrustedKey?) -> String? {
        signatureProblem(trusting: trusted?.key)
    }

    func signatureProblem(trusting trusted: P256.Signing.PublicKey?) -> String? {
        guard let named = try? P256.Signing.PublicKey(pemRepresentation: publicKey) else { return "its public key is not a P-256 PEM key" }
        guard Self.keyID(of: named) == keyID else { return "its keyId does not match its public key" }
        if let trusted, Self.keyID(of: trusted) != keyID {
            return "it is signed by key \(keyID), not by the trusted key \(Self.keyID(of: trusted))"
        }
        guard let bytes = Data(base64Encoded: signature), let signature = try? P256.Signing.ECDSASignature(derRepresentation: bytes),
            named.isValidSignature(signature, for: Self.signedBytes(heads: heads, signedAt: signedAt, keyID: keyID))
        else { return "its signature does not verify: the checkpoint was altered or not made with this key" }
        return nil
    }

    public init(json value: JSONValue, path: String) throws(ValidationError) {
        let reader = try FieldReader(value, path: path)
        try reader.rejectUnknownKeys(["heads", "signedAt", "keyId", "publicKey", "algorithm", "signature"])
        let algorithm = try reader.string("algorithm", hint: Self.algorithm)
        guard algorithm == Self.algorithm else {
            throw ValidationError(field: reader.fieldPath("algorithm"), "'\(algorithm)' is not supported; checkpoints are \(Self.algorithm)")
        }
        var heads: [Head] = []
        for (i, element) in try reader.array("heads").enumerated() {
            let head = try FieldReader(element, path: "\(reader.fieldPath("heads"))[\(i)]")
            try head.rejectUnknownKeys(["namespace", "events", "head"])
            let namespace = try head.string("namespace")
            try validateNamespace(namespace, field: head.fieldPath("namespace"))
            guard let events = try head.optionalInt("events"), events >= 1 else {
                throw ValidationError(field: head.fieldPath("events"), "is required: the number of events in the chain, 1 or more")
            }
            let hash = try head.string("head")
            guard hash.utf8.count == 64, hash.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
                throw ValidationError(field: head.fieldPath("head"), "must be a chain hash: 64 lower-case hex digits")
            }
            if let last = heads.last, last.namespace >= namespace {
                throw ValidationError(field: head.fieldPath("namespace"), "heads must be sorted by namespace, each namespace once")
            }
            heads.append(Head(namespace: namespace, events: events, head: hash))
        }
        self.heads = heads
        guard let signedAt = try readTimestamp(reader, "signedAt") else {
            throw ValidationError(field: reader.fieldPath("signedAt"), "is required: when the heads were signed")
        }
        self.signedAt = signedAt
        keyID = try reader.string("keyId")
        publicKey = try reader.string("publicKey", hint: "the signer's P-256 public key as PEM")
        signature = try reader.string("signature", hint: "base64 of the DER ECDSA signature")
        if let problem = signatureProblem(trusting: nil as TrustedKey?) { throw ValidationError(field: reader.fieldPath("signature"), problem) }
    }

    public var json: JSONValue {
        [
            "heads": .array(heads.map { ["namespace": .string($0.namespace), "events": .int($0.events), "head": .string($0.head)] }),
            "signedAt": .string(signedAt.description), "keyId": .string(keyID), "publicKey": .string(publicKey),
            "algorithm": .string(Self.algorithm), "signature": .string(signature),
        ]
    }
}

/// The key checkpoints (and the redactions made after them) are signed with.
public struct SigningKey: Sendable {
    public let key: P256.Signing.PrivateKey

    public init(_ key: P256.Signing.PrivateKey) { self.key = key }

    public var keyID: String { CheckpointRecord.keyID(of: key.publicKey) }

    /// Base64 of the DER-encoded ECDSA signature over `bytes`.
    func sign(_ bytes: [UInt8]) throws -> String { try key.signature(for: bytes).derRepresentation.base64EncodedString() }
}

/// Whether `signature` (base64 DER) over `bytes` verifies with the P-256 public key in `pem`.
func isValidSignature(_ signature: String, over bytes: [UInt8], publicKeyPEM pem: String) -> Bool {
    guard let key = try? P256.Signing.PublicKey(pemRepresentation: pem), let data = Data(base64Encoded: signature),
        let parsed = try? P256.Signing.ECDSASignature(derRepresentation: data)
    else { return false }
    return key.isValidSignature(parsed, for: bytes)
}

/// What signed checkpoints promise about redactions: a checkpoint signs chain hashes, which cover each event's
/// original digest, not a redacted body. A redaction recorded after a checkpoint that covers its event (and so
/// not itself under that checkpoint) must be signed with the checkpoint's key; otherwise anyone able to write
/// the database could rewrite a checkpointed event and call it a redaction.
public enum CheckpointRules {
    public struct Redaction: Sendable {
        public let record: RedactionRecord
        /// The redaction event's own position in its namespace's chain.
        public let sequence: Int64
        public init(record: RedactionRecord, sequence: Int64) {
            self.record = record
            self.sequence = sequence
        }
    }

    /// Each redaction that a checkpoint covering its event does not vouch for: (namespace, event, why).
    public static func unvouchedRedactions(
        _ redactions: [Redaction], checkpoints: [CheckpointRecord]
    ) -> [(
        namespace: String, sequence: Int64, message: String
    )] {
        var problems: [(String, Int64, String)] = []
        for redaction in redactions {
            let record = redaction.record
            for checkpoint in checkpoints {
                guard let head = checkpoint.heads.first(where: { $0.namespace == record.namespace }), head.events >= record.sequence,
                    head.events < redaction.sequence
                else { continue }
                if record.signatureProblem(checkpoint: checkpoint) != nil {
                    problems.append(
                        (
                            record.namespace, record.sequence,
                            "was redacted after the checkpoint signed \(checkpoint.signedAt), by a redaction not signed with that checkpoint's key: its body is no longer covered by the checkpoint"
                        ))
                    break
                }
            }
        }
        return problems
    }
}

/// The public key an auditor trusts to have signed checkpoints (`--public-key`).
public struct TrustedKey: Sendable {
    public let key: P256.Signing.PublicKey

    public init(_ key: P256.Signing.PublicKey) { self.key = key }

    public init(pem: String, field: String = "--public-key") throws(ValidationError) {
        if let key = try? P256.Signing.PublicKey(pemRepresentation: pem) {
            self.key = key
        } else if let key = try? P256.Signing.PrivateKey(pemRepresentation: pem) {
            self.key = key.publicKey
        } else {
            throw ValidationError(field: field, "is not an EC P-256 public key in PEM (pedigree checkpoint --export-public-key FILE writes one)")
        }
    }

    public var keyID: String { CheckpointRecord.keyID(of: key) }
    public var pem: String { key.pemRepresentation }
}

/// What is known of a model version's signature: the signature file found beside it (at `pedigree run`,
/// `deploy` or `sign`), whether it verified, and who signed. Recorded in the model's own namespace; `show`
/// lists it among the version's events and the audit reports it.
public struct SignatureRecord: Hashable, Sendable {
    public static let openSSFFormat = "openssf-model-signing/v1.0"

    public var model: ArtifactRef
    public var format: String
    /// Where the signature file was.
    public var file: String
    /// `sha256:` of the signature file's bytes.
    public var fileDigest: ContentDigest
    /// The digest the signature covers (the model directory's, as the format computes it).
    public var subjectDigest: String?
    public var keyID: String?
    public var publicKey: String?
    public var verified: Bool
    /// Whether the files were the ones the signature lists, even when its signer could not be checked.
    public var filesMatch: Bool?
    /// Why it did not verify.
    public var problem: String?
    public var checkedAt: Timestamp

    public init(
        model: ArtifactRef, format: String = Self.openSSFFormat, file: String, fileDigest: ContentDigest, subjectDigest: String?, keyID: String?,
        publicKey: String?, verified: Bool, filesMatch: Bool?, problem: String?, checkedAt: Timestamp
    ) {
        self.filesMatch = filesMatch
        self.model = model
        self.format = format
        self.file = file
        self.fileDigest = fileDigest
        self.subjectDigest = subjectDigest
        self.keyID = keyID
        self.publicKey = publicKey
        self.verified = verified
        self.problem = problem
        self.checkedAt = checkedAt
    }

    public init(json value: JSONValue, path: String, namespace: String) throws(ValidationError) {
        let reader = try FieldReader(value, path: path)
        try reader.rejectUnknownKeys([
            "model", "format", "file", "fileDigest", "subjectDigest", "keyId", "publicKey", "verified", "filesMatch", "problem", "checkedAt",
        ])
        model = try readModelVersion(
            reader, in: namespace, record: "a signature", hint: "the model version signed, e.g. \"model:fraud-team/fraud@1\"")
        format = try reader.string("format", hint: Self.openSSFFormat)
        file = try reader.string("file", hint: "where the signature file was")
        let digestText = try reader.string("fileDigest", hint: "sha256:<64 hex digits> of the signature file")
        guard let fileDigest = ContentDigest(digestText) else {
            throw ValidationError(field: reader.fieldPath("fileDigest"), "'\(digestText)' must be sha256:<64 hex digits>")
        }
        self.fileDigest = fileDigest
        subjectDigest = try reader.optionalString("subjectDigest")
        keyID = try reader.optionalString("keyId")
        publicKey = try reader.optionalString("publicKey")
        guard let verified = try reader.optionalBool("verified") else {
            throw ValidationError(field: reader.fieldPath("verified"), "is required: whether the signature verified")
        }
        self.verified = verified
        filesMatch = try reader.optionalBool("filesMatch")
        problem = try reader.optionalString("problem")
        guard let checkedAt = try readTimestamp(reader, "checkedAt") else {
            throw ValidationError(field: reader.fieldPath("checkedAt"), "is required: when the signature was checked")
        }
        self.checkedAt = checkedAt
    }

    public var json: JSONValue {
        var out: [String: JSONValue] = [
            "model": .string(model.description), "format": .string(format), "file": .string(file), "fileDigest": .string(fileDigest.description),
            "verified": .bool(verified), "checkedAt": .string(checkedAt.description),
        ]
        if let subjectDigest { out["subjectDigest"] = .string(subjectDigest) }
        if let keyID { out["keyId"] = .string(keyID) }
        if let publicKey { out["publicKey"] = .string(publicKey) }
        if let problem { out["problem"] = .string(problem) }
        if let filesMatch { out["filesMatch"] = .bool(filesMatch) }
        return .object(out)
    }
}

extension VerificationReport.Chain {
    /// What is wrong when the chain now holds `found` (nil: nothing) at this head's position: history
    /// rewritten, or cut off. `what` says whose head it is.
    public func problem(found: String?, what: String) -> VerificationReport.Problem? {
        switch found {
        case head?: return nil
        case let other?:
            return .init(
                namespace: namespace, sequence: events,
                message: "\(what) holds head \(head), but event #\(events) now hashes to \(other): history up to it was rewritten")
        case nil:
            return .init(
                namespace: namespace, sequence: events,
                message: "\(what) holds \(events) events ending in \(head), but the chain has fewer: it was truncated or replaced")
        }
    }
}
