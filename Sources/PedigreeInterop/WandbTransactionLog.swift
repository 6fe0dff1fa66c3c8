import PedigreeCapture
import PedigreeCore

/// The records of a W&B run's transaction log (`run-<id>.wandb`), as wandb-core writes it: a 7-byte header
/// (":W&B", the magic 0xBEE1 little-endian, version 0), then LevelDB's log framing — 32 KiB blocks of chunks,
/// each a CRC-32 (over its type byte and payload), a little-endian 16-bit length and a type (full, first,
/// middle, last), a block's last < 7 bytes zero-filled — around protobuf `wandb_internal.Record` messages.
///
/// wandb's own reader skips a damaged block and stops quietly at a cut record; an import must not store what it
/// cannot read back, so here either is an error that names the file and the byte offset.
public struct WandbTransactionLog: Sendable {
    /// A record: the number of the `Record.record_type` field it carries (run 17, history 2, summary 3, config 5,
    /// artifact 8, exit 18, use_artifact 25, environment 26, …) and that field's message.
    public struct Record: Sendable {
        public let type: Int
        let message: ProtobufMessage
        public let offset: Int
    }

    static let blockSize = 32_768
    static let header: [UInt8] = [0x3a, 0x57, 0x26, 0x42, 0xe1, 0xbe, 0x00]
    /// Record's own fields (num, control, uuid, _info); every other field is its record type.
    static let envelope: Set<Int> = [1, 16, 19, 200]

    public let records: [Record]

    public init(_ bytes: [UInt8], file: String) throws(ValidationError) {
        func fail(_ offset: Int, _ message: String) -> ValidationError { ValidationError(field: "\(file) at byte \(offset)", message) }
        guard bytes.count >= 7, Array(bytes[0..<4]) == Array(Self.header[0..<4]), bytes[4] == 0xe1, bytes[5] == 0xbe else {
            throw ValidationError(field: file, "is not a W&B transaction log (it does not start with :W&B and the magic 0xBEE1)")
        }
        guard bytes[6] == 0 else { throw ValidationError(field: file, "is a W&B transaction log of version \(bytes[6]); version 0 is read") }
        var records: [Record] = []
        var position = 7
        var pending: [UInt8]? = nil
        var pendingStart = 0
        while position < bytes.count {
            let left = Self.blockSize - position % Self.blockSize
            if left < 7 {
                position += left
                continue
            }
            guard position + 7 <= bytes.count else {
                if bytes[position...].allSatisfy({ $0 == 0 }) && pending == nil { break }
                throw fail(position, "the file ends inside a chunk header: it is cut (a run still writing, or a copy that stopped short)")
            }
            let crc =
                UInt32(bytes[position]) | UInt32(bytes[position + 1]) << 8 | UInt32(bytes[position + 2]) << 16 | UInt32(bytes[position + 3]) << 24
            let length = Int(bytes[position + 4]) | Int(bytes[position + 5]) << 8
            let type = bytes[position + 6]
            guard 7 + length <= left else { throw fail(position, "a chunk of \(length) bytes runs past its 32 KiB block: the file is damaged") }
            guard position + 7 + length <= bytes.count else {
                throw fail(position, "the file ends inside a record: it is cut (a run still writing, or a copy that stopped short)")
            }
            let payload = bytes[(position + 7)..<(position + 7 + length)]
            guard CRC32.checksum(CollectionOfOne(type).lazy + payload) == crc else {
                throw fail(position, "a chunk fails its CRC-32 check: the file is altered or damaged")
            }
            switch (type, pending) {
            case (1, nil): records.append(try Self.record(Array(payload), at: position, file: file))
            case (2, nil):
                pending = Array(payload)
                pendingStart = position
            case (3, _?): pending! += payload
            case (4, _?):
                records.append(try Self.record(pending! + payload, at: pendingStart, file: file))
                pending = nil
            default: throw fail(position, "a chunk of type \(type) is out of place: the file is damaged")
            }
            position += 7 + length
        }
        guard pending == nil else {
            throw fail(pendingStart, "the file ends inside a record: it is cut (a run still writing, or a copy that stopped short)")
        }
        self.records = records
    }

    static func record(_ bytes: [UInt8], at offset: Int, file: String) throws(ValidationError) -> Record {
        do {
            let message = try ProtobufMessage(bytes)
            guard let field = message.fields.last(where: { !envelope.contains($0.number) }), case .bytes(let body) = field.value else {
                return Record(type: 0, message: try ProtobufMessage([]), offset: offset)
            }
            return Record(type: field.number, message: try ProtobufMessage(body), offset: offset)
        } catch {
            throw ValidationError(field: "\(file) at byte \(offset)", "a record is not a readable protobuf message (\(error)): the file is damaged")
        }
    }
}
