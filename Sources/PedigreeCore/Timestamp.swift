import Foundation

/// An instant with microsecond precision, stored as microseconds since the Unix epoch (UTC).
/// Written as RFC 3339 in UTC (`2026-11-28T13:39:04.61446Z`): lineage timestamps must sort as text and
/// compare exactly, so local offsets are normalised away on input.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let microseconds: Int64

    public init(microseconds: Int64) { self.microseconds = microseconds }

    public static var now: Timestamp {
        Timestamp(microseconds: Int64((Date().timeIntervalSince1970 * 1_000_000).rounded()))
    }

    public static let distantFuture = Timestamp(microseconds: Int64.max)

    public var date: Date { Date(timeIntervalSince1970: Double(microseconds) / 1_000_000) }

    public static func < (a: Self, b: Self) -> Bool { a.microseconds < b.microseconds }

    public var description: String {
        let (days, micros) = microseconds.floorDiv(86_400_000_000)
        let (y, m, d) = Self.civil(fromDays: days)
        let secondsOfDay = micros / 1_000_000
        let fraction = micros % 1_000_000
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
        }
        var text =
            "\(pad(Int64(y), 4))-\(pad(Int64(m), 2))-\(pad(Int64(d), 2))T"
            + "\(pad(secondsOfDay / 3600, 2)):\(pad((secondsOfDay / 60) % 60, 2)):\(pad(secondsOfDay % 60, 2))"
        if fraction != 0 {
            var digits = pad(fraction, 6)
            while digits.hasSuffix("0") { digits.removeLast() }
            text += "." + digits
        }
        return text + "Z"
    }

    /// Parses RFC 3339 (`2026-11-28T13:39:04.614460+00:00`, `…Z`), a plain date (`2026-11-28`, midnight UTC)
    /// or `now`. Fractions beyond microseconds are truncated.
    public init?(_ text: String) {
        if text == "now" { self = .now; return }
        let b = Array(text.utf8)
        func number(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= b.count else { return nil }
            var value = 0
            for i in from..<(from + count) {
                guard (48...57).contains(b[i]) else { return nil }
                value = value * 10 + Int(b[i] - 48)
            }
            return value
        }
        guard let year = number(0, 4), b.count >= 10, b[4] == 45, let month = number(5, 2), b[7] == 45,
            let day = number(8, 2), (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var micros: Int64 = 0
        var offsetSeconds = 0
        if b.count > 10 {
            guard b.count >= 19, b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t") || b[10] == 32,
                let hour = number(11, 2), b[13] == 58, let minute = number(14, 2), b[16] == 58, let second = number(17, 2),
                hour < 24, minute < 60, second < 61
            else { return nil }
            micros = Int64(hour * 3600 + minute * 60 + second) * 1_000_000
            var i = 19
            if i < b.count, b[i] == UInt8(ascii: ".") {
                i += 1
                var scale: Int64 = 100_000
                let start = i
                while i < b.count, (48...57).contains(b[i]) {
                    micros += Int64(b[i] - 48) * scale
                    scale /= 10
                    i += 1
                }
                guard i > start else { return nil }
            }
            guard i < b.count else { return nil }
            switch b[i] {
            case UInt8(ascii: "Z"), UInt8(ascii: "z"):
                guard i + 1 == b.count else { return nil }
            case UInt8(ascii: "+"), UInt8(ascii: "-"):
                guard i + 6 == b.count, let oh = number(i + 1, 2), b[i + 3] == 58, let om = number(i + 4, 2) else { return nil }
                offsetSeconds = (oh * 3600 + om * 60) * (b[i] == UInt8(ascii: "-") ? -1 : 1)
            default: return nil
            }
        }
        let days = Self.days(fromCivil: year, month, day)
        self.microseconds = days * 86_400_000_000 + micros - Int64(offsetSeconds) * 1_000_000
    }

    // Howard Hinnant's days-from-civil algorithms (proleptic Gregorian calendar).
    static func days(fromCivil y: Int, _ m: Int, _ d: Int) -> Int64 {
        let y = m <= 2 ? y - 1 : y
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return Int64(era * 146097 + doe - 719468)
    }

    static func civil(fromDays z: Int64) -> (Int, Int, Int) {
        let z = Int(z) + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp + (mp < 10 ? 3 : -9)
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}

extension Int64 {
    /// Division rounding towards negative infinity, with a non-negative remainder.
    func floorDiv(_ divisor: Int64) -> (Int64, Int64) {
        let q = self / divisor, r = self % divisor
        return r < 0 ? (q - 1, r + divisor) : (q, r)
    }
}
