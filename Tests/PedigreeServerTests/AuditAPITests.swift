import Foundation
import HTTPTypes
import PedigreeCore
import PedigreeServer
import PedigreeStore
import PedigreeTestSupport
import Testing

/// `GET /api/v1/audit` and `GET /api/v1/inventory`: the reports as far as the token may see, in their formats.
@Suite("Audit API", .dropsTestDatabases)
struct AuditAPITests {
    @Test(
        "a team audits its own model versions in JSON, Markdown and HTML; another team's are not found; the inventory lists only what it may read",
        arguments: StoreKind.allCases)
    func scopedAudit(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        try await store.append(try IncidentAPITests.history(), recordedBy: "setup")
        let teamA = try await store.createToken(namespace: "team-a", role: .reader, name: "a").secret
        let teamB = try await store.createToken(namespace: "team-b", role: .reader, name: "b").secret
        try await withServer(kind, auth: .on, store: store) { _, client in
            let path = "/api/v1/audit?ref=\(encoded("model:team-b/m@2"))"
            let json = try await client.call(.get, path, token: teamB)
            #expect(json.status == .ok, "\(json.text)")
            #expect(json.json["model"]?["ref"] == "model:team-b/m@2")
            #expect(json.json["changeLog"]?[0]?["diff"]?["hyperparameters"]?[0]?["path"] == "lr")
            #expect(json.json["integrity"]?["events"]?.arrayValue?.allSatisfy { $0["verified"] == true } == true)
            // team-a's endpoint served it too, but that is team-a's record: team-b sees its own endpoint only.
            #expect(json.json["deployments"]?.arrayValue?.map { $0["endpoint"] } == ["deployment:team-b/api"])
            #expect(json.json["integrity"]?["events"]?.arrayValue?.allSatisfy { $0["namespace"] == "team-b" } == true)
            let markdown = try await client.call(.get, path + "&format=md", token: teamB)
            #expect(markdown.status == .ok && markdown.text.hasPrefix("# Audit of model:team-b/m@2"))
            let html = try await client.call(.get, path + "&format=html", token: teamB)
            #expect(html.status == .ok && html.text.hasPrefix("<!DOCTYPE html>"))
            #expect(try await client.call(.get, path, token: teamA).status == .notFound, "team-b's model is not team-a's to audit")

            let bad = try await client.call(.get, "/api/v1/audit?ref=\(encoded("dataset:team-b/data@1"))", token: teamB)
            #expect(bad.status == .badRequest && bad.json["error"]?["field"] == "ref", "\(bad.text)")
            let format = try await client.call(.get, path + "&format=pdf", token: teamB)
            #expect(format.status == .badRequest && format.json["error"]?["field"] == "format")

            let inventory = try await client.call(.get, "/api/v1/inventory", token: teamA)
            #expect(inventory.status == .ok && inventory.json["models"] == [], "team-a owns no model line")
            let own = try await client.call(.get, "/api/v1/inventory?format=csv", token: teamB)
            #expect(own.text.hasPrefix("model,versions,score") && own.text.contains("model:team-b/m@2,2,"), "\(own.text)")
        }
    }
}
