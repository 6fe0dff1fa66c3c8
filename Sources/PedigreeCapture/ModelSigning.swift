import Crypto
import Foundation
import PedigreeCore

/// Signatures in the OpenSSF Model Signing format (v1.0, as the `model-signing` package writes and checks
/// them in its local-key mode): a Sigstore bundle (v0.3) whose DSSE envelope holds an in-toto Statement v1.
/// Its predicate lists every file of the model directory with its SHA-256; its subject digest is the SHA-256
/// of those digests' bytes, concatenated in the listed order. The same envelope carries `pedigree attest`'s
/// SLSA provenance statement.
///
/// Compatibility notes (checked against model-signing 1.1): the key hint is the SHA-256 of the public key's
/// PEM text with its final newline; files are listed in path-component order (`a/b` before `a-b`); the
/// git paths at the top of the directory and the signature file itself are not signed.
public enum ModelSigning {
    public static let bundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
    public static let payloadType = "application/vnd.in-toto+json"
    public static let statementType = "https://in-toto.io/Statement/v1"
    public static let signaturePredicate = "https://model_signing/signature/v1.0"
    public static let provenancePredicate = "https://slsa.dev/provenance/v1"
    static let gitPaths = [".git", ".gitattributes", ".github", ".gitignore"]

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    // MARK: Keys

    public static func privateKey(pemFile: String) throws -> P256.Signing.PrivateKey {
        guard let text = try? String(contentsOfFile: pemFile, encoding: .utf8) else { throw Failure("cannot read the key \(pemFile)") }
        guard let key = try? P256.Signing.PrivateKey(pemRepresentation: text) else {
            throw Failure("\(pemFile) is not an EC P-256 private key in PEM (openssl ecparam -name prime256v1 -genkey -noout -out key.pem)")
        }
        return key
    }

    public static func publicKey(pemFile: String) throws -> P256.Signing.PublicKey {
        guard let text = try? String(contentsOfFile: pemFile, encoding: .utf8) else { throw Failure("cannot read the public key \(pemFile)") }
        if let key = try? P256.Signing.PublicKey(pemRepresentation: text) { return key }
        // A private key file gives its public key.
        if let key = try? P256.Signing.PrivateKey(pemRepresentation: text) { return key.publicKey }
        throw Failure("\(pemFile) is not an EC P-256 public key in PEM (openssl ec -in key.pem -pubout -out key.pub)")
    }

    /// The bundle's key hint: SHA-256 of the SubjectPublicKeyInfo PEM as OpenSSL and `cryptography` write it.
    public static func hint(of key: P256.Signing.PublicKey) -> String {
        ContentDigest(hashing: Array((key.pemRepresentation + "\n").utf8)).hex
    }

    // MARK: The model directory

    /// Every regular file under the directory by POSIX path relative to it, with its SHA-256, in the
    /// format's order. `ignoring`: relative paths not signed (a path and everything under it).
    public static func manifest(of directory: URL, ignoring: [String]) throws -> [(name: String, digest: String)] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw Failure("\(directory.path) is not a directory; sign the directory the model's files are in (--model-path DIR)")
        }
        let root = directory.standardizedFileURL.resolvingSymlinksInPath()
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey, .isSymbolicLinkKey]) else {
            throw Failure("cannot list \(directory.path)")
        }
        var files: [(name: String, digest: String)] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        for case let url as URL in walker {
            let relative = String(url.resolvingSymlinksInPath().path.dropFirst(root.path.count + 1))
            let values = try url.resourceValues(forKeys: [.isRegularFileKey, .isSymbolicLinkKey])
            if ignoring.contains(where: { relative == $0 || relative.hasPrefix($0 + "/") }) {
                walker.skipDescendants()
                continue
            }
            if values.isSymbolicLink == true { throw Failure("\(relative) is a symbolic link; model signatures cover regular files only") }
            guard values.isRegularFile == true else { continue }
            files.append((relative, try Fingerprinter.sha256(of: url.path, buffer: buffer).hex))
        }
        return files.sorted {
            lexicographicallyPrecedes(
                $0.name.split(separator: "/", omittingEmptySubsequences: false), $1.name.split(separator: "/", omittingEmptySubsequences: false))
        }
    }

    private static func lexicographicallyPrecedes(_ a: [Substring], _ b: [Substring]) -> Bool {
        for (x, y) in zip(a, b) where x != y { return Array(x.unicodeScalars.map(\.value)).lexicographicallyPrecedes(y.unicodeScalars.map(\.value)) }
        return a.count < b.count
    }

    /// The paths a signature at `signatureFile` leaves out of `directory`'s manifest.
    static func ignoredPaths(directory: URL, signatureFile: URL, extra: [String] = []) -> [String] {
        var paths = gitPaths + extra
        let root = directory.standardizedFileURL.resolvingSymlinksInPath().path + "/"
        let signature = signatureFile.standardizedFileURL.path
        let resolvedSignature = signatureFile.deletingLastPathComponent().standardizedFileURL.resolvingSymlinksInPath()
            .appendingPathComponent(signatureFile.lastPathComponent).path
        for candidate in [signature, resolvedSignature] where candidate.hasPrefix(root) {
            let relative = String(candidate.dropFirst(root.count))
            if !paths.contains(relative) { paths.append(relative) }
        }
        return paths
    }

    static func rootDigest(_ digests: [String]) -> String {
        var bytes: [UInt8] = []
        for digest in digests {
            let digits = Array(digest.utf8)
            guard digits.count == 64 else { return "" }
            for i in stride(from: 0, to: 64, by: 2) {
                guard let byte = UInt8(String(decoding: digits[i..<i + 2], as: UTF8.self), radix: 16) else { return "" }
                bytes.append(byte)
            }
        }
        return ContentDigest(hashing: bytes).hex
    }

    // MARK: Signing

    /// Signs the directory's files; returns the bundle's bytes and the subject digest.
    public static func sign(directory: URL, signatureFile: URL, key: P256.Signing.PrivateKey) throws -> (bundle: Data, subjectDigest: String) {
        let ignored = ignoredPaths(directory: directory, signatureFile: signatureFile)
        let files = try manifest(of: directory, ignoring: ignored)
        guard !files.isEmpty else { throw Failure("\(directory.path) holds no files to sign") }
        let root = rootDigest(files.map(\.digest))
        let statement: JSONValue = [
            "_type": .string(statementType),
            "subject": [["name": .string(directory.standardizedFileURL.lastPathComponent), "digest": ["sha256": .string(root)]]],
            "predicateType": .string(signaturePredicate),
            "predicate": [
                "serialization": [
                    "method": "files", "hash_type": "sha256", "allow_symlinks": false, "ignore_paths": .array(ignored.map(JSONValue.string)),
                ],
                "resources": .array(files.map { ["name": .string($0.name), "algorithm": "sha256", "digest": .string($0.digest)] }),
            ],
        ]
        return (try envelope(statement, key: key), root)
    }

    /// A statement signed into a Sigstore bundle with a DSSE envelope.
    public static func envelope(_ statement: JSONValue, key: P256.Signing.PrivateKey) throws -> Data {
        let payload = statement.canonicalBytes
        let signature = try key.signature(for: preAuthenticationEncoding(payload)).derRepresentation
        let bundle: JSONValue = [
            "mediaType": .string(bundleMediaType),
            "verificationMaterial": ["publicKey": ["hint": .string(hint(of: key.publicKey))], "tlogEntries": []],
            "dsseEnvelope": [
                "payload": .string(Data(payload).base64EncodedString()), "payloadType": .string(payloadType),
                "signatures": [["sig": .string(signature.base64EncodedString()), "keyid": ""]],
            ],
        ]
        return Data(bundle.canonicalBytes)
    }

    /// DSSE's pre-authentication encoding: what the signature covers.
    static func preAuthenticationEncoding(_ payload: [UInt8]) -> [UInt8] {
        Array("DSSEv1 \(payloadType.utf8.count) \(payloadType) \(payload.count) ".utf8) + payload
    }

    // MARK: Verifying

    /// A bundle's statement after its signature is checked with `key`; throws what is wrong. Without a key,
    /// the statement is returned unverified along with the key hint, so a caller can still check the files.
    public static func openEnvelope(_ data: Data, key: P256.Signing.PublicKey?) throws -> (statement: JSONValue, hint: String?) {
        guard let bundle = try? JSONValue.parse(data), bundle["mediaType"]?.stringValue == bundleMediaType else {
            throw Failure("not a Sigstore bundle (\(bundleMediaType))")
        }
        let hint = bundle["verificationMaterial"]?["publicKey"]?["hint"]?.stringValue
        guard let envelope = bundle["dsseEnvelope"], envelope["payloadType"]?.stringValue == payloadType,
            let payloadText = envelope["payload"]?.stringValue, let payload = Data(base64Encoded: payloadText),
            let signatureText = envelope["signatures"]?.arrayValue?.first?["sig"]?.stringValue, let signature = Data(base64Encoded: signatureText)
        else { throw Failure("the bundle holds no DSSE envelope with an in-toto payload and a signature") }
        if let key {
            if let hint, !hint.isEmpty, hint != Self.hint(of: key) {
                throw Failure("signed by another key (hint \(hint)), not the public key given (\(Self.hint(of: key)))")
            }
            guard let parsed = try? P256.Signing.ECDSASignature(derRepresentation: signature),
                key.isValidSignature(parsed, for: preAuthenticationEncoding(Array(payload)))
            else { throw Failure("the signature does not verify with the public key: the statement was altered or signed with another key") }
        }
        guard let statement = try? JSONValue.parse(payload), statement["_type"]?.stringValue == statementType else {
            throw Failure("the payload is not an in-toto Statement v1")
        }
        return (statement, hint)
    }

    public struct Verification: Sendable {
        public let verified: Bool
        /// The files are the ones the signature lists (whether or not its signer could be checked).
        public let filesMatch: Bool
        public let subjectDigest: String?
        public let hint: String?
        public let problem: String?
    }

    /// Checks a model signature against the directory's files and, when a key is given, its signature.
    /// Never throws: what is wrong is the result.
    public static func verify(directory: URL, signatureFile: URL, key: P256.Signing.PublicKey?) -> Verification {
        do {
            guard let data = FileManager.default.contents(atPath: signatureFile.path) else { throw Failure("cannot read \(signatureFile.path)") }
            let (statement, hint) = try openEnvelope(data, key: key)
            guard statement["predicateType"]?.stringValue == signaturePredicate, let subjects = statement["subject"]?.arrayValue, subjects.count == 1,
                let subject = subjects[0]["digest"]?["sha256"]?.stringValue, let resources = statement["predicate"]?["resources"]?.arrayValue
            else { throw Failure("not an OpenSSF model signature (\(signaturePredicate)) with one subject") }
            var signed: [String: String] = [:]
            for resource in resources {
                guard let name = resource["name"]?.stringValue, resource["algorithm"]?.stringValue == "sha256",
                    let digest = resource["digest"]?.stringValue
                else { throw Failure("a resource of the signature is not a named SHA-256 file digest") }
                signed[name] = digest
            }
            guard rootDigest(resources.compactMap { $0["digest"]?.stringValue }) == subject else {
                throw Failure("the manifest is inconsistent: its file digests do not give the subject digest")
            }
            let declared = statement["predicate"]?["serialization"]?["ignore_paths"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let ignored = ignoredPaths(directory: directory, signatureFile: signatureFile, extra: declared)
            var actual: [String: String] = [:]
            for file in try manifest(of: directory, ignoring: ignored) { actual[file.name] = file.digest }
            if actual != signed {
                let changed = actual.keys.filter { signed[$0] != nil && signed[$0] != actual[$0] }.sorted()
                let extra = actual.keys.filter { signed[$0] == nil }.sorted(), missing = signed.keys.filter { actual[$0] == nil }.sorted()
                let parts = [
                    changed.isEmpty ? nil : "changed since signing: \(changed.joined(separator: ", "))",
                    extra.isEmpty ? nil : "not signed: \(extra.joined(separator: ", "))",
                    missing.isEmpty ? nil : "missing: \(missing.joined(separator: ", "))",
                ]
                throw Failure("the model's files do not match the signature (\(parts.compactMap { $0 }.joined(separator: "; ")))")
            }
            guard key != nil else {
                return Verification(
                    verified: false, filesMatch: true, subjectDigest: "sha256:" + subject, hint: hint,
                    problem: "the files match the signed manifest, but no public key was given to check who signed it ($PEDIGREE_SIGNING_PUBLIC_KEY)")
            }
            return Verification(verified: true, filesMatch: true, subjectDigest: "sha256:" + subject, hint: hint, problem: nil)
        } catch {
            return Verification(verified: false, filesMatch: false, subjectDigest: nil, hint: nil, problem: "\(error)")
        }
    }
}
