import Crypto
import Foundation

/// A SHA-256 content digest, written `sha256:` followed by 64 lower-case hex digits.
public struct ContentDigest: Hashable, Sendable, Comparable, CustomStringConvertible {
    public static let prefix = "sha256:"
    /// The 64 hex digits.
    public let hex: String

    public init(hashing bytes: [UInt8]) {
        hex = SHA256.hash(data: bytes).hexString
    }

    /// The result of an incremental SHA-256 (large files are hashed in chunks).
    public init(_ digest: SHA256.Digest) {
        hex = digest.hexString
    }

    public init(hashing data: Data) {
        hex = SHA256.hash(data: data).hexString
    }

    /// Parses `sha256:<64 hex>`; upper-case hex is accepted and normalised.
    public init?(_ text: String) {
        guard text.hasPrefix(Self.prefix) else { return nil }
        let digits = text.utf8.dropFirst(Self.prefix.utf8.count)
        guard digits.count == 64, digits.allSatisfy({ isHexDigit($0) }) else { return nil }
        // Byte-level checks: digests are parsed on every write, and Character operations are slow.
        self.hex =
            digits.contains(where: { (UInt8(ascii: "A")...UInt8(ascii: "F")).contains($0) })
            ? String(decoding: digits, as: UTF8.self).lowercased() : String(decoding: digits, as: UTF8.self)
    }

    public init?(hex: String) { self.init(Self.prefix + hex) }

    public var description: String { Self.prefix + hex }
    public static func < (a: Self, b: Self) -> Bool { a.hex < b.hex }
}

extension Digest {
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(Self.byteCount * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension JSONValue {
    /// SHA-256 of the canonical form: equal for any two documents that mean the same thing.
    public var digest: ContentDigest { ContentDigest(hashing: canonicalBytes) }
}

private func isHexDigit(_ byte: UInt8) -> Bool {
    (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
        || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
}
