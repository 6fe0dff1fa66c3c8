import CompressNIO
import Foundation
import NIOCore
import PedigreeCore

/// The files of a zip archive (what ClearML packs an offline session into), read through its central
/// directory: stored and deflated entries, each checked against its CRC-32, so an altered or cut archive is
/// refused rather than half read. ZIP64 and encrypted archives are refused with that said.
public struct ZipArchive: Sendable {
    /// Each file's bytes by its path in the archive (directories are left out).
    public let files: [String: [UInt8]]

    public init(_ bytes: [UInt8], name: String) throws(ValidationError) {
        func fail(_ message: String) -> ValidationError { ValidationError(field: name, message) }
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        // The end-of-central-directory record: 22 bytes and a comment of up to 64 KiB, at the end.
        var end = -1
        var at = bytes.count - 22
        while at >= max(0, bytes.count - 22 - 65_535) {
            if u32(at) == 0x0605_4b50 {
                end = at
                break
            }
            at -= 1
        }
        guard end >= 0 else { throw fail("is not a zip archive, or it is cut: its central directory is missing") }
        let count = u16(end + 10)
        let directorySize = u32(end + 12)
        var entry = u32(end + 16)
        guard count != 0xffff, entry != 0xffff_ffff else { throw fail("is a ZIP64 archive, which is not read") }
        guard entry + directorySize <= end else { throw fail("is cut or altered: its central directory points past its end") }
        var files: [String: [UInt8]] = [:]
        for index in 0..<count {
            guard entry + 46 <= end, u32(entry) == 0x0201_4b50 else { throw fail("entry \(index) of its central directory is damaged") }
            let flags = u16(entry + 8)
            let method = u16(entry + 10)
            let crc = UInt32(u32(entry + 16))
            let compressedSize = u32(entry + 20)
            let size = u32(entry + 24)
            let nameLength = u16(entry + 28)
            let extraLength = u16(entry + 30)
            let commentLength = u16(entry + 32)
            let local = u32(entry + 42)
            guard entry + 46 + nameLength <= end else { throw fail("entry \(index) of its central directory is damaged") }
            let path = String(decoding: bytes[(entry + 46)..<(entry + 46 + nameLength)], as: UTF8.self)
            entry += 46 + nameLength + extraLength + commentLength
            if path.hasSuffix("/") { continue }
            guard flags & 1 == 0 else { throw fail("\(path) is encrypted") }
            guard local + 30 <= bytes.count, u32(local) == 0x0403_4b50 else { throw fail("\(path): its local header is damaged") }
            let start = local + 30 + u16(local + 26) + u16(local + 28)
            guard start + compressedSize <= bytes.count else { throw fail("\(path) is cut: the archive ends inside it") }
            let stored = Array(bytes[start..<(start + compressedSize)])
            let content: [UInt8]
            switch method {
            case 0: content = stored
            case 8:
                var buffer = ByteBuffer(bytes: stored)
                guard var inflated = try? buffer.decompress(with: .deflate(), maxSize: max(size, 1)), inflated.readableBytes == size else {
                    throw fail("\(path) does not inflate to its recorded \(size) bytes: the archive is damaged")
                }
                content = inflated.readBytes(length: inflated.readableBytes) ?? []
            default: throw fail("\(path) uses compression method \(method); only stored and deflated entries are read")
            }
            guard CRC32.checksum(content) == crc else { throw fail("\(path) fails its CRC-32 check: the archive is altered or damaged") }
            files[path] = content
        }
        self.files = files
    }
}

/// CRC-32 (IEEE 802.3: the checksum of zip, gzip and W&B's transaction log).
public enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xedb8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var c: UInt32 = 0xffff_ffff
        for byte in bytes { c = table[Int((c ^ UInt32(byte)) & 0xff)] ^ (c >> 8) }
        return c ^ 0xffff_ffff
    }
}
