import Foundation

/// Keeps credentials out of lineage records: values of variables whose names look secret, and passwords
/// embedded in URLs, are replaced before anything is stored.
public enum SecretRedactor {
    public static let placeholder = "[REDACTED]"
    static let secretWords = [
        "TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASS", "PWD", "KEY", "APIKEY", "CREDENTIAL", "CREDENTIALS", "AUTH", "SESSION", "COOKIE",
    ]

    /// Whether a variable or argument name (`AWS_SECRET_ACCESS_KEY`, `--api-key`, `hf_token`, `accessToken`)
    /// names a secret. Whole words, or a word ending in one (`APITOKEN`): `tokenizer`, `max_tokens`,
    /// `author` and `num_passes` are not secrets.
    public static func isSecretName(_ name: String) -> Bool {
        let upper = name.uppercased()
        let words = upper.split(whereSeparator: { !$0.isLetter && !$0.isNumber })
        return words.contains { word in secretWords.contains { word == $0 || word.hasSuffix($0) } }
    }

    /// The value to store for a variable: redacted when the name is secret, URL credentials stripped always.
    public static func redact(name: String, value: String) -> String {
        isSecretName(name) ? placeholder : stripURLCredentials(value)
    }

    /// `https://user:pw@host/x` → `https://[REDACTED]@host/x`, wherever it occurs in the text.
    public static func stripURLCredentials(_ text: String) -> String {
        guard text.contains("://"), text.contains("@") else { return text }
        var out = ""
        var rest = Substring(text)
        while let scheme = rest.range(of: "://") {
            out += rest[..<scheme.upperBound]
            rest = rest[scheme.upperBound...]
            let authorityEnd = rest.firstIndex(where: { "/?# \t\n\"'".contains($0) }) ?? rest.endIndex
            if let at = rest[..<authorityEnd].lastIndex(of: "@") {
                out += placeholder
                rest = rest[at...]
            }
        }
        return out + rest
    }
}

extension SecretRedactor {
    /// A command line with credentials removed: `--api-key X`, `--token=X`, `PASSWORD=X` and URL passwords.
    public static func redactArguments(_ arguments: [String]) -> [String] {
        var out: [String] = []
        var redactNext = false
        for argument in arguments {
            if redactNext {
                out.append(placeholder)
                redactNext = false
                continue
            }
            if let eq = argument.firstIndex(of: "="), isSecretName(String(argument[..<eq])) {
                out.append(String(argument[...eq]) + placeholder)
            } else if argument.hasPrefix("-"), isSecretName(argument) {
                out.append(argument)
                redactNext = true
            } else {
                out.append(stripURLCredentials(argument))
            }
        }
        return out
    }
}

extension SecretRedactor {
    /// Free text with credentials removed by the same rules as parameters, line by line: the value after a
    /// secret-named key (`api_key: …`, `"token": "…"`, `PASSWORD=…`, `--api-key …`) and passwords in URLs.
    /// For text that quotes configuration or code: uncommitted diffs, untracked file names, commit messages.
    public static func redactText(_ text: String) -> String {
        guard text.contains(where: { $0 == ":" || $0 == "=" || $0 == "-" }) else { return text }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { redactLine(String($0)) }.joined(separator: "\n")
    }

    static func redactLine(_ line: String) -> String {
        var line = stripURLCredentials(line)
        // Bearer and Basic credentials, wherever they appear (`Authorization: Bearer …`, `-H "…"`).
        for match in line.matches(of: /(?i:bearer|basic)\s+(?<value>[A-Za-z0-9._~+\/=\-]{8,})/).reversed() {
            line.replaceSubrange(match.output.value.startIndex..<match.output.value.endIndex, with: placeholder)
        }
        // A line that is itself an assignment (`password: my secret phrase`, `export TOKEN=…`): the rest of it.
        if let match = line.firstMatch(of: /^[+\- ]?\s*(?:export\s+)?["']?(?<name>[A-Za-z_][A-Za-z0-9_.\-]*)["']?\s*[:=]\s*(?<value>\S.*)$/),
            isSecretName(String(match.output.name)), !match.output.value.hasPrefix(placeholder)
        {
            var value = match.output.value
            if value.last == "," { value = value.dropLast() }  // a JSON member keeps its comma
            line.replaceSubrange(value.startIndex..<value.endIndex, with: placeholder)
        }
        // Every other KEY: value, KEY = value, "key": "value" on the line (`OpenAI(api_key="sk-…")` too): the value of a
        // secret-named key, up to the next separator.
        for match in line.matches(of: /(?<name>[A-Za-z_][A-Za-z0-9_.\-]*)["']?\s*[:=]\s*(?<value>"[^"]*"|'[^']*'|[^\s,;(){}\[\]=]+)/).reversed()
        where isSecretName(String(match.output.name)) && !line[match.output.value.startIndex...].hasPrefix(placeholder) {
            line.replaceSubrange(match.output.value.startIndex..<match.output.value.endIndex, with: placeholder)
        }
        // --api-key VALUE, -p VALUE with a secret-named flag.
        for match in line.matches(of: /(?<flag>--?[A-Za-z][A-Za-z0-9_\-]*)\s+(?<value>[^\s\-][^\s]*)/).reversed()
        where isSecretName(String(match.output.flag)) && match.output.value != placeholder {
            line.replaceSubrange(match.output.value.startIndex..<match.output.value.endIndex, with: placeholder)
        }
        return line
    }
}

extension SecretRedactor {
    /// Keys that name secrets (`api_key`, `db_password`) keep their place but lose their value, whatever its
    /// type (a numeric password is still a password); every string loses URL credentials.
    public static func redactSecrets(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members):
            return .object(
                Dictionary(
                    uniqueKeysWithValues: members.map { key, member in
                        if isSecretName(key) { return (key, .string(placeholder)) }
                        return (key, redactSecrets(member))
                    }))
        case .array(let elements): return .array(elements.map(redactSecrets))
        case .string(let s): return .string(stripURLCredentials(s))
        default: return value
        }
    }
}
