import Foundation

/// The immutable unit of the log. Every way into Pedigree (CLI, REST, OpenLineage, importers) produces
/// these, and the store appends them through one validate → append → project step.
///
/// The native format, one JSON object per event:
///
///     {"type": "run", "namespace": "fraud-team", "eventTime": "2026-11-01T09:00:00Z",
///      "run": {"id": "…", "job": "train-fraud", "status": "COMPLETE", "inputs": […], "outputs": […], …}}
///     {"type": "artifact", "namespace": "warehouse", "artifact": {"kind": "dataset", "name": "tx", "version": "v1", …}}
///     {"type": "deployment", "namespace": "fraud-team", "deployment": {"endpoint": "fraud-api", "model": "model:fraud-team/fraud@2", …}}
///     {"type": "retirement", "namespace": "fraud-team", "retirement": {"model": "model:fraud-team/fraud@1", "reason": "…"}}
///     {"type": "signature", "namespace": "fraud-team", "signature": {"model": "model:fraud-team/fraud@1", "verified": true, …}}
///     {"type": "checkpoint", "namespace": "_checkpoints", "checkpoint": {"heads": […], "signature": "…", …}}
///
/// `supersedes` (the digest of an earlier event about the same subject) makes an event a correction: the
/// earlier event stays in the log, and the projections show the correction instead.
///
/// An event's identity is the SHA-256 of its normalised canonical JSON (`digest`): references are spelt
/// out as objects and defaults filled in first, so equivalent spellings of one event get one digest and a
/// retried delivery is stored once.
public struct LineageEvent: Sendable, Hashable {
    public enum Payload: Sendable, Hashable {
        case run(RunRecord)
        case artifact(ArtifactSpec)
        case deployment(DeploymentRecord)
        case retirement(RetirementRecord)
        case checkpoint(CheckpointRecord)
        case signature(SignatureRecord)
        case redaction(RedactionRecord)
    }

    public let namespace: String
    public let eventTime: Timestamp?
    public let producer: String?
    public let supersedes: ContentDigest?
    public let payload: Payload
    /// The normalised event, exactly what is stored and hashed.
    public let body: JSONValue
    public let canonicalBytes: [UInt8]
    public let digest: ContentDigest
    /// Whether this event came through `init(json:)`, which validates every field. An event assembled in code
    /// (capture, importers) has not been, and `validated()` checks it the way a reader of the log will.
    private let isValidated: Bool

    public init(namespace: String, eventTime: Timestamp? = nil, producer: String? = nil, supersedes: ContentDigest? = nil, payload: Payload) {
        self.init(namespace: namespace, eventTime: eventTime, producer: producer, supersedes: supersedes, payload: payload, validated: false)
    }

    private init(namespace: String, eventTime: Timestamp?, producer: String?, supersedes: ContentDigest?, payload: Payload, validated: Bool) {
        isValidated = validated
        self.namespace = namespace
        self.eventTime = eventTime
        self.producer = producer
        self.supersedes = supersedes
        self.payload = payload
        var out: [String: JSONValue] = ["namespace": .string(namespace)]
        switch payload {
        case .run(let run): out["type"] = "run"; out["run"] = run.json
        case .artifact(let artifact): out["type"] = "artifact"; out["artifact"] = artifact.json
        case .deployment(let deployment): out["type"] = "deployment"; out["deployment"] = deployment.json
        case .retirement(let retirement): out["type"] = "retirement"; out["retirement"] = retirement.json
        case .checkpoint(let checkpoint): out["type"] = "checkpoint"; out["checkpoint"] = checkpoint.json
        case .signature(let signature): out["type"] = "signature"; out["signature"] = signature.json
        case .redaction(let redaction): out["type"] = "redaction"; out["redaction"] = redaction.json
        }
        if let eventTime { out["eventTime"] = .string(eventTime.description) }
        if let producer { out["producer"] = .string(producer) }
        if let supersedes { out["supersedes"] = .string(supersedes.description) }
        body = .object(out)
        canonicalBytes = body.canonicalBytes
        digest = ContentDigest(hashing: canonicalBytes)
    }

    /// Parses and validates one native event. `path` prefixes field names in errors (`[3].run.job`).
    public init(json value: JSONValue, path: String = "") throws(ValidationError) {
        let reader = try FieldReader(value, path: path)
        try reader.rejectUnknownKeys(Set(["type", "namespace", "eventTime", "producer", "supersedes"] + Self.payloadKeys))
        let type = try reader.string("type", hint: "one of \(Self.payloadKeys.joined(separator: ", "))")
        let namespace = try reader.string("namespace", hint: "the team or project that owns this record, e.g. \"fraud-team\"")
        try validateNamespace(namespace, field: reader.fieldPath("namespace"))
        let eventTime = try readTimestamp(reader, "eventTime")
        var supersedes: ContentDigest?
        if let text = try reader.optionalString("supersedes") {
            guard let digest = ContentDigest(text) else {
                throw ValidationError(field: reader.fieldPath("supersedes"), "must be the sha256:… digest of the event being corrected")
            }
            supersedes = digest
        }
        guard Self.payloadKeys.contains(type) else {
            throw ValidationError(field: reader.fieldPath("type"), "'\(type)' is not one of \(Self.payloadKeys.joined(separator: ", "))")
        }
        for key in Self.payloadKeys where key != type && reader.has(key) {
            throw ValidationError(field: reader.fieldPath(key), "does not belong in an event of type \(type)")
        }
        // The checkpoints' namespace holds checkpoints only, so a checkpoint's chain is not mixed with lineage.
        if (type == "checkpoint") != (namespace == CheckpointRecord.namespace) {
            throw ValidationError(
                field: reader.fieldPath("namespace"),
                type == "checkpoint"
                    ? "a checkpoint is recorded in namespace \(CheckpointRecord.namespace)"
                    : "namespace \(CheckpointRecord.namespace) is reserved for checkpoints; record \(type) events in a team's namespace")
        }
        guard let payloadJSON = reader.value(type) else {
            throw ValidationError(field: reader.fieldPath(type), "is required in an event of type \(type)")
        }
        let payload: Payload
        switch type {
        case "run": payload = .run(try RunRecord(json: payloadJSON, path: reader.fieldPath("run"), namespace: namespace))
        case "artifact":
            payload = .artifact(try ArtifactSpec(json: payloadJSON, path: reader.fieldPath("artifact"), defaultNamespace: namespace))
        case "deployment":
            payload = .deployment(try DeploymentRecord(json: payloadJSON, path: reader.fieldPath("deployment"), eventTime: eventTime))
        case "retirement":
            payload = .retirement(
                try RetirementRecord(json: payloadJSON, path: reader.fieldPath("retirement"), namespace: namespace, eventTime: eventTime))
        case "checkpoint": payload = .checkpoint(try CheckpointRecord(json: payloadJSON, path: reader.fieldPath("checkpoint")))
        case "signature": payload = .signature(try SignatureRecord(json: payloadJSON, path: reader.fieldPath("signature"), namespace: namespace))
        default: payload = .redaction(try RedactionRecord(json: payloadJSON, path: reader.fieldPath("redaction"), namespace: namespace))
        }
        self.init(
            namespace: namespace, eventTime: eventTime, producer: try reader.optionalString("producer"), supersedes: supersedes, payload: payload,
            validated: true)
    }

    /// The event as the log will read it back: its body parsed and validated as the native format, and
    /// unchanged by that (same digest). The event log writer calls this before every append, so no way in —
    /// however it assembled the event — can store a record that `show`, `verify` or `rebuild` cannot read.
    public func validated() throws(ValidationError) -> LineageEvent {
        if isValidated { return self }
        // The stored bytes, parsed as a reader of the log will parse them.
        let stored: JSONValue
        do throws(JSONParseError) { stored = try JSONValue.parse(String(decoding: canonicalBytes, as: UTF8.self)) } catch {
            throw ValidationError(
                field: "", "the \(typeName) event does not serialise as valid JSON (\(error)); this is a bug in the code that built it")
        }
        let reread = try LineageEvent(json: stored)
        guard reread.digest == digest else {
            throw ValidationError(
                field: "",
                "the \(typeName) event changes when it is read back (\(digest) → \(reread.digest)); this is a bug in the code that built it")
        }
        return reread
    }

    /// Events are their content: two are equal when their normalised bodies are.
    public static func == (a: LineageEvent, b: LineageEvent) -> Bool { a.digest == b.digest }
    public func hash(into hasher: inout Hasher) { hasher.combine(digest) }

    /// What the event is about; corrections must have the same subject as what they correct.
    public var subject: String {
        switch payload {
        case .run(let run): "run:\(run.id)"
        case .artifact(let artifact): artifact.ref.unversioned.description
        case .deployment(let deployment): Reference.deployment(namespace: namespace, endpoint: deployment.endpoint).description
        // The version itself: `show` lists it among the version's events.
        case .retirement(let retirement): retirement.model.description
        case .checkpoint: "checkpoint"
        case .signature(let signature): signature.model.description
        // The redacted event's position: redactions of one event share a subject.
        case .redaction(let redaction): "event:\(namespace)#\(redaction.sequence)"
        }
    }

    public var typeName: String {
        switch payload {
        case .run: "run"
        case .artifact: "artifact"
        case .deployment: "deployment"
        case .retirement: "retirement"
        case .checkpoint: "checkpoint"
        case .signature: "signature"
        case .redaction: "redaction"
        }
    }

    static let payloadKeys = ["run", "artifact", "deployment", "retirement", "checkpoint", "signature", "redaction"]
}

/// Turns a submitted document into events: a native event, an OpenLineage event (RunEvent, DatasetEvent or
/// JobEvent), or a JSON array of either. JSON lines (one document per line) are accepted too, and decoded
/// on every core.
public enum EventDocument {
    public static func decode(_ text: String) async throws -> [LineageEvent] {
        if text.allSatisfy(\.isWhitespace) {
            throw ValidationError(field: "", "the input is empty; expected a JSON event, an array of events or JSON lines")
        }
        let syntaxError: JSONParseError
        do {
            return try decode(try JSONValue.parse(text))
        } catch let error as JSONParseError {
            syntaxError = error
        }
        // Not one document: JSON lines, if there is more than one line and the first is a document of its
        // own (otherwise it is one pretty-printed document with a syntax error, reported where it is).
        let lines = text.split(whereSeparator: \.isNewline)
        let filled = lines.filter { !$0.allSatisfy(\.isWhitespace) }
        guard filled.count > 1, let first = filled.first, (try? JSONValue.parse(String(first))) != nil else {
            throw MalformedDocument(field: nil, syntaxError.description)
        }
        return try await decodeLines(lines)
    }

    public static func decode(_ value: JSONValue) throws(ValidationError) -> [LineageEvent] {
        if case .array(let elements) = value {
            guard !elements.isEmpty else { throw ValidationError(field: "", "the array holds no events") }
            var events: [LineageEvent] = []
            for (i, element) in elements.enumerated() { events += try decodeOne(element, path: "[\(i)]") }
            return events
        }
        return try decodeOne(value, path: "")
    }

    static func decodeOne(_ value: JSONValue, path: String) throws(ValidationError) -> [LineageEvent] {
        guard case .object(let members) = value else {
            throw ValidationError(field: path, "must be an event object, got \(value.typeName)")
        }
        if members["type"] != nil { return [try LineageEvent(json: value, path: path)] }
        if members["schemaURL"] != nil || members["eventType"] != nil || members["producer"] != nil || members["job"] != nil
            || members["dataset"] != nil
        {
            return try OpenLineageMapping.events(from: value, path: path)
        }
        throw ValidationError(
            field: path, "is neither a Pedigree event (needs \"type\") nor an OpenLineage event (needs \"eventTime\" and \"producer\")")
    }
}

extension EventDocument {
    /// Decodes JSON lines on every core. Parsing, validating, normalising and hashing are independent per
    /// event and cost more than appending them, so ingest of large files splits them across cores.
    public static func decodeLines(_ lines: [Substring], firstLineNumber: Int = 1) async throws -> [LineageEvent] {
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, lines.count / 256))
        let chunk = (lines.count + workers - 1) / max(workers, 1)
        return try await withThrowingTaskGroup(of: (Int, [LineageEvent]).self) { group in
            for start in stride(from: 0, to: lines.count, by: max(chunk, 1)) {
                let slice = lines[start..<min(start + chunk, lines.count)]
                group.addTask {
                    var events: [LineageEvent] = []
                    events.reserveCapacity(slice.count)
                    for (offset, line) in zip(slice.indices, slice) where !line.allSatisfy(\.isWhitespace) {
                        let path = "line \(firstLineNumber + offset)"
                        let value: JSONValue
                        do throws(JSONParseError) { value = try JSONValue.parse(String(line)) } catch {
                            throw MalformedDocument(field: path, error.description)
                        }
                        events += try decodeOne(value, path: path)
                    }
                    return (start, events)
                }
            }
            var parts: [(Int, [LineageEvent])] = []
            for try await part in group { parts.append(part) }
            return parts.sorted { $0.0 < $1.0 }.flatMap(\.1)
        }
    }
}

/// Input that is not JSON at all (as opposed to JSON that is not a valid event): a syntax error, with the
/// line it is on for JSON lines.
public struct MalformedDocument: Error, Hashable, Sendable, CustomStringConvertible {
    public let field: String?
    public let message: String

    public init(field: String?, _ message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { field.map { "\($0): \(message)" } ?? message }
}
