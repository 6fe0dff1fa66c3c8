import Crypto
import Foundation

/// A SHA-256 content digest, written `sha256:` followed by 64 lower-case hex digits.
public struct ContentDigest: Hashable, Sendable, Comparable, CustomStringConvertible {
    public static let prefix = "sha256:"
    /// The 64 hex digits.
    public let hex: String

    public init(hashing bytes: some Sequence<UInt8>) {
        hex = SHA256.hash(data: Array(bytes)).hexString
    }

    public init(hashing data: Data) {
        hex = SHA256.hash(data: data).hexString
    }

    /// Parses `sha256:<64 hex>`; upper-case hex is accepted and normalised.
    public init?(_ text: String) {
        guard text.hasPrefix(Self.prefix) else { return nil }
        let hex = text.dropFirst(Self.prefix.count).lowercased()
        guard hex.count == 64, hex.allSatisfy(\.isHexDigit) else { return nil }
        self.hex = hex
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
