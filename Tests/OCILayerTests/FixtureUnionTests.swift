import Foundation
import OCICore
import OCIStore
import OCIArchive
import OCILayer
import OCITransport
import OCIImage
import OCITestSupport
import Testing

/// Every image of `TestImages/` and every loadable fixture of the shared
/// corpus: `ocitool unpack` gives the same tree as `umoci unpack` (paths,
/// types, modes, owners, sizes, content, symlink targets, hard-link groups,
/// xattrs, file times), and the export, extracted by GNU tar, gives the
/// same tree again.
@Suite("Fixture union views", .serialized)
struct FixtureUnionTests {
    /// `TestImages/NAME` and `corpus/PATH` (files and layout directories),
    /// NEGATIVE fixtures left out.
    static let fixtures: [String] = {
        var out = Fixtures.testImageArchives.map { "TestImages/" + $0 }
        let index = Fixtures.corpusIndex
        var corpus = Set(Fixtures.corpusTarFiles)
        for e in index.entries where FS.isDirectory(Fixtures.corpusDir + "/" + e.path) { corpus.insert(e.path) }
        out += corpus.filter { !(index.entry(for: $0)?.isNegative ?? false) }.sorted().map { "corpus/" + $0 }
        return out
    }()

    static func fullPath(_ fixture: String) -> String {
        fixture.hasPrefix("TestImages/") ? Fixtures.testImagesDir + "/" + fixture.dropFirst(11)
            : Fixtures.corpusDir + "/" + fixture.dropFirst(7)
    }

    /// The images of a fixture, or nil when ocitool cannot read it (only
    /// allowed for corpus fixtures; the loader's own tests judge those).
    static func open(_ fixture: String, store: ImageStore) -> (records: [Image], spool: ImageReader?)? {
        do {
            let (images, reader) = try ImageOps.open(fullPath(fixture), store: store)
            return (images, reader)
        } catch {
            if fixture.hasPrefix("TestImages/") { Issue.record("\(fixture): \(error)") }
            return nil
        }
    }

    @Test("unpack matches umoci, export matches unpack", arguments: fixtures)
    func matchesUmoci(_ fixture: String) throws {
        let tmp = try TempDir(prefix: "ocitool-fixture")
        let store = ImageStore(root: tmp.file("store"))
        guard let (records, spool) = Self.open(fixture, store: store) else { return }
        defer { spool?.close() }
        for (i, record) in records.enumerated() {
            let label = "\(fixture)@\(i)"
            let work = try TempDir(prefix: "ocitool-fixture-img")
            let layers: [LayerSource]
            do {
                layers = try LayerSource.layers(of: record)
            } catch let e as LayerError {
                // Artifacts (cosign signatures, squashfs blobs) are not tar layers.
                guard case .unsupportedLayer = e, fixture.hasPrefix("corpus/") else { throw e }
                continue
            }
            let ours = work.file("ours")
            try Unpacker.unpack(layers, into: ours)
            let oursListing = try TreeListing(directory: ours, options: LayerTests.full)
            let oursExact = try TreeListing(directory: ours, options: LayerTests.exact)

            let umoci = try LayerTests.umociRootfs(for: record, in: work)
            let umociListing = try TreeListing(directory: umoci, options: LayerTests.full)
            #expect(oursListing == umociListing, "\(label) vs umoci:\n\(oursListing.differences(from: umociListing).joined(separator: "\n"))")

            let tar = work.file("export.tar")
            try LayerTests.export(layers, to: tar)
            let extracted = work.file("extracted")
            try LayerTests.gnuExtract(tar, into: extracted)
            let exportListing = try TreeListing(directory: extracted, options: LayerTests.exact)
            #expect(oursExact == exportListing, "\(label) vs export:\n\(oursExact.differences(from: exportListing).joined(separator: "\n"))")
            #expect(try LayerTests.tarNames(tar).sorted() == oursListing.paths.sorted(), "\(label): tar -t")
        }
    }

    /// The archive → expected listing pairs of `TestImages/README.md`.
    static let expectedListings: [(String, String)] = [
        ("podman-docker.tar", "podman"), ("podman-oci.tar", "podman"), ("podman-docker.tar.gz", "podman"),
        ("podman-oci.tar.zst", "podman"), ("skopeo-docker.tar", "podman"), ("skopeo-oci-gzip.tar", "podman"),
        ("skopeo-oci-zstd.tar", "podman"), ("podman-multi-docker.tar@0", "podman"), ("podman-multi-docker.tar@1", "podman-other"),
        ("umoci-whiteout-oci.tar", "umoci-whiteout"), ("umoci-whiteout-docker.tar", "umoci-whiteout"),
        ("handmade-opaque-oci.tar", "handmade-opaque"), ("handmade-opaque-docker.tar", "handmade-opaque"),
    ]

    /// Byte-identical to the committed umoci listings, in their own format
    /// (written by `describe-archives.py rootfs`).
    @Test("unpack equals TestImages/expected", arguments: expectedListings.map { "\($0.0) \($0.1)" })
    func expectedListing(_ pair: String) throws {
        let parts = pair.split(separator: " ").map(String.init)
        let tmp = try TempDir(prefix: "ocitool-expected")
        let image = try OpenedImage(Fixtures.testImagesDir + "/" + parts[0], store: ImageStore(root: tmp.file("store")))
        defer { image.close() }
        let dir = tmp.file("rootfs")
        try Unpacker.unpack(image.layers, into: dir)
        let r = try Shell.run(["python3", Fixtures.testImagesDir + "/describe-archives.py", "rootfs", dir])
        #expect(r.status == 0, "\(r.stderr)")
        let expected = try FS.readFile(Fixtures.testImagesDir + "/expected/\(parts[1]).rootfs.txt")
        #expect(r.stdoutText == String(decoding: expected, as: UTF8.self), "\(parts[0])")
    }

    @Test func corpusCoverage() throws {
        let tmp = try TempDir(prefix: "ocitool-coverage")
        let store = ImageStore(root: tmp.file("store"))
        var images = 0, withWhiteouts = 0
        for f in Self.fixtures where f.hasPrefix("corpus/") {
            guard let (records, spool) = Self.open(f, store: store) else { continue }
            images += records.count
            if Fixtures.corpusIndex.entry(for: String(f.dropFirst(7)))?.notes.contains("whiteouts") == true { withWhiteouts += 1 }
            spool?.close()
        }
        #expect(images >= 50, "only \(images) corpus images could be opened")
        #expect(withWhiteouts >= 8, "only \(withWhiteouts) corpus fixtures with whiteouts")
    }
}
