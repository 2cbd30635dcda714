// swift-tools-version:6.2
// A sink in a package of its own, the way docs/writing-a-sink.md ("Your own package") describes: it depends on
// rtms-relay's `RelayCore` (the sink contract) and tests against `SinkTesting` (the conformance suite). `make test`
// builds and tests it against this checkout (`path: "../.."`); a sink author writes
// `.package(url: "https://github.com/<owner>/rtms-relay", from: "…")` instead.
import PackageDescription

let package = Package(
    name: "call-summary-sink",
    platforms: [.macOS(.v15)],
    products: [.library(name: "CallSummarySink", targets: ["CallSummarySink"])],
    dependencies: [
        .package(name: "rtms-relay", path: "../.."),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .target(name: "CallSummarySink", dependencies: [.product(name: "RelayCore", package: "rtms-relay")]),
        .testTarget(
            name: "CallSummarySinkTests",
            dependencies: ["CallSummarySink", .product(name: "RelayCore", package: "rtms-relay"), .product(name: "SinkTesting", package: "rtms-relay"),
                           .product(name: "Logging", package: "swift-log")]
        ),
    ]
)
