import Foundation
import PedigreeCore
import Testing

@Suite("Deployment and retirement events")
struct DeploymentEventTests {
    @Test("a deployment recorded before canaries existed keeps its bytes and its digest")
    func oldDeploymentsUnchanged() throws {
        let event = try LineageEvent(
            json: JSONValue.parse(
                #"{"type": "deployment", "namespace": "fraud-team", "deployment": {"endpoint": "fraud-api", "model": "model:fraud-team/fraud@1", "validFrom": "2026-10-20T08:00:00Z", "config": {"replicas": 3}}}"#
            ))
        // The canonical form and SHA-256 as written by the releases before this one (computed outside Swift).
        #expect(
            event.body.canonicalString
                == #"{"deployment":{"config":{"replicas":3},"endpoint":"fraud-api","model":"model:fraud-team/fraud@1","validFrom":"2026-10-20T08:00:00Z"},"namespace":"fraud-team","type":"deployment"}"#
        )
        #expect(event.digest.hex == "d987eb1434573ded7370112388ac41991ba8585f83c8de98414c8e4fce8ab4f6")
    }

    @Test("a deployment built in code with every part reads back to the same event")
    func fullRoundTrip() throws {
        let manifest = ServingManifest(
            format: "kserve", file: "isvc.yaml", digest: JSONValue.string("manifest").digest, text: "kind: InferenceService\n", redacted: true)
        let record = DeploymentRecord(
            endpoint: "fraud-api", model: ArtifactRef(kind: "model", namespace: "fraud-team", name: "fraud", version: "3"), traffic: 10, force: true,
            config: ["storageUri": "s3://models/fraud/3"], manifest: manifest,
            code: try CodeFacet(json: ["commit": "f00dfeed0123456789abcdef0123456789abcdef", "dirty": true], path: "code"),
            environment: ["images": [["image": "ghcr.io/acme/x@sha256:ab"]]], validFrom: Timestamp("2026-11-25T09:00:00Z")!)
        let event = LineageEvent(namespace: "fraud-team", payload: .deployment(record))
        let reread = try event.validated()
        #expect(reread.digest == event.digest)
        guard case .deployment(let back) = reread.payload else { Issue.record("not a deployment"); return }
        #expect(back == record)
        let undeploy = LineageEvent(namespace: "fraud-team", payload: .deployment(.undeploy(endpoint: "fraud-api", validFrom: .now)))
        #expect(try undeploy.validated().digest == undeploy.digest)
        #expect(undeploy.body["deployment"]?["model"] == nil && undeploy.body["deployment"]?["action"] == "undeploy")
    }

    @Test(
        "invalid deployments and retirements name the field at fault",
        arguments: [
            (#"{"endpoint": "e", "model": "model:t/m@1", "traffic": 0}"#, "deployment.traffic"),
            (#"{"endpoint": "e", "model": "model:t/m@1", "traffic": 100}"#, "deployment.traffic"),
            (#"{"endpoint": "e", "action": "undeploy", "model": "model:t/m@1"}"#, "deployment.model"),
            (#"{"endpoint": "e", "action": "pause"}"#, "deployment.action"),
            (#"{"endpoint": "e", "model": "dataset:t/d@1"}"#, "deployment.model"),
            (#"{"endpoint": "e", "model": "model:t/m@1", "manifest": {"format": "helm", "digest": "sha256:00"}}"#, "deployment.manifest.format"),
        ])
    func invalidDeployments(body: String, field: String) throws {
        let event = #"{"type": "deployment", "namespace": "t", "eventTime": "2026-01-01T00:00:00Z", "deployment": \#(body)}"#
        #expect {
            try LineageEvent(json: JSONValue.parse(event))
        } throws: { error in
            (error as? ValidationError)?.field == field
        }
    }

    @Test("a retirement names a version of the event's own namespace and says why")
    func retirements() throws {
        func retirement(_ body: String) throws -> LineageEvent {
            try LineageEvent(
                json: JSONValue.parse(#"{"type": "retirement", "namespace": "t", "eventTime": "2026-01-01T00:00:00Z", "retirement": \#(body)}"#))
        }
        let ok = try retirement(#"{"model": "model:t/m@1", "reason": "superseded"}"#)
        #expect(ok.subject == "model:t/m@1" && ok.typeName == "retirement")
        for (body, field) in [
            (#"{"model": "model:other/m@1", "reason": "x"}"#, "retirement.model"),
            (#"{"model": "model:t/m", "reason": "x"}"#, "retirement.model"),
            (#"{"model": "model:t/m@1", "reason": "  "}"#, "retirement.reason"),
            (#"{"model": "model:t/m@1"}"#, "retirement.reason"),
        ] {
            #expect(throws: ValidationError.self, "\(body)") { try retirement(body) }
            do { _ = try retirement(body) } catch let error as ValidationError { #expect(error.field == field, "\(body): \(error)") }
        }
    }
}
