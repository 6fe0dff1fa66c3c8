import PedigreeCore

/// Protocol Buffers' wire format, read without the message definitions: a message is a sequence of fields,
/// each a field number and a varint, a fixed 32- or 64-bit value, or a length-delimited run of bytes (a string,
/// bytes, or an embedded message). Enough to read what W&B's transaction log and ML Metadata's struct
/// properties hold, by field number, without generated code.
struct ProtobufMessage {
    enum Value {
        case varint(UInt64)
        case fixed64(UInt64)
        case bytes(ArraySlice<UInt8>)
        case fixed32(UInt32)
    }

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    /// Every field in wire order (a repeated field appears once per element).
    let fields: [(number: Int, value: Value)]

    init(_ bytes: ArraySlice<UInt8>) throws(Malformed) {
        var fields: [(number: Int, value: Value)] = []
        var i = bytes.startIndex
        func varint() throws(Malformed) -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard i < bytes.endIndex, shift < 64 else { throw Malformed(description: "a varint runs past the end of its message") }
                let byte = bytes[i]
                i += 1
                result |= UInt64(byte & 0x7f) << shift
                if byte & 0x80 == 0 { return result }
                shift += 7
            }
        }
        func take(_ count: Int) throws(Malformed) -> ArraySlice<UInt8> {
            guard count >= 0, bytes.endIndex - i >= count else { throw Malformed(description: "a field runs past the end of its message") }
            defer { i += count }
            return bytes[i..<i + count]
        }
        while i < bytes.endIndex {
            let key = try varint()
            let number = Int(key >> 3)
            guard number > 0 else { throw Malformed(description: "field number 0") }
            switch key & 7 {
            case 0: fields.append((number, .varint(try varint())))
            case 1: fields.append((number, .fixed64(try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) })))
            case 2:
                let length = try varint()
                guard length <= UInt64(Int.max) else { throw Malformed(description: "a length past the end of its message") }
                fields.append((number, .bytes(try take(Int(length)))))
            case 5: fields.append((number, .fixed32(try take(4).reversed().reduce(0) { $0 << 8 | UInt32($1) })))
            default: throw Malformed(description: "wire type \(key & 7) (groups are not read)")
            }
        }
        self.fields = fields
    }

    init(_ bytes: [UInt8]) throws(Malformed) { try self.init(bytes[...]) }

    func all(_ number: Int) -> [Value] { fields.filter { $0.number == number }.map(\.value) }
    /// The last occurrence wins, as in protobuf's own parsers.
    func first(_ number: Int) -> Value? { fields.last { $0.number == number }?.value }

    func string(_ number: Int) -> String? {
        guard case .bytes(let bytes)? = first(number) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
    func strings(_ number: Int) -> [String] {
        all(number).compactMap { if case .bytes(let bytes) = $0 { String(decoding: bytes, as: UTF8.self) } else { nil } }
    }
    func message(_ number: Int) throws(Malformed) -> ProtobufMessage? {
        guard case .bytes(let bytes)? = first(number) else { return nil }
        return try ProtobufMessage(bytes)
    }
    func messages(_ number: Int) throws(Malformed) -> [ProtobufMessage] {
        var out: [ProtobufMessage] = []
        for value in all(number) { if case .bytes(let bytes) = value { out.append(try ProtobufMessage(bytes)) } }
        return out
    }
    func int(_ number: Int) -> Int64? {
        switch first(number) {
        case .varint(let v)?: Int64(bitPattern: v)
        case .fixed64(let v)?: Int64(bitPattern: v)
        case .fixed32(let v)?: Int64(Int32(bitPattern: v))
        default: nil
        }
    }
    func double(_ number: Int) -> Double? {
        switch first(number) {
        case .fixed64(let v)?: Double(bitPattern: v)
        case .fixed32(let v)?: Double(Float(bitPattern: v))
        default: nil
        }
    }
    func bool(_ number: Int) -> Bool? { int(number).map { $0 != 0 } }
    /// A `google.protobuf.Timestamp` field (seconds, nanos).
    func timestamp(_ number: Int) throws(Malformed) -> Timestamp? {
        guard let stamp = try message(number), let seconds = stamp.int(1) else { return nil }
        return SourceTime.seconds(Double(seconds) + Double(stamp.int(2) ?? 0) / 1e9)
    }

    /// As deep as JSON documents may nest (`JSONValue.parse`'s limit): deeper is refused, not recursed into.
    static let maximumDepth = 512

    /// A `google.protobuf.Struct` as JSON (fields: map<string, Value> = 1).
    func structValue(depth: Int = 0) throws(Malformed) -> JSONValue {
        guard depth < Self.maximumDepth else { throw Malformed(description: "a struct nests deeper than \(Self.maximumDepth) levels") }
        var out: [String: JSONValue] = [:]
        for entry in try messages(1) {
            guard let key = entry.string(1) else { continue }
            out[key] = try entry.message(2)?.protobufValue(depth: depth + 1) ?? .null
        }
        return .object(out)
    }

    /// A `google.protobuf.Value`: null 1, number 2, string 3, bool 4, struct 5, list 6.
    func protobufValue(depth: Int) throws(Malformed) -> JSONValue {
        guard let (number, _) = fields.last else { return .null }
        switch number {
        case 2:
            let number = double(2) ?? 0
            return number.isFinite ? JSONValue(number: number) : .string(String(number))
        case 3: return .string(string(3) ?? "")
        case 4: return .bool(bool(4) ?? false)
        case 5: return try message(5)?.structValue(depth: depth + 1) ?? .object([:])
        case 6:
            guard depth < Self.maximumDepth else { throw Malformed(description: "a list nests deeper than \(Self.maximumDepth) levels") }
            var items: [JSONValue] = []
            for item in try message(6)?.messages(1) ?? [] { items.append(try item.protobufValue(depth: depth + 1)) }
            return .array(items)
        default: return .null
        }
    }
}
