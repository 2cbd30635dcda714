/// Turns ids Zoom sends (engagement, stream, channel) into file names that cannot escape the recordings
/// directory or collide.
///
/// Letters, digits, `-`, `_` and `.` are kept; anything else becomes `_`, a leading `.` too (so `..` and
/// hidden names are impossible). When the name had to change, or is reserved, a hash of the original id is
/// appended so `a/b` and `a_b` still get different folders.
enum SafeFileName {
    /// Longest name kept before the hash, well under every filesystem's 255-byte limit.
    static let maximumLength = 96

    static func make(_ id: String, reserved: Set<String> = []) -> String {
        var name = ""
        var changed = false
        for scalar in id.unicodeScalars {
            let keep = scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "-_.".unicodeScalars.contains(scalar))
            if keep && !(name.isEmpty && scalar == ".") {
                name.unicodeScalars.append(scalar)
            } else {
                name.append("_")
                changed = true
            }
            if name.count >= maximumLength {
                changed = true
                break
            }
        }
        if name.isEmpty || changed || reserved.contains(name.lowercased()) {
            name += (name.isEmpty ? "" : "-") + hash(id)
        }
        return name
    }

    /// FNV-1a of the UTF-8 bytes, 8 hex digits: stable across runs and platforms (unlike `Hasher`).
    static func hash(_ id: String) -> String {
        var value: UInt32 = 2_166_136_261
        for byte in id.utf8 {
            value ^= UInt32(byte)
            value = value &* 16_777_619
        }
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }
}
