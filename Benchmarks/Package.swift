// swift-tools-version:6.1
import Foundation
import PackageDescription

// The benchmarks (issue 7): a SigV4 load generator and the bare Hummingbird endpoint it is
// compared with (run through `scripts/benchmark`), and microbenchmarks of the hot paths with
// ordo-one/benchmark (`scripts/microbenchmark`). A package of its own, so that the main
// package's build and tests don't pay for it.

/// The main package, one directory up. SwiftPM names a package dependency given by path after
/// its directory, which is whatever the repository was cloned as.
let swiftKMS = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent()
let package = Package(
    name: "SwiftKMSBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        // The malloc counters only: the default trait's runtime interposer is not a package here.
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(path: swiftKMS.path),
    ],
    targets: [
        .target(name: "SigV4Signer", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        .executableTarget(
            name: "kms-load",
            dependencies: [
                "SigV4Signer",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/KMSLoad"
        ),
        .executableTarget(
            name: "bare-endpoint",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/BareEndpoint"
        ),
        // ordo-one/benchmark's plugin finds its targets under Benchmarks/.
        .executableTarget(
            name: "HotPaths",
            dependencies: [
                "SigV4Signer",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "KMSCore", package: swiftKMS.lastPathComponent),
                .product(name: "KMSProtocol", package: swiftKMS.lastPathComponent),
            ],
            path: "Benchmarks/HotPaths",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
