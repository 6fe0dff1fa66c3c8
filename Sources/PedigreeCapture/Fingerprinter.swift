import Crypto
import Foundation
import PedigreeCore

/// The content identity of a file or a directory.
public struct Fingerprint: Sendable {
    public struct File: Sendable, Hashable {
        /// Relative to the fingerprinted directory (for a single file, its name).
        public let path: String
        public let digest: ContentDigest
        public let size: Int64

        public init(path: String, digest: ContentDigest, size: Int64) {
            self.path = path
            self.digest = digest
            self.size = size
        }
    }

    public let path: String
    /// A file's SHA-256; for a directory, the SHA-256 of its manifest (the canonical JSON list of its files'
    /// relative paths, sizes and digests), so a change to one file changes it and shows as that file.
    public let digest: ContentDigest
    public let size: Int64
    public let isDirectory: Bool
    public let files: [File]

    /// The manifest of a directory as artifact facets; files beyond `limit` are counted, not listed.
    public func facets(limit: Int = 10_000) -> [String: JSONValue] {
        guard isDirectory else { return ["size": .int(size)] }
        var facets: [String: JSONValue] = ["size": .int(size), "fileCount": .int(Int64(files.count))]
        if files.count <= limit {
            facets["files"] = .object(Dictionary(files.map { ($0.path, .string($0.digest.description)) }, uniquingKeysWith: { a, _ in a }))
        }
        return facets
    }
}

/// Hashes files with SHA-256 on every core, skipping files whose (size, mtime, inode) are unchanged since
/// they were last hashed.
public final class Fingerprinter: @unchecked Sendable {
    public struct Statistics: Sendable {
        public var filesHashed = 0
        public var bytesHashed: Int64 = 0
        public var filesFromCache = 0
    }

    private let cache: CaptureCache?
    private let showProgress: Bool
    private let workers: Int
    public private(set) var statistics = Statistics()

    public init(cache: CaptureCache?, showProgress: Bool = isatty(STDERR_FILENO) != 0, workers: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.cache = cache
        self.showProgress = showProgress
        self.workers = max(1, workers)
    }

    private struct Entry {
        let path: String
        let size: Int64
        let mtime: Int64
        let inode: UInt64
    }

    public enum Failure: Error, CustomStringConvertible {
        case unreadable(String, String)
        public var description: String {
            switch self {
            case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
            }
        }
    }

    public func fingerprint(_ paths: [String]) throws -> [Fingerprint] {
        var entriesByRoot: [(root: String, isDirectory: Bool, entries: [Entry])] = []
        for path in paths {
            let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory) else {
                throw Failure.unreadable(path, "no such file or directory")
            }
            let files = isDirectory.boolValue ? try listFiles(under: absolute) : [absolute]
            entriesByRoot.append((absolute, isDirectory.boolValue, try files.map(entry)))
        }
        let all = entriesByRoot.flatMap(\.entries)
        let cached = loadStatCache()
        var digests: [String: ContentDigest] = [:]
        var toHash: [Entry] = []
        for entry in all {
            if let hit = cached[entry.path], hit.size == entry.size, hit.mtime == entry.mtime, hit.inode == entry.inode {
                digests[entry.path] = hit.digest
                statistics.filesFromCache += 1
            } else {
                toHash.append(entry)
            }
        }
        for (path, digest) in try hash(toHash) { digests[path] = digest }
        statistics.filesHashed += toHash.count
        statistics.bytesHashed += toHash.reduce(0) { $0 + $1.size }
        if !toHash.isEmpty { saveStatCache(cached, adding: all, digests: digests) }

        return entriesByRoot.map { root in
            let files = root.entries.map { entry in
                Fingerprint.File(
                    path: root.isDirectory ? String(entry.path.dropFirst(root.root.count + 1)) : URL(fileURLWithPath: entry.path).lastPathComponent,
                    digest: digests[entry.path]!, size: entry.size)
            }.sorted { $0.path < $1.path }
            let size = files.reduce(0) { $0 + $1.size }
            guard root.isDirectory else { return Fingerprint(path: root.root, digest: files[0].digest, size: size, isDirectory: false, files: files) }
            return Fingerprint(path: root.root, digest: Self.manifestDigest(files), size: size, isDirectory: true, files: files)
        }
    }

    public static func manifestDigest(_ files: [Fingerprint.File]) -> ContentDigest {
        JSONValue.array(files.map { ["path": .string($0.path), "digest": .string($0.digest.description), "size": .int($0.size)] }).digest
    }

    private func listFiles(under root: String) throws -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { throw Failure.unreadable(root, "cannot list directory") }
        var files: [String] = []
        while let relative = enumerator.nextObject() as? String {
            let path = root + "/" + relative
            var info = stat()
            if stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG { files.append(path) }
        }
        return files.sorted()
    }

    private func entry(_ path: String) throws -> Entry {
        var info = stat()
        guard stat(path, &info) == 0 else { throw Failure.unreadable(path, String(cString: strerror(errno))) }
        return Entry(
            path: path, size: Int64(info.st_size), mtime: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
            inode: UInt64(info.st_ino))
    }

    // MARK: Parallel hashing

    private final class Work: @unchecked Sendable {
        let entries: [Entry]
        let lock = NSLock()
        var next = 0
        var results: [String: ContentDigest] = [:]
        var failure: Failure?
        var bytesDone: Int64 = 0
        init(entries: [Entry]) { self.entries = entries }

        func take() -> Entry? {
            lock.lock()
            defer { lock.unlock() }
            guard next < entries.count, failure == nil else { return nil }
            next += 1
            return entries[next - 1]
        }

        func finish(_ path: String, _ digest: ContentDigest?, _ error: Failure?, bytes: Int64) {
            lock.lock()
            defer { lock.unlock() }
            if let digest { results[path] = digest }
            if let error { failure = error }
            bytesDone += bytes
        }
    }

    private func hash(_ entries: [Entry]) throws -> [String: ContentDigest] {
        guard !entries.isEmpty else { return [:] }
        // Largest first, so one big file does not start last and leave the other cores idle.
        let work = Work(entries: entries.sorted { $0.size > $1.size })
        let total = entries.reduce(0) { $0 + $1.size }
        let progress = showProgress && total > 64 << 20 ? ProgressLine(total: total, work: work) : nil
        progress?.start()
        DispatchQueue.concurrentPerform(iterations: min(workers, entries.count)) { _ in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
            defer { buffer.deallocate() }
            while let entry = work.take() {
                do {
                    work.finish(entry.path, try Self.sha256(of: entry.path, buffer: buffer), nil, bytes: entry.size)
                } catch let error as Failure {
                    work.finish(entry.path, nil, error, bytes: 0)
                } catch {
                    work.finish(entry.path, nil, .unreadable(entry.path, "\(error)"), bytes: 0)
                }
            }
        }
        progress?.stop()
        if let failure = work.failure { throw failure }
        return work.results
    }

    static func sha256(of path: String, buffer: UnsafeMutableRawBufferPointer) throws -> ContentDigest {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw Failure.unreadable(path, String(cString: strerror(errno))) }
        defer { close(fd) }
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        var hasher = SHA256()
        while true {
            let count = read(fd, buffer.baseAddress, buffer.count)
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure.unreadable(path, String(cString: strerror(errno)))
            }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
        return ContentDigest(hasher.finalize())
    }

    /// A one-line progress display on standard error, for inputs large enough to take a while.
    private final class ProgressLine: @unchecked Sendable {
        let total: Int64
        let work: Work
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue.global())
        let started = Date()
        init(total: Int64, work: Work) {
            self.total = total
            self.work = work
        }
        func start() {
            timer.schedule(deadline: .now() + 0.2, repeating: 0.2)
            timer.setEventHandler { [self] in
                work.lock.lock()
                let done = work.bytesDone
                work.lock.unlock()
                let rate = Double(done) / max(Date().timeIntervalSince(started), 0.001)
                let line = String(
                    format: "\rpedigree: hashing inputs %.2f / %.2f GB (%.0f%%)  %.0f MB/s ", Double(done) / 1e9, Double(total) / 1e9,
                    Double(done) * 100 / Double(total), rate / 1e6)
                FileHandle.standardError.write(Data(line.utf8))
            }
            timer.resume()
        }
        func stop() {
            timer.cancel()
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        }
    }

    // MARK: Stat cache

    private struct CachedDigest {
        let size: Int64
        let mtime: Int64
        let inode: UInt64
        let digest: ContentDigest
    }

    private static let statCacheName = "stat-cache.json"

    private func loadStatCache() -> [String: CachedDigest] {
        guard let entries = cache?.read(Self.statCacheName)?.objectValue else { return [:] }
        var out: [String: CachedDigest] = [:]
        for (path, value) in entries {
            guard case .array(let fields) = value, fields.count == 4, case .int(let size) = fields[0], case .int(let mtime) = fields[1],
                case .int(let inode) = fields[2], let text = fields[3].stringValue, let digest = ContentDigest(hex: text)
            else { continue }
            out[path] = CachedDigest(size: size, mtime: mtime, inode: UInt64(bitPattern: inode), digest: digest)
        }
        return out
    }

    private func saveStatCache(_ old: [String: CachedDigest], adding entries: [Entry], digests: [String: ContentDigest]) {
        guard let cache else { return }
        var merged: [String: JSONValue] = [:]
        for (path, hit) in old {
            merged[path] = [.int(hit.size), .int(hit.mtime), .int(Int64(bitPattern: hit.inode)), .string(hit.digest.hex)]
        }
        for entry in entries {
            guard let digest = digests[entry.path] else { continue }
            merged[entry.path] = [.int(entry.size), .int(entry.mtime), .int(Int64(bitPattern: entry.inode)), .string(digest.hex)]
        }
        cache.write(Self.statCacheName, .object(merged))
    }
}
