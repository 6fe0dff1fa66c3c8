import PedigreeCore

/// The incident query, in one read transaction: the endpoint's history, both models' pedigrees and the
/// blast radius of each changed dataset come from the same snapshot.
extension GraphReader {
    /// `mayRead` limits what the report shows of other namespaces (the server's token scope): their runs'
    /// records in the diff, and the models and endpoints the changed data reaches.
    func incident(
        namespace: String, endpoint: String, at time: Timestamp, baseline: IncidentBaseline, mayRead: (String) -> Bool
    ) throws -> IncidentReport {
        let ref = Reference.deployment(namespace: namespace, endpoint: endpoint)
        let history = try self.history(endpointID: try resolve(ref).id)
        guard let index = history.lastIndex(where: { $0.isServing(at: time) }), !history[index].serving.isEmpty else {
            throw StoreError(.notFound, "\(ref) served nothing at \(time)\(Self.servedPhrase(history))", field: "at")
        }
        let period = history[index]
        // The first suspect is the version that took over last: of those serving, the one whose unbroken
        // run of periods started latest (a canary beside the stable model, or the model that replaced it).
        let starts = period.serving.map { share -> (model: String, start: Int) in
            var first = index
            while first > 0, history[first - 1].share(of: share.model) > 0 { first -= 1 }
            return (share.model, first)
        }
        let suspect = starts.max { $0.start < $1.start || ($0.start == $1.start && $1.model == period.model) }!
        // Its latest deployment: a redeploy with a new serving config or a larger share is what changed last.
        let suspectDeployment = Self.lastDeployment(of: suspect.model, in: history, through: period) ?? history[suspect.start]

        let good: IncidentReport.Baseline?
        switch baseline {
        case .previous:
            good = history[..<suspect.start].reversed().first { $0.primary != nil && $0.primary != suspect.model }.map { entry in
                IncidentReport.Baseline(
                    model: entry.primary!, choice: .previous, deployment: Self.lastDeployment(of: entry.primary!, in: history, through: entry))
            }
        case .model(let given):
            let node = try resolve(given)
            guard node.summary.kind == "model" else {
                throw StoreError(.invalid, "\(node.summary.ref) is not a model version; --good names the model known to be good", field: "good")
            }
            guard node.summary.ref != suspect.model else {
                throw StoreError(
                    .invalid, "\(node.summary.ref) is the version under suspicion; --good names one known to be good (or leave it out)", field: "good"
                )
            }
            good = IncidentReport.Baseline(
                model: node.summary.ref, choice: .given, deployment: Self.lastDeployment(of: node.summary.ref, in: history, through: period))
        case .servingAt(let goodTime):
            guard goodTime <= time else {
                throw StoreError(.invalid, "the good time \(goodTime) is after the incident at \(time)", field: "goodAt")
            }
            guard let entry = history.last(where: { $0.isServing(at: goodTime) }), let model = entry.primary else {
                throw StoreError(.notFound, "\(ref) served nothing at \(goodTime)\(Self.servedPhrase(history))", field: "goodAt")
            }
            good = IncidentReport.Baseline(model: model, choice: .servingAt, deployment: Self.lastDeployment(of: model, in: history, through: entry))
        }

        var diff: LineageDiff?
        var servingChanges: [Change] = []
        var blastRadius: [IncidentReport.BlastRadius] = []
        if let good {
            if let deployed = good.deployment {
                servingChanges = JSONDiff.changes(deployed.servingDocument, suspectDeployment.servingDocument)
            }
            // The lineage diff only between versions the caller may read (the endpoint's team may serve another
            // team's model; `diff` asks the same).
            // A model reference's namespace, readable or not.
            func mayReadModel(_ text: String) -> Bool {
                guard case .artifact(let model)? = try? Reference(parsing: text) else { return false }
                return mayRead(model.namespace)
            }
            if good.model != suspect.model, mayReadModel(good.model), mayReadModel(suspect.model) {
                let changes = LineageDiff(
                    try pedigree(try Reference(parsing: good.model), depth: nil).visible(to: mayRead),
                    try pedigree(try Reference(parsing: suspect.model), depth: nil).visible(to: mayRead))
                diff = changes
                for dataset in IncidentReport.changedDatasets(in: changes) {
                    let impact = try self.impact(.artifact(dataset))
                    blastRadius.append(
                        IncidentReport.BlastRadius(
                            dataset: dataset.description,
                            models: impact.affected(kind: "model").filter { $0.ref != suspect.model && mayRead($0.namespace) }.map(\.ref),
                            endpoints: impact.serving.filter {
                                $0.ref != ref.description && mayRead($0.namespace) && mayReadModel($0.model)
                            }))
                }
            }
        }
        return IncidentReport(
            endpoint: ref.description, namespace: namespace, at: time, serving: period, suspect: suspect.model,
            suspectSince: history[suspect.start].validFrom, suspectDeployment: suspectDeployment, good: good, diff: diff,
            servingChanges: servingChanges, blastRadius: blastRadius)
    }

    /// The latest period up to `last` started by deploying `model` (its serving configuration then).
    static func lastDeployment(of model: String, in history: [DeploymentEntry], through last: DeploymentEntry) -> DeploymentEntry? {
        let end = history.firstIndex(of: last).map { $0 + 1 } ?? history.count
        return history[..<end].last { $0.model == model }
    }

    /// When the endpoint did serve, for an error about a time it did not.
    static func servedPhrase(_ history: [DeploymentEntry]) -> String {
        let served = history.filter { !$0.serving.isEmpty }
        guard let first = served.first else { return "; nothing has been deployed to it" }
        return "; it has served since \(first.validFrom)" + (history.last!.serving.isEmpty ? " until \(history.last!.validFrom)" : "")
    }
}
