import Foundation
import Testing

/// The Python library's own pytest suite (`python/tests`), run against this build's binary and a real
/// `pedigree serve` it starts: the library is tested where it is used, from Python.
@Suite("the Python library")
struct PythonLibraryTests {
    static let library = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("python")

    @Test(
        "python/tests passes against the built binary: arguments as hyperparameters, FAIL re-raised, metrics, digests, parents, spooling, pedigree run",
        .enabled(if: pythonHas("pytest") && pythonHas("numpy"), "needs pytest and numpy (scripts/test installs them)"))
    func pytestSuite() throws {
        let result = try AuditCommandTests.SignedModelProject.shell(
            "PEDIGREE_BIN='\(CLI.binary.path)' '\(testPython)' -m pytest -q -p no:cacheprovider tests", in: Self.library)
        #expect(result.status == 0, "\(result.output.suffix(8000))")
        #expect(result.output.contains("passed"), "\(result.output.suffix(2000))")
    }
}
