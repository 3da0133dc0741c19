import Foundation
import OCICore
@testable import OCILayer
import OCITestSupport
import Testing

/// The work of the union view grows linearly with the input: the same
/// shape at two sizes (1× and 8×) must cost about 8× the steps, counted by
/// the internal counters (system calls of `RootedDirectory`, tree steps of
/// `UnionIndex`), never seconds. A quadratic walk would cost 64×, the old
/// per-entry resolution from the root with copied component arrays 512×.
///
/// Manual cross-check with a peer-free counter of system calls:
/// `strace -f -c -e trace=%file,%desc ocitool unpack LAYOUT DIR` on the
/// same layouts at both sizes.
@Suite("Linear work", .serialized)
struct LinearWorkTests {
    /// Room for 8000-deep paths (the defaults stop at 4096).
    static let limits = UnionLimits(maxBytes: 1 << 30, maxEntries: 1 << 20, maxPathBytes: 1 << 16, maxDepth: 10_000)

    struct Cost {
        var unpack: Int
        var export: Int
    }

    /// Unpacks and exports the stack `make(n)` builds and returns the steps.
    static func cost(_ n: Int, _ make: (Int) -> [[PyTar.Member]]) throws -> Cost {
        let tmp = try TempDir(prefix: "ocitool-linear")
        defer { _ = try? Shell.run(["rm", "-rf", tmp.path]) }
        let layers = LayerTests.sources(try PyTar.writeLayers(make(n), in: tmp.file("layers")))
        let report = try Unpacker.unpack(layers, into: tmp.file("root"), options: UnpackOptions(limits: limits))
        let exported = try LayerTests.export(layers, to: tmp.file("x.tar"), limits: limits)
        return Cost(unpack: report.steps, export: exported.steps)
    }

    static func expectLinear(_ name: String, small: Int, large: Int, _ make: (Int) -> [[PyTar.Member]]) throws {
        let a = try cost(small, make), b = try cost(large, make)
        let factor = Double(large) / Double(small)
        for (what, x, y) in [("unpack", a.unpack, b.unpack), ("export", a.export, b.export)] {
            let ratio = Double(y) / Double(max(1, x))
            #expect(ratio > factor * 0.6 && ratio < factor * 1.4,
                    "\(name), \(what): \(x) steps at \(small), \(y) at \(large): ×\(ratio) for ×\(factor) the input")
        }
    }

    static func deep(_ n: Int) -> String { String(repeating: "d/", count: n) }

    @Test func oneDeepFile() throws {
        try Self.expectLinear("one file n directories deep", small: 1000, large: 8000) { n in [[.file(Self.deep(n) + "f")]] }
    }

    @Test func removingADeepTree() throws {
        try Self.expectLinear("a tree n deep, then whited out", small: 1000, large: 8000) { n in
            [[.file(Self.deep(n) + "f"), .file(Self.deep(n / 2) + "g")], [.file(".wh.d", "")]]
        }
    }

    @Test func opaqueOverADeepTree() throws {
        try Self.expectLinear("an opaque directory over a tree n deep", small: 1000, large: 8000) { n in
            [[.file(Self.deep(n) + "f")], [.file("d/.wh..wh..opq", ""), .file("d/new")]]
        }
    }

    @Test func manyWhiteouts() throws {
        try Self.expectLinear("n files, then n whiteouts", small: 2000, large: 16_000) { n in
            [(0..<n).map { .file("big/f\($0)", "") }, (0..<n).map { .file("big/.wh.f\($0)", "") }]
        }
    }

    @Test func hardLinkChain() throws {
        try Self.expectLinear("a chain of n hard links", small: 500, large: 4000) { n in
            [[.file("f")] + (1...n).map { .hardlink("l\($0)", $0 == 1 ? "f" : "l\($0 - 1)") }]
        }
    }

    /// n nested directories, each its own member: the input itself grows as
    /// n², so the index (one step per path component) grows as the input,
    /// while the unpack's system calls grow as the number of entries.
    @Test func nestedDirectories() throws {
        func make(_ n: Int) -> [[PyTar.Member]] { [(1...n).map { .dir(Self.deep($0)) }] }
        let small = 250, large = 2000
        let a = try Self.cost(small, make), b = try Self.cost(large, make)
        let entries = Double(large) / Double(small)
        let unpackRatio = Double(b.unpack) / Double(a.unpack)
        #expect(unpackRatio > entries * 0.6 && unpackRatio < entries * 1.4, "unpack: ×\(unpackRatio) for ×\(entries) the entries")
        func components(_ n: Int) -> Double { Double(n * (n + 1) / 2) }
        let input = components(large) / components(small)
        let exportRatio = Double(b.export) / Double(a.export)
        #expect(exportRatio > input * 0.6 && exportRatio < input * 1.4, "export: ×\(exportRatio) for ×\(input) the path components")
    }
}
