import Foundation
import OCICore
import OCIStore
import OCILayer
import OCITestSupport
import Testing

/// `LayerStackAnalyzer` on images with known changes: exact counts and
/// bytes against hand-computed expectations, dive's figures against an
/// independent implementation of dive's algorithm, and every layer's change
/// set against `ImageDiff` between the image cut below and at the layer.
@Suite("Analyze: engine")
struct AnalyzeEngineTests {
    static func input(_ layers: [String], name: String = "test") -> AnalysisInput {
        AnalysisInput(name: name, imageID: nil, layers: layers.enumerated().map { i, p in
            AnalysisInput.Layer(source: LayerSource(path: p, name: "layer \(i + 1)/\(layers.count)"), digest: "sha256:l\(i)",
                                mediaType: "application/vnd.oci.image.layer.v1.tar", storedSize: (try? FS.size(p)) ?? 0, diffID: nil)
        }, history: [])
    }

    static func lines(_ a: ImageAnalysis, _ layer: Int, includeUnchanged: Bool = false) -> [String] {
        a.layers[layer].files.filter { includeUnchanged || $0.change != .unchanged }.map { f in
            var s = "\(f.change.letter) \(a.paths.path(f.path))"
            if !f.aspects.isEmpty { s += " [" + f.aspects.map(\.rawValue).joined(separator: ",") + "]" }
            return s
        }
    }

    /// The change set as `ImageDiff` reports it between the first `n` and `n + 1` layers.
    static func diffLines(_ layers: [String], _ n: Int) throws -> [String] {
        let sources = input(layers).layers.map(\.source)
        return try ImageDiff.diff(.layers(Array(sources.prefix(n))), .layers(Array(sources.prefix(n + 1)))).map(\.description)
    }

    @Test func knownChangesExactly() throws {
        let tmp = try TempDir(prefix: "ocitool-analyze")
        let layers = try AnalysisImages.knownChanges(in: tmp.path)
        let a = try LayerStackAnalyzer.analyze(Self.input(layers))

        #expect(a.layers.map(\.size) == [1195, 21, 12])
        #expect(a.totals.size == 1228 && a.totals.finalSize == 21 && a.totals.wastedBytes == 1207)
        #expect(a.layers.map(\.wastedBytes) == [1195, 12, 0])

        // Layer 1: a content change, a mode-only change, whiteouts of a file and of a tree, an opaque directory,
        // a whiteout of a hard-linked name, and a directory declared again unchanged.
        #expect(Self.lines(a, 1, includeUnchanged: true) == [
            "D /cache", "D /data/big.bin", "C /etc/conf [content]", "C /etc/mode.sh [mode]",
            "= /opq", "A /opq/new", "D /opq/old1", "D /opq/old2", "D /tmp.log",
        ])
        let s1 = a.layers[1].summary
        #expect(s1.added.count == 1 && s1.added.bytes == 4)
        #expect(s1.changed.count == 2 && s1.changed.bytes == 17 && s1.changedAspects == [.content: 1, .mode: 1])
        #expect(s1.unchanged.count == 1 && s1.unchanged.bytes == 0)
        #expect(s1.deleted.count == 5 && s1.deleted.bytes == 1180 && s1.hiddenPaths == 8)
        #expect(s1.whiteouts == 3 && s1.opaqueDirectories == 1)
        let markers = a.layers[1].deletions.map { "\($0.kind.rawValue) \($0.member) \($0.target.map { a.paths.path($0) } ?? "-") \($0.hiddenPaths) \($0.hiddenBytes)" }
        #expect(markers == [
            "whiteout .wh.tmp.log /tmp.log 1 20", "whiteout .wh.cache /cache 4 150",
            "opaque opq/.wh..wh..opq /opq 2 10", "whiteout data/.wh.big.bin /data/big.bin 1 1000",
        ])

        // Layer 2: the last name of the hard-link group goes (its data dies here), a rewrite without a change.
        #expect(Self.lines(a, 2, includeUnchanged: true) == ["D /data/link.bin", "= /etc/conf"])
        #expect(a.layers[2].summary.unchanged.bytes == 12 && a.layers[2].summary.deleted.bytes == 0)

        // Wasted: who wrote it, who hid its last name.
        let wasted = a.wasted.map { "\(a.paths.path($0.path)) \($0.size) \($0.layer) \($0.hiddenBy)" }
        #expect(wasted == [
            "/data/big.bin 1000 0 2", "/cache/a 100 0 1", "/cache/sub/b 50 0 1", "/tmp.log 20 0 1",
            "/etc/conf 12 1 2", "/etc/conf 10 0 1", "/opq/old1 7 0 1", "/etc/mode.sh 5 0 1", "/opq/old2 3 0 1",
        ])
        // Every version the first layer wrote is hidden by the one named.
        let etcConf0 = try #require(a.layers[0].files.first { a.paths.path($0.path) == "/etc/conf" }?.version)
        #expect(a.versions[etcConf0].hiddenBy == 1)
        let link = try #require(a.layers[0].files.first { a.paths.path($0.path) == "/data/link.bin" }?.version)
        #expect(a.versions[link].kind == .hardlink && a.versions[link].hiddenBy == 2 && a.versions[link].size == 1000)

        // Final tree: what survives, from which layer.
        let final = a.finalTree.map { "\(a.paths.path(a.versions[$0].path)) \(a.versions[$0].layer)" }
        #expect(final == ["/data 0", "/etc 0", "/etc/conf 2", "/etc/mode.sh 1", "/opq 1", "/opq/new 1"])

        // dive's figures, by hand: Σ min 329 / Σ cumulative 1378; waste = /etc/conf 34 + /etc/mode.sh 10
        // + /data/big.bin 1000 + /data/link.bin 0 + /tmp.log 20.
        #expect(a.dive.efficiency == 329.0 / 1378.0)
        #expect(a.dive.wastedBytes == 1064 && a.dive.sizeBytes == 1228 && a.dive.userSizeBytes == 33)
        #expect(a.dive.userWastedRatio == 1064.0 / 33.0)
        let oracle = try DiveOracle.figures(layers: layers)
        #expect(oracle.missingWhiteoutTargets == 0)
        #expect(oracle.efficiency == a.dive.efficiency && oracle.wastedBytes == a.dive.wastedBytes)
        #expect(oracle.sizeBytes == a.dive.sizeBytes && oracle.userSizeBytes == a.dive.userSizeBytes)

        for n in 0..<layers.count {
            let ours = Self.lines(a, n).map { $0.split(separator: " ").prefix(2).joined(separator: " ") }
            let theirs = try Self.diffLines(layers, n)
            #expect(ours == theirs, "layer \(n): \(ours) vs diff \(theirs)")
        }
    }

    /// Committed fixtures (all layers plain or gzip, which the oracle's tarfile reads).
    @Test("dive's figures and diff's change sets on the test images", arguments: [
        "umoci-whiteout-oci.tar", "umoci-whiteout-docker.tar", "handmade-opaque-docker.tar", "podman-docker.tar", "podman-oci.tar",
    ])
    func testImages(_ name: String) throws {
        let tmp = try TempDir(prefix: "ocitool-analyze")
        let image = try OpenedImage(Fixtures.testImagesDir + "/" + name, store: ImageStore(root: tmp.file("store")))
        defer { image.close() }
        let a = try LayerStackAnalyzer.analyze(AnalysisInput(record: image.record, layers: image.layers, name: name))
        let paths = image.layers.map(\.path)
        let oracle = try DiveOracle.figures(layers: paths)
        #expect(oracle.missingWhiteoutTargets == 0)
        #expect(abs(oracle.efficiency - a.dive.efficiency) < 1e-12, "\(oracle.efficiency) vs \(a.dive.efficiency)")
        #expect(oracle.wastedBytes == a.dive.wastedBytes && oracle.sizeBytes == a.dive.sizeBytes)
        #expect(oracle.userSizeBytes == a.dive.userSizeBytes)
        for n in 0..<paths.count {
            let diff = try ImageDiff.diff(.layers(Array(image.layers.prefix(n))), .layers(Array(image.layers.prefix(n + 1))))
            let ours = Self.lines(a, n).map { $0.split(separator: " ").prefix(2).joined(separator: " ") }
            #expect(ours == diff.map(\.description), "layer \(n): \(ours) vs diff \(diff)")
        }
        #expect(a.totals.size - a.totals.finalSize == a.totals.wastedBytes)
        #expect(a.layers.map(\.wastedBytes).reduce(0, +) == a.totals.wastedBytes)
        #expect(a.wasted.map(\.size).reduce(0, +) == a.totals.wastedBytes)
    }

    @Test func umociWhiteoutByHand() throws {
        let tmp = try TempDir(prefix: "ocitool-analyze")
        let image = try OpenedImage(Fixtures.testImagesDir + "/umoci-whiteout-oci.tar", store: ImageStore(root: tmp.file("store")))
        defer { image.close() }
        let a = try LayerStackAnalyzer.analyze(AnalysisInput(record: image.record, layers: image.layers, name: "u"))
        // Layer 0 writes 61 bytes; layers 1 and 2 delete etc/del.txt (4), gone/ (2), victim/a.txt (2),
        // victim/sub/ (2), keep/k-hard.txt with its hard link k.txt (2) and keep/x.txt (2).
        #expect(a.layers.map(\.size) == [61, 4, 3])
        #expect(a.totals.wastedBytes == 14 && a.layers.map(\.wastedBytes) == [14, 0, 0])
        #expect(a.layers.map { $0.summary.deleted.count } == [0, 4, 4])
        #expect(a.layers[1].deletions.map(\.hiddenPaths) == [1, 3, 1, 2])
        // History: 4 entries, one empty_layer; the three layers get the three others in order.
        #expect(a.layers.map { $0.history?.comment ?? "" } == ["layer 1: files", "layer 2: deletions", "layer 3: dir deleted and recreated"])
        #expect(a.layers.map(\.storedSize) == image.record.manifest.layers.map(\.size))
        // dive: Σ min 62 / Σ cumulative 72 (the four whited-out files count 0 in their second listing).
        #expect(a.dive.efficiency == 62.0 / 72.0 && a.dive.wastedBytes == 10)
    }

    @Test func limitsApply() throws {
        let tmp = try TempDir(prefix: "ocitool-analyze")
        let layers = try AnalysisImages.knownChanges(in: tmp.path)
        #expect(throws: LayerError.self) { try LayerStackAnalyzer.analyze(Self.input(layers), limits: UnionLimits(maxBytes: 1000, maxEntries: 100)) }
        #expect(throws: LayerError.self) { try LayerStackAnalyzer.analyze(Self.input(layers), limits: UnionLimits(maxBytes: 1 << 20, maxEntries: 10)) }
        let ok = try LayerStackAnalyzer.analyze(Self.input(layers), limits: UnionLimits(maxBytes: 1228, maxEntries: 24))
        #expect(ok.totals.entries == 24)
    }

    @Test func treeAsOfALayer() throws {
        let tmp = try TempDir(prefix: "ocitool-analyze")
        let layers = try AnalysisImages.knownChanges(in: tmp.path)
        let a = try LayerStackAnalyzer.analyze(Self.input(layers).prefix(through: 1))
        let text = AnalysisText.tree(a)
        let rows = text.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(rows.contains("D 0 150B ├── cache/"))
        #expect(rows.contains("C 1 12B │ ├── conf"))
        #expect(rows.contains("= 1 - ├── opq/"))
        #expect(rows.contains("A 1 4B │ ├── new"))
        #expect(rows.contains("0 1kB │ └── link.bin => /data/big.bin"))
    }
}

/// Hostile shapes from `../shared/crashers`: a 20,000-level path and a path
/// needing many implicit parents analyse quickly, without recursion.
@Suite("Analyze: hostile layers")
struct AnalyzeHostileTests {
    @Test(arguments: ["hostile-U48.tar", "U49.tar"])
    func deepPaths(_ name: String) throws {
        let path = Fixtures.corpusDir + "/../crashers/" + name
        try #require(FS.exists(path), "missing \(path)")
        let tmp = try TempDir(prefix: "ocitool-analyze")
        let image = try OpenedImage(path, store: ImageStore(root: tmp.file("store")))
        defer { image.close() }
        let start = Date()
        let a = try LayerStackAnalyzer.analyze(AnalysisInput(record: image.record, layers: image.layers, name: name))
        #expect(Date().timeIntervalSince(start) < 60)
        #expect(a.totals.finalPaths > 8)
        // ImageDiff itself recurses per level (a crasher of its own on the 20,000-level path): compare where it copes.
        guard name == "U49.tar" else { return }
        for n in 0..<image.layers.count {
            let diff = try ImageDiff.diff(.layers(Array(image.layers.prefix(n))), .layers(Array(image.layers.prefix(n + 1))))
            let ours = a.layers[n].files.filter { $0.change != .unchanged }.map { "\($0.change.letter) \(a.paths.path($0.path))" }
            #expect(ours == diff.map(\.description), "layer \(n)")
        }
    }
}
