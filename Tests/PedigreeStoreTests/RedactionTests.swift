import Foundation
import GRDB
import PedigreeCore
import PedigreeStore
import PedigreeTestSupport
import Testing

/// Redaction and retention on both backends: the value leaves the log and the projections, the chain and a
/// replay still verify, and nothing else can pose as a redaction.
@Suite("redaction and retention", .dropsTestDatabases)
struct RedactionTests {
    static let secret = "alice.secret@example.com"

    func store(_ kind: StoreKind) async throws -> any LineageStore {
        let store = try await makeStore(kind)
        try await store.append(
            [
                try LineageEvent(json: [
                    "type": "run", "namespace": "risk",
                    "run": [
                        "id": "pii-1", "job": "train", "status": "COMPLETE",
                        "outputs": [
                            [
                                "artifact": ["kind": "model", "name": "credit", "digest": .string("sha256:" + String(repeating: "1", count: 64))],
                                "role": "model",
                            ]
                        ],
                        "hyperparameters": ["customer_email": .string(Self.secret), "lr": 0.1],
                        "environment": ["os": "Linux", "variables": ["API_USER": .string(Self.secret)]],
                    ],
                ])
            ], recordedBy: "test")
        return store
    }

    @Test(
        "a redacted field is gone from the log and the graph, the chains and the replay still verify, and the audit lists it",
        arguments: StoreKind.allCases)
    func redaction(kind: StoreKind) async throws {
        let store = try await store(kind)
        let model = Reference.artifact(ArtifactRef(kind: "model", namespace: "risk", name: "credit", version: "1"))
        let planned = try await store.redact(
            model, fields: ["run.hyperparameters.customer_email"], reason: "personal data", recordedBy: "dpo", signer: nil, dryRun: true)
        #expect(planned.count == 1 && planned[0].redaction == nil)
        #expect(
            try await rawRows(store, "SELECT body FROM events").contains { "\($0["body"] ?? .null)".contains(Self.secret) },
            "a dry run changes nothing")

        let done = try await store.redact(
            model, fields: ["run.hyperparameters.customer_email", "run.environment.variables"], reason: "personal data", recordedBy: "dpo",
            signer: nil, dryRun: false)
        #expect(done.count == 1 && done[0].fields.count == 2 && done[0].redaction == 2)
        for (table, column) in [("events", "body"), ("nodes", "state")] {
            for row in try await rawRows(store, "SELECT \(column) FROM \(table)") {
                #expect(!"\(row[column] ?? .null)".contains(Self.secret), "\(table)")
            }
        }
        let report = try await store.verify()
        #expect(report.ok, "\(report.problems)")
        let run = try await store.show(model, asOf: nil).generatedBy?.record
        #expect(run?.hyperparameters?["customer_email"] == .string(RedactionRecord.placeholder))
        #expect(run?.hyperparameters?["lr"] == 0.1, "the other parameters stay")
        #expect(run?.environment?.json["variables"] == RedactionRecord.objectPlaceholder)

        let audit = try await store.audit(
            ArtifactRef(kind: "model", namespace: "risk", name: "credit", version: "1"), trustedKey: nil, asOf: nil, mayRead: { _ in true })
        #expect(audit.integrity.eventsVerified)
        #expect(audit.integrity.redactions.map(\.fields) == [["run.hyperparameters.customer_email", "run.environment.variables"]])
        #expect(audit.integrity.redactions.first?.by == "dpo")

        // A redacted body altered afterwards is caught: it matches neither digest.
        try await tamper(store, "UPDATE events SET body = replace(body, '\"lr\":0.1', '\"lr\":0.9') WHERE ns_seq = 1 AND namespace = 'risk'")
        let tampered = try await store.verify()
        #expect(tampered.problems.first?.message.contains("neither the recorded") == true, "\(tampered.problems)")
    }

    @Test("what cannot be redacted is refused with the field named, and changes nothing", arguments: StoreKind.allCases)
    func refusals(kind: StoreKind) async throws {
        let store = try await store(kind)
        let model = Reference.artifact(ArtifactRef(kind: "model", namespace: "risk", name: "credit", version: "1"))
        let before = try await store.statistics().events
        for (field, message) in [("run.id", "cannot be redacted"), ("run.hyperparameters.nope", "holds run.hyperparameters.nope")] {
            await #expect {
                _ = try await store.redact(model, fields: [field], reason: "x", recordedBy: "dpo", signer: nil, dryRun: false)
            } throws: { error in
                "\(error)".contains(message)
            }
        }
        // A redaction recorded on its own would claim a removal that never happened.
        let forged = try LineageEvent(json: [
            "type": "redaction", "namespace": "risk",
            "redaction": [
                "event": ["sequence": 1, "digest": .string("sha256:" + String(repeating: "2", count: 64))],
                "fields": ["run.hyperparameters.customer_email"], "reason": "x",
                "redactedDigest": .string("sha256:" + String(repeating: "3", count: 64)),
            ],
        ])
        await #expect { try await store.append([forged], recordedBy: "mallory") } throws: { "\($0)".contains("pedigree redact") }
        // The database itself refuses any other change to an event, redaction or not.
        await #expect(throws: (any Error).self) { try await execute(store, "UPDATE events SET body = '{}' WHERE ns_seq = 1") }
        #expect(try await store.statistics().events == before)
    }

    @Test("retention redacts the payloads of expired events and keeps the graph", arguments: StoreKind.allCases)
    func retention(kind: StoreKind) async throws {
        let store = try await store(kind)
        let future = Timestamp(microseconds: Timestamp.now.microseconds + 3 * 365 * 86_400 * 1_000_000)
        let none = try await store.applyRetention(["risk": 10], now: future, recordedBy: "policy", signer: nil, dryRun: false)
        #expect(none.isEmpty, "within ten years nothing expires")
        let planned = try await store.applyRetention(["risk": 2], now: future, recordedBy: "policy", signer: nil, dryRun: true)
        #expect(planned.map(\.fields) == [["run.hyperparameters", "run.environment"]])
        let done = try await store.applyRetention(["risk": 2], now: future, recordedBy: "policy", signer: nil, dryRun: false)
        #expect(done.count == 1)
        #expect(try await store.verify().ok)
        let detail = try await store.show(.artifact(ArtifactRef(kind: "model", namespace: "risk", name: "credit", version: "1")), asOf: nil)
        #expect(detail.generatedBy?.run == "run:pii-1", "the lineage stays")
        #expect(detail.generatedBy?.record.hyperparameters == ["redacted": .string(RedactionRecord.placeholder)])
        #expect(
            try await store.applyRetention(["risk": 2], now: future, recordedBy: "policy", signer: nil, dryRun: false).isEmpty, "applied twice, once")
    }
}
