// swift-tools-version:6.1
import Foundation
import PackageDescription

// libFuzzer targets over every parser of untrusted input (as swift-nio-http2 keeps its
// FuzzTesting package): a package of its own, built with `-sanitize=fuzzer,address` by
// `scripts/fuzz`, so that the main build never pays for it. Each target's committed seed
// corpus and every crash found (as a regression input) live in Fuzz/Corpus/TARGET.

/// The main package, one directory up (named after whatever the repository was cloned as).
let swiftKMS = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent()
let kms = swiftKMS.lastPathComponent

func fuzzTarget(_ name: String, _ products: [String]) -> Target {
    .executableTarget(name: name, dependencies: ["FuzzDriver"] + products.map { .product(name: $0, package: kms) }, path: "Sources/\(name)")
}

let package = Package(
    name: "SwiftKMSFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: swiftKMS.path)],
    targets: [
        .target(name: "CFuzzer"),
        .target(name: "FuzzDriver", dependencies: ["CFuzzer"]),
        fuzzTarget("FuzzSigV4", ["KMSProtocol", "KMSCore"]),
        fuzzTarget("FuzzRequestBody", ["KMSProtocol", "KMSCore"]),
        fuzzTarget("FuzzCiphertext", ["KMSCore"]),
        fuzzTarget("FuzzPolicy", ["KMSCore"]),
        fuzzTarget("FuzzTokens", ["KMSProtocol", "KMSCore"]),
        fuzzTarget("FuzzImportedMaterial", ["KMSCore"]),
        fuzzTarget("FuzzAttestation", ["KMSCore"]),
    ],
    swiftLanguageModes: [.v6]
)
