import Foundation
import PedigreeCore
import TOMLKit
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
        for file in files { merged = merged.merging(try read(file)) }
        for parameter in parameters {
            guard let eq = parameter.firstIndex(of: "="), eq != parameter.startIndex else { throw Failure.badParameter(parameter) }
            let path = parameter[..<eq].split(separator: ".").map(String.init)
            merged = setting(merged, path: path, to: scalar(String(parameter[parameter.index(after: eq)...])))
        }
        return SecretRedactor.redactSecrets(merged)
    }

    public static func read(_ file: String) throws -> JSONValue {
        guard let data = FileManager.default.contents(atPath: file) else { throw Failure.unreadable(file) }
        let text = String(decoding: data, as: UTF8.self)
        switch URL(fileURLWithPath: file).pathExtension.lowercased() {
        case "json":
            do { return try JSONValue.parse(text) } catch { throw Failure.malformed(file, error.description) }
        case "toml":
            return try toml(text, file: file)
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

    /// Every document of a YAML stream (`---` separates them), as JSON; `file` names it in the error.
    public static func yamlDocuments(_ text: String, file: String) throws(ValidationError) -> [JSONValue] {
        do {
            var documents: [JSONValue] = []
            for node in try Yams.compose_all(yaml: text) { documents.append(try json(from: node)) }
            return documents
        } catch {
            throw ValidationError(field: file, "is not YAML that can be read: \(error)")
        }
    }

    /// A command-line value: JSON when it parses as JSON (booleans, null, lists, objects); a number when it
    /// reads back as the text typed (`epochs=3`, `lr=0.001`) or is in exponent notation (`lr=5e-5`); else the
    /// text itself — so `version=1.10` stays "1.10" rather than becoming the number 1.1.
    static func scalar(_ text: String) -> JSONValue {
        guard let value = try? JSONValue.parse(text) else { return .string(text) }
        switch value {
        case .int, .double:
            return value.canonicalString == text || text.lowercased().contains("e") ? value : .string(text)
        default: return value
        }
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

    static func setting(_ document: JSONValue, path: [String], to value: JSONValue) -> JSONValue {
        guard let head = path.first else { return value }
        var object = document.objectValue ?? [:]
        object[head] = setting(object[head] ?? .object([:]), path: Array(path.dropFirst()), to: value)
        return .object(object)
    }

}

extension ConfigLoader {
    /// TOML through TOMLKit (toml++): the whole of TOML 1.0, read as the JSON it converts to. Dates and
    /// times become RFC 3339 strings.
    static func toml(_ text: String, file: String) throws -> JSONValue {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw Failure.malformed(file, "\(error.description) (\(error.source))")
        }
        do {
            return try JSONValue.parse(table.convert(to: .json, options: [.quoteDateAndTimes]))
        } catch {
            throw Failure.malformed(file, "cannot be represented as JSON: \(error)")
        }
    }
}
