import Foundation
import PedigreeClient
import PedigreeCore
import PedigreeStore

/// Where the CLI's commands get their answers: the local store, or a Pedigree server (`--server`). Both
/// give the same result types, so every command prints the same text and the same JSON either way. Each is
/// also where `pedigree run` records (an `EventDestination`).
protocol Backend: EventDestination {
    func record(_ document: String) async throws -> [AppendOutcome]
    func show(_ ref: Reference, asOf: Timestamp?) async throws -> NodeDetail
    func lineage(_ ref: Reference, direction: LineageDirection, depth: Int?, asOf: Timestamp?) async throws -> LineageGraph
    func modelsTrainedOn(_ ref: ArtifactRef, asOf: Timestamp?) async throws -> TrainedOnReport
    func impact(_ ref: Reference, asOf: Timestamp?) async throws -> ImpactReport
    func diff(_ from: Reference, _ to: Reference, all: Bool, depth: Int?, asOf: Timestamp?) async throws -> LineageDiff
    func history(namespace: String, endpoint: String, asOf: Timestamp?) async throws -> [DeploymentEntry]
    func incident(namespace: String, endpoint: String, at: Timestamp, baseline: IncidentBaseline, asOf: Timestamp?) async throws -> IncidentReport
    func verify() async throws -> VerificationReport
    /// `trustedKey` applies to a local store; a server audits with the key it was started with.
    func audit(_ model: ArtifactRef, trustedKey: TrustedKey?, asOf: Timestamp?) async throws -> AuditReport
    func inventory(trustedKey: TrustedKey?, asOf: Timestamp?) async throws -> [InventoryEntry]
    func events(afterSequence: Int64, limit: Int) async throws -> [StoredEvent]
    func artifacts(withDigest digest: ContentDigest, kind: String?) async throws -> [NodeSummary]
    func artifacts(withURI uri: String, kind: String?) async throws -> [NodeSummary]
    func artifacts(matching filter: ArtifactFilter, limit: Int, offset: Int, asOf: Timestamp?) async throws -> [NodeSummary]
    func createToken(namespace: String, role: AccessRole, name: String?) async throws -> (token: AccessToken, secret: String)
    func tokens(namespace: String?) async throws -> [AccessToken]
    func revokeToken(id: String) async throws -> Bool
}

struct LocalBackend: Backend {
    let store: any LineageStore & TokenStore
    let spoolKey: String

    func append(_ events: [LineageEvent], recordedBy identity: String) async throws -> [AppendOutcome] {
        try await store.append(events, recordedBy: identity)
    }
    func record(_ document: String) async throws -> [AppendOutcome] {
        try await store.append(try await EventDocument.decode(document), recordedBy: cliIdentity)
    }
    func show(_ ref: Reference, asOf: Timestamp?) async throws -> NodeDetail { try await store.show(ref, asOf: asOf) }
    func lineage(_ ref: Reference, direction: LineageDirection, depth: Int?, asOf: Timestamp?) async throws -> LineageGraph {
        try await store.lineage(ref, direction: direction, depth: depth, asOf: asOf)
    }
    func modelsTrainedOn(_ ref: ArtifactRef, asOf: Timestamp?) async throws -> TrainedOnReport { try await store.modelsTrainedOn(ref, asOf: asOf) }
    func impact(_ ref: Reference, asOf: Timestamp?) async throws -> ImpactReport { try await store.impact(ref, asOf: asOf) }
    func diff(_ from: Reference, _ to: Reference, all: Bool, depth: Int?, asOf: Timestamp?) async throws -> LineageDiff {
        LineageDiff(
            try await store.pedigree(from, depth: depth, asOf: asOf), try await store.pedigree(to, depth: depth, asOf: asOf),
            includeUnchanged: all)
    }
    func history(namespace: String, endpoint: String, asOf: Timestamp?) async throws -> [DeploymentEntry] {
        try await store.deploymentHistory(namespace: namespace, endpoint: endpoint, asOf: asOf)
    }
    func incident(namespace: String, endpoint: String, at: Timestamp, baseline: IncidentBaseline, asOf: Timestamp?) async throws -> IncidentReport {
        try await store.incident(namespace: namespace, endpoint: endpoint, at: at, baseline: baseline, asOf: asOf, mayRead: { _ in true })
    }
    func verify() async throws -> VerificationReport { try await store.verify() }
    func audit(_ model: ArtifactRef, trustedKey: TrustedKey?, asOf: Timestamp?) async throws -> AuditReport {
        try await store.audit(model, trustedKey: trustedKey, asOf: asOf, mayRead: { _ in true })
    }
    func inventory(trustedKey: TrustedKey?, asOf: Timestamp?) async throws -> [InventoryEntry] {
        try await store.inventory(trustedKey: trustedKey, asOf: asOf, mayRead: { _ in true })
    }
    func events(afterSequence: Int64, limit: Int) async throws -> [StoredEvent] { try await store.events(afterSequence: afterSequence, limit: limit) }
    func artifacts(withDigest digest: ContentDigest, kind: String?) async throws -> [NodeSummary] {
        try await store.artifacts(withDigest: digest, kind: kind)
    }
    func artifacts(withURI uri: String, kind: String?) async throws -> [NodeSummary] { try await store.artifacts(withURI: uri, kind: kind) }
    func artifacts(matching filter: ArtifactFilter, limit: Int, offset: Int, asOf: Timestamp?) async throws -> [NodeSummary] {
        try await store.artifacts(matching: filter, limit: limit, offset: offset, asOf: asOf)
    }
    func createToken(namespace: String, role: AccessRole, name: String?) async throws -> (token: AccessToken, secret: String) {
        try await store.createToken(namespace: namespace, role: role, name: name)
    }
    func tokens(namespace: String?) async throws -> [AccessToken] { try await store.tokens(namespace: namespace) }
    func revokeToken(id: String) async throws -> Bool { try await store.revokeToken(id: id) }
}

/// The server's REST API through `PedigreeClient`. Its error answers are the same domain errors (and exit
/// codes) as local ones.
struct RemoteBackend: Backend {
    let client: PedigreeClient

    var spoolKey: String { client.displayURL }

    /// The server records the token's identity as the writer, whoever the CLI says it is.
    func append(_ events: [LineageEvent], recordedBy identity: String) async throws -> [AppendOutcome] { try await client.record(events) }
    func record(_ document: String) async throws -> [AppendOutcome] { try await client.record(document) }
    func show(_ ref: Reference, asOf: Timestamp?) async throws -> NodeDetail { try await client.show(ref, asOf: asOf) }
    func lineage(_ ref: Reference, direction: LineageDirection, depth: Int?, asOf: Timestamp?) async throws -> LineageGraph {
        try await client.lineage(ref, direction: direction, depth: depth, asOf: asOf)
    }
    func modelsTrainedOn(_ ref: ArtifactRef, asOf: Timestamp?) async throws -> TrainedOnReport { try await client.modelsTrainedOn(ref, asOf: asOf) }
    func impact(_ ref: Reference, asOf: Timestamp?) async throws -> ImpactReport { try await client.impact(ref, asOf: asOf) }
    func diff(_ from: Reference, _ to: Reference, all: Bool, depth: Int?, asOf: Timestamp?) async throws -> LineageDiff {
        try await client.diff(from, to, all: all, depth: depth, asOf: asOf)
    }
    func history(namespace: String, endpoint: String, asOf: Timestamp?) async throws -> [DeploymentEntry] {
        try await client.history(namespace: namespace, endpoint: endpoint, asOf: asOf)
    }
    func incident(namespace: String, endpoint: String, at: Timestamp, baseline: IncidentBaseline, asOf: Timestamp?) async throws -> IncidentReport {
        try await client.incident(namespace: namespace, endpoint: endpoint, at: at, baseline: baseline, asOf: asOf)
    }
    func verify() async throws -> VerificationReport { try await client.verify() }
    func audit(_ model: ArtifactRef, trustedKey: TrustedKey?, asOf: Timestamp?) async throws -> AuditReport {
        try await client.audit(model, asOf: asOf)
    }
    func inventory(trustedKey: TrustedKey?, asOf: Timestamp?) async throws -> [InventoryEntry] { try await client.inventory(asOf: asOf) }
    func events(afterSequence: Int64, limit: Int) async throws -> [StoredEvent] {
        try await client.events(afterSequence: afterSequence, limit: limit)
    }
    func artifacts(withDigest digest: ContentDigest, kind: String?) async throws -> [NodeSummary] {
        try await client.artifacts(withDigest: digest, kind: kind)
    }
    func artifacts(withURI uri: String, kind: String?) async throws -> [NodeSummary] { try await client.artifacts(withURI: uri, kind: kind) }
    func artifacts(matching filter: ArtifactFilter, limit: Int, offset: Int, asOf: Timestamp?) async throws -> [NodeSummary] {
        try await client.artifacts(matching: filter, limit: limit, offset: offset, asOf: asOf)
    }
    func createToken(namespace: String, role: AccessRole, name: String?) async throws -> (token: AccessToken, secret: String) {
        try await client.createToken(namespace: namespace, role: role, name: name)
    }
    func tokens(namespace: String?) async throws -> [AccessToken] { try await client.tokens(namespace: namespace) }
    func revokeToken(id: String) async throws -> Bool { try await client.revokeToken(id: id) }
}
