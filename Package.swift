// swift-tools-version:6.1
// CommerceML: three command-line machine-learning applications for commerce over shared modules.
// Layout and dependency direction: see README.md ("Layout").

import Foundation
import PackageDescription

let package = Package(
  name: "CommerceML",
  platforms: [.macOS(.v13)],
  products: [
    .executable(name: "recommend", targets: ["recommend"]),
    .executable(name: "churn", targets: ["churn"]),
    .executable(name: "fraud", targets: ["fraud"]),
    .executable(name: "commerceml", targets: ["commerceml"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    // The PostgreSQL registry (StoragePostgres only).
    .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    // HTTP serving (Service only): Hummingbird 2 without its optional traits (swift-configuration support, the
    // URL-encoded form coder on full Foundation), its logs and metrics, and graceful shutdown.
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.90.0"),
    // A real HTTP client for the process tests of the servers (tests only; Hummingbird's tests use it too).
    .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
  ],
  targets: [
    // The C layer: only LinearAlgebra imports it.
    .systemLibrary(
      name: "COpenBLAS",
      pkgConfig: "openblas",
      providers: [.apt(["libopenblas-dev"])]
    ),
    .target(name: "LinearAlgebra", dependencies: ["COpenBLAS"]),
    // Cache prefetch for the fraud stream's hot path and the CSV reader's sixteen-byte scan (static inline C), and
    // the registry of temporary files removed when a signal stops the process (TabularIO's atomic outputs).
    .target(name: "CPlatform", linkerSettings: [.linkedLibrary("m")]),
    .target(name: "TabularIO", dependencies: ["CPlatform"]),
    .target(name: "Modeling", dependencies: ["CPlatform", "LinearAlgebra"]),
    // Charts as values and their one SVG/HTML renderer; knows no domain.
    .target(name: "Charts"),
    // The store in parts: the registry and checkpoint protocols, version types and resolve helper (Storage), the
    // SQLite backend, the PostgreSQL backend, and the one place that opens a backend from a location.
    .target(name: "Storage", dependencies: ["Modeling", "TabularIO"]),
    .target(
      name: "StorageSQLite",
      dependencies: [
        "Storage",
        .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "GRDBSQLite", package: "GRDB.swift"),
      ]
    ),
    .target(
      name: "StoragePostgres",
      dependencies: [
        "Storage",
        .product(name: "PostgresNIO", package: "postgres-nio"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "Logging", package: "swift-log"),
      ]
    ),
    .target(name: "StoreBackends", dependencies: ["Storage", "StorageSQLite", "StoragePostgres"]),
    .target(name: "Recommender", dependencies: ["Charts", "Modeling", "Storage", "TabularIO"]),
    .target(name: "Churn", dependencies: ["Charts", "Modeling", "Storage", "TabularIO"]),
    .target(name: "Fraud", dependencies: ["CPlatform", "Charts", "Modeling", "Storage", "TabularIO"]),
    // Shared HTTP serving: the only importer of Hummingbird. Routes are thin mappings over the domain calls.
    .target(
      name: "Service",
      dependencies: [
        "Modeling", "Storage", "TabularIO", "Recommender", "Churn", "Fraud",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HummingbirdCore", package: "hummingbird"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Metrics", package: "swift-metrics"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "NIOPosix", package: "swift-nio"),
      ]
    ),
    .target(
      name: "CommandLineSupport",
      dependencies: [
        "Charts", "CPlatform", "Storage", "StoreBackends", "TabularIO", "Modeling", "LinearAlgebra",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    // Each app's commands, in a library so that its executable and the multi-call `commerceml` both run them.
    .target(
      name: "RecommendCLI",
      dependencies: [
        "CommandLineSupport", "LinearAlgebra", "Modeling", "Recommender", "Service", "Storage", "TabularIO",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .target(
      name: "ChurnCLI",
      dependencies: [
        "CommandLineSupport", "Churn", "TabularIO", "Modeling", "LinearAlgebra", "Service",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .target(
      name: "FraudCLI",
      dependencies: [
        "CommandLineSupport", "Fraud", "TabularIO", "Modeling", "Storage", "LinearAlgebra", "Service",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .executableTarget(name: "recommend", dependencies: ["RecommendCLI"]),
    .executableTarget(name: "churn", dependencies: ["ChurnCLI"]),
    .executableTarget(name: "fraud", dependencies: ["FraudCLI"]),
    // recommend, churn and fraud in one executable, by the name it is started under (the container image).
    // With ICUDataOverride: empty, unless the container build links a trimmed copy of ICU's data through it.
    .executableTarget(
      name: "commerceml",
      dependencies: ["RecommendCLI", "ChurnCLI", "FraudCLI", "CommandLineSupport", "ICUDataOverride"]),
    .target(name: "ICUDataOverride"),
    // A child process for the store's crash and concurrency tests (kill -9 mid-write, reader during a write).
    .executableTarget(
      name: "store-test-helper",
      dependencies: ["Storage", "StoreBackends"],
      path: "Tests/Helpers/store-test-helper"
    ),
    .testTarget(name: "LinearAlgebraTests", dependencies: ["LinearAlgebra"]),
    .testTarget(name: "TabularIOTests", dependencies: ["TabularIO"]),
    .testTarget(name: "ModelingTests", dependencies: ["Modeling"]),
    .testTarget(
      name: "ServiceTests",
      dependencies: [
        "Service", "Recommender", "Churn", "Fraud", "Storage", "StorageSQLite", "Modeling", "TabularIO",
        .product(name: "HummingbirdTesting", package: "hummingbird"),
      ]),
    .testTarget(
      name: "StorageTests",
      dependencies: [
        "Storage", "StorageSQLite", "StoragePostgres", "StoreBackends", "store-test-helper",
        .product(name: "PostgresNIO", package: "postgres-nio"),
      ]),
    .testTarget(name: "CommandLineSupportTests", dependencies: ["CommandLineSupport", "Modeling"]),
    .testTarget(
      name: "RecommenderTests",
      dependencies: [
        "Charts", "Recommender", "Storage", "StorageSQLite", "TabularIO", "Modeling",
        .product(name: "GRDB", package: "GRDB.swift"),
      ]),
    .testTarget(
      name: "ChurnTests", dependencies: ["Charts", "Churn", "Modeling", "TabularIO", "Storage", "StorageSQLite"]),
    .testTarget(
      name: "FraudTests", dependencies: ["Fraud", "TabularIO", "Modeling", "Storage", "StorageSQLite"],
      exclude: ["Fixtures"]),
    .testTarget(
      name: "EndToEndTests",
      dependencies: [
        "recommend", "churn", "fraud", "commerceml", "Churn", "Fraud", "Storage", "StorageSQLite", "StoreBackends",
        "CommandLineSupport", "Recommender",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
      ]),
  ],
  swiftLanguageModes: [.v6]
)

// Benchmark executables are built only when asked for (Scripts/bench sets COMMERCEML_BENCHMARKS=1),
// so that ordinary builds and CI do not compile them.
if ProcessInfo.processInfo.environment["COMMERCEML_BENCHMARKS"] == "1" {
  package.targets.append(
    .executableTarget(name: "csv-bench", dependencies: ["TabularIO"], path: "Benchmarks/Sources/csv-bench")
  )
}
