import PedigreeCore

/// A request's fields, from its JSON body or its query string (the client sends GETs as queries and the
/// rest as JSON), with MLflow's validation errors for what is missing or malformed.
public struct MLflowRequest: Sendable {
    public let fields: [String: JSONValue]

    public init(fields: [String: JSONValue]) { self.fields = fields }

    /// Query parameters: one value is a string, a repeated one (`experiment_ids=1&experiment_ids=2`) a list.
    public init(query: [(String, String)]) {
        var fields: [String: JSONValue] = [:]
        for (key, value) in query {
            switch fields[key] {
            case nil: fields[key] = .string(value)
            case .array(let items)?: fields[key] = .array(items + [.string(value)])
            case let existing?: fields[key] = .array([existing, .string(value)])
            }
        }
        self.fields = fields
    }

    public func string(_ key: String) throws -> String {
        guard let value = try optionalString(key), !value.isEmpty else {
            throw MLflowError.invalid(
                "Missing value for required parameter '\(key)'. See the API docs for more information about request parameters.")
        }
        return value
    }

    public func optionalString(_ key: String) throws -> String? {
        switch fields[key] {
        case nil, .null?: return nil
        case .string(let s)?: return s
        case .int(let n)?: return String(n)
        case .double(let d)?: return JSONValue(number: d).canonicalString
        case .bool(let b)?: return b ? "true" : "false"
        case let other?: throw MLflowError.invalid("Invalid value for parameter '\(key)': expected a string, got \(other.typeName)")
        }
    }

    /// A string field, or the first of its alternatives that is present (`run_id` or the older `run_uuid`).
    public func string(_ key: String, or alternative: String) throws -> String {
        if let value = try optionalString(key), !value.isEmpty { return value }
        return try string(alternative)
    }

    public func int(_ key: String) throws -> Int64? {
        switch fields[key] {
        case nil, .null?: return nil
        case .int(let n)?: return n
        case .double(let d)? where d == d.rounded() && abs(d) < 9e18: return Int64(d)
        case .string(let s)?:
            guard let n = Int64(s) else { throw MLflowError.invalid("Invalid value \(s) for parameter '\(key)': expected an integer") }
            return n
        case let other?: throw MLflowError.invalid("Invalid value for parameter '\(key)': expected an integer, got \(other.typeName)")
        }
    }

    /// A time in milliseconds since the epoch, before the year 10000 (Pedigree keeps times in microseconds).
    public func time(_ key: String) throws -> Int64? {
        guard let ms = try int(key) else { return nil }
        guard (0...253_402_300_799_999).contains(ms) else {
            throw MLflowError.invalid("Invalid value \(ms) for parameter '\(key)': a time in milliseconds since 1970, before the year 10000")
        }
        return ms
    }

    public func double(_ key: String) throws -> Double? {
        switch fields[key] {
        case nil, .null?: return nil
        case .int(let n)?: return Double(n)
        case .double(let d)?: return d
        case .string(let s)?:
            switch s {
            case "NaN": return .nan
            case "Infinity", "inf": return .infinity
            case "-Infinity", "-inf": return -.infinity
            default:
                guard let d = Double(s) else { throw MLflowError.invalid("Invalid value \(s) for parameter '\(key)': expected a number") }
                return d
            }
        case let other?: throw MLflowError.invalid("Invalid value for parameter '\(key)': expected a number, got \(other.typeName)")
        }
    }

    public func bool(_ key: String) throws -> Bool? {
        switch fields[key] {
        case nil, .null?: return nil
        case .bool(let b)?: return b
        case .string(let s)?: return s.lowercased() == "true"
        case let other?: throw MLflowError.invalid("Invalid value for parameter '\(key)': expected true or false, got \(other.typeName)")
        }
    }

    public func strings(_ key: String) throws -> [String] {
        switch fields[key] {
        case nil, .null?: return []
        case .string(let s)?: return [s]
        case .array(let items)?:
            var out: [String] = []
            for item in items {
                guard let s = item.stringValue else { throw MLflowError.invalid("Invalid value for parameter '\(key)': expected a list of strings") }
                out.append(s)
            }
            return out
        case let other?: throw MLflowError.invalid("Invalid value for parameter '\(key)': expected a list of strings, got \(other.typeName)")
        }
    }

    public func objects(_ key: String) throws -> [MLflowRequest] {
        switch fields[key] {
        case nil, .null?: return []
        case .array(let items)?:
            var out: [MLflowRequest] = []
            for item in items {
                guard let members = item.objectValue else {
                    throw MLflowError.invalid("Invalid value for parameter '\(key)': expected a list of objects")
                }
                out.append(MLflowRequest(fields: members))
            }
            return out
        case let other?: throw MLflowError.invalid("Invalid value for parameter '\(key)': expected a list, got \(other.typeName)")
        }
    }

    public func object(_ key: String) throws -> MLflowRequest? {
        switch fields[key] {
        case nil, .null?: return nil
        case .object(let members)?: return MLflowRequest(fields: members)
        case let other?: throw MLflowError.invalid("Invalid value for parameter '\(key)': expected an object, got \(other.typeName)")
        }
    }

    /// `[{"key": …, "value": …}]`, as tags and params are sent.
    public func tags(_ key: String) throws -> [MLflowRecord.Tag] {
        var out: [MLflowRecord.Tag] = []
        for item in try objects(key) {
            let name = try item.string("key")
            try MLflowLimits.checkKey(name, what: key == "params" ? "param" : "tag")
            let value = try item.optionalString("value") ?? ""
            try MLflowLimits.checkValue(value, key: name, limit: key == "params" ? MLflowLimits.paramValue : MLflowLimits.tagValue)
            out.append(MLflowRecord.Tag(key: name, value: value))
        }
        return out
    }
}

/// MLflow's own limits, so what the reference server refuses is refused here with its message.
enum MLflowLimits {
    static let keyLength = 250
    static let paramValue = 6000
    static let tagValue = 8000
    static let batchMetrics = 1000
    static let batchParams = 100
    static let batchTags = 100
    static let batchTotal = 1000

    static func checkKey(_ key: String, what: String) throws {
        guard !key.isEmpty, key.count <= keyLength else {
            throw MLflowError.invalid("Invalid \(what) name: '\(key.prefix(40))' must be 1 to \(keyLength) characters long")
        }
        guard !key.hasPrefix("/"), !key.contains(".."), key.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
            throw MLflowError.invalid("Invalid \(what) name: '\(key)'. Names may not start with '/', contain '..' or control characters")
        }
    }

    static func checkValue(_ value: String, key: String, limit: Int) throws {
        guard value.count <= limit else {
            throw MLflowError.invalid("Value for '\(key)' is \(value.count) characters long; the limit is \(limit)")
        }
    }
}
