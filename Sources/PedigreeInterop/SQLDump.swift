import Foundation
import PedigreeCore

/// The tables of a SQL dump, as `mysqldump` (MySQL, MariaDB) or SQLite (`.dump`, Python's `iterdump`) write
/// it: each `CREATE TABLE` names a table's columns, each `INSERT INTO … VALUES (…), (…)` adds rows. Comments,
/// MySQL's versioned `/*!…*/` statements and every other statement are passed over. Values are read as
/// JSON: NULL, integers, reals, strings (MySQL's backslash escapes and `_binary` prefix in a MySQL dump;
/// SQLite's `replace(…, '\n', char(10))` for newlines, nested for `\r`) and hex blobs (as their bytes' text).
/// Which dialect it is comes from the dump's header: mysqldump's first line names MySQL or MariaDB.
public struct SQLDump: Sendable {
    public typealias Row = [String: JSONValue]
    public private(set) var tables: [String: [Row]] = [:]

    /// `file` names the dump in errors, which give the line of the statement at fault.
    public init(_ text: String, file: String) throws(ValidationError) {
        var parser = Parser(bytes: Array(text.utf8), file: file)
        let header = text.prefix(4096)
        parser.mysql = header.contains("MySQL dump") || header.contains("MariaDB dump") || header.hasPrefix("/*M!")
        var columns: [String: [String]] = [:]
        while let statement = try parser.statement() {
            switch statement {
            case .create(let table, let names): columns[table] = names
            case .insert(let table, let named, let rows, let line):
                // SQLite's own bookkeeping (sqlite_sequence), which its dumps fill without creating.
                if table.lowercased().hasPrefix("sqlite_") { continue }
                guard let names = named ?? columns[table] else {
                    throw ValidationError(field: "\(file):\(line)", "inserts into \(table) before any CREATE TABLE names its columns")
                }
                for (i, row) in rows.enumerated() {
                    guard row.count == names.count else {
                        throw ValidationError(
                            field: "\(file):\(line)",
                            "row \(i + 1) of \(table) has \(row.count) values for \(names.count) columns; the dump is cut or altered")
                    }
                    var values = Row()
                    for (name, value) in zip(names, row) {
                        guard values.updateValue(value, forKey: name) == nil else {
                            throw ValidationError(field: "\(file):\(line)", "names the column \(name) of \(table) twice")
                        }
                    }
                    tables[table, default: []].append(values)
                }
            }
        }
    }

    enum Statement {
        case create(table: String, columns: [String])
        case insert(table: String, columns: [String]?, rows: [[JSONValue]], line: Int)
    }

    struct Parser {
        let bytes: [UInt8]
        let file: String
        var mysql = false
        var i = 0
        var line = 1

        init(bytes: [UInt8], file: String) {
            self.bytes = bytes
            self.file = file
        }

        func fail(_ message: String) -> ValidationError { ValidationError(field: "\(file):\(line)", message) }

        var atEnd: Bool { i >= bytes.count }
        var current: UInt8 { bytes[i] }
        func peek(_ offset: Int = 0) -> UInt8? { i + offset < bytes.count ? bytes[i + offset] : nil }

        mutating func advance() {
            if bytes[i] == UInt8(ascii: "\n") { line += 1 }
            i += 1
        }

        /// Whitespace and comments: `-- …` and `/* … */` (including MySQL's versioned `/*!…*/`).
        mutating func skipSpace() {
            while !atEnd {
                let c = current
                if c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d {
                    advance()
                } else if c == UInt8(ascii: "-"), peek(1) == UInt8(ascii: "-") {
                    while !atEnd, current != 0x0a { advance() }
                } else if c == UInt8(ascii: "/"), peek(1) == UInt8(ascii: "*") {
                    advance()
                    advance()
                    while !atEnd, !(current == UInt8(ascii: "*") && peek(1) == UInt8(ascii: "/")) { advance() }
                    if !atEnd {
                        advance()
                        advance()
                    }
                } else {
                    return
                }
            }
        }

        /// A word or a quoted identifier (`…`, "…", […]), unquoted.
        mutating func identifier() throws(ValidationError) -> String {
            skipSpace()
            guard !atEnd else { throw fail("ends where a name was expected") }
            let quotes: [UInt8: UInt8] = [
                UInt8(ascii: "`"): UInt8(ascii: "`"), UInt8(ascii: "\""): UInt8(ascii: "\""), UInt8(ascii: "["): UInt8(ascii: "]"),
            ]
            if let close = quotes[current] {
                advance()
                let start = i
                while !atEnd, current != close { advance() }
                guard !atEnd else { throw fail("a quoted name is not closed") }
                let name = String(decoding: bytes[start..<i], as: UTF8.self)
                advance()
                return name
            }
            let start = i
            while !atEnd, Parser.isWord(current) { advance() }
            guard i > start else { throw fail("'\(String(decoding: [current], as: UTF8.self))' where a name was expected") }
            return String(decoding: bytes[start..<i], as: UTF8.self)
        }

        static func isWord(_ c: UInt8) -> Bool {
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == UInt8(ascii: "_") || c == UInt8(ascii: "$")
                || c == UInt8(ascii: ".") || c >= 0x80
        }

        mutating func keyword(_ word: String) -> Bool {
            skipSpace()
            let saved = (i, line)
            let wanted = Array(word.uppercased().utf8)
            for w in wanted {
                guard !atEnd, (current >= 0x61 && current <= 0x7a ? current - 0x20 : current) == w else {
                    (i, line) = saved
                    return false
                }
                advance()
            }
            if !atEnd, Parser.isWord(current) {
                (i, line) = saved
                return false
            }
            return true
        }

        mutating func expect(_ c: Character) throws(ValidationError) {
            skipSpace()
            guard !atEnd, current == c.asciiValue! else { throw fail("expected '\(c)'\(atEnd ? " but the dump ends: it is cut" : "")") }
            advance()
        }

        /// The next CREATE TABLE or INSERT; nil at the end. Every other statement is skipped to its ';'.
        mutating func statement() throws(ValidationError) -> Statement? {
            while true {
                skipSpace()
                if atEnd { return nil }
                let line = self.line
                if keyword("CREATE") {
                    if keyword("TABLE") {
                        if keyword("IF") {
                            _ = keyword("NOT")
                            _ = keyword("EXISTS")
                        }
                        let table = try identifier()
                        let columns = try columnNames()
                        try skipStatement()
                        return .create(table: table, columns: columns)
                    }
                } else if keyword("INSERT") {
                    _ = keyword("IGNORE")
                    guard keyword("INTO") else { throw fail("INSERT without INTO") }
                    let table = try identifier()
                    skipSpace()
                    var columns: [String]? = nil
                    if !atEnd, current == UInt8(ascii: "(") {
                        advance()
                        var names: [String] = []
                        repeat { names.append(try identifier()) } while try comma()
                        try expect(")")
                        columns = names
                    }
                    guard keyword("VALUES") else { throw fail("INSERT INTO \(table) without VALUES") }
                    var rows: [[JSONValue]] = []
                    repeat { rows.append(try tuple()) } while try comma()
                    skipSpace()
                    guard !atEnd, current == UInt8(ascii: ";") else { throw fail("INSERT INTO \(table) is not ended by ';': the dump is cut") }
                    advance()
                    return .insert(table: table, columns: columns, rows: rows, line: line)
                }
                try skipStatement()
            }
        }

        mutating func comma() throws(ValidationError) -> Bool {
            skipSpace()
            guard !atEnd, current == UInt8(ascii: ",") else { return false }
            advance()
            return true
        }

        /// To just past the next ';' outside strings.
        mutating func skipStatement() throws(ValidationError) {
            while true {
                skipSpace()
                guard !atEnd else { return }
                if current == UInt8(ascii: "'") {
                    _ = try quoted()
                } else if current == UInt8(ascii: ";") {
                    advance()
                    return
                } else {
                    advance()
                }
            }
        }

        /// The column names of a CREATE TABLE's parenthesised body: the first name of each top-level item
        /// that is not a constraint.
        mutating func columnNames() throws(ValidationError) -> [String] {
            try expect("(")
            var names: [String] = []
            let constraints: Set<String> = ["PRIMARY", "KEY", "UNIQUE", "CONSTRAINT", "INDEX", "FOREIGN", "CHECK", "FULLTEXT", "SPATIAL"]
            while true {
                let name = try identifier()
                if !constraints.contains(name.uppercased()) { names.append(name) }
                var depth = 0
                while true {
                    skipSpace()
                    guard !atEnd else { throw fail("a CREATE TABLE is not closed: the dump is cut") }
                    let c = current
                    if c == UInt8(ascii: "'") {
                        _ = try quoted()
                        continue
                    }
                    advance()
                    if c == UInt8(ascii: "(") { depth += 1 }
                    if c == UInt8(ascii: ")") {
                        if depth == 0 { return names }
                        depth -= 1
                    }
                    if c == UInt8(ascii: ","), depth == 0 { break }
                }
            }
        }

        mutating func tuple() throws(ValidationError) -> [JSONValue] {
            try expect("(")
            var values: [JSONValue] = []
            repeat { values.append(try value()) } while try comma()
            try expect(")")
            return values
        }

        mutating func value() throws(ValidationError) -> JSONValue {
            skipSpace()
            guard !atEnd else { throw fail("the dump ends inside a row: it is cut") }
            let c = current
            if c == UInt8(ascii: "'") { return .string(try quoted()) }
            if (c == UInt8(ascii: "X") || c == UInt8(ascii: "x")), peek(1) == UInt8(ascii: "'") {
                advance()
                return .string(String(decoding: try hexBytes(try quoted()), as: UTF8.self))
            }
            if c == UInt8(ascii: "0"), peek(1) == UInt8(ascii: "x") {
                advance()
                advance()
                let start = i
                while !atEnd, Parser.isWord(current) { advance() }
                return .string(String(decoding: try hexBytes(String(decoding: bytes[start..<i], as: UTF8.self)), as: UTF8.self))
            }
            if keyword("NULL") { return .null }
            if keyword("_binary") { return .string(try string()) }
            if keyword("replace") {
                // SQLite's .dump writes a string holding newlines as replace('…\n…','\n',char(10)), inside
                // another replace() for carriage returns.
                try expect("(")
                guard case .string(let text) = try value() else { throw fail("replace() of something that is not a string") }
                try expect(",")
                let pattern = try string()
                try expect(",")
                guard keyword("char") else { throw fail("replace() without char()") }
                try expect("(")
                let code = try value()
                try expect(")")
                try expect(")")
                guard let scalar = code.intValue.flatMap({ Unicode.Scalar(UInt32(clamping: $0)) }) else { throw fail("char() of no character") }
                return .string(text.replacingOccurrences(of: pattern, with: String(Character(scalar))))
            }
            let start = i
            while !atEnd, Parser.isWord(current) || current == UInt8(ascii: "-") || current == UInt8(ascii: "+") { advance() }
            let word = String(decoding: bytes[start..<i], as: UTF8.self)
            if let int = Int64(word) { return .int(int) }
            if let double = Double(word), double.isFinite { return JSONValue(number: double) }
            throw fail("'\(word.isEmpty ? String(decoding: [c], as: UTF8.self) : word)' is not a value")
        }

        func hexBytes(_ hex: String) throws(ValidationError) -> [UInt8] {
            let digits = Array(hex.utf8)
            guard digits.count % 2 == 0 else { throw fail("a hex value has an odd number of digits") }
            var out: [UInt8] = []
            for k in stride(from: 0, to: digits.count, by: 2) {
                guard let byte = UInt8(String(decoding: digits[k..<k + 2], as: UTF8.self), radix: 16) else { throw fail("'\(hex)' is not hex") }
                out.append(byte)
            }
            return out
        }

        /// A single-quoted string where one must be.
        mutating func string() throws(ValidationError) -> String {
            skipSpace()
            guard !atEnd, current == UInt8(ascii: "'") else {
                throw fail(atEnd ? "the dump ends where a string was expected: it is cut" : "expected a string")
            }
            return try quoted()
        }

        /// A single-quoted string: '' is a quote; in a MySQL dump, backslash escapes too.
        mutating func quoted() throws(ValidationError) -> String {
            let opened = line
            advance()
            var out: [UInt8] = []
            while true {
                guard !atEnd else { throw ValidationError(field: "\(file):\(opened)", "a string is not closed: the dump is cut") }
                let c = current
                advance()
                if c == UInt8(ascii: "'") {
                    if !atEnd, current == UInt8(ascii: "'") {
                        out.append(c)
                        advance()
                        continue
                    }
                    break
                }
                if c == UInt8(ascii: "\\"), mysql, !atEnd {
                    let e = current
                    advance()
                    switch e {
                    case UInt8(ascii: "n"): out.append(0x0a)
                    case UInt8(ascii: "r"): out.append(0x0d)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "0"): out.append(0)
                    case UInt8(ascii: "Z"): out.append(0x1a)
                    case UInt8(ascii: "b"): out.append(0x08)
                    default: out.append(e)
                    }
                    continue
                }
                out.append(c)
            }
            let text = String(decoding: out, as: UTF8.self)
            return mysql ? Parser.repairingLatin1(text) : text
        }

        /// MLMD's MySQL client talks latin1 to the server, so UTF-8 text lands in the utf8mb4 columns encoded
        /// twice ("café" is stored and dumped as "cafÃ©"). Text whose characters are all Windows-1252 bytes that
        /// together are valid UTF-8 is decoded once more; anything else is left as it is.
        static func repairingLatin1(_ text: String) -> String {
            guard text.unicodeScalars.contains(where: { $0.value >= 0x80 }) else { return text }
            var bytes: [UInt8] = []
            for scalar in text.unicodeScalars {
                if scalar.value < 0x100 {
                    bytes.append(UInt8(scalar.value))
                } else if let byte = windows1252[scalar.value] {
                    bytes.append(byte)
                } else {
                    return text
                }
            }
            guard let decoded = String(validating: bytes, as: UTF8.self), decoded != text else { return text }
            return decoded
        }

        /// Windows-1252's characters in 0x80…0x9F (MySQL's "latin1" is Windows-1252).
        static let windows1252: [UInt32: UInt8] = [
            0x20AC: 0x80, 0x201A: 0x82, 0x0192: 0x83, 0x201E: 0x84, 0x2026: 0x85, 0x2020: 0x86, 0x2021: 0x87, 0x02C6: 0x88, 0x2030: 0x89,
            0x0160: 0x8A, 0x2039: 0x8B, 0x0152: 0x8C, 0x017D: 0x8E, 0x2018: 0x91, 0x2019: 0x92, 0x201C: 0x93, 0x201D: 0x94, 0x2022: 0x95,
            0x2013: 0x96, 0x2014: 0x97, 0x02DC: 0x98, 0x2122: 0x99, 0x0161: 0x9A, 0x203A: 0x9B, 0x0153: 0x9C, 0x017E: 0x9E, 0x0178: 0x9F,
        ]
    }
}
