/// What the registry (the web UI's front page) lists: the latest version of each model, dataset or other
/// artifact, and each deployment endpoint, narrowed by kind, namespace, a name search and whether it serves.
public struct RegistryFilter: Hashable, Sendable {
    /// An artifact kind or `deployment`; nil: every kind but runs.
    public var kind: String?
    public var namespace: String?
    /// Part of the name, in any case; `*` and `?` make it a glob of the whole name.
    public var search: String?
    /// true: only what serves now (a version of the line on an endpoint, or an endpoint serving a model);
    /// false: only what does not.
    public var deployed: Bool?

    public init(kind: String? = nil, namespace: String? = nil, search: String? = nil, deployed: Bool? = nil) {
        self.kind = kind
        self.namespace = namespace
        self.search = search
        self.deployed = deployed
    }

    /// The search as the glob the store matches names with.
    public var nameGlob: String? {
        guard let search, !search.isEmpty else { return nil }
        return search.contains("*") || search.contains("?") ? search : "*\(search)*"
    }
}

/// One line of the registry.
public struct RegistryEntry: Hashable, Sendable {
    /// The latest version (for an endpoint: the endpoint).
    public let latest: NodeSummary
    /// Versions of the line (0 for an endpoint).
    public let versions: Int
    /// Declared with the version (`{"owner": …}` facet), else who recorded the line first.
    public let owner: String?
    /// For an artifact: the endpoints a version of it serves now, with the version and share
    /// (`deployment:ns/api` → `model:ns/fraud@3 90%`). For an endpoint: the models it serves, by share.
    public let serving: [Serving]
    public let retired: Bool

    public struct Serving: Hashable, Sendable {
        public let endpoint: String
        public let model: String
        public let percent: Int
        public init(endpoint: String, model: String, percent: Int) {
            self.endpoint = endpoint
            self.model = model
            self.percent = percent
        }
    }

    public init(latest: NodeSummary, versions: Int, owner: String?, serving: [Serving], retired: Bool) {
        self.latest = latest
        self.versions = versions
        self.owner = owner
        self.serving = serving
        self.retired = retired
    }

    /// Where the next page starts: the entries are ordered by kind, namespace and name.
    public var cursor: String { "\(latest.kind)\u{1F}\(latest.namespace)\u{1F}\(latest.name)" }
}
