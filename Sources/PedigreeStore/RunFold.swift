import PedigreeCore

/// A run is described by several events (START, COMPLETE, corrections); this folds them into one record,
/// leaving out every event a later one supersedes.
enum RunFold {
    struct Part {
        let digest: String
        let run: RunRecord
    }

    /// The run parts of `rows` (columns digest, body, supersedes; in append order) that no row supersedes.
    static func effectiveParts(_ rows: [SQLRow]) throws -> [Part] {
        let superseded = Set(rows.compactMap { $0.optionalText(2) })
        return try rows.compactMap { row in
            let digest = try row.text(0)
            guard !superseded.contains(digest),
                case .run(let run) = try LineageEvent(json: JSONValue.parse(try row.text(1))).payload
            else { return nil }
            return Part(digest: digest, run: run)
        }
    }

    static func fold(_ runs: [RunRecord]) -> RunRecord? {
        guard var folded = runs.first else { return nil }
        for run in runs.dropFirst() { folded = folded.merged(with: run) }
        return folded
    }
}
