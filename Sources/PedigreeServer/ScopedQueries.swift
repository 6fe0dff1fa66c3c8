import PedigreeCore
import PedigreeStore

/// The store's queries as one caller may ask them: access is checked before the store is asked, and
/// answers are cut to what the caller may see. The JSON API and the web UI both read through this, so a
/// page can never show what the API would refuse.
struct ScopedQueries: Sendable {
    let store: any LineageQuerying & MarquezListings
    let identity: Identity
    let trustedKey: TrustedKey?

    var visibility: Visibility { Visibility(identity: identity) }
    var mayRead: @Sendable (String) -> Bool {
        let identity = identity
        return { identity.allows(.reader, in: $0) }
    }

    func show(_ ref: Reference, asOf: Timestamp? = nil) async throws -> NodeDetail {
        let detail: NodeDetail
        do {
            detail = try await store.show(ref, asOf: asOf)
        } catch let error as StoreError where error.code == .notFound && !identity.mayRead(ref) {
            // Say nothing about what another namespace holds (not even its versions).
            throw APIError.notFound("\(ref) is not recorded", field: "ref")
        }
        let reachable = (detail.upstream + detail.downstream).contains { $0.node.kind == "run" && visibility.readable($0.node) }
        guard visibility.readable(detail.summary) || (detail.summary.isArtifact && reachable) else {
            throw APIError.notFound("\(ref) is not recorded", field: "ref")
        }
        return visibility.filter(detail)
    }

    func lineage(_ ref: Reference, direction: LineageDirection, depth: Int?, asOf: Timestamp? = nil) async throws -> LineageGraph {
        try identity.requireRead(ref)
        let graph = try await store.lineage(ref, direction: direction, depth: depth, asOf: asOf)
        try identity.requireRead(graph.root.namespace, ref.description)
        return visibility.filter(graph)
    }

    func modelsTrainedOn(_ dataset: ArtifactRef, asOf: Timestamp? = nil) async throws -> TrainedOnReport {
        try identity.requireRead(dataset.namespace, dataset.description)
        return visibility.filter(try await store.modelsTrainedOn(dataset, asOf: asOf))
    }

    func impact(_ ref: Reference, asOf: Timestamp? = nil) async throws -> ImpactReport {
        try identity.requireRead(ref)
        let report = try await store.impact(ref, asOf: asOf)
        try identity.requireRead(report.namespace, ref.description)
        return visibility.filter(report)
    }

    /// A version's or run's pedigree, without what the caller may not read.
    func pedigree(_ ref: Reference, depth: Int? = nil, asOf: Timestamp? = nil) async throws -> ModelPedigree {
        try identity.requireRead(ref)
        if case .run = ref {
            // A run reference names no namespace: who may see it is known once it is found.
            try identity.requireRead(try await store.show(ref, asOf: asOf).summary.namespace, ref.description)
        }
        return try await store.pedigree(ref, depth: depth, asOf: asOf).visible(to: mayRead)
    }

    func diff(_ from: Reference, _ to: Reference, all: Bool, depth: Int? = nil, asOf: Timestamp? = nil) async throws -> LineageDiff {
        LineageDiff(
            try await pedigree(from, depth: depth, asOf: asOf), try await pedigree(to, depth: depth, asOf: asOf), includeUnchanged: all)
    }

    func history(namespace: String, endpoint: String, asOf: Timestamp? = nil) async throws -> [DeploymentEntry] {
        try identity.requireRead(namespace, Reference.deployment(namespace: namespace, endpoint: endpoint).description)
        return try await store.deploymentHistory(namespace: namespace, endpoint: endpoint, asOf: asOf)
    }

    func incident(
        namespace: String, endpoint: String, at: Timestamp, baseline: IncidentBaseline, asOf: Timestamp? = nil
    ) async throws
        -> IncidentReport
    {
        try identity.requireRead(namespace, Reference.deployment(namespace: namespace, endpoint: endpoint).description)
        if case .model(let model) = baseline { try identity.requireRead(model.namespace, model.description) }
        return try await store.incident(namespace: namespace, endpoint: endpoint, at: at, baseline: baseline, asOf: asOf, mayRead: mayRead)
    }

    func audit(_ model: ArtifactRef, asOf: Timestamp? = nil) async throws -> AuditReport {
        try identity.requireRead(model.namespace, model.description)
        return try await store.audit(model, trustedKey: trustedKey, asOf: asOf, mayRead: mayRead)
    }

    func inventory(asOf: Timestamp? = nil) async throws -> [InventoryEntry] {
        try await store.inventory(trustedKey: trustedKey, asOf: asOf, mayRead: mayRead)
    }

    /// A token for one namespace lists that namespace: paging must not run through what it cannot see.
    func registry(_ filter: RegistryFilter, after: String?, limit: Int, asOf: Timestamp? = nil) async throws -> [RegistryEntry] {
        var filter = filter
        if let namespace = filter.namespace { try identity.requireRead(namespace, "namespace \(namespace)") }
        if filter.namespace == nil, let scoped = identity.token?.namespace, scoped != AccessToken.everyNamespace { filter.namespace = scoped }
        return try await store.registry(filter, after: after, limit: limit, asOf: asOf, mayRead: mayRead)
    }

    /// The namespaces the caller may read.
    func namespaces() async throws -> [String] {
        try await store.namespaces().filter { identity.allows(.reader, in: $0) && !$0.hasPrefix("_") }
    }
}
