import Foundation

/// One difference (or, with `--all`, one sameness) at a key path.
public struct Change: Hashable, Sendable, Codable {
    public enum Kind: String, Sendable, Codable { case added, removed, changed, unchanged }
    public let path: String
    public let kind: Kind
    public let old: JSONValue?
    public let new: JSONValue?

    public init(path: String, kind: Kind, old: JSONValue?, new: JSONValue?) {
        self.path = path
        self.kind = kind
        self.old = old
        self.new = new
    }

    private enum CodingKeys: String, CodingKey {
        case path, kind = "change", old, new
    }

    /// `old` and `new` are absent when there is no such side; a side that is JSON null is `.null`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        path = try container.decode(String.self, forKey: .path)
        kind = try container.decode(Kind.self, forKey: .kind)
        old = container.contains(.old) ? try container.decode(JSONValue.self, forKey: .old) : nil
        new = container.contains(.new) ? try container.decode(JSONValue.self, forKey: .new) : nil
    }
}

/// Key-path differences between two JSON documents: objects are compared member by member
/// (`optimizer.lr`), arrays of equal length element by element (`layers[2]`), anything else as a whole.
public enum JSONDiff {
    public static func changes(_ old: JSONValue?, _ new: JSONValue?, path: String = "", includeUnchanged: Bool = false) -> [Change] {
        var out: [Change] = []
        walk(old, new, path: path, includeUnchanged: includeUnchanged, into: &out)
        return out
    }

    private static func walk(_ old: JSONValue?, _ new: JSONValue?, path: String, includeUnchanged: Bool, into out: inout [Change]) {
        switch (old, new) {
        case (nil, nil): return
        case (nil, let n?): flatten(n, path: path, kind: .added, into: &out)
        case (let o?, nil): flatten(o, path: path, kind: .removed, into: &out)
        case (.object(let a)?, .object(let b)?):
            for key in Set(a.keys).union(b.keys).sorted() {
                walk(a[key], b[key], path: join(path, key), includeUnchanged: includeUnchanged, into: &out)
            }
        case (.array(let a)?, .array(let b)?) where a.count == b.count && a != b:
            for i in a.indices { walk(a[i], b[i], path: "\(path)[\(i)]", includeUnchanged: includeUnchanged, into: &out) }
        case (let o?, let n?):
            if o != n {
                out.append(Change(path: path, kind: .changed, old: o, new: n))
            } else if includeUnchanged {
                out.append(Change(path: path, kind: .unchanged, old: o, new: n))
            }
        }
    }

    /// An added or removed subtree is listed leaf by leaf, so `scheduler.warmup` shows up by name.
    private static func flatten(_ value: JSONValue, path: String, kind: Change.Kind, into out: inout [Change]) {
        if case .object(let members) = value, !members.isEmpty {
            for key in members.keys.sorted() { flatten(members[key]!, path: join(path, key), kind: kind, into: &out) }
        } else {
            out.append(Change(path: path, kind: kind, old: kind == .removed ? value : nil, new: kind == .added ? value : nil))
        }
    }

    static func join(_ path: String, _ key: String) -> String {
        let safe = key.contains(".") || key.contains("[") ? "[\(JSONValue.string(key).canonicalString)]" : key
        return path.isEmpty ? safe : (safe.hasPrefix("[") ? path + safe : "\(path).\(safe)")
    }
}

/// What the store knows about a model or dataset version, or a run, gathered for comparison: the run (the
/// version's generating run, or the run itself), with inputs and parents resolved to exact versions.
public struct ModelPedigree: Sendable {
    public struct ResolvedInput: Hashable, Sendable {
        public let ref: ArtifactRef
        public let digest: ContentDigest?
        public let role: String
        /// The data dimension (transformations, feature selection, quality) of the run that produced this
        /// input, so a diff shows how the preparation changed, not only that the data did.
        public let preparation: JSONValue?
        /// For a directory: its files and their digests, so a changed directory shows which files changed.
        public let files: JSONValue?
        /// The inputs of the run that produced this one, resolved the same way: following them is how a diff
        /// reaches the raw snapshot that changed under a feature set.
        public let upstream: [ResolvedInput]
        /// The namespace of the run that produced this input: who may see its preparation and upstream.
        public let producerNamespace: String?

        public init(
            ref: ArtifactRef, digest: ContentDigest?, role: String, preparation: JSONValue? = nil, files: JSONValue? = nil,
            upstream: [ResolvedInput] = [], producerNamespace: String? = nil
        ) {
            self.producerNamespace = producerNamespace
            self.ref = ref
            self.digest = digest
            self.role = role
            self.preparation = preparation
            self.files = files
            self.upstream = upstream
        }
    }

    /// What is compared: a model or dataset version (with the run that generated it) or a run itself.
    public let subject: Reference
    public let digest: ContentDigest?
    /// For a directory artifact: its own files and their digests.
    public let files: JSONValue?
    /// The namespace of `run` (a dataset's producer may be another team's run).
    public let runNamespace: String?
    public let run: RunRecord?
    /// Data inputs of the generating run (base models excluded: they are `parents`).
    public let inputs: [ResolvedInput]
    public let parents: [ResolvedInput]

    public init(
        subject: Reference, digest: ContentDigest?, files: JSONValue? = nil, run: RunRecord?, runNamespace: String? = nil, inputs: [ResolvedInput],
        parents: [ResolvedInput]
    ) {
        self.subject = subject
        self.files = files
        self.runNamespace = runNamespace
        self.digest = digest
        self.run = run
        self.inputs = inputs
        self.parents = parents
    }
}

extension ModelPedigree {
    /// What a caller who may read only some namespaces may see: runs in other namespaces keep their place
    /// (that an input changed is visible wherever the input is), but not their records, preparation or inputs.
    public func visible(to mayRead: (String) -> Bool) -> ModelPedigree {
        func limit(_ input: ResolvedInput) -> ResolvedInput {
            guard let producer = input.producerNamespace, !mayRead(producer) else {
                return ResolvedInput(
                    ref: input.ref, digest: input.digest, role: input.role, preparation: input.preparation, files: input.files,
                    upstream: input.upstream.map(limit), producerNamespace: input.producerNamespace)
            }
            return ResolvedInput(ref: input.ref, digest: input.digest, role: input.role, files: input.files, producerNamespace: producer)
        }
        let runVisible = runNamespace.map(mayRead) ?? true
        return ModelPedigree(
            subject: subject, digest: digest, files: files, run: runVisible ? run : nil, runNamespace: runNamespace,
            inputs: runVisible ? inputs.map(limit) : [], parents: runVisible ? parents : [])
    }
}

/// The five-dimension difference between two model versions, two dataset versions or two runs: the
/// root-cause tool.
public struct LineageDiff: QueryResult {
    public let from: Reference
    public let to: Reference
    public let data: [Change]
    public let code: [Change]
    public let parents: [Change]
    public let hyperparameters: [Change]
    public let environment: [Change]

    public init(_ a: ModelPedigree, _ b: ModelPedigree, includeUnchanged: Bool = false) {
        from = a.subject
        to = b.subject
        var data = JSONDiff.changes(a.files, b.files, path: "files", includeUnchanged: includeUnchanged)
        data += Self.compareArtifacts(a.inputs, b.inputs, prefix: "inputs", includeUnchanged: includeUnchanged)
        data += JSONDiff.changes(a.run?.data.map { .object($0.json) }, b.run?.data.map { .object($0.json) }, includeUnchanged: includeUnchanged)
        self.data = data
        code = JSONDiff.changes(a.run?.code.map { .object($0.json) }, b.run?.code.map { .object($0.json) }, includeUnchanged: includeUnchanged)
        parents = Self.compareArtifacts(a.parents, b.parents, prefix: "parents", includeUnchanged: includeUnchanged)
        hyperparameters = JSONDiff.changes(
            a.run?.hyperparameters.map(JSONValue.object), b.run?.hyperparameters.map(JSONValue.object), includeUnchanged: includeUnchanged)
        environment = JSONDiff.changes(
            a.run?.environment.map { .object($0.json) }, b.run?.environment.map { .object($0.json) }, includeUnchanged: includeUnchanged)
    }

    public func changes(in dimension: Dimension) -> [Change] {
        switch dimension {
        case .data: data
        case .code: code
        case .parents: parents
        case .hyperparameters: hyperparameters
        case .environment: environment
        }
    }

    public var isEmpty: Bool { Dimension.allCases.allSatisfy { changes(in: $0).allSatisfy { $0.kind == .unchanged } } }

    private enum CodingKeys: String, CodingKey {
        case from, to, data, code, parents, hyperparameters, environment
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func reference(_ key: CodingKeys) throws -> Reference {
            let text = try container.decode(String.self, forKey: key)
            guard let parsed = try? Reference(parsing: text) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "'\(text)' is not a reference")
            }
            return parsed
        }
        from = try reference(.from)
        to = try reference(.to)
        data = try container.decode([Change].self, forKey: .data)
        code = try container.decode([Change].self, forKey: .code)
        parents = try container.decode([Change].self, forKey: .parents)
        hyperparameters = try container.decode([Change].self, forKey: .hyperparameters)
        environment = try container.decode([Change].self, forKey: .environment)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(from.description, forKey: .from)
        try container.encode(to.description, forKey: .to)
        try container.encode(data, forKey: .data)
        try container.encode(code, forKey: .code)
        try container.encode(parents, forKey: .parents)
        try container.encode(hyperparameters, forKey: .hyperparameters)
        try container.encode(environment, forKey: .environment)
    }

    /// Inputs are paired by role and artifact name, so `dataset:warehouse/tx@v1 → @v2` reads as one change.
    static func compareArtifacts(
        _ old: [ModelPedigree.ResolvedInput], _ new: [ModelPedigree.ResolvedInput], prefix: String, includeUnchanged: Bool
    ) -> [Change] {
        func key(_ input: ModelPedigree.ResolvedInput) -> String { "\(prefix)[\(input.role)] \(input.ref.unversioned)" }
        func value(_ input: ModelPedigree.ResolvedInput) -> JSONValue {
            var out: [String: JSONValue] = ["ref": .string(input.ref.description)]
            if let digest = input.digest { out["digest"] = .string(digest.description) }
            return .object(out)
        }
        let oldByKey = Dictionary(grouping: old, by: key)
        let newByKey = Dictionary(grouping: new, by: key)
        var out: [Change] = []
        for k in Set(oldByKey.keys).union(newByKey.keys).sorted() {
            let a = (oldByKey[k] ?? []).sorted { $0.ref.description < $1.ref.description }
            let b = (newByKey[k] ?? []).sorted { $0.ref.description < $1.ref.description }
            for i in 0..<max(a.count, b.count) {
                let o = i < a.count ? a[i] : nil
                let n = i < b.count ? b[i] : nil
                switch (o, n) {
                case (let o?, let n?) where o.ref == n.ref && o.digest == n.digest:
                    if includeUnchanged { out.append(Change(path: k, kind: .unchanged, old: value(o), new: value(n))) }
                case (let o?, let n?):
                    out.append(Change(path: k, kind: .changed, old: value(o), new: value(n)))
                    out += JSONDiff.changes(o.files, n.files, path: "\(k) files", includeUnchanged: includeUnchanged)
                    out += JSONDiff.changes(o.preparation, n.preparation, path: "\(k) preparation", includeUnchanged: includeUnchanged)
                    // Why the input changed: follow what its producing run used, as far as it was resolved.
                    out += compareArtifacts(o.upstream, n.upstream, prefix: "\(k) ← inputs", includeUnchanged: includeUnchanged)
                case (let o?, nil): out.append(Change(path: k, kind: .removed, old: value(o), new: nil))
                case (nil, let n?): out.append(Change(path: k, kind: .added, old: nil, new: value(n)))
                case (nil, nil): break
                }
            }
        }
        return out
    }
}
