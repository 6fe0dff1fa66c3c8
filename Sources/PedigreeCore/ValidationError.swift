import Foundation

/// Bad input: names the field at fault (as a path such as `run.inputs[2].artifact.name`) and says how
/// to fix it. Every entry point turns malformed input into one of these before anything is stored.
public struct ValidationError: Error, Hashable, Sendable, CustomStringConvertible {
    public let field: String
    public let message: String

    public init(field: String, _ message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { field.isEmpty ? message : "\(field): \(message)" }
}

/// Reads a JSON object field by field, building the path that error messages name.
public struct FieldReader {
    public let path: String
    public let members: [String: JSONValue]

    public init(_ value: JSONValue, path: String) throws(ValidationError) {
        guard case .object(let members) = value else {
            throw ValidationError(field: path, "must be an object, got \(value.typeName)")
        }
        self.path = path
        self.members = members
    }

    public func fieldPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    public func has(_ key: String) -> Bool {
        if let value = members[key], value != .null { return true }
        return false
    }

    public func value(_ key: String) -> JSONValue? {
        guard let value = members[key], value != .null else { return nil }
        return value
    }

    public func string(_ key: String, hint: String = "") throws(ValidationError) -> String {
        guard let value = try optionalString(key) else {
            throw ValidationError(field: fieldPath(key), "is required\(hint.isEmpty ? "" : "; \(hint)")")
        }
        return value
    }

    public func optionalString(_ key: String) throws(ValidationError) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let s) = value else {
            throw ValidationError(field: fieldPath(key), "must be a string, got \(value.typeName)")
        }
        guard !s.isEmpty else { throw ValidationError(field: fieldPath(key), "must not be empty") }
        return s
    }

    public func optionalBool(_ key: String) throws(ValidationError) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let b) = value else {
            throw ValidationError(field: fieldPath(key), "must be true or false, got \(value.typeName)")
        }
        return b
    }

    public func optionalInt(_ key: String) throws(ValidationError) -> Int64? {
        guard let value = value(key) else { return nil }
        guard case .int(let i) = value else {
            throw ValidationError(field: fieldPath(key), "must be an integer, got \(value.typeName)")
        }
        return i
    }

    public func optionalObject(_ key: String) throws(ValidationError) -> [String: JSONValue]? {
        guard let value = value(key) else { return nil }
        guard case .object(let o) = value else {
            throw ValidationError(field: fieldPath(key), "must be an object, got \(value.typeName)")
        }
        return o
    }

    public func optionalReader(_ key: String) throws(ValidationError) -> FieldReader? {
        guard let value = value(key) else { return nil }
        return try FieldReader(value, path: fieldPath(key))
    }

    public func array(_ key: String) throws(ValidationError) -> [JSONValue] {
        guard let value = value(key) else { return [] }
        guard case .array(let a) = value else {
            throw ValidationError(field: fieldPath(key), "must be an array, got \(value.typeName)")
        }
        return a
    }

    /// Rejects keys outside `allowed`, so a typo (`hyperparameter`) is an error rather than silently lost.
    public func rejectUnknownKeys(_ allowed: Set<String>) throws(ValidationError) {
        guard let unknown = members.keys.filter({ !allowed.contains($0) }).min() else { return }
        throw ValidationError(
            field: fieldPath(unknown), "is not a known field; expected one of: \(allowed.sorted().joined(separator: ", "))")
    }
}
