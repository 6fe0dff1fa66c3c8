import Foundation
import PedigreeCore
import Testing

@Suite("Canonical JSON")
struct CanonicalJSONTests {
    @Test("object keys are sorted by UTF-16 code units, whitespace is dropped")
    func sortingAndWhitespace() throws {
        let value = try JSONValue.parse(#"{ "b": 1, "a": [true, null, "x"], "\u00e9": 2, "\ud83d\ude00": 3, "\uff61": 4 }"#)
        // U+1F600 is the surrogate pair D83D DE00 in UTF-16, so it sorts before U+FF61, as RFC 8785 requires
        // (comparing code points or UTF-8 would put it after).
        #expect(value.canonicalString == #"{"a":[true,null,"x"],"b":1,"é":2,"😀":3,"｡":4}"#)
    }

    @Test("strings are escaped minimally")
    func escaping() throws {
        let value = JSONValue.string("quote\" backslash\\ newline\n tab\t bell\u{07} slash/ é")
        #expect(value.canonicalString == #""quote\" backslash\\ newline\n tab\t bell\u0007 slash/ é""#)
        #expect(try JSONValue.parse(value.canonicalString) == value)
    }

    @Test(
        "numbers have one form",
        arguments: [
            ("1.0", "1"), ("-0.0", "0"), ("100", "100"), ("1e2", "100"), ("0.1", "0.1"), ("1e-7", "1e-7"), ("1.5e300", "1.5e+300"),
            ("123456789012345678", "123456789012345678"), ("3e-05", "0.00003"),
        ])
    func numbers(input: String, canonical: String) throws {
        #expect(try JSONValue.parse(input).canonicalString == canonical)
    }

    @Test("equivalent documents have equal digests; different ones do not")
    func digests() throws {
        let a = try JSONValue.parse(#"{"lr": 0.001, "layers": [64, 32], "opt": {"name": "adam", "beta": 0.9}}"#)
        let b = try JSONValue.parse("{\n  \"opt\": {\"beta\": 0.9, \"name\": \"adam\"},\n  \"layers\": [64,32],\n  \"lr\": 1e-3\n}")
        let c = try JSONValue.parse(#"{"lr": 0.001, "layers": [32, 64], "opt": {"name": "adam", "beta": 0.9}}"#)
        #expect(a.digest == b.digest)
        #expect(a.digest != c.digest)
        #expect(a.digest.description.hasPrefix("sha256:"))
        #expect(a.digest.hex.count == 64)
    }

    @Test(
        "malformed JSON is rejected with the offset",
        arguments: [
            #"{"a": 1,}"#, #"{"a": 1, "a": 2}"#, "[1, 2", #""unterminated"#, "01", "1.", "nul", #"{"a" 1}"#, "[1] x", #""\ud800""#,
        ])
    func rejects(input: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(input) }
    }

    @Test("parse and canonicalise round-trip on a real OpenLineage event")
    func roundTrip() throws {
        let data = try Data(contentsOf: fixtureURL("openlineage/run-start.json"))
        let value = try JSONValue.parse(data)
        let again = try JSONValue.parse(value.canonicalString)
        #expect(again == value)
        #expect(again.canonicalString == value.canonicalString)
        #expect(try JSONValue.parse(value.prettyString()) == value)
    }

    @Test("SHA-256 matches a known vector")
    func knownVector() {
        #expect(ContentDigest(hashing: Array("abc".utf8)).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}

func fixtureURL(_ relative: String) -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/\(relative)")
}

@Suite("ECMAScript number formatting")
struct NumberFormattingTests {
    @Test(
        "doubles print as ECMAScript prints them",
        arguments: [
            (0.5, "0.5"), (123.456, "123.456"), (1e21, "1e+21"), (1.2e21, "1.2e+21"), (1e-6, "0.000001"), (1e-7, "1e-7"),
            (-2.5e-8, "-2.5e-8"), (5e-324, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"), (4.35, "4.35"),
            (0.1 + 0.2, "0.30000000000000004"),
        ])
    func formatting(value: Double, expected: String) {
        #expect(JSONValue.double(value).canonicalString == expected)
    }
}
