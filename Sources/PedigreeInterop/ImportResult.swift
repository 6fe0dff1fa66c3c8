import PedigreeCore

/// What an importer made of its source: the events to append (in order, all or none) and what it passed
/// over, with why.
public struct ImportResult: Sendable {
    public var events: [LineageEvent] = []
    public var skipped: [String] = []

    public init() {}

    /// Each event read back as the log will read it, so a source that yields an unstorable record (a name
    /// Pedigree cannot hold, say) is refused here, before anything is stored, with the source's own field named.
    public func validated(source: String) throws(ValidationError) -> ImportResult {
        var out = self
        out.events = []
        for event in events {
            do throws(ValidationError) { out.events.append(try event.validated()) } catch {
                throw ValidationError(field: "\(source): \(event.subject)\(error.field.isEmpty ? "" : " " + error.field)", error.message)
            }
        }
        return out
    }
}
