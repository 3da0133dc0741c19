import Foundation
import OCICore
import OCILayer
import OCITestSupport
import Testing

/// The generated hostile corpus (`HostileLayers`): for every case the
/// unpack and the export stop with the expected error, or keep everything
/// inside the target; and nothing outside the target changes (the tree
/// around it is compared byte for byte, times included).
@Suite("Hostile layers")
struct HostileLayerTests {
    /// A scratch tree: `top/etc/passwd`, `top/tmp/`, `top/p/victim` and the
    /// target `top/p/q/root`, three levels down; layers live outside `top`.
    struct Arena {
        let tmp: TempDir
        let top: String
        let target: String
        let layerDir: String

        init() throws {
            tmp = try TempDir(prefix: "ocitool-hostile")
            top = tmp.file("top")
            target = top + "/p/q/root"
            layerDir = tmp.file("layers")
            try FS.makeDirectories(target)
            try FS.makeDirectories(top + "/etc")
            try FS.makeDirectories(top + "/tmp")
            try FS.makeDirectories(layerDir)
            try FS.writeAtomically(top + "/etc/passwd", bytes: Array("root:x:0:0:root:/root:/bin/sh\n".utf8))
            try FS.writeAtomically(top + "/p/victim", bytes: Array("untouched\n".utf8))
        }

        /// Everything under `top` except the target, with times.
        func snapshot() throws -> TreeListing {
            var o = TreeListing.Options()
            o.fileTimes = true
            o.directoryTimes = true
            o.excluded = ["p/q/root"]
            return try TreeListing(directory: top, options: o)
        }
    }

    static func limits(_ c: HostileLayers.Case) -> UnionLimits {
        c.limits.map { UnionLimits(maxBytes: $0.bytes, maxEntries: $0.entries) } ?? .defaults
    }

    /// Checks a thrown error (or its absence) against the case's outcome.
    static func check(_ error: Error?, _ c: HostileLayers.Case, target: String, layers: Int) {
        switch c.outcome {
        case let .unsafe(entry, reason):
            guard case let .unsafeEntry(layer, e, r)? = error as? LayerError else {
                Issue.record("\(c.name): expected an unsafe-entry error, got \(String(describing: error))")
                return
            }
            #expect(e == entry, "\(c.name)")
            #expect(r.contains(reason), "\(c.name): \(r)")
            #expect(layer.hasPrefix("layer "), "\(c.name): error names the layer: \(layer)")
        case let .invalid(entry, reason):
            guard case let .invalidEntry(layer, e, r)? = error as? LayerError else {
                Issue.record("\(c.name): expected an invalid-entry error, got \(String(describing: error))")
                return
            }
            #expect(e == entry, "\(c.name)")
            #expect(r.contains(reason), "\(c.name): \(r)")
            #expect(layer.hasPrefix("layer "), "\(c.name)")
        case let .limit(flag):
            guard case let .limitExceeded(_, _, _, _, f)? = error as? LayerError else {
                Issue.record("\(c.name): expected a limit error, got \(String(describing: error))")
                return
            }
            #expect(f == flag, "\(c.name)")
        case let .confined(present, absent):
            #expect(error == nil, "\(c.name): \(String(describing: error))")
            for p in present { #expect(FS.exists(target + "/" + p), "\(c.name): \(p) should exist inside the target") }
            for p in absent { #expect(!FS.exists(target + "/" + p), "\(c.name): \(p) should not exist inside the target") }
        }
    }

    static func hostUntouched(_ c: HostileLayers.Case) {
        for p in ["/tmp/\(HostileLayers.marker)", "/etc/\(HostileLayers.marker)", "/\(HostileLayers.marker)"] {
            #expect(!FS.exists(p), "\(c.name): \(p) was created on the host")
        }
    }

    @Test("unpack", arguments: HostileLayers.cases)
    func unpack(_ c: HostileLayers.Case) throws {
        let arena = try Arena()
        let layers = LayerTests.sources(try HostileLayers.write(c, into: arena.layerDir))
        let before = try arena.snapshot()
        var thrown: Error?
        do {
            try Unpacker.unpack(layers, into: arena.target, options: UnpackOptions(limits: Self.limits(c)))
        } catch {
            thrown = error
        }
        let after = try arena.snapshot()
        #expect(after == before, "\(c.name): outside the target changed:\n\(before.differences(from: after).joined(separator: "\n"))")
        Self.check(thrown, c, target: arena.target, layers: layers.count)
        Self.hostUntouched(c)
    }

    @Test("export", arguments: HostileLayers.cases)
    func export(_ c: HostileLayers.Case) throws {
        let arena = try Arena()
        let layers = LayerTests.sources(try HostileLayers.write(c, into: arena.layerDir))
        let tar = arena.tmp.file("export.tar")
        var thrown: Error?
        do {
            try LayerTests.export(layers, to: tar, limits: Self.limits(c))
        } catch {
            thrown = error
        }
        if case .confined = c.outcome {
            #expect(thrown == nil, "\(c.name): \(String(describing: thrown))")
            // The export is the same tree as the unpack.
            try Unpacker.unpack(layers, into: arena.target, options: UnpackOptions(limits: Self.limits(c)))
            let extracted = arena.tmp.file("extracted")
            try LayerTests.gnuExtract(tar, into: extracted)
            let want = try TreeListing(directory: arena.target, options: LayerTests.exact)
            let got = try TreeListing(directory: extracted, options: LayerTests.exact)
            #expect(got == want, "\(c.name):\n\(want.differences(from: got).joined(separator: "\n"))")
        } else {
            Self.check(thrown, c, target: arena.target, layers: layers.count)
        }
    }

    @Test("--skip-unsafe warns and goes on", arguments: HostileLayers.cases.filter {
        if case .unsafe = $0.outcome { return true } else { return false }
    })
    func skipUnsafe(_ c: HostileLayers.Case) throws {
        let arena = try Arena()
        let layers = LayerTests.sources(try HostileLayers.write(c, into: arena.layerDir))
        let before = try arena.snapshot()
        var warnings: [String] = []
        let report = try Unpacker.unpack(layers, into: arena.target, options: UnpackOptions(skipUnsafe: true)) { warnings.append($0) }
        #expect(report.skippedUnsafe.count == 1, "\(c.name)")
        #expect(warnings.count == 1 && warnings[0].contains("unsafe entry rejected"), "\(c.name): \(warnings)")
        #expect(try arena.snapshot() == before, "\(c.name)")
        Self.hostUntouched(c)
        let exported = try LayerTests.export(layers, to: arena.tmp.file("e.tar"), skipUnsafe: true)
        #expect(exported.skippedUnsafe.count == 1, "\(c.name)")
    }

    @Test func unsafeErrorNamesLayerAndEntry() throws {
        let arena = try Arena()
        let path = arena.layerDir + "/evil.tar"
        try TarFixtures.writeTar([TarFixtures.Member(TarEntry(path: "ok", kind: .regular, size: 0)),
                                  TarFixtures.Member(TarEntry(path: "../../../escape", kind: .regular, size: 0))], to: path)
        let layer = LayerSource(path: path, name: "layer 2/2 sha256:feed")
        #expect(throws: LayerError.unsafeEntry(layer: "layer 2/2 sha256:feed", entry: "../../../escape",
                                                reason: "path ../../../escape leaves the root with \"..\"")) {
            try Unpacker.unpack([layer], into: arena.target)
        }
        let message = LayerError.unsafeEntry(layer: "layer 2/2 sha256:feed", entry: "../../../escape", reason: "r").description
        #expect(message.contains("layer 2/2 sha256:feed") && message.contains("../../../escape"))
    }

    @Test func refusesNonEmptyTargetAndFiles() throws {
        let arena = try Arena()
        try FS.writeAtomically(arena.target + "/existing", bytes: [1])
        let layers = LayerTests.sources(try LayerTests.writeLayers([[TarFixtures.Member(TarEntry(path: "f", kind: .regular))]], in: arena.layerDir))
        #expect(throws: LayerError.self) { try Unpacker.unpack(layers, into: arena.target) }
        try Unpacker.unpack(layers, into: arena.target, options: UnpackOptions(allowNonEmpty: true))
        #expect(FS.exists(arena.target + "/f") && FS.exists(arena.target + "/existing"))
        #expect(throws: LayerError.destination(path: arena.top + "/etc/passwd", reason: "exists and is not a directory")) {
            try Unpacker.unpack(layers, into: arena.top + "/etc/passwd")
        }
    }
}

/// The corpus is really hostile: a naive extraction (GNU tar told to trust
/// the names, `-P`) of the same layers does damage outside the target,
/// so the tests above would notice an unpacker that let it through.
@Suite("Hostile corpus self-check")
struct HostileCorpusSelfCheck {
    @Test(arguments: ["dotdot-escape", "relative-symlink-up-and-write"])
    func naiveExtractionEscapes(_ name: String) throws {
        let c = try #require(HostileLayers.cases.first { $0.name == name })
        let arena = try HostileLayerTests.Arena()
        let before = try arena.snapshot()
        for layer in try HostileLayers.write(c, into: arena.layerDir) {
            _ = try Shell.run(["tar", "-P", "-xf", layer, "-C", arena.target])
        }
        #expect(try arena.snapshot() != before, "\(name): GNU tar -P did not escape, so the case proves nothing")
    }
}
