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

/// The sink modules that ship with rtms-relay. Each is a folder under `Plugins/`, depends on RelayCore
/// only (plus its own libraries), and has a test target `Tests/<Name>Tests`.
let sinkNames = ["JSONLinesSink", "WAVSink", "SQLiteSink"]

/// Declares a sink module under `Plugins/` and its test target from one name.
func sink(_ name: String, dependencies: [Target.Dependency] = [], testDependencies: [Target.Dependency] = []) -> [Target] {
    [
        .target(name: name, dependencies: ["RelayCore"] + dependencies, path: "Plugins/\(name)", swiftSettings: swiftSettings),
        .testTarget(name: "\(name)Tests", dependencies: [.byName(name: name), "RelayTesting"] + testDependencies, swiftSettings: swiftSettings),
    ]
}

var targets: [Target] = [
    // MARK: Core
    .target(
        name: "RelayCore",
        dependencies: [
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOFoundationCompat", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "DequeModule", package: "swift-collections"),
            .product(name: "Yams", package: "Yams"),
        ],
        swiftSettings: swiftSettings
    ),
    .target(
        name: "ZoomAPI",
        dependencies: [
            "RelayCore",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ],
        swiftSettings: swiftSettings
    ),
    .target(
        name: "RTMSIngest",
        dependencies: [
            "RelayCore",
            "ZoomAPI",
            .product(name: "WSClient", package: "swift-websocket"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ] + nio,
        swiftSettings: swiftSettings
    ),
    .target(
        name: "ZoomSimulator",
        dependencies: [
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "Logging", package: "swift-log"),
        ] + nio,
        swiftSettings: swiftSettings
    ),
    .target(
        name: "RelayServer",
        dependencies: [
            "RelayCore", "ZoomAPI", "RTMSIngest",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ],
        swiftSettings: swiftSettings
    ),
    .target(
        name: "RelayTesting",
        dependencies: ["RelayCore"],
        swiftSettings: swiftSettings
    ),
    .executableTarget(
        name: "rtms-relay",
        dependencies: [
            "RelayCore", "RelayServer", "ZoomSimulator",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ] + sinkNames.map { .byName(name: $0) },
        swiftSettings: swiftSettings
    ),

    // MARK: Tests
    .testTarget(name: "RelayCoreTests", dependencies: ["RelayCore", "RelayTesting"], swiftSettings: swiftSettings),
    .testTarget(
        name: "RelayServerTests",
        dependencies: [
            "RelayServer", "RelayTesting",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ],
        swiftSettings: swiftSettings
    ),
    .testTarget(
        name: "EndToEndTests",
        dependencies: ["RelayCore"],
        swiftSettings: swiftSettings
    ),
]

targets += sink("JSONLinesSink")
targets += sink("WAVSink", testDependencies: ["wav-crash-probe"])
/// A child process for the WAV sink's crash test: records through the real hub until it is SIGKILLed.
targets.append(.executableTarget(name: "wav-crash-probe", dependencies: ["WAVSink", "RelayTesting", .product(name: "Logging", package: "swift-log")], path: "Tests/Support/wav-crash-probe", swiftSettings: swiftSettings))
/// Measures the storage sinks' cost per frame (`swift build -c release --product sink-bench`).
targets.append(.executableTarget(name: "sink-bench", dependencies: ["WAVSink", "SQLiteSink", "RelayTesting", .product(name: "Logging", package: "swift-log")], path: "Tests/Support/sink-bench", swiftSettings: swiftSettings))
targets += sink("SQLiteSink", dependencies: [.product(name: "GRDB", package: "GRDB.swift")], testDependencies: ["WAVSink", .product(name: "GRDB", package: "GRDB.swift")])

let package = Package(
    name: "rtms-relay",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "rtms-relay", targets: ["rtms-relay"]),
        .library(name: "RelayCore", targets: ["RelayCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket", from: "1.6.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
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
    ],
    targets: targets
)
