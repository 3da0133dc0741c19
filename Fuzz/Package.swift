// swift-tools-version:6.0
// libFuzzer harnesses for ocitool, kept out of the main package so the
// normal build is unaffected. Build and run them with `make fuzz` (see
// Fuzz/README.md); they need the swift.org toolchain's libFuzzer.
import PackageDescription

let package = Package(
    name: "ocitool-fuzz",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "ocitool", path: ".."),
    ],
    targets: [
        .target(name: "FuzzSupport", dependencies: [.product(name: "OCIToolLayers", package: "ocitool")], path: "Support"),
        .executableTarget(name: "fuzz-tar", dependencies: ["FuzzSupport", .product(name: "OCIToolLayers", package: "ocitool")], path: "Tar"),
        .executableTarget(name: "fuzz-json", dependencies: ["FuzzSupport", .product(name: "OCIToolLayers", package: "ocitool")], path: "JSON"),
        .executableTarget(name: "fuzz-compression", dependencies: ["FuzzSupport", .product(name: "OCIToolLayers", package: "ocitool")], path: "Compression"),
        .executableTarget(name: "fuzz-unpack", dependencies: ["FuzzSupport", .product(name: "OCIToolLayers", package: "ocitool")], path: "Unpack"),
    ],
    swiftLanguageModes: [.v6]
)
