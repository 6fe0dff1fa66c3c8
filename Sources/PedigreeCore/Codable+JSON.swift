import Foundation

/// A query result as the CLI prints it with `--json`, the server sends it and the client reads it: one
/// `Codable` conformance is the wire format in both directions, so what a client decodes is exactly what
/// the store answered. (Event bodies are not results: they go through `JSONValue` and the canonical
/// writer, which hashing needs byte for byte.)
public protocol QueryResult: Codable, Sendable {}

extension QueryResult {
    /// The result as JSON, for printing or sending.
    public var json: JSONValue {
        do {
            return try JSONValue.parse(Self.encoder.encode(self))
        } catch {
            // Every result type encodes only strings, numbers, booleans and JSONValue: encoding cannot fail.
            preconditionFailure("\(Self.self) did not encode as JSON: \(error)")
        }
    }

    /// Reads a result back from its JSON (a server's answer).
    public init(json: JSONValue) throws {
        do {
            self = try JSONDecoder().decode(Self.self, from: Data(json.canonicalBytes))
        } catch let error as DecodingError {
            throw ResultDecodingError(Self.self, error)
        }
    }

    private static var encoder: JSONEncoder { JSONEncoder() }
}

/// A server's answer that is not the result it should be.
public struct ResultDecodingError: Error, CustomStringConvertible {
    public let description: String

    public init(_ type: Any.Type, _ error: DecodingError) {
        let (context, reason): (DecodingError.Context?, String) =
            switch error {
            case .typeMismatch(_, let c): (c, "has the wrong type")
            case .valueNotFound(_, let c): (c, "is missing")
            case .keyNotFound(let key, let c): (c, "lacks \(key.stringValue)")
            case .dataCorrupted(let c): (c, c.debugDescription)
            @unknown default: (nil, "\(error)")
            }
        let path = context?.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined() ?? ""
        description = "the server's answer is not a valid \(type): \(path.isEmpty ? "the document" : String(path.dropFirst())) \(reason)"
    }
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let bool = try? container.decode(Bool.self) {
            self = .bool(bool)
        } else if let int = try? container.decode(Int64.self) {
            self = .int(int)
        } else if let double = try? container.decode(Double.self) {
            self = .double(double)
        } else if let string = try? container.decode(String.self) {
            self = .string(string)
        } else if let array = try? container.decode([JSONValue].self) {
            self = .array(array)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let b): try container.encode(b)
        case .int(let n): try container.encode(n)
        case .double(let d): try container.encode(d)
        case .string(let s): try container.encode(s)
        case .array(let a): try container.encode(a)
        case .object(let o): try container.encode(o)
        }
    }
}

/// Values whose JSON is their canonical text (`Timestamp`'s RFC 3339 form, `ContentDigest`'s `sha256:…`),
/// read back through the same parser that reads them anywhere else.
protocol CodableAsText: Codable, CustomStringConvertible {
    init?(_ text: String)
    /// What the text should have been, for the decoding error.
    static var expected: String { get }
}

extension CodableAsText {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not \(Self.expected)"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension Timestamp: CodableAsText {
    static let expected = "an RFC 3339 time"
}

extension ContentDigest: CodableAsText {
    static let expected = "a sha256: digest"
}
