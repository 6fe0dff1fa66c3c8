import Foundation
import PedigreeCore
import Testing

/// A store its reader may not write (another user's file, a read-only directory) still answers every query.
/// Needs a second user to read as: the tests run as root, whom file permissions do not stop, so the reader is
/// `nobody` through setpriv.
@Suite(
    "A read-only store",
    .enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"), "needs root and setpriv to read as another user"))
struct ReadOnlyStoreTests {
    /// Runs the CLI as `nobody`, with a home of its own.
    static func asNobody(_ arguments: [String], home: URL, stdin: String = "") throws -> CLI.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--reuid", "65534", "--regid", "65534", "--clear-groups", CLI.binary.path] + arguments
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": home.path, "PEDIGREE_HOME": home.path]
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try input.fileHandleForWriting.close()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CLI.Result(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }

    @Test("queries and verify answer from a store the user may only read; a write is refused and changes nothing")
    func readOnly() throws {
        let cli = try CLI()
        #expect(try cli.run(["quickstart"]).status == 0)
        let expected = try cli.run(["show", "model:fraud-team/fraud@2"]).stdout
        let before = try Data(contentsOf: URL(fileURLWithPath: cli.store))
        let directory = URL(fileURLWithPath: cli.store).deletingLastPathComponent()
        for path in [directory.path, cli.store] {
            try FileManager.default.setAttributes([.posixPermissions: path == cli.store ? 0o644 : 0o755], ofItemAtPath: path)
        }
        // `nobody` may traverse to the store (the test's temporary directory is root's).
        var ancestor = directory.deletingLastPathComponent()
        while ancestor.path != "/" {
            let mode = (try? FileManager.default.attributesOfItem(atPath: ancestor.path)[.posixPermissions] as? Int) ?? 0
            if mode & 0o001 == 0 { try FileManager.default.setAttributes([.posixPermissions: mode | 0o001], ofItemAtPath: ancestor.path) }
            ancestor = ancestor.deletingLastPathComponent()
        }
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("pedigree-nobody-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: home.path)

        let show = try Self.asNobody(["show", "model:fraud-team/fraud@2", "--store", cli.store], home: home)
        #expect(show.status == 0 && show.stdout == expected, "\(show.stderr)")
        let lineage = try Self.asNobody(["lineage", "model:fraud-team/fraud@2", "--upstream", "--store", cli.store], home: home)
        #expect(lineage.status == 0, "\(lineage.stderr)")
        let verify = try Self.asNobody(["verify", "--store", cli.store], home: home)
        #expect(verify.status == 0 && verify.stdout.hasPrefix("ok:"), "\(verify.stderr)")
        let record = try Self.asNobody(
            ["record", "-", "--store", cli.store], home: home,
            stdin: #"{"type": "artifact", "namespace": "x", "artifact": {"kind": "dataset", "name": "d", "version": "1"}}"#)
        #expect(
            record.status != 0 && record.stderr.contains("read-only for this user"),
            "a write to a store this user may not write fails: \(record.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: cli.store)) == before, "and changes nothing")
        #expect(!FileManager.default.fileExists(atPath: cli.store + "-shm"), "reading left no files behind")
    }
}
