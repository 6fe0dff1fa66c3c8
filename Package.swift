// swift-tools-version:6.1
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

// Linux only: capture uses Glibc, /proc and strace, and CI runs on Linux. (No `platforms`: claiming a macOS
// version would promise a build nobody runs.)
let package = Package(
    name: "Pedigree",
    products: [
        .executable(name: "pedigree", targets: ["pedigree"]),
        .library(name: "PedigreeCore", targets: ["PedigreeCore"]),
        .library(name: "PedigreeStore", targets: ["PedigreeStore"]),
        .library(name: "PedigreeSQLite", targets: ["PedigreeSQLite"]),
        .library(name: "PedigreePostgres", targets: ["PedigreePostgres"]),
        .library(name: "PedigreeCapture", targets: ["PedigreeCapture"]),
        .library(name: "PedigreeLayout", targets: ["PedigreeLayout"]),
        .library(name: "PedigreeRender", targets: ["PedigreeRender"]),
        .library(name: "PedigreeInterop", targets: ["PedigreeInterop"]),
        .library(name: "PedigreeClient", targets: ["PedigreeClient"]),
        .library(name: "PedigreeMLflow", targets: ["PedigreeMLflow"]),
        .library(name: "PedigreeServer", targets: ["PedigreeServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.20.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.60.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.21.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.27.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        // Domain types, canonical JSON, digests, references, OpenLineage mapping, diff. No I/O.
        .target(
            name: "PedigreeCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSettings
        ),
        // The store contract (by role), and the store logic written once over an SQL engine: the hash-chained
        // log writer, projector, graph reader, verifier, tokens, spool. No database driver.
        .target(
            name: "PedigreeStore",
            dependencies: ["PedigreeCore", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            swiftSettings: strictSettings
        ),
        // The embedded engine: SQLite through GRDB.
        .target(
            name: "PedigreeSQLite",
            dependencies: [
                "PedigreeCore", "PedigreeStore", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // The shared engine: PostgreSQL through PostgresNIO (verify's scratch replay runs on SQLite).
        .target(
            name: "PedigreePostgres",
            dependencies: [
                "PedigreeCore", "PedigreeStore", "PedigreeSQLite",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // Capture at training time: git, environment, Python packages, data fingerprints, configs, DVC, the child
        // process; the capture session that records or spools what it captured; and the readers of what other
        // tools left on disk (a DVC project, a ClearML offline session and its zip).
        .target(
            name: "PedigreeCapture",
            dependencies: [
                "PedigreeCore", "PedigreeStore", .product(name: "Crypto", package: "swift-crypto"), .product(name: "Yams", package: "Yams"),
                .product(name: "TOMLKit", package: "TOMLKit"), .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        // The layered (Sugiyama) layout of a directed graph: layers, crossing reduction, coordinates, edge
        // paths. Sizes and indices in, coordinates out: no lineage types, no drawing.
        .target(name: "PedigreeLayout", swiftSettings: strictSettings),
        // Human output: tables and trees of query results, the lineage drawing (SVG) and the web UI's pages,
        // with recorded text escaped. No store, no driver.
        .target(name: "PedigreeRender", dependencies: ["PedigreeCore", "PedigreeLayout"], swiftSettings: strictSettings),
        // Other tools' formats: exports (PROV, OpenLineage, Cypher and neo4j-admin CSV, DataHub, GraphML, DOT, Mermaid),
        // each a pure function of an `ExportSource`, and importers (DVC, MLflow, W&B, Kubeflow pipelines, ML Metadata stores
        // and their SQL dumps, ClearML), each a function from what a tool wrote to events (Capture reads the files, PedigreeClient
        // the servers, PedigreeSQLite other tools' SQLite files; MLflow's conventions are PedigreeMLflow's). No store, no driver.
        .target(
            name: "PedigreeInterop",
            dependencies: ["PedigreeCore", "PedigreeCapture", "PedigreeMLflow", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSettings),
        // A Pedigree server's API as the same result types a local store answers with, and the reader of other
        // tools' servers (MLflow) that imports use.
        .target(
            name: "PedigreeClient",
            dependencies: [
                "PedigreeCore", "PedigreeStore", "PedigreeInterop", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        // MLflow's tracking and registry model as a fold over the event log, the MLflow operations as events,
        // the search grammar, and the content-addressed artifact store. No HTTP.
        .target(
            name: "PedigreeMLflow",
            dependencies: ["PedigreeCore", "PedigreeStore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSettings
        ),
        // The lineage server: REST API, OpenLineage and Marquez-compatible endpoints, tokens, metrics.
        .target(
            name: "PedigreeServer",
            dependencies: [
                "PedigreeCore", "PedigreeStore", "PedigreeMLflow", "PedigreeRender",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
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
                "PedigreeCore", "PedigreeStore", "PedigreeSQLite", "PedigreePostgres", "PedigreeCapture", "PedigreeServer", "PedigreeRender",
                "PedigreeInterop", "PedigreeClient", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // Benchmarks: run in release mode (see Benchmarks/RESULTS.md), never timed in tests.
        .executableTarget(
            name: "pedigree-bench",
            dependencies: [
                "PedigreeCore", "PedigreeStore", "PedigreeSQLite", "PedigreePostgres", "PedigreeCapture", "PedigreeLayout", "PedigreeRender",
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
                "PedigreeStore", "PedigreeSQLite", "PedigreePostgres", .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/PedigreeTestSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(name: "PedigreeCoreTests", dependencies: ["PedigreeCore"], swiftSettings: strictSettings),
        .testTarget(name: "PedigreeMLflowTests", dependencies: ["PedigreeMLflow"], swiftSettings: strictSettings),
        .testTarget(
            name: "PedigreeServerTests",
            dependencies: [
                "PedigreeServer", "PedigreeStore", "PedigreeSQLite", "PedigreePostgres", "PedigreeCore", "PedigreeTestSupport", "PedigreeMLflow",
                .product(name: "HummingbirdTesting", package: "hummingbird"), .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "PedigreeCaptureTests", dependencies: ["PedigreeCapture", "PedigreeCore", "PedigreeStore"], swiftSettings: strictSettings),
        .testTarget(name: "PedigreeRenderTests", dependencies: ["PedigreeRender", "PedigreeCore"], swiftSettings: strictSettings),
        .testTarget(name: "PedigreeLayoutTests", dependencies: ["PedigreeLayout"], swiftSettings: strictSettings),
        .testTarget(
            name: "PedigreeStoreTests",
            // GRDB and PostgresNIO directly, to tamper with stored history the way a stray SQL shell would.
            dependencies: [
                "PedigreeStore", "PedigreeSQLite", "PedigreePostgres", "PedigreeTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Runs the real `pedigree` binary; GRDB to tamper with its store from outside.
        .testTarget(
            name: "PedigreeCLITests",
            dependencies: ["pedigree", "PedigreeCore", "PedigreeStore", "PedigreeTestSupport", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strictSettings
        ),
    ]
)
