/// Tiny JSON writer for flat string objects, so error bodies never need an encoder that can throw.
public enum JSONText {
    /// `{"key":"value",…}` for string members.
    public static func object(_ members: KeyValuePairs<String, String>) -> String {
        "{" + members.map { "\(quote($0.key)):\(quote($0.value))" }.joined(separator: ",") + "}"
    }

    /// A JSON string literal for `text`. Control characters (C0, DEL, C1) and U+2028/U+2029 are escaped, so the
    /// result is one line whatever `text` holds (the text log format relies on that too).
    public static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\u{2028}" || scalar == "\u{2029}":
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
