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

/// A time a source wrote, as Pedigree's timestamp; nil when it is not one (zero, negative, or past year 9999:
/// a damaged or hostile value must not overflow the conversion).
enum SourceTime {
    static let latestMilliseconds: Int64 = 253_402_300_800_000

    static func milliseconds(_ ms: Int64) -> Timestamp? {
        guard ms > 0, ms < latestMilliseconds else { return nil }
        return Timestamp(microseconds: ms * 1000)
    }

    static func seconds(_ seconds: Double) -> Timestamp? {
        guard seconds.isFinite, seconds > 0, seconds * 1000 < Double(latestMilliseconds) else { return nil }
        return Timestamp(microseconds: Int64(seconds * 1_000_000))
    }
}
