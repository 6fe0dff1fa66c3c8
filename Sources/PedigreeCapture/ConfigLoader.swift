import Foundation
import PedigreeCore
import Yams

/// The hyperparameter dimension: configuration files (YAML, JSON, TOML) and `--param KEY=VALUE` pairs,
/// merged in order into one nested document.
public enum ConfigLoader {
    public enum Failure: Error, CustomStringConvertible {
        case unreadable(String)
        case malformed(String, String)
        case badParameter(String)

        public var description: String {
            switch self {
            case .unreadable(let path): "--params \(path): cannot read the file"
            case .malformed(let path, let reason): "--params \(path): \(reason)"
            case .badParameter(let text): "--param '\(text)': expected KEY=VALUE, e.g. optimizer.lr=0.001"
            }
        }
    }

    /// Later files and pairs win; objects merge key by key.
    public static func load(files: [String], parameters: [String]) throws -> JSONValue {
        var merged: JSONValue = .object([:])
        for file in files { merged = deepMerge(merged, try read(file)) }
        for parameter in parameters {
            guard let eq = parameter.firstIndex(of: "="), eq != parameter.startIndex else { throw Failure.badParameter(parameter) }
            let path = parameter[..<eq].split(separator: ".").map(String.init)
            merged = setting(merged, path: path, to: scalar(String(parameter[parameter.index(after: eq)...])))
        }
        return redactSecrets(merged)
    }

    public static func read(_ file: String) throws -> JSONValue {
        guard let data = FileManager.default.contents(atPath: file) else { throw Failure.unreadable(file) }
        let text = String(decoding: data, as: UTF8.self)
        switch URL(fileURLWithPath: file).pathExtension.lowercased() {
        case "json":
            do { return try JSONValue.parse(text) } catch { throw Failure.malformed(file, error.description) }
        case "toml":
            do { return try MiniTOML.parse(text) } catch { throw Failure.malformed(file, "\(error)") }
        default:
            do {
                guard let node = try Yams.compose(yaml: text) else { return .object([:]) }
                return try json(from: node)
            } catch let error as Failure {
                throw error
            } catch {
                throw Failure.malformed(file, "\(error)")
            }
        }
    }

    /// A command-line value: JSON when it parses as JSON (numbers, booleans, null, lists), else a string.
    static func scalar(_ text: String) -> JSONValue {
        (try? JSONValue.parse(text)) ?? .string(text)
    }

    static func json(from node: Yams.Node) throws -> JSONValue {
        switch node {
        case .mapping(let mapping):
            var out: [String: JSONValue] = [:]
            for (key, value) in mapping {
                guard let name = key.string else { throw Failure.malformed("", "a mapping key is not a string") }
                out[name] = try json(from: value)
            }
            return .object(out)
        case .sequence(let sequence):
            return .array(try sequence.map(json(from:)))
        case .scalar(let scalar):
            // YAML 1.2 core schema: plain scalars may be null, booleans or numbers; quoted ones are strings.
            if scalar.style != .plain { return .string(scalar.string) }
            if let bool = node.bool { return .bool(bool) }
            if let int = node.int { return .int(Int64(int)) }
            if let double = node.float, double.isFinite { return JSONValue(number: double) }
            if node.null != nil { return .null }
            return .string(scalar.string)
        case .alias:
            throw Failure.malformed("", "YAML aliases are not supported in parameter files")
        }
    }

    static func deepMerge(_ base: JSONValue, _ overlay: JSONValue) -> JSONValue {
        guard case .object(var a) = base, case .object(let b) = overlay else { return overlay }
        for (key, value) in b { a[key] = a[key].map { deepMerge($0, value) } ?? value }
        return .object(a)
    }

    static func setting(_ document: JSONValue, path: [String], to value: JSONValue) -> JSONValue {
        guard let head = path.first else { return value }
        var object = document.objectValue ?? [:]
        object[head] = setting(object[head] ?? .object([:]), path: Array(path.dropFirst()), to: value)
        return .object(object)
    }

    /// Keys that name secrets (`api_key`, `db_password`) keep their place but lose their value, whatever its
    /// type (a numeric password is still a password).
    public static func redactSecrets(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members):
            return .object(Dictionary(uniqueKeysWithValues: members.map { key, member in
                if SecretRedactor.isSecretName(key) { return (key, .string(SecretRedactor.placeholder)) }
                return (key, redactSecrets(member))
            }))
        case .array(let elements): return .array(elements.map(redactSecrets))
        case .string(let s): return .string(SecretRedactor.stripURLCredentials(s))
        default: return value
        }
    }
}

/// The part of TOML that training configurations use: tables (`[a.b]`), arrays of tables (`[[x]]`),
/// `key = value` with dotted and quoted keys, strings, integers, floats, booleans, arrays and inline tables.
/// Dates are kept as strings.
enum MiniTOML {
    struct SyntaxError: Error, CustomStringConvertible {
        let line: Int
        let reason: String
        var description: String { "line \(line): \(reason)" }
    }

    static func parse(_ text: String) throws -> JSONValue {
        var root: JSONValue = .object([:])
        var table: [String] = []
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = stripComment(String(rawLine)).trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            if line.hasPrefix("[[") && line.hasSuffix("]]") {
                table = keyPath(String(line.dropFirst(2).dropLast(2)))
                let existing = get(root, table)?.arrayValue ?? []
                root = ConfigLoader.setting(root, path: table, to: .array(existing + [.object([:])]))
                continue
            }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                table = keyPath(String(line.dropFirst().dropLast()))
                if get(root, table) == nil { root = ConfigLoader.setting(root, path: table, to: .object([:])) }
                continue
            }
            guard let eq = line.firstIndex(of: "=") else { throw SyntaxError(line: number + 1, reason: "expected key = value") }
            let key = keyPath(String(line[..<eq]))
            var scanner = ValueScanner(text: Array(String(line[line.index(after: eq)...]).trimmingCharacters(in: .whitespaces).utf8), line: number + 1)
            let value = try scanner.value()
            root = assign(root, table: table, key: key, value: value)
        }
        return root
    }

    /// Inside an array of tables, keys belong to its last element.
    static func assign(_ root: JSONValue, table: [String], key: [String], value: JSONValue) -> JSONValue {
        if let array = get(root, table)?.arrayValue, let last = array.last {
            let updated = ConfigLoader.setting(last, path: key, to: value)
            return ConfigLoader.setting(root, path: table, to: .array(array.dropLast() + [updated]))
        }
        return ConfigLoader.setting(root, path: table + key, to: value)
    }

    static func get(_ value: JSONValue, _ path: [String]) -> JSONValue? {
        path.reduce(Optional(value)) { $0?[$1] }
    }

    static func keyPath(_ text: String) -> [String] {
        text.split(separator: ".").map { $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'")) }
    }

    static func stripComment(_ line: String) -> String {
        var inString: Character?
        for (i, ch) in zip(line.indices, line) {
            if let quote = inString {
                if ch == quote { inString = nil }
            } else if ch == "\"" || ch == "'" {
                inString = ch
            } else if ch == "#" {
                return String(line[..<i])
            }
        }
        return line
    }

    struct ValueScanner {
        let text: [UInt8]
        let line: Int
        var i = 0

        mutating func skipSpace() { while i < text.count, text[i] == 0x20 || text[i] == 0x09 { i += 1 } }

        mutating func value() throws -> JSONValue {
            skipSpace()
            guard i < text.count else { throw SyntaxError(line: line, reason: "missing value") }
            switch text[i] {
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                let quote = text[i]
                i += 1
                var bytes: [UInt8] = []
                while i < text.count, text[i] != quote {
                    if quote == UInt8(ascii: "\""), text[i] == UInt8(ascii: "\\"), i + 1 < text.count {
                        i += 1
                        switch text[i] {
                        case UInt8(ascii: "n"): bytes.append(0x0A)
                        case UInt8(ascii: "t"): bytes.append(0x09)
                        default: bytes.append(text[i])
                        }
                    } else {
                        bytes.append(text[i])
                    }
                    i += 1
                }
                guard i < text.count else { throw SyntaxError(line: line, reason: "unterminated string") }
                i += 1
                return .string(String(decoding: bytes, as: UTF8.self))
            case UInt8(ascii: "["):
                i += 1
                var elements: [JSONValue] = []
                while true {
                    skipSpace()
                    if i < text.count, text[i] == UInt8(ascii: "]") { i += 1; return .array(elements) }
                    elements.append(try value())
                    skipSpace()
                    if i < text.count, text[i] == UInt8(ascii: ",") { i += 1 }
                    guard i < text.count else { throw SyntaxError(line: line, reason: "unterminated array (arrays must fit on one line)") }
                }
            case UInt8(ascii: "{"):
                i += 1
                var members: JSONValue = .object([:])
                while true {
                    skipSpace()
                    if i < text.count, text[i] == UInt8(ascii: "}") { i += 1; return members }
                    let start = i
                    while i < text.count, text[i] != UInt8(ascii: "=") { i += 1 }
                    guard i < text.count else { throw SyntaxError(line: line, reason: "expected key = value in inline table") }
                    let key = MiniTOML.keyPath(String(decoding: text[start..<i], as: UTF8.self))
                    i += 1
                    members = ConfigLoader.setting(members, path: key, to: try value())
                    skipSpace()
                    if i < text.count, text[i] == UInt8(ascii: ",") { i += 1 }
                }
            default:
                let start = i
                while i < text.count, ![UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}")].contains(text[i]) { i += 1 }
                let word = String(decoding: text[start..<i], as: UTF8.self).trimmingCharacters(in: .whitespaces)
                switch word {
                case "true": return .bool(true)
                case "false": return .bool(false)
                default:
                    let cleaned = word.replacingOccurrences(of: "_", with: "")
                    if let int = Int64(cleaned) { return .int(int) }
                    if let double = Double(cleaned), double.isFinite { return JSONValue(number: double) }
                    return .string(word)
                }
            }
        }
    }
}
