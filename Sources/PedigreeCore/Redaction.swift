/// The removal of fields from a stored event (personal data in a parameter, a record past its retention),
/// recorded as an event itself: who, when and why, which event, which fields, and the digest of the event's
/// body after the removal. The redacted event keeps its original digest, so its chain still verifies; its
/// body now hashes to `redactedDigest`, which this record (itself in a chain) vouches for.
///
/// No digest of a removed value is kept. The event's own digest still commits to its original bytes, so a
/// value that can be guessed exactly (an e-mail address from a list) can be confirmed against it; the value
/// itself is stored nowhere.
///
/// A redaction of an event under a signed checkpoint is signed with the checkpoint's key (`CheckpointRules`).
public struct RedactionRecord: Hashable, Sendable {
    public struct Signature: Hashable, Sendable {
        public let keyID: String
        /// Base64 of the DER-encoded ECDSA signature over `signedBytes`.
        public let value: String
    }

    /// What a removed value is replaced by: this string, or for an object (a whole facet) an object saying
    /// so, so the event keeps its shape and still parses.
    public static let placeholder = "[redacted]"
    public static let objectPlaceholder: JSONValue = ["redacted": .string(placeholder)]

    static func isPlaceholder(_ value: JSONValue) -> Bool { value == .string(placeholder) || value == objectPlaceholder }

    public var namespace: String
    /// The redacted event's position in its namespace's chain, and its (original) digest.
    public var sequence: Int64
    public var digest: ContentDigest
    public var fields: [String]
    public var reason: String
    public var redactedDigest: ContentDigest
    /// The digest of the body this redaction was applied to: the original (`digest`), or what an earlier
    /// redaction left. Redactions of one event form a chain, so an old one recorded again cannot take over.
    public var previousDigest: ContentDigest
    public var signature: Signature?

    public init(
        namespace: String, sequence: Int64, digest: ContentDigest, fields: [String], reason: String, redactedDigest: ContentDigest,
        previousDigest: ContentDigest? = nil
    ) {
        self.namespace = namespace
        self.sequence = sequence
        self.digest = digest
        self.fields = fields
        self.reason = reason
        self.redactedDigest = redactedDigest
        self.previousDigest = previousDigest ?? digest
    }

    /// What a signature covers: the record without its signature, in the namespace it is recorded in.
    var signedBytes: [UInt8] {
        var document = json
        if case .object(var members) = document {
            members["signature"] = nil
            members["statement"] = "pedigree-redaction-v1"
            members["namespace"] = .string(namespace)
            document = .object(members)
        }
        return document.canonicalBytes
    }

    public func signed(with key: SigningKey) throws -> RedactionRecord {
        var out = self
        out.signature = Signature(keyID: key.keyID, value: try key.sign(signedBytes))
        return out
    }

    /// Why the signature does not vouch for this redaction under `checkpoint`'s key, or nil when it does.
    public func signatureProblem(checkpoint: CheckpointRecord) -> String? {
        signatureProblem(keyID: checkpoint.keyID, publicKeyPEM: checkpoint.publicKey)
    }

    /// Why the signature does not vouch for this redaction under the key, or nil when it does.
    public func signatureProblem(keyID: String, publicKeyPEM: String) -> String? {
        guard let signature else { return "it is not signed" }
        guard signature.keyID == keyID else { return "it is signed by \(signature.keyID), not by \(keyID)" }
        guard isValidSignature(signature.value, over: signedBytes, publicKeyPEM: publicKeyPEM) else { return "its signature does not verify" }
        return nil
    }

    public init(json value: JSONValue, path: String, namespace: String) throws(ValidationError) {
        let reader = try FieldReader(value, path: path)
        try reader.rejectUnknownKeys(["event", "fields", "reason", "redactedDigest", "previousDigest", "signature"])
        guard let event = try reader.optionalReader("event") else {
            throw ValidationError(field: reader.fieldPath("event"), "is required: {\"sequence\": N, \"digest\": \"sha256:…\"} of the redacted event")
        }
        try event.rejectUnknownKeys(["sequence", "digest"])
        guard let sequence = try event.optionalInt("sequence"), sequence >= 1 else {
            throw ValidationError(field: event.fieldPath("sequence"), "is required: the redacted event's position in the namespace's chain")
        }
        self.namespace = namespace
        self.sequence = sequence
        digest = try Self.digest(event, "digest")
        fields = try reader.array("fields").enumerated().map { (i, field) throws(ValidationError) in
            guard let text = field.stringValue, Redactor.isRedactable(text) else {
                throw ValidationError(field: "\(reader.fieldPath("fields"))[\(i)]", "must be a redactable field path, e.g. run.hyperparameters.email")
            }
            return text
        }
        guard !fields.isEmpty else { throw ValidationError(field: reader.fieldPath("fields"), "names no field") }
        reason = try reader.string("reason", hint: "why the fields were removed, for the audit trail")
        guard !reason.allSatisfy(\.isWhitespace) else { throw ValidationError(field: reader.fieldPath("reason"), "must say why") }
        redactedDigest = try Self.digest(reader, "redactedDigest")
        previousDigest = reader.has("previousDigest") ? try Self.digest(reader, "previousDigest") : digest
        if let signature = try reader.optionalReader("signature") {
            try signature.rejectUnknownKeys(["keyId", "value"])
            self.signature = Signature(
                keyID: try signature.string("keyId"), value: try signature.string("value", hint: "base64 of the DER ECDSA signature"))
        }
    }

    private static func digest(_ reader: FieldReader, _ key: String) throws(ValidationError) -> ContentDigest {
        let text = try reader.string(key, hint: "sha256:<64 hex digits>")
        guard let digest = ContentDigest(text) else {
            throw ValidationError(field: reader.fieldPath(key), "'\(text)' must be sha256:<64 hex digits>")
        }
        return digest
    }

    public var json: JSONValue {
        var out: [String: JSONValue] = [
            "event": ["sequence": .int(sequence), "digest": .string(digest.description)], "fields": .array(fields.map(JSONValue.string)),
            "reason": .string(reason), "redactedDigest": .string(redactedDigest.description),
        ]
        if previousDigest != digest { out["previousDigest"] = .string(previousDigest.description) }
        if let signature { out["signature"] = ["keyId": .string(signature.keyID), "value": .string(signature.value)] }
        return .object(out)
    }

    /// Whether `body` holds the placeholder at every field this redaction names.
    public func isApplied(to body: JSONValue) -> Bool {
        fields.allSatisfy { field in
            var value: JSONValue? = body
            for key in field.split(separator: ".") { value = value?[String(key)] }
            return value.map(Self.isPlaceholder) ?? false
        }
    }
}

/// Removes fields from an event body. Only free-form payloads can be redacted — parameters, metrics, facets,
/// data preparation, environment, code and deployment configuration — never what the graph is made of
/// (ids, references, namespaces, digests, times), so a redacted event still parses, projects and verifies.
public enum Redactor {
    /// The parts of an event that may be redacted, as path prefixes.
    public static let redactable = [
        "run.hyperparameters", "run.metrics", "run.facets", "run.data", "run.environment", "run.code",
        "artifact.facets", "artifact.uri", "deployment.config", "deployment.environment", "deployment.code", "deployment.manifest.text",
    ]

    public static func isRedactable(_ path: String) -> Bool {
        redactable.contains { path == $0 || path.hasPrefix($0 + ".") }
    }

    /// The body with each field replaced by the placeholder; throws when a path is not redactable or not in it.
    public static func redact(_ body: JSONValue, fields: [String]) throws(ValidationError) -> JSONValue {
        var out = body
        for field in fields {
            guard isRedactable(field) else {
                throw ValidationError(
                    field: "--field",
                    "'\(field)' cannot be redacted: only \(redactable.joined(separator: ", ")) and fields under them (ids, references and times are what the graph is made of)"
                )
            }
            let keys = field.split(separator: ".").map(String.init)
            guard let replaced = replace(out, keys[...]) else {
                throw ValidationError(field: "--field", "the event has no field \(field)")
            }
            out = replaced
        }
        return out
    }

    private static func replace(_ value: JSONValue, _ keys: ArraySlice<String>) -> JSONValue? {
        guard let key = keys.first, case .object(var members) = value, let child = members[key] else { return nil }
        if keys.count == 1 {
            if RedactionRecord.isPlaceholder(child) { return nil }
            members[key] = child.objectValue != nil ? RedactionRecord.objectPlaceholder : .string(RedactionRecord.placeholder)
        } else {
            guard let inner = replace(child, keys.dropFirst()) else { return nil }
            members[key] = inner
        }
        return .object(members)
    }

    /// The paths under `prefixes` that an event body holds: what a retention policy removes.
    public static func presentFields(in body: JSONValue, prefixes: [String]) -> [String] {
        prefixes.filter { prefix in
            var value: JSONValue? = body
            for key in prefix.split(separator: ".") { value = value?[String(key)] }
            return value.map { !RedactionRecord.isPlaceholder($0) } ?? false
        }
    }
}
