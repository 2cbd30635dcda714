// swift-tools-version:6.2
import PackageDescription

/// Every target is compiled in the Swift 6 language mode (strict concurrency).
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let nio: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
]

/// The sink modules that ship with rtms-relay: one line each. A sink is a folder `Plugins/<Name>` that
/// depends on RelayCore only (plus the libraries named here), with tests in `Tests/<Name>Tests`; the
/// `BuiltInSinks` module links every one of them and registers it by type name.
let sinks: [(name: String, dependencies: [Target.Dependency], testDependencies: [Target.Dependency])] = [
    ("JSONLinesSink", [], []),
    ("WAVSink", [], ["wav-crash-probe"]),
    ("SQLiteSink", [.product(name: "GRDB", package: "GRDB.swift")], ["WAVSink", "JSONLinesSink", "rtms-relay", .product(name: "GRDB", package: "GRDB.swift")]),
    ("WebSink", [.product(name: "DequeModule", package: "swift-collections"), .product(name: "NIOConcurrencyHelpers", package: "swift-nio")], []),
    ("RedisSink", ["RedisClient", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")], ["RedisClient", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]),
]

/// The module and test target of one sink.
func sinkTargets(_ name: String, dependencies: [Target.Dependency], testDependencies: [Target.Dependency]) -> [Target] {
    [
        .target(name: name, dependencies: ["RelayCore"] + dependencies, path: "Plugins/\(name)", swiftSettings: swiftSettings),
        .testTarget(name: "\(name)Tests", dependencies: [.byName(name: name), "RelayTesting"] + testDependencies, swiftSettings: swiftSettings),
    ]
}

var targets: [Target] = [
    // MARK: Redis
    /// libhiredis's C API (SPEC §7); only `RedisClient/RedisConnection.swift` imports it.
    .systemLibrary(name: "CHiredis", path: "Sources/CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
    /// `RedisConnection` and the small things built on it (URL, commands, replies, locks), shared by the
    /// Redis sink, the Redis token store and, later, cluster mode.
    .target(name: "RedisClient", dependencies: ["CHiredis"], swiftSettings: swiftSettings),

    // MARK: Core
    .target(
        name: "RelayCore",
        dependencies: [
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOFoundationCompat", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "DequeModule", package: "swift-collections"),
            .product(name: "Yams", package: "Yams"),
        ],
        swiftSettings: swiftSettings
    ),
    /// Zoom's webhook shapes and the signatures on both sides of the handshake: pure values and HMAC, no I/O, so
    /// ingest (and its state-machine tests) depend on this and not on ZoomAPI's HTTP, SQLite and Redis clients.
    .target(
        name: "ZoomWebhooks",
        dependencies: ["RelayCore", .product(name: "Crypto", package: "swift-crypto")],
        swiftSettings: swiftSettings
    ),
    .target(
        name: "ZoomAPI",
        dependencies: [
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            "RelayCore", "ZoomWebhooks", "RedisClient",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "DequeModule", package: "swift-collections"),
        ],
        swiftSettings: swiftSettings
    ),
    .target(
        name: "RTMSIngest",
        dependencies: [
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            "RelayCore",
            "ZoomWebhooks",
            .product(name: "WSClient", package: "swift-websocket"),
            .product(name: "WSCore", package: "swift-websocket"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOExtras", package: "swift-nio-extras"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ] + nio,
        swiftSettings: swiftSettings
    ),
    .target(
        name: "ZoomSimulator",
        dependencies: [
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ] + nio,
        exclude: ["README.md"],
        swiftSettings: swiftSettings
    ),
    /// Cluster mode (SPEC §8): shared webhooks, ownership leases, the shared registry and event channel over Redis.
    .target(
        name: "RelayCluster",
        dependencies: [
            "RelayCore", "ZoomAPI", "ZoomWebhooks", "RTMSIngest", "RedisClient",
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ],
        swiftSettings: swiftSettings
    ),
    .target(
        name: "RelayServer",
        dependencies: [
            "RelayCore", "ZoomAPI", "ZoomWebhooks", "RTMSIngest", "RelayCluster", "SpillLog",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
        ],
        // The agent page, compiled into the binary so `serve` from any folder serves it (WebAssets.swift).
        resources: [.embedInCode("Web")],
        swiftSettings: swiftSettings
    ),
    /// The sink kit: `SinkConformance`, `RecordingSink`, `DeterministicAudio`. RelayCore only, so a sink written
    /// in its own package tests against it without building the relay (Tests/OutOfTreeSink).
    .target(
        name: "SinkTesting",
        dependencies: [
            "RelayCore",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ],
        swiftSettings: swiftSettings
    ),
    .target(
        name: "RelayTesting",
        dependencies: [
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            "RelayCore", "SinkTesting", "RelayServer", "RTMSIngest", "ZoomAPI", "ZoomWebhooks", "ZoomSimulator", "RedisClient",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ] + nio,
        swiftSettings: swiftSettings
    ),
    /// The on-disk overflow of sink queues (`overflow: spill`), in SQLite through GRDB, kept out of RelayCore so
    /// the core (and a sink built outside the repository) needs no database.
    .target(
        name: "SpillLog",
        dependencies: ["RelayCore", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "NIOConcurrencyHelpers", package: "swift-nio")],
        swiftSettings: swiftSettings
    ),
    .target(
        name: "BuiltInSinks",
        dependencies: ["RelayCore"] + sinks.map { .byName(name: $0.name) },
        swiftSettings: swiftSettings
    ),
    .executableTarget(
        name: "rtms-relay",
        dependencies: [
            "RelayCore", "RelayServer", "RelayCluster", "ZoomSimulator", "BuiltInSinks", "SQLiteSink", "WAVSink",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ],
        swiftSettings: swiftSettings
    ),

    // MARK: Tests
    .testTarget(name: "RelayCoreTests", dependencies: ["RelayCore", "RelayTesting", "SpillLog"], swiftSettings: swiftSettings),
    .testTarget(name: "RedisClientTests", dependencies: ["RedisClient", "RelayTesting"], swiftSettings: swiftSettings),
    .testTarget(
        name: "RelayServerTests",
        dependencies: [
            "RelayServer", "RelayTesting", "ZoomAPI", "ZoomWebhooks",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ],
        swiftSettings: swiftSettings
    ),
    // The sink of the out-of-tree example package (Tests/OutOfTreeSink, built on its own by `make test`), also
    // compiled here so that CustomSinkTests can play a simulated call through it beside the built-in sinks.
    .target(name: "CallSummarySink", dependencies: ["RelayCore"], path: "Tests/OutOfTreeSink/Sources/CallSummarySink", swiftSettings: swiftSettings),
    .testTarget(name: "CustomSinkTests", dependencies: ["CallSummarySink", "BuiltInSinks", "RelayTesting", "ZoomSimulator"], swiftSettings: swiftSettings),
    .testTarget(
        name: "ZoomAPITests",
        dependencies: ["ZoomAPI", "ZoomWebhooks", "RelayTesting", "RedisClient", .product(name: "Crypto", package: "swift-crypto")],
        swiftSettings: swiftSettings
    ),
    .testTarget(
        name: "ZoomSimulatorTests",
        dependencies: [
            "ZoomSimulator",
            .product(name: "WSClient", package: "swift-websocket"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ],
        swiftSettings: swiftSettings
    ),
    .testTarget(
        name: "RTMSIngestTests",
        dependencies: [
            "RTMSIngest", "ZoomAPI", "ZoomWebhooks", "RelayTesting", "ZoomSimulator", "RelayServer",
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "GRDB", package: "GRDB.swift"),
        ] + nio,
        swiftSettings: swiftSettings
    ),
    .testTarget(
        name: "ClusterTests",
        dependencies: [
            "RelayTesting", "ZoomSimulator", "RedisClient", "RelayCluster", "RelayCore", "RTMSIngest", "ZoomAPI", "ZoomWebhooks",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ],
        swiftSettings: swiftSettings
    ),
    /// The access model and OAuth connect, tried as an attacker would: the real relay over HTTP against the simulator.
    .testTarget(
        name: "SecurityTests",
        dependencies: [
            "RelayCore", "RelayServer", "RelayTesting", "ZoomAPI", "ZoomWebhooks", "ZoomSimulator", "BuiltInSinks",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ],
        swiftSettings: swiftSettings
    ),
    .testTarget(
        name: "EndToEndTests",
        dependencies: ["RelayCore", "RelayTesting", "RedisClient", "SQLiteSink", "ZoomSimulator", .product(name: "Logging", package: "swift-log"),
                       .product(name: "GRDB", package: "GRDB.swift")],
        swiftSettings: swiftSettings
    ),
    /// Issue 11's fault tests: the relay with real sinks against the simulator while storage, sockets, browsers,
    /// Zoom's REST API and the webhook endpoint misbehave.
    .testTarget(
        name: "FaultTests",
        dependencies: [
            "RelayCore", "RelayServer", "RelayTesting", "RTMSIngest", "ZoomAPI", "ZoomWebhooks", "ZoomSimulator", "BuiltInSinks", "SQLiteSink", "WebSink",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ] + nio,
        swiftSettings: swiftSettings
    ),
]

targets += sinks.flatMap { sinkTargets($0.name, dependencies: $0.dependencies, testDependencies: $0.testDependencies) }
/// A child process for the WAV sink's crash test: records through the real hub until it is SIGKILLed.
targets.append(.executableTarget(name: "wav-crash-probe", dependencies: ["WAVSink", "RelayTesting", .product(name: "Logging", package: "swift-log")], path: "Tests/Support/wav-crash-probe", swiftSettings: swiftSettings))
/// Measures the storage sinks' cost per frame (`swift build -c release --product sink-bench`).
targets.append(.executableTarget(name: "sink-bench", dependencies: ["WAVSink", "SQLiteSink", "RedisSink", "RelayTesting", .product(name: "Logging", package: "swift-log")], path: "Tests/Support/sink-bench", swiftSettings: swiftSettings))

/// libFuzzer harnesses (`make fuzz`, docs/reliability.md), one executable per input surface. They exist in the
/// manifest only when RTMS_RELAY_FUZZ is set: they link only with `-sanitize=fuzzer` (libFuzzer supplies the
/// input loop), so the normal build and CI never compile them.
if Context.environment["RTMS_RELAY_FUZZ"] != nil {
    targets.append(.target(name: "FuzzSupport", path: "Fuzz/Support", swiftSettings: swiftSettings + [.enableExperimentalFeature("Extern")]))
    let fuzzers: [(name: String, folder: String, dependencies: [Target.Dependency])] = [
        ("fuzz-webhook", "Webhook", ["ZoomAPI", "ZoomWebhooks", "RelayCore", .product(name: "Logging", package: "swift-log")]),
        ("fuzz-rtms-frame", "RTMSFrame", ["RTMSIngest", "RelayCore", .product(name: "NIOCore", package: "swift-nio")]),
        ("fuzz-config", "Config", ["RelayCore", "BuiltInSinks"]),
        ("fuzz-app-context", "AppContext", ["ZoomAPI", "ZoomWebhooks", "RelayCore"]),
        ("fuzz-sink-path", "SinkPath", ["RTMSIngest", "RelayCore", "WAVSink", "SQLiteSink", "WebSink",
                                        .product(name: "NIOCore", package: "swift-nio"), .product(name: "Logging", package: "swift-log")]),
    ]
    for fuzzer in fuzzers {
        targets.append(.executableTarget(name: fuzzer.name, dependencies: ["FuzzSupport"] + fuzzer.dependencies, path: "Fuzz/\(fuzzer.folder)", swiftSettings: swiftSettings))
    }
}

let package = Package(
    name: "rtms-relay",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "rtms-relay", targets: ["rtms-relay"]),
        .library(name: "RelayCore", targets: ["RelayCore"]),
        // The sink kit for sinks written outside this repository: SinkConformance, RecordingSink (RelayCore only).
        .library(name: "SinkTesting", targets: ["SinkTesting"]),
        // The relay's own test kit, with the sink kit: RelayHarness (relay + simulator), RelayProcess, LogCapture.
        .library(name: "RelayTesting", targets: ["RelayTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket", from: "1.6.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: targets
)
