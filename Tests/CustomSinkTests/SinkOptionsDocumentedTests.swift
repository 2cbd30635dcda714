import BuiltInSinks
import Foundation
import RelayCore
import Testing

/// Every built-in sink's options are declared once (`SinkOption`); these tests hold the two hand-written
/// places that show them to users, `config.yaml.example` and the configuration `serve` uses without a file,
/// to that declaration.
@Suite("Sink options: the example config and the embedded defaults agree with the declarations")
struct SinkOptionsDocumentedTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let environment = ["ZOOM_APP_CLIENT_ID": "id", "ZOOM_APP_CLIENT_SECRET": "secret", "ZOOM_SECRET_TOKEN": "token", "HOME": "/nonexistent"]

    /// One `key: value` line of a sink's block in the example, commented out or not, with the comments that
    /// go with it (the comment lines right above it and a trailing `# …`).
    struct ExampleOption {
        var value: String
        var comments: String
    }

    /// The example's sink blocks (`  id:` under `sinks:`, also when commented out), by the `type:` they give.
    static func exampleBlocks(_ text: String) -> [String: [String: ExampleOption]] {
        var blocks: [String: [String: ExampleOption]] = [:]
        var current: [String: ExampleOption] = [:]
        var type: String?
        var pendingComments: [String] = []
        var inSinks = false
        func close() {
            if let type { blocks[type, default: [:]].merge(current) { first, _ in first } }
            current = [:]
            type = nil
        }
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if raw.hasPrefix("sinks:") { inSinks = true; continue }
            guard inSinks else { continue }
            if !raw.isEmpty, !raw.hasPrefix(" "), !raw.hasPrefix("#") { close(); inSinks = false; continue }
            // Uncomment: "  #   type: redis" -> "    type: redis" keeps the indentation the YAML would have.
            var line = raw
            if let hash = line.firstIndex(of: "#"), line[..<hash].allSatisfy({ $0 == " " }) {
                let after = line[line.index(after: hash)...]
                let body = after.drop { $0 == " " }
                let isKey = body.range(of: #"^[a-z_]+:( |$)"#, options: .regularExpression) != nil
                if !isKey { pendingComments.append(String(body)); continue }
                line = String(line[..<hash]) + String(after.dropFirst(after.first == " " ? 1 : 0))
            }
            let indent = line.prefix { $0 == " " }.count
            let content = line.trimmingCharacters(in: .whitespaces)
            if content.isEmpty { pendingComments = []; continue }
            guard let colon = content.firstIndex(of: ":") else { continue }
            let key = String(content[..<colon])
            var rest = content[content.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            var trailing = ""
            if let hash = rest.range(of: " #") { trailing = String(rest[hash.upperBound...]); rest = rest[..<hash.lowerBound].trimmingCharacters(in: .whitespaces) }
            if rest.hasPrefix("\""), rest.hasSuffix("\""), rest.count >= 2 { rest = String(rest.dropFirst().dropLast()) }
            if indent == 2 { close() } else if key == "type" { type = rest } else {
                current[key] = ExampleOption(value: rest, comments: (pendingComments + [trailing]).joined(separator: " "))
            }
            pendingComments = []
        }
        close()
        return blocks
    }

    @Test("config.yaml.example shows every option of every built-in sink with its default, or says what the default is")
    func exampleMentionsEveryOption() throws {
        let text = try String(contentsOf: Self.repository.appendingPathComponent("config.yaml.example"), encoding: .utf8)
        let blocks = Self.exampleBlocks(text)
        #expect(Set(blocks.keys) == Set(BuiltInSinks.registry.all.map(\.typeName)), "sink types shown: \(blocks.keys.sorted())")
        var checked = 0
        for factory in BuiltInSinks.registry.all {
            for option in factory.documentation {
                guard let shown = blocks[factory.typeName]?[option.key] else {
                    Issue.record("config.yaml.example: no '\(option.key):' under a sink of type \(factory.typeName)")
                    continue
                }
                if let value = option.defaultValue, shown.value != value {
                    #expect(shown.comments.contains("default \(value)"),
                            "config.yaml.example: \(factory.typeName).\(option.key) is \(shown.value), not the default \(value), and its comment does not say 'default \(value)'")
                }
                checked += 1
            }
        }
        #expect(checked >= 19, "options checked: \(checked)")
    }

    @Test("the checker itself: a missing key, and a changed value whose comment hides the default, are both caught")
    func checkerCatches() {
        let blocks = Self.exampleBlocks("""
            sinks:
              log:
                type: jsonl
                # Rotate at this size.
                max_bytes: 1024
                max_files: 5   # default 5
              # bus:
              #   type: redis
              #   max_len: 7
            server:
              port: 1
            """)
        #expect(blocks["jsonl"]?["max_bytes"]?.value == "1024")
        #expect(blocks["jsonl"]?["max_bytes"]?.comments.contains("default") == false)
        #expect(blocks["jsonl"]?["max_files"]?.comments.contains("default 5") == true)
        #expect(blocks["jsonl"]?["audio"] == nil)
        #expect(blocks["redis"]?["max_len"]?.value == "7")
        #expect(blocks["jsonl"]?["port"] == nil, "keys after sinks: must not be read")
    }

    @Test("config.yaml.example and the embedded defaults configure the same relay")
    func embeddedDefaultsAgree() throws {
        let loader = ConfigLoader(registry: BuiltInSinks.registry, environment: Self.environment, workingDirectory: NSTemporaryDirectory())
        let example = try loader.loadFile(Self.repository.appendingPathComponent("config.yaml.example").path)
        let embedded = try loader.loadEmbeddedDefaults()
        let exampleLines = example.summary().split(separator: "\n")
        let embeddedLines = embedded.summary().split(separator: "\n")
        for (index, pair) in zip(exampleLines, embeddedLines).enumerated() where pair.0 != pair.1 {
            Issue.record("summary line \(index + 1): config.yaml.example gives '\(pair.0)', the embedded defaults '\(pair.1)'")
        }
        #expect(exampleLines.count == embeddedLines.count, "example:\n\(example.summary())\nembedded:\n\(embedded.summary())")
    }
}
