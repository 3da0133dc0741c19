import Foundation
import OCICore
@testable import OCILayer
import OCITestSupport
import Testing

/// `UnionIndex` reads the layers above the first on other cores and applies
/// their members in layer order. These tests hold it to the one-thread pass:
/// the same export bytes, the same diff, and the same error naming the same
/// entry, for the hostile corpora and for limits and failures that span
/// layers (where a read-ahead layer fails on its own before the stack does).
@Suite("Union index read-ahead")
struct ReadAheadTests {
    /// Export bytes (or the error) without the read-ahead, and with it: the
    /// default budget, and one so small that the records stop after a member
    /// or two and the index reads the rest of each layer itself. The two
    /// read-ahead results must agree; the pair returned is (one thread, read-ahead).
    static func exportBoth(_ layers: [LayerSource], limits: UnionLimits = .defaults, skipUnsafe: Bool = false,
                           in tmp: TempDir) throws -> (sequential: String, ahead: String) {
        func run(_ budget: Int) throws -> String {
            let path = tmp.file("export-\(budget).tar")
            do {
                let sink = try FileSink(creating: path)
                let r = try UnionExporter.export(layers, to: sink, name: path, limits: limits, skipUnsafe: skipUnsafe,
                                                 readAheadBudget: budget, warn: { _ in })
                let bytes = try FS.readFile(path, limit: 256 << 20)
                return "ok \(r.entries) \(r.bytes) \(r.skippedUnsafe) \(SHA256Hasher.digest(bytes))"
            } catch {
                return "error: \(error)"
            }
        }
        let ahead = try run(UnionIndex.readAheadBudget)
        let tiny = try run(700)
        #expect(tiny == ahead, "a read-ahead that runs out of budget gives another result")
        return (try run(0), ahead)
    }

    @Test("Python-built hostile corpus: the same export", arguments: HostileCorpus.cases.filter { $0.layers.count > 1 })
    func pythonCorpus(_ c: HostileCorpus.Case) throws {
        let tmp = try TempDir(prefix: "ocitool-readahead")
        defer { _ = try? Shell.run(["rm", "-rf", tmp.path]) }
        let paths = try PyTar.writeLayers(c.layers, in: tmp.file("layers"), format: c.format)
        let layers = LayerTests.sources(paths)
        let limits = HostileCorpusTests.limits(c)
        for skip in [false, true] {
            let (sequential, ahead) = try Self.exportBoth(layers, limits: limits, skipUnsafe: skip, in: tmp)
            #expect(sequential == ahead, "\(c.name) (skip-unsafe \(skip))")
        }
    }

    @Test("Semantic hostile layers: the same export", arguments: HostileLayers.cases.filter { $0.layers.count > 1 })
    func semanticCorpus(_ c: HostileLayers.Case) throws {
        let tmp = try TempDir(prefix: "ocitool-readahead")
        defer { _ = try? Shell.run(["rm", "-rf", tmp.path]) }
        let layers = LayerTests.sources(try LayerTests.writeLayers(c.layers, in: tmp.path))
        var limits = UnionLimits.defaults
        if let l = c.limits {
            limits.maxBytes = l.bytes
            limits.maxEntries = l.entries
        }
        let (sequential, ahead) = try Self.exportBoth(layers, limits: limits, in: tmp)
        #expect(sequential == ahead, "\(c.name)")
    }

    /// Four layers of `n` files of `size` bytes each (Python tarfile).
    static func stack(in tmp: TempDir, files n: Int = 3, size: Int = 100, corruptLayer: Int? = nil) throws -> [LayerSource] {
        let layers = (0..<4).map { l in
            (0..<n).map { i in PyTar.Member("l\(l)/f\(i)", .file, zeros: size) }
        }
        let paths = try PyTar.writeLayers(layers, in: tmp.file("layers"))
        if let k = corruptLayer {
            // Cut the layer inside its second member's data: a read error there.
            let bytes = try FS.readFile(paths[k], limit: 1 << 20)
            try Data(bytes.prefix(512 * 3 + 50)).write(to: URL(fileURLWithPath: paths[k]))
        }
        return LayerTests.sources(paths)
    }

    @Test("A limit reached over several layers names the same entry")
    func limitsAcrossLayers() throws {
        let tmp = try TempDir(prefix: "ocitool-readahead")
        defer { _ = try? Shell.run(["rm", "-rf", tmp.path]) }
        let layers = try Self.stack(in: tmp)
        var entries = UnionLimits.defaults
        entries.maxEntries = 8  // 3 + 3 + the second of layer 3
        var bytes = UnionLimits.defaults
        bytes.maxBytes = 750  // 7 files of 100 bytes fit
        for (what, limits, entry) in [("entries", entries, "l2/f2"), ("bytes", bytes, "l2/f1")] {
            let (sequential, ahead) = try Self.exportBoth(layers, limits: limits, in: tmp)
            #expect(sequential == ahead, "\(what)")
            #expect(sequential.contains("layer 3") && sequential.contains(entry), "\(what): \(sequential)")
        }
    }

    @Test("A lower layer's error wins over an upper layer's, as in one pass")
    func firstErrorInLayerOrder() throws {
        let tmp = try TempDir(prefix: "ocitool-readahead")
        defer { _ = try? Shell.run(["rm", "-rf", tmp.path]) }
        var layers = try Self.stack(in: tmp, corruptLayer: 3)
        // Layer 2 also fails: a limit that only its files reach.
        var limits = UnionLimits.defaults
        limits.maxBytes = 450
        let (sequential, ahead) = try Self.exportBoth(layers, limits: limits, in: tmp)
        #expect(sequential == ahead)
        #expect(sequential.contains("layer 2") && sequential.contains("--max-bytes"), "\(sequential)")
        // Only the cut layer: its read error, in both.
        let (s2, a2) = try Self.exportBoth(layers, in: tmp)
        #expect(s2 == a2)
        #expect(s2.hasPrefix("error:") && s2.contains("layer 4"), "\(s2)")
        // The corrupt layer below the others: it is read on this thread.
        layers = try Self.stack(in: tmp, corruptLayer: 0)
        let (s3, a3) = try Self.exportBoth(layers, in: tmp)
        #expect(s3 == a3)
        #expect(s3.hasPrefix("error:") && s3.contains("layer 1"), "\(s3)")
    }

    @Test("diff hashes the read-ahead layers' files like the one-thread pass")
    func diffHashes() throws {
        let tmp = try TempDir(prefix: "ocitool-readahead")
        defer { _ = try? Shell.run(["rm", "-rf", tmp.path]) }
        let layers = try Self.stack(in: tmp, files: 5, size: 3000)
        let one = try UnionIndex(layers: layers, limits: .defaults, hashContent: true, readAheadBudget: 0)
        let two = try UnionIndex(layers: layers, limits: .defaults, hashContent: true)
        let tiny = try UnionIndex(layers: layers, limits: .defaults, hashContent: true, readAheadBudget: 700)
        func digests(_ index: UnionIndex) -> [String] {
            var out: [String] = []
            index.walk { n in out.append("\(n.path) \(n.inode?.digest.map { "\($0)" } ?? "-")") }
            return out
        }
        #expect(digests(one) == digests(two))
        #expect(digests(one) == digests(tiny))
        #expect(digests(two).filter { $0.contains("sha256:") }.count == 20)
    }
}
