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
        // The one image model: Image, ImageIndex, BlobSource, sources and
        // destinations, staging, transformations (recode, mutate), selection.
        .target(name: "OCIImage", dependencies: ["OCICore", "OCIModel"]),
        // The local store: an OCI layout with names, locks and transactions.
        .target(name: "OCIStore", dependencies: ["OCICore", "OCIModel", "OCIImage"]),
        // Archive readers (docker-save, Docker 25+, OCI) and writers.
        .target(name: "OCIArchive", dependencies: ["OCICore", "OCIModel", "OCIImage"]),
        // Layer operations: union view, diff, commit layers.
        .target(name: "OCILayer", dependencies: ["OCICore", "OCIModel", "OCIImage"]),
        // Transports (store, archives, layouts, stdin/stdout) and the copy engine.
        .target(name: "OCITransport", dependencies: ["OCICore", "OCIModel", "OCIImage", "OCIStore", "OCIArchive"]),
        // Command-line verbs.
        .target(name: "OCICommands", dependencies: [
            "OCICore", "OCIModel", "OCIImage", "OCIStore", "OCIArchive", "OCILayer", "OCITransport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "ocitool", dependencies: ["OCICommands"]),
        // docker-compatible output formatting: Go templates, tables, units (Foundation only).
        .target(name: "OCIFormat"),

        .target(name: "OCITestSupport", dependencies: ["OCICore", "OCIModel", "OCIImage", "OCIStore", "OCIArchive", "OCILayer", "OCITransport"],
                path: "Tests/OCITestSupport"),
        .testTarget(name: "OCICoreTests", dependencies: ["OCICore", "OCITestSupport"]),
        .testTarget(name: "OCIModelTests", dependencies: ["OCIModel", "OCITestSupport"]),
        .testTarget(name: "OCIStoreTests", dependencies: ["OCIImage", "OCIStore", "OCIArchive", "OCITransport", "OCITestSupport"]),
        .testTarget(name: "OCIArchiveTests", dependencies: ["OCIImage", "OCIArchive", "OCIStore", "OCITransport", "OCITestSupport"]),
        .testTarget(name: "OCILayerTests", dependencies: ["OCIImage", "OCILayer", "OCIArchive", "OCIStore", "OCITransport", "OCITestSupport"]),
        .testTarget(name: "OCICommandsTests", dependencies: ["OCITestSupport"]),
        .testTarget(name: "OCIFormatTests", dependencies: ["OCIFormat"]),
    ],
    swiftLanguageModes: [.v6]
)
