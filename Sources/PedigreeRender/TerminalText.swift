/// Makes recorded text safe to print on a terminal. Names, tags and parameters come from whoever can send
/// an event — an OpenLineage client, an MLflow client, a training script — so they may hold escape
/// sequences that clear the screen, retitle the window or hide text, newlines that forge a line of output,
/// or bidirectional overrides that make text read differently than it is. Each such character is shown as
/// a visible escape instead (`\e`, `\n`, `\u{202E}`); everything else, including other Unicode, is unchanged.
public enum TerminalText {
    public static func escape(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            guard needsEscape(scalar) else {
                out.append(scalar)
                continue
            }
            let visible: String =
                switch scalar {
                case "\u{1B}": "\\e"
                case "\n": "\\n"
                case "\r": "\\r"
                case "\t": "\\t"
                default: "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
                }
            out.append(contentsOf: visible.unicodeScalars)
        }
        return String(out)
    }

    /// JSON text for a terminal: the same JSON value, with DEL, C1 controls and bidirectional controls
    /// written as `\u` escapes (JSON writers escape only C0 controls). Those characters occur only inside
    /// strings, so the whole text can be rewritten.
    public static func escapeJSON(_ json: String) -> String {
        guard json.unicodeScalars.contains(where: { needsEscape($0) && $0.value >= 0x7F }) else { return json }
        var out = String.UnicodeScalarView()
        for scalar in json.unicodeScalars {
            if needsEscape(scalar) && scalar.value >= 0x7F {
                let hex = String(scalar.value, radix: 16)
                out.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// C0 and C1 control characters, DEL, and the bidirectional embedding, override and isolate controls.
    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }
}
