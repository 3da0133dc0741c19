// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "ocitool",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "ocitool", targets: ["ocitool"]),
        .library(name: "OCITool", targets: ["OCITool"]),
        // The union view and what it stands on, without the registry stack
        // (NIO, async-http-client): for tools that only read layers, and the
        // fuzz harnesses.
        .library(name: "OCIToolLayers", targets: ["OCICore", "OCIModel", "OCIImage", "OCILayer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // Brought in by async-http-client; named so OCIRegistry and the test registry can use its modules.
        .package(url: "https://github.com/apple/swift-nio", from: "2.100.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.30.0"),
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
        .target(name: "OCILayer", dependencies: ["OCICore", "OCIModel", "OCIImage", "CLinux"]),
        // Registry client (OCI distribution API, auth, TLS): the only module importing AsyncHTTPClient and NIO.
        .target(name: "OCIRegistry", dependencies: [
            "OCICore", "OCIModel",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        // Transports (store, archives, layouts, stdin/stdout, registries) and the copy engine.
        .target(name: "OCITransport", dependencies: ["OCICore", "OCIModel", "OCIImage", "OCIStore", "OCIArchive", "OCIRegistry"]),
        // Command-line verbs.
        .target(name: "OCICommands", dependencies: [
            "OCICore", "OCIModel", "OCIImage", "OCIStore", "OCIArchive", "OCILayer", "OCITransport", "OCIRegistry", "OCIFormat",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "ocitool", dependencies: ["OCICommands"]),
        // The library's one import: re-exports the public API of the modules above.
        .target(name: "OCITool", dependencies: ["OCICore", "OCIModel", "OCIImage", "OCIStore", "OCIArchive", "OCILayer",
                                               "OCIRegistry", "OCITransport"]),
        // docker-compatible output formatting: Go templates, tables, units (Foundation only).
        .target(name: "OCIFormat"),

        .target(name: "OCITestSupport", dependencies: ["OCICore", "OCIModel", "OCIImage", "OCIStore", "OCIArchive", "OCILayer", "OCITransport"],
                path: "Tests/OCITestSupport", exclude: ["Registry"]),
        // Registry test support: distribution registries, a test CA, a token server and an
        // in-process fake registry (NIO HTTP server); kept apart so other test targets do not link NIO.
        .target(name: "OCIRegistryTestSupport", dependencies: [
            "OCICore", "OCITestSupport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ], path: "Tests/OCITestSupport/Registry"),
        .testTarget(name: "OCICoreTests", dependencies: ["OCICore", "OCITestSupport"]),
        .testTarget(name: "OCIModelTests", dependencies: ["OCIModel", "OCITestSupport"]),
        .testTarget(name: "OCIStoreTests", dependencies: ["OCIImage", "OCIStore", "OCIArchive", "OCITransport", "OCITestSupport"]),
        .testTarget(name: "OCIArchiveTests", dependencies: ["OCIImage", "OCIArchive", "OCIStore", "OCITransport", "OCITestSupport"]),
        .testTarget(name: "OCILayerTests", dependencies: ["OCIImage", "OCILayer", "OCIArchive", "OCIStore", "OCITransport", "OCITestSupport"]),
        .testTarget(name: "OCICommandsTests", dependencies: ["OCITestSupport"]),
        .testTarget(name: "OCIToolTests", dependencies: ["OCITool", "OCITestSupport"]),
        .testTarget(name: "OCIFormatTests", dependencies: ["OCIFormat"]),
        .testTarget(name: "OCIRegistryTests", dependencies: ["OCIRegistry", "OCIModel", "OCIImage", "OCIStore", "OCITestSupport", "OCIRegistryTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
