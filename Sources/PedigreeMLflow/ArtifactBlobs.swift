import Crypto
import Foundation
import PedigreeCore

/// Uploaded artifact files, stored by content: `blobs/sha256/ab/abcdef…` under the server's artifact
/// directory. A file's SHA-256 is its name, so identical uploads are stored once, and what a path holds is
/// recorded in the event log (`MLflowRecord.runArtifact`), not in the file system.
public struct ArtifactBlobs: Sendable {
    public let root: URL
    /// The largest file accepted, in bytes.
    public let maxFileBytes: Int64

    public init(root: URL, maxFileBytes: Int64 = 8 << 30) {
        self.root = root
        self.maxFileBytes = maxFileBytes
    }

    public func url(of digest: ContentDigest) -> URL {
        let hex = digest.hex
        return root.appendingPathComponent("blobs/sha256/\(hex.prefix(2))/\(hex)")
    }

    /// Writes a file from its chunks, hashing as it goes; the blob appears under its digest only when
    /// complete and flushed to disk, so a crash mid-upload leaves no partial blob.
    public func store<Chunks: AsyncSequence>(
        _ chunks: Chunks, bytes: (Chunks.Element) -> [UInt8]
    ) async throws -> (
        digest: ContentDigest, size: Int64
    ) {
        let staging = root.appendingPathComponent("staging")
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        let temporary = staging.appendingPathComponent(UUID().uuidString)
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw ArtifactStoreError("cannot write to the artifact directory \(root.path)")
        }
        let handle = try FileHandle(forWritingTo: temporary)
        var hasher = SHA256()
        var size: Int64 = 0
        do {
            for try await chunk in chunks {
                let data = bytes(chunk)
                size += Int64(data.count)
                guard size <= maxFileBytes else {
                    throw ArtifactStoreError("the file is larger than \(maxFileBytes) bytes, the most this server stores")
                }
                hasher.update(data: data)
                try handle.write(contentsOf: data)
            }
            try handle.synchronize()
            try handle.close()
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
        let hex = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        guard let digest = ContentDigest("sha256:\(hex)") else { preconditionFailure("a SHA-256 is 64 hex digits") }
        let destination = url(of: digest)
        if FileManager.default.fileExists(atPath: destination.path) {
            try FileManager.default.removeItem(at: temporary)
        } else {
            try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
            do {
                try FileManager.default.moveItem(at: temporary, to: destination)
            } catch  where FileManager.default.fileExists(atPath: destination.path) {
                // Another upload of the same content finished first: it is the same file.
                try? FileManager.default.removeItem(at: temporary)
            }
        }
        return (digest, size)
    }

    public func contents(of digest: ContentDigest) throws -> Data {
        try Data(contentsOf: url(of: digest))
    }
}

public struct ArtifactStoreError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
