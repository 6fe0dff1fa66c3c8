import Foundation
import PedigreeCore

/// MLflow's search grammar, as the client sends it to every `search` endpoint: comparisons joined by AND,
///
///     metrics.rmse < 0.5 and params.alpha = '0.1' and tags.`mlflow.runName` LIKE 'sk%' and status != 'FAILED'
///
/// An identifier is `ENTITY.KEY` (`metric(s)`, `param(s)`/`parameter(s)`, `tag(s)`, `attribute(s)`/`attr`/`run`,
/// `dataset(s)`) or a bare attribute name; a key with dots or spaces is quoted with backticks or double quotes.
/// Comparators: `=`, `!=`, `<`, `<=`, `>`, `>=`, `LIKE`, `ILIKE`, `IN (…)`, `NOT IN (…)`, `IS NULL`, `IS NOT NULL`.
/// Values are numbers, or strings in single or double quotes.
public struct SearchFilter: Sendable, Equatable {
    public enum Entity: String, Sendable {
        case metric, param, tag, attribute, dataset
    }

    public enum Comparator: String, Sendable {
        case equal = "=", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
        case like = "LIKE", ilike = "ILIKE", isIn = "IN", notIn = "NOT IN", isNull = "IS NULL", isNotNull = "IS NOT NULL"
    }

    public enum Value: Sendable, Equatable {
        case string(String)
        case number(Double)
        case list([String])
        case none
    }

    public struct Comparison: Sendable, Equatable {
        public var entity: Entity
        public var key: String
        public var comparator: Comparator
        public var value: Value

        public init(entity: Entity, key: String, comparator: Comparator, value: Value) {
            self.entity = entity
            self.key = key
            self.comparator = comparator
            self.value = value
        }
    }

    public let comparisons: [Comparison]

    /// What an entity holds under a key, for the comparison to test.
    public enum Field: Sendable {
        case string(String)
        case number(Double)
    }

    public init(_ text: String?) throws(SearchSyntaxError) {
        var lexer = Lexer(text ?? "")
        var comparisons: [Comparison] = []
        if try lexer.peek() == nil {
            self.comparisons = []
            return
        }
        while true {
            comparisons.append(try Self.comparison(&lexer))
            guard let next = try lexer.next() else { break }
            guard case .word(let word) = next, word.uppercased() == "AND" else {
                throw SearchSyntaxError("expected AND between comparisons, found \(next); MLflow's search grammar has no OR")
            }
        }
        self.comparisons = comparisons
    }

    private static func comparison(_ lexer: inout Lexer) throws(SearchSyntaxError) -> Comparison {
        let (entity, key) = try identifier(&lexer)
        guard let token = try lexer.next() else { throw SearchSyntaxError("'\(key)' needs a comparator and a value, e.g. \(key) = 'x'") }
        let comparator: Comparator
        switch token {
        case .symbol(let symbol):
            guard let c = Comparator(rawValue: symbol) else { throw SearchSyntaxError("'\(symbol)' is not a comparator") }
            comparator = c
        case .word(let word):
            switch word.uppercased() {
            case "LIKE": comparator = .like
            case "ILIKE": comparator = .ilike
            case "IN": comparator = .isIn
            case "NOT":
                guard case .word(let w)? = try lexer.next(), w.uppercased() == "IN" else { throw SearchSyntaxError("expected IN after NOT") }
                comparator = .notIn
            case "IS":
                var negated = false
                var next = try lexer.next()
                if case .word(let w)? = next, w.uppercased() == "NOT" {
                    negated = true
                    next = try lexer.next()
                }
                guard case .word(let w)? = next, w.uppercased() == "NULL" else { throw SearchSyntaxError("expected NULL after IS") }
                return Comparison(entity: entity, key: key, comparator: negated ? .isNotNull : .isNull, value: .none)
            default: throw SearchSyntaxError("'\(word)' is not a comparator; use =, !=, <, <=, >, >=, LIKE, ILIKE, IN or NOT IN")
            }
        default: throw SearchSyntaxError("expected a comparator after '\(key)', found \(token)")
        }
        let value: Value
        if comparator == .isIn || comparator == .notIn {
            guard case .symbol("(")? = try lexer.next() else { throw SearchSyntaxError("\(comparator.rawValue) needs a list: ('a', 'b')") }
            var items: [String] = []
            loop: while true {
                switch try lexer.next() {
                case .string(let s)?: items.append(s)
                case .number(let n)?: items.append(n)
                default: throw SearchSyntaxError("the list after \(comparator.rawValue) holds quoted strings")
                }
                switch try lexer.next() {
                case .symbol(",")?: continue
                case .symbol(")")?: break loop
                default: throw SearchSyntaxError("expected ',' or ')' in the list after \(comparator.rawValue)")
                }
            }
            value = .list(items)
        } else {
            switch try lexer.next() {
            case .string(let s)?: value = .string(s)
            case .number(let n)?:
                guard let number = Double(n) else { throw SearchSyntaxError("'\(n)' is not a number") }
                value = .number(number)
            case let other?: throw SearchSyntaxError("expected a value after \(key) \(comparator.rawValue), found \(other)")
            case nil: throw SearchSyntaxError("expected a value after \(key) \(comparator.rawValue)")
            }
        }
        if entity == .metric, case .string = value, comparator != .like, comparator != .ilike {
            throw SearchSyntaxError("metrics.\(key) is compared with a number, not a string")
        }
        return Comparison(entity: entity, key: key, comparator: comparator, value: value)
    }

    /// `ENTITY.KEY`, `ENTITY.\`KEY\``, or a bare attribute.
    static func identifier(_ lexer: inout Lexer) throws(SearchSyntaxError) -> (Entity, String) {
        switch try lexer.next() {
        case .word(let word)?:
            guard let dot = word.firstIndex(of: ".") else { return (.attribute, word) }
            let prefix = word[..<dot].lowercased()
            guard let entity = Self.entities[prefix] else {
                throw SearchSyntaxError("'\(prefix)' is not an entity; use metrics., params., tags., attributes. or datasets.")
            }
            var key = String(word[word.index(after: dot)...])
            if key.isEmpty {
                switch try lexer.next() {
                case .string(let quoted)?, .quotedKey(let quoted)?: key = quoted
                default: throw SearchSyntaxError("'\(word)' needs a key after the dot")
                }
            }
            return (entity, key)
        case .quotedKey(let key)?: return (.attribute, key)
        case let other?: throw SearchSyntaxError("expected an identifier such as metrics.rmse, found \(other)")
        case nil: throw SearchSyntaxError("expected an identifier such as metrics.rmse")
        }
    }

    static let entities: [String: Entity] = [
        "metric": .metric, "metrics": .metric, "param": .param, "params": .param, "parameter": .param, "parameters": .param,
        "tag": .tag, "tags": .tag, "attribute": .attribute, "attributes": .attribute, "attr": .attribute, "run": .attribute,
        "dataset": .dataset, "datasets": .dataset,
    ]

    /// Whether an object passes every comparison; `field` answers what it holds (nothing: no such key).
    /// `absentIsUnequal`: whether `!=` and `NOT IN` hold for an object without the key — true in the registry
    /// (the client excludes prompts with `tags.\`mlflow.prompt.is_prompt\` != 'true'`), false for runs, as in MLflow.
    public func matches(absentIsUnequal: Bool = false, _ field: (Entity, String) -> [Field]) -> Bool {
        comparisons.allSatisfy { comparison in
            let values = field(comparison.entity, comparison.key)
            switch comparison.comparator {
            case .isNull: return values.isEmpty
            case .isNotNull: return !values.isEmpty
            case .notEqual where values.isEmpty: return absentIsUnequal
            case .notIn where values.isEmpty: return absentIsUnequal
            // Several values (a run's datasets): true when one of them matches.
            default: return values.contains { Self.test($0, comparison) }
            }
        }
    }

    static func test(_ field: Field, _ c: Comparison) -> Bool {
        switch (field, c.value) {
        case (.number(let a), .number(let b)):
            return ordered(a, b, c.comparator) ?? false
        case (.number(let a), .string(let b)):
            // The number as JSON writes it (a locale would write 1,000).
            return test(
                .string(JSONValue(number: a).canonicalString), Comparison(entity: c.entity, key: c.key, comparator: c.comparator, value: .string(b)))
        case (.string(let a), .number(let b)):
            guard let number = Double(a) else { return c.comparator == .notEqual }
            return test(.number(number), Comparison(entity: c.entity, key: c.key, comparator: c.comparator, value: .number(b)))
        case (.string(let a), .string(let b)):
            switch c.comparator {
            case .like: return Self.like(a, b, caseInsensitive: false)
            case .ilike: return Self.like(a, b, caseInsensitive: true)
            default: return ordered(a, b, c.comparator) ?? false
            }
        case (.string(let a), .list(let items)): return c.comparator == .isIn ? items.contains(a) : !items.contains(a)
        case (.number(let a), .list(let items)):
            let contained = items.contains { Double($0) == a }
            return c.comparator == .isIn ? contained : !contained
        default: return false
        }
    }

    /// The six ordering comparators on any comparable values; nil for the others.
    static func ordered<T: Comparable>(_ a: T, _ b: T, _ comparator: Comparator) -> Bool? {
        switch comparator {
        case .equal: a == b
        case .notEqual: a != b
        case .less: a < b
        case .lessOrEqual: a <= b
        case .greater: a > b
        case .greaterOrEqual: a >= b
        default: nil
        }
    }

    /// SQL LIKE: `%` any run of characters, `_` one character.
    static func like(_ text: String, _ pattern: String, caseInsensitive: Bool) -> Bool {
        let t = Array(caseInsensitive ? text.lowercased() : text)
        let p = Array(caseInsensitive ? pattern.lowercased() : pattern)
        // Iterative wildcard matching with backtracking to the last '%'.
        var (ti, pi) = (0, 0)
        var star: (p: Int, t: Int)?
        while ti < t.count {
            if pi < p.count, p[pi] == "_" || (p[pi] != "%" && p[pi] == t[ti]) {
                ti += 1
                pi += 1
            } else if pi < p.count, p[pi] == "%" {
                star = (pi, ti)
                pi += 1
            } else if let s = star {
                pi = s.p + 1
                ti = s.t + 1
                star = (s.p, s.t + 1)
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "%" { pi += 1 }
        return pi == p.count
    }
}

/// One `order_by` term: `metrics.rmse DESC`, `attributes.start_time`, `params.\`a b\` ASC`.
public struct SearchOrder: Sendable, Equatable {
    public var entity: SearchFilter.Entity
    public var key: String
    public var ascending: Bool

    public init(entity: SearchFilter.Entity, key: String, ascending: Bool) {
        self.entity = entity
        self.key = key
        self.ascending = ascending
    }

    public init(_ text: String) throws(SearchSyntaxError) {
        var lexer = Lexer(text)
        (entity, key) = try SearchFilter.identifier(&lexer)
        switch try lexer.next() {
        case nil: ascending = true
        case .word(let word)? where word.uppercased() == "ASC": ascending = true
        case .word(let word)? where word.uppercased() == "DESC": ascending = false
        case let other?: throw SearchSyntaxError("expected ASC or DESC after the order_by key, found \(other)")
        }
        if let extra = try lexer.next() { throw SearchSyntaxError("unexpected \(extra) at the end of order_by '\(text)'") }
    }

    /// Compares two objects' fields for this term; objects without the field sort last either way, as in MLflow.
    public static func compare(_ a: SearchFilter.Field?, _ b: SearchFilter.Field?, ascending: Bool) -> Bool? {
        switch (a, b) {
        case (nil, nil): return nil
        case (nil, _): return false
        case (_, nil): return true
        case (.number(let x)?, .number(let y)?): return x == y ? nil : (x < y) == ascending
        case (.string(let x)?, .string(let y)?): return x == y ? nil : (x < y) == ascending
        case (.number?, .string?): return ascending
        case (.string?, .number?): return !ascending
        }
    }
}

public struct SearchSyntaxError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Tokens of the search grammar.
struct Lexer {
    enum Token: Equatable, CustomStringConvertible {
        case word(String)
        case string(String)
        case quotedKey(String)
        case number(String)
        case symbol(String)

        var description: String {
            switch self {
            case .word(let w): "'\(w)'"
            case .string(let s): "the string '\(s)'"
            case .quotedKey(let k): "`\(k)`"
            case .number(let n): "the number \(n)"
            case .symbol(let s): "'\(s)'"
            }
        }
    }

    private let chars: [Character]
    private var index = 0
    private var peeked: Token??

    init(_ text: String) { chars = Array(text) }

    mutating func peek() throws(SearchSyntaxError) -> Token? {
        if let peeked { return peeked }
        let token = try scan()
        peeked = .some(token)
        return token
    }

    mutating func next() throws(SearchSyntaxError) -> Token? {
        if let peeked {
            self.peeked = nil
            return peeked
        }
        return try scan()
    }

    private mutating func scan() throws(SearchSyntaxError) -> Token? {
        while index < chars.count, chars[index].isWhitespace { index += 1 }
        guard index < chars.count else { return nil }
        let c = chars[index]
        switch c {
        case "'", "\"", "`":
            index += 1
            var text = ""
            while index < chars.count {
                let d = chars[index]
                index += 1
                if d == c {
                    // A doubled quote is the quote itself, as in SQL.
                    if index < chars.count, chars[index] == c {
                        text.append(c)
                        index += 1
                        continue
                    }
                    return c == "`" ? .quotedKey(text) : (c == "\"" && takeKeyPosition() ? .quotedKey(text) : .string(text))
                }
                if d == "\\", index < chars.count {
                    text.append(chars[index])
                    index += 1
                    continue
                }
                text.append(d)
            }
            throw SearchSyntaxError("a quote (\(c)) is not closed")
        case "(", ")", ",":
            index += 1
            return .symbol(String(c))
        case "=":
            index += 1
            if index < chars.count, chars[index] == "=" { index += 1 }
            return .symbol("=")
        case "!", "<", ">":
            index += 1
            if index < chars.count, chars[index] == "=" {
                index += 1
                return .symbol(String(c) + "=")
            }
            if c == "<", index < chars.count, chars[index] == ">" {
                index += 1
                return .symbol("!=")
            }
            guard c != "!" else { throw SearchSyntaxError("'!' must be followed by '='") }
            return .symbol(String(c))
        default:
            if c.isNumber || ((c == "-" || c == "+" || c == ".") && index + 1 < chars.count && chars[index + 1].isNumber) {
                let start = index
                index += 1
                while index < chars.count, chars[index].isNumber || "eE.+-".contains(chars[index]) { index += 1 }
                return .number(String(chars[start..<index]))
            }
            let start = index
            while index < chars.count, !chars[index].isWhitespace, !"=!<>(),'\"`".contains(chars[index]) { index += 1 }
            guard index > start else { throw SearchSyntaxError("unexpected '\(c)'") }
            let word = String(chars[start..<index])
            lastWordEndsWithDot = word.hasSuffix(".")
            return .word(word)
        }
    }

    /// Whether a double-quoted string names a key (`tags."a b"`) rather than being a value.
    private var lastWordEndsWithDot = false
    private mutating func takeKeyPosition() -> Bool {
        defer { lastWordEndsWithDot = false }
        return lastWordEndsWithDot
    }
}
