// swift-tools-version:6.2
import PackageDescription

/// Every target of ours: `any` spelled out, and a warning fails the build (dependencies' are theirs).
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "SwiftKMS",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "swiftkms", targets: ["swiftkms"]),
        // For the microbenchmarks in Benchmarks/, which measure these layers' hot paths.
        .library(name: "KMSCore", targets: ["KMSCore"]),
        .library(name: "KMSProtocol", targets: ["KMSProtocol"]),
    ],
    dependencies: [
        // Exact: Sources/CBoringMLDSA calls the C functions of the BoringSSL it bundles.
        .package(url: "https://github.com/apple/swift-crypto.git", exact: "4.5.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "CPKCS11", pkgConfig: "p11-kit-1", providers: [.apt(["libp11-kit-dev"])]),
        .systemLibrary(name: "CCBOR", pkgConfig: "libcbor", providers: [.apt(["libcbor-dev"])]),
        // PKCS#11 tokens (HSMs) through a module loaded at run time: custom key stores, the XKS proxy.
        .target(name: "KMSHSM", dependencies: ["CPKCS11"], swiftSettings: strict),
        .target(name: "CBoringMLDSA", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        .target(
            name: "KMSCore",
            dependencies: [
                "CBoringMLDSA", "CCBOR", "COpenSSL", "CSodium",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "KMSStorage",
            dependencies: [
                "KMSCore", .product(name: "Metrics", package: "swift-metrics"), .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // Test support, shipped in no product: the behaviour every Store must have.
        .target(
            name: "KMSStoreTesting", dependencies: ["KMSStorage", .product(name: "Logging", package: "swift-log")], swiftSettings: strict),
        .target(
            name: "KMSStorageSQLite",
            dependencies: ["KMSStorage", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .target(
            name: "KMSStoragePostgres",
            dependencies: [
                "KMSStorage", .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            // The XKS Proxy API's client: external key stores' calls to their proxies.
            name: "KMSXKSClient",
            dependencies: [
                "KMSCore", .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "KMSService",
            dependencies: ["KMSCore", "KMSStorage", "KMSHSM", "KMSXKSClient", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .target(
            name: "KMSProtocol",
            dependencies: ["KMSService", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .target(
            name: "KMSServer",
            dependencies: [
                "KMSProtocol", "KMSStorage",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "KMSAuditExport",
            dependencies: [
                "KMSService",
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            // `swiftkms xks-proxy`: the XKS Proxy API over HTTPS in front of a PKCS#11 token.
            name: "KMSXKSProxy",
            dependencies: [
                "KMSCore", "KMSHSM", "KMSServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "swiftkms",
            dependencies: [
                "KMSServer", "KMSStorageSQLite", "KMSStoragePostgres", "KMSAuditExport", "KMSHSM", "KMSXKSProxy", "KMSXKSClient",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "KMSHSMTests", dependencies: ["KMSHSM"], swiftSettings: strict),
        .testTarget(name: "KMSCoreTests", dependencies: ["KMSCore"], resources: [.copy("Resources")], swiftSettings: strict),
        .testTarget(name: "KMSProtocolTests", dependencies: ["KMSProtocol"], resources: [.copy("Resources")], swiftSettings: strict),
        .testTarget(
            name: "KMSStorageSQLiteTests",
            dependencies: ["KMSStorageSQLite", "KMSStoreTesting", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "KMSStoragePostgresTests",
            dependencies: ["KMSCore", "KMSStoragePostgres", "KMSStoreTesting", .product(name: "PostgresNIO", package: "postgres-nio")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "KMSServiceTests",
            dependencies: ["KMSService", "KMSStorageSQLite", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "KMSServerTests",
            dependencies: ["KMSServer", "KMSStorageSQLite", "KMSStoreTesting", .product(name: "HummingbirdTesting", package: "hummingbird")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "KMSAuditExportTests", dependencies: ["KMSAuditExport", "KMSStorageSQLite", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
