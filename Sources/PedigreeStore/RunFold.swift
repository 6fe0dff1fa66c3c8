import PedigreeCore

/// A run is described by several events (START, COMPLETE, corrections); this folds them into one record,
/// leaving out every event a later one supersedes.
enum RunFold {
    struct Part {
        let digest: String
        let run: RunRecord
    }

    /// The run parts of `rows` (columns digest, body, supersedes; in append order) that no row supersedes.
    static func effectiveParts(_ rows: [some RowLike]) throws -> [Part] {
        let superseded = Set(rows.compactMap(\.supersedes))
        return try rows.compactMap { row in
            guard !superseded.contains(row.digest),
                case .run(let run) = try LineageEvent(json: JSONValue.parse(row.body)).payload
            else { return nil }
            return Part(digest: row.digest, run: run)
        }
    }

    static func fold(_ runs: [RunRecord]) -> RunRecord? {
        guard var folded = runs.first else { return nil }
        for run in runs.dropFirst() { folded = folded.merged(with: run) }
        return folded
    }
}

/// The three event columns a fold needs, whatever the backend's row type.
protocol RowLike {
    var digest: String { get }
    var body: String { get }
    var supersedes: String? { get }
}
