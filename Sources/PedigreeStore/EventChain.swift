import PedigreeCore

/// The per-namespace hash chain. Each event's chain hash covers the previous event's chain hash, the
/// event's position, when and by whom it was recorded, its namespace and the digest of its canonical body,
/// so changing any stored byte of history — or removing, inserting or reordering events — breaks the chain
/// at that point. The chain head is kept separately, so truncating the log is detected as well; publishing
/// the heads `pedigree verify` prints (or anchoring them elsewhere) protects against rewriting the whole log.
public enum EventChain {
    /// The "previous hash" of a namespace's first event.
    public static let genesis = String(repeating: "0", count: 64)

    public static func link(
        previous: String, namespace: String, sequence: Int64, recordedAt: Timestamp, recordedBy: String, digest: ContentDigest
    ) -> String {
        let material = "pedigree-chain-v1\n\(previous)\n\(namespace)\n\(sequence)\n\(recordedAt.microseconds)\n\(recordedBy)\n\(digest.hex)"
        return ContentDigest(hashing: Array(material.utf8)).hex
    }
}
