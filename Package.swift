// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "ocitool",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "ocitool", targets: ["ocitool"]),
        .library(name: "OCITool", targets: ["OCICore", "OCIModel", "OCIStore", "OCIArchive", "OCILayer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C libraries, each wrapped once (only OCICore imports them).
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CLinux"),
        .systemLibrary(name: "CIsal", pkgConfig: "libisal", providers: [.apt(["libisal-dev"])]),

        // Streams: digests, tar, compression.
        .target(name: "OCICore", dependencies: ["CArchive", "CCrypto", "CZlib", "CZstd", "CIsal", "CLinux"]),
        // Image-spec and docker records, references, canonical JSON.
        .target(name: "OCIModel", dependencies: ["OCICore"]),
        // Content-addressed blob store and image store (an OCI layout).
        .target(name: "OCIStore", dependencies: ["OCICore", "OCIModel"]),
        // Archive readers (docker-save, Docker 25+, OCI) and writers.
        .target(name: "OCIArchive", dependencies: ["OCICore", "OCIModel", "OCIStore"]),
        // Layer operations: union view, diff, commit layers.
        .target(name: "OCILayer", dependencies: ["OCICore", "OCIModel", "OCIStore", "OCIArchive", "CLinux"]),
        // Command-line verbs.
        .target(name: "OCICommands", dependencies: [
            "OCICore", "OCIModel", "OCIStore", "OCIArchive", "OCILayer",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "ocitool", dependencies: ["OCICommands"]),

        .target(name: "OCITestSupport", dependencies: ["OCICore", "OCIModel", "OCIStore", "OCIArchive"], path: "Tests/OCITestSupport"),
        .testTarget(name: "OCICoreTests", dependencies: ["OCICore", "OCITestSupport"]),
        .testTarget(name: "OCIModelTests", dependencies: ["OCIModel", "OCITestSupport"]),
        .testTarget(name: "OCIStoreTests", dependencies: ["OCIStore", "OCIArchive", "OCITestSupport"]),
        .testTarget(name: "OCIArchiveTests", dependencies: ["OCIArchive", "OCIStore", "OCITestSupport"]),
        .testTarget(name: "OCILayerTests", dependencies: ["OCILayer", "OCIArchive", "OCIStore", "OCITestSupport"]),
        .testTarget(name: "OCICommandsTests", dependencies: ["OCITestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
