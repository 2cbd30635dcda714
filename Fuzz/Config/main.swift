import BuiltInSinks
import FuzzSupport
import RelayCore

/// The config loader (README.md, "Configuration"): the input is a config file's text, decoded against the shipped sink types with
/// a fixed environment, the way `loadFile` does after reading the file. Checked:
/// - every failure is a `ConfigError` naming the file, a line inside the file (or 0) and a non-empty message;
/// - a configuration that loads loads the same way twice (same summary).

let environment = ["DATA_DIR": "/tmp/data", "ZOOM_SECRET_TOKEN": "secret", "EMPTY": ""]
let loader = ConfigLoader(registry: BuiltInSinks.registry, environment: environment, workingDirectory: "/nonexistent")

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    // `loadFile` refuses non-UTF-8 before parsing.
    guard let text = String(validating: bytes(data, size), as: UTF8.self) else { return 0 }
    // YAML breaks lines at CR and NEL/LS/PS too, not only LF (`isNewline` also counts VT and FF: a looser bound).
    let lineCount = text.reduce(1) { count, character in character.isNewline ? count + 1 : count }
    do {
        let configuration = try loader.parse(yaml: text, file: "fuzz.yaml", environment: environment)
        let again = try? loader.parse(yaml: text, file: "fuzz.yaml", environment: environment)
        check(again?.summary() == configuration.summary(), "the same text loaded differently")
    } catch let error as ConfigError {
        check(error.file == "fuzz.yaml", "error names another file: \(error)")
        check((0...lineCount + 1).contains(error.line), "error line \(error.line) outside a \(lineCount)-line file: \(error)")
        check(!error.message.isEmpty, "empty error message")
    } catch {
        check(false, "not a ConfigError: \(type(of: error)): \(error)")
    }
    return 0
}

runFuzzer(fuzzConfig)
