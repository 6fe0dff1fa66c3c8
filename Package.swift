// swift-tools-version:6.1
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Pedigree",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "pedigree", targets: ["pedigree"]),
        .library(name: "PedigreeCore", targets: ["PedigreeCore"]),
        .library(name: "PedigreeStore", targets: ["PedigreeStore"]),
        .library(name: "PedigreeCapture", targets: ["PedigreeCapture"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.4.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.20.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.60.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.21.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.27.0"),
    ],
    targets: [
        // Domain types, canonical JSON, digests, references, OpenLineage mapping, diff. No I/O.
        .target(
            name: "PedigreeCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSettings
        ),
        // The LineageStore contract, the hash-chained event log and its SQLite and PostgreSQL implementations.
        .target(
            name: "PedigreeStore",
            dependencies: [
                "PedigreeCore", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // Capture at training time: git, environment, Python packages, data fingerprints, configs, DVC, the child process.
        .target(
            name: "PedigreeCapture",
            dependencies: ["PedigreeCore", .product(name: "Crypto", package: "swift-crypto"), .product(name: "Yams", package: "Yams")],
            swiftSettings: strictSettings
        ),
        // The lineage server: REST API, OpenLineage and Marquez-compatible endpoints, tokens, metrics.
        .target(
            name: "PedigreeServer",
            dependencies: [
                "PedigreeCore", "PedigreeStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("openapi.json")],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "pedigree",
            dependencies: [
                "PedigreeCore", "PedigreeStore", "PedigreeCapture", "PedigreeServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        // Benchmarks: run in release mode (see Benchmarks/RESULTS.md), never timed in tests.
        .executableTarget(
            name: "pedigree-bench",
            dependencies: [
                "PedigreeCore", "PedigreeStore", "PedigreeCapture",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Benchmarks/Sources/pedigree-bench",
            swiftSettings: strictSettings
        ),
        // Test helpers shared by the suites: a database per test on the PostgreSQL server the tests are given.
        .target(
            name: "PedigreeTestSupport",
            dependencies: [
                "PedigreeStore", .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/PedigreeTestSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(name: "PedigreeCoreTests", dependencies: ["PedigreeCore"], swiftSettings: strictSettings),
        .testTarget(
            name: "PedigreeServerTests",
            dependencies: ["PedigreeServer", "PedigreeStore", "PedigreeCore", .product(name: "HummingbirdTesting", package: "hummingbird")],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "PedigreeCaptureTests", dependencies: ["PedigreeCapture", "PedigreeCore"], swiftSettings: strictSettings),
        .testTarget(
            name: "PedigreeStoreTests",
            // GRDB and PostgresNIO directly, to tamper with stored history the way a stray SQL shell would.
            dependencies: [
                "PedigreeStore", "PedigreeTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Runs the real `pedigree` binary; GRDB to tamper with its store from outside.
        .testTarget(
            name: "PedigreeCLITests",
            dependencies: ["pedigree", "PedigreeCore", "PedigreeTestSupport", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strictSettings
        ),
    ]
)
