import Foundation
import Testing
import OCICore
import OCITestSupport

// The transport matrix (issue #10): `ocitool copy SRC DST` for every source
// kind × every destination kind on one docker-save and one OCI archive,
// the thin verbs that are copies (`load`, `save`, `save --from`, `convert`),
// and every TestImages archive through one source → destination pair.
// The oracle is skopeo reading the input and each destination: the image ID
// (config digest), the manifest digest and media types, and the diff_ids.

/// A matrix input: a TestImages archive and the name it carries.
struct MatrixInput: Sendable, CustomStringConvertible, Hashable {
    var file: String
    /// Its RepoTag (docker) or full `org.opencontainers.image.ref.name` (podman's OCI archive).
    var name: String
    var isDocker: Bool
    var path: String { Fixtures.testImagesDir + "/" + file }
    var description: String { file }

    static let docker = MatrixInput(file: "podman-docker.tar", name: "localhost/ocitool-test/podman-docker:v1", isDocker: true)
    static let oci = MatrixInput(file: "podman-oci.tar", name: "localhost/ocitool-test/podman-oci:v1", isDocker: false)
}

/// How the matrix names its source.
enum MatrixSource: String, Sendable, CaseIterable {
    case bare, dockerArchive, dockerArchiveTag, dockerArchiveIndex, ociArchive, ociArchiveRef, layout, layoutRef
    case storePrefixed, storeBare, stdin

    /// The kinds that make sense for an input (`docker-archive:` for docker saves, `oci-archive:` for OCI archives).
    static func kinds(for input: MatrixInput) -> [MatrixSource] {
        allCases.filter { k in
            switch k {
            case .dockerArchive, .dockerArchiveTag, .dockerArchiveIndex: return input.isDocker
            case .ociArchive, .ociArchiveRef: return !input.isDocker
            default: return true
            }
        }
    }
}

/// How the matrix names its destination.
enum MatrixDestination: String, Sendable, CaseIterable {
    case bareDocker, bareOCI, dockerArchive, ociArchive, layout, storePrefixed, storeBare, stdout
}

/// A TestImages archive and its position (which picks its source → destination pair).
struct RotatedTestImage: Sendable, CustomStringConvertible {
    var index: Int
    var info: TestImageInfo
    var description: String { info.file }
    static var all: [RotatedTestImage] {
        TestImageInfo.all.enumerated().map { RotatedTestImage(index: $0.offset, info: $0.element) }
    }
}

struct MatrixCase: Sendable, CustomStringConvertible {
    var input: MatrixInput
    var source: MatrixSource
    var destination: MatrixDestination
    var description: String { "\(input.file): \(source.rawValue) → \(destination.rawValue)" }

    static let all: [MatrixCase] = [MatrixInput.docker, .oci].flatMap { input in
        MatrixSource.kinds(for: input).flatMap { s in MatrixDestination.allCases.map { MatrixCase(input: input, source: s, destination: $0) } }
    }
}

/// What the matrix inputs hold according to skopeo, and an OCI layout
/// directory of each (made once, read-only afterwards).
final class MatrixFixture: Sendable {
    let tmp: TempDir
    /// skopeo's view of each input (`docker-archive:` / `oci-archive:`).
    let expected: [MatrixInput: PeerView]
    /// The manifest digest every destination must hold: an OCI input keeps
    /// its own; a docker save gets one synthesized OCI manifest, the same everywhere.
    let manifestDigest: [MatrixInput: Digest]
    /// `DIR` holding the input as `oci:DIR:v1`.
    let layout: [MatrixInput: String]

    static let shared: Result<MatrixFixture, any Error> = Result { try MatrixFixture() }

    private init() throws {
        try Required.tools("skopeo")
        tmp = try TempDir(prefix: "ocitool-matrix-fixture")
        let cli = OCIToolCLI(root: tmp.file("unused-store"), tmpdir: tmp.file("tmp"))
        var expected: [MatrixInput: PeerView] = [:], digests: [MatrixInput: Digest] = [:], layouts: [MatrixInput: String] = [:]
        for input in [MatrixInput.docker, .oci] {
            _ = try Required.testImage(input.file)
            let view = try PeerView.skopeo((input.isDocker ? "docker-archive:" : "oci-archive:") + input.path)
            expected[input] = view
            let dir = tmp.file("layout-" + input.file)
            layouts[input] = dir
            if input.isDocker {
                // skopeo would synthesize its own (Docker v2s2) manifest; the matrix follows ocitool's.
                try cli.rawOK(["copy", "--root", cli.root, input.path, "oci:\(dir):v1"])
                let digest = try Digest(parsing: cli.rawOK(["digest", "--root", cli.root, input.path]).stdoutText
                    .trimmingCharacters(in: .whitespacesAndNewlines))
                digests[input] = digest
            } else {
                try PeerRunner.skopeoCopy("oci-archive:" + input.path, "oci:\(dir):v1")
                digests[input] = view.manifestDigest
            }
            let made = try PeerView.skopeo("oci:\(dir):v1")
            guard made.manifestDigest == digests[input], made.configDigest == view.configDigest else {
                throw PeerRunner.Failure(description: "the layout made from \(input.file) holds \(made), expected \(view)")
            }
        }
        self.expected = expected
        manifestDigest = digests
        layout = layouts
    }
}

/// Checks of an image written somewhere against skopeo's view of it.
enum CopyOracle {
    /// skopeo reads `configAt` (its config) and `manifestAt` (its raw manifest).
    static func view(configAt: String, manifestAt: String) throws -> PeerView {
        var view = try PeerView.skopeo(manifestAt)
        if configAt != manifestAt {
            let config = try PeerRunner.skopeo(["inspect", "--config", "--raw", configAt]).stdout
            let c = try JSONSerialization.jsonObject(with: Data(config)) as? [String: Any] ?? [:]
            view.config = config
            view.configDigest = SHA256Hasher.digest(config)
            view.diffIDs = (c["rootfs"] as? [String: Any])?["diff_ids"] as? [String] ?? []
        }
        return view
    }

    /// The written image is the input's: same config (image ID) and diff_ids;
    /// the manifest `manifestDigest`, OCI-typed, with the input's layer blobs.
    static func expectSame(_ got: PeerView, as expected: PeerView, manifestDigest: Digest, _ what: String) {
        #expect(got.configDigest == expected.configDigest, "\(what): image ID \(got.configDigest), skopeo read \(expected.configDigest) from the input")
        #expect(got.diffIDs == expected.diffIDs, "\(what): diff_ids")
        #expect(got.manifestDigest == manifestDigest, "\(what): manifest \(got.manifestDigest), expected \(manifestDigest)")
        // OCI manifests may leave out mediaType (umoci's do); then it is the input's, byte for byte.
        #expect(got.manifestMediaType == "application/vnd.oci.image.manifest.v1+json"
                || (got.manifestMediaType.isEmpty && expected.manifestMediaType.isEmpty), "\(what): \(got.manifestMediaType)")
        #expect(got.layerDigests == expected.layerDigests, "\(what): layer blobs \(got.layerDigests) vs \(expected.layerDigests)")
    }

    /// Nothing of the copy is left: no spool in TMPDIR, no temp file beside `out`, no ingest files.
    static func expectClean(_ cli: OCIToolCLI, outputDirectory: String, layout: String?, _ what: String) {
        #expect(cli.leftovers().isEmpty, "\(what): left in TMPDIR: \(cli.leftovers())")
        let temps = ((try? FS.listDirectory(outputDirectory)) ?? []).filter { $0.contains(".ocitool-tmp-") }
        #expect(temps.isEmpty, "\(what): temporary outputs left: \(temps)")
        if let layout {
            let ingest = ((try? FS.listDirectory(layout)) ?? []).filter { $0.hasPrefix(".ocitool-ingest") }
            #expect(ingest.isEmpty, "\(what): layout staging left: \(ingest)")
        }
        let staged = filesBelow(cli.root + "/ingest")
        #expect(staged.isEmpty, "\(what): store ingest left: \(staged)")
    }
}

@Suite("copy: every source kind × every destination kind (skopeo as the oracle)")
struct TransportMatrixTests {
    @Test(arguments: MatrixCase.all)
    func copy(_ c: MatrixCase) throws {
        let fx = try MatrixFixture.shared.get()
        let expected = try #require(fx.expected[c.input]), layoutIn = try #require(fx.layout[c.input])
        let manifestDigest = try #require(fx.manifestDigest[c.input])
        let tmp = try TempDir(prefix: "ocitool-matrix")
        let cli = OCIToolCLI(root: tmp.file("store"), tmpdir: tmp.file("tmp"))
        let input = c.input.path

        var stdin: String?
        let source: String
        switch c.source {
        case .bare: source = input
        case .dockerArchive: source = "docker-archive:\(input)"
        case .dockerArchiveTag: source = "docker-archive:\(input):\(c.input.name)"
        case .dockerArchiveIndex: source = "docker-archive:\(input):@0"
        case .ociArchive: source = "oci-archive:\(input)"
        case .ociArchiveRef: source = "oci-archive:\(input):\(c.input.name)"
        case .layout: source = "oci:\(layoutIn)"
        case .layoutRef: source = "oci:\(layoutIn):v1"
        case .storePrefixed, .storeBare:
            try cli.ok("load", [input])
            source = c.source == .storePrefixed ? "store:\(c.input.name)" : c.input.name
        case .stdin:
            source = "-"
            stdin = input
        }

        let out = tmp.file("out.tar"), dir = tmp.file("layout-out")
        var stdoutFile: String?
        var flags: [String] = []
        let destination: String, configAt: String, manifestAt: String
        switch c.destination {
        case .bareDocker:
            (destination, flags, configAt, manifestAt) = (out, ["--format", "docker"], "docker-archive:\(out)", "oci-archive:\(out)")
        case .bareOCI:
            (destination, flags, configAt, manifestAt) = (out, ["--format", "oci"], "oci-archive:\(out)", "oci-archive:\(out)")
        case .dockerArchive:
            // skopeo finds the image by the name given (manifest.json RepoTags) and by its tag (index.json ref.name).
            (destination, configAt, manifestAt) = ("docker-archive:\(out):ex.com/matrix/dst:v2", "docker-archive:\(out):ex.com/matrix/dst:v2",
                                                   "oci-archive:\(out):v2")
        case .ociArchive:
            (destination, configAt, manifestAt) = ("oci-archive:\(out):ref2", "oci-archive:\(out):ref2", "oci-archive:\(out):ref2")
        case .layout:
            (destination, configAt, manifestAt) = ("oci:\(dir):ref3", "oci:\(dir):ref3", "oci:\(dir):ref3")
        case .storePrefixed:
            (destination, configAt, manifestAt) = ("store:ex.com/matrix/dst:v4", "oci:\(cli.root):ex.com/matrix/dst:v4",
                                                   "oci:\(cli.root):ex.com/matrix/dst:v4")
        case .storeBare:
            // A bare name is normalised like docker's: matrix/bare → docker.io/matrix/bare.
            (destination, configAt, manifestAt) = ("matrix/bare:v5", "oci:\(cli.root):docker.io/matrix/bare:v5",
                                                   "oci:\(cli.root):docker.io/matrix/bare:v5")
        case .stdout:
            (destination, configAt, manifestAt) = ("-", "docker-archive:\(out)", "oci-archive:\(out)")
            stdoutFile = out
        }
        let r = try cli.run("copy", flags + [source, destination], stdinFile: stdin, stdoutFile: stdoutFile)
        try #require(r.status == 0, "ocitool copy \(source) \(destination): \(r.stderr)")
        let got = try CopyOracle.view(configAt: configAt, manifestAt: manifestAt)
        CopyOracle.expectSame(got, as: expected, manifestDigest: manifestDigest, c.description)
        CopyOracle.expectClean(cli, outputDirectory: tmp.path, layout: c.destination == .layout ? dir : nil, c.description)
        if c.source == .storePrefixed || c.source == .storeBare {
            // The source image is still there, as it was.
            let still = try PeerView.skopeo("oci:\(cli.root):\(c.input.name)")
            #expect(still.manifestDigest == manifestDigest, "\(c): the source image changed")
        }
    }

    /// `load`, `save`, `save --from`, `convert` and `copy` are one engine:
    /// the same images give byte-identical archives whichever verb wrote them,
    /// a load from stdin gives the store a load from the file gives, and skopeo
    /// reads the input's image from each.
    @Test(arguments: [MatrixInput.docker, .oci])
    func thinVerbsAreCopies(_ input: MatrixInput) throws {
        let fx = try MatrixFixture.shared.get()
        let expected = try #require(fx.expected[input]), manifestDigest = try #require(fx.manifestDigest[input])
        let tmp = try TempDir(prefix: "ocitool-verbs")
        let cli = OCIToolCLI(root: tmp.file("store"), tmpdir: tmp.file("tmp"))
        let fromStdin = OCIToolCLI(root: tmp.file("store-stdin"), tmpdir: tmp.file("tmp"))

        let loaded = try cli.ok("load", [input.path])
        #expect(loaded.stdoutText == "Loaded image: \(input.name)\n")
        try fromStdin.ok("load", [], stdinFile: input.path)
        #expect(try TreeSnapshot(cli.root) == TreeSnapshot(fromStdin.root), "load from a file and from stdin give different stores")
        CopyOracle.expectSame(try PeerView.skopeo("oci:\(cli.root):\(input.name)"), as: expected, manifestDigest: manifestDigest, "load")

        for format in ["docker", "oci"] {
            let outs = ["save", "save-from", "save-from-stdin", "convert", "convert-stdin", "copy", "copy-store"].map { tmp.file("\($0)-\(format).tar") }
            try cli.ok("save", ["--format", format, "-o", outs[0], input.name])
            try cli.ok("save", ["--from", input.path, "--format", format, "-o", outs[1]])
            try cli.ok("save", ["--from", "-", "--format", format, "-o", outs[2]], stdinFile: input.path)
            try cli.rawOK(["convert", input.path, "--format", format, "-o", outs[3]])
            try cli.rawOK(["convert", "--format", format], stdinFile: input.path, stdoutFile: outs[4])
            try cli.ok("copy", ["--format", format, input.path, outs[5]])
            try cli.ok("copy", ["--format", format, "store:" + input.name, outs[6]])
            let first = try FS.readFile(outs[0], limit: 1 << 26)
            for o in outs.dropFirst() {
                #expect(try FS.readFile(o, limit: 1 << 26) == first, "\(PathString(o).lastComponent) differs from \(PathString(outs[0]).lastComponent)")
            }
            let view = format == "docker"
                ? try CopyOracle.view(configAt: "docker-archive:\(outs[0]):\(input.name)", manifestAt: "oci-archive:\(outs[0])")
                : try PeerView.skopeo("oci-archive:\(outs[0])")
            CopyOracle.expectSame(view, as: expected, manifestDigest: manifestDigest, "save --format \(format)")
        }
        CopyOracle.expectClean(cli, outputDirectory: tmp.path, layout: nil, "thin verbs")
    }

    /// Docker media types (a Docker v2s2 manifest in an OCI layout) are kept
    /// by docker-flavour destinations and the store, and converted by OCI
    /// ones (`--format oci`, `oci-archive:`, `oci:`) the way skopeo converts
    /// them (same layer descriptors, OCI types) while the config bytes stay.
    @Test func dockerMediaTypesConvertOnlyForOCIDestinations() throws {
        try Required.tools("skopeo")
        let layout = try Required.corpus("singularity/hello-world-docker-v2-manifest")
        let tmp = try TempDir(prefix: "ocitool-dockertypes")
        let cli = OCIToolCLI(root: tmp.file("store"), tmpdir: tmp.file("tmp"))
        // The input is linux/arm64 only: skopeo needs --override-arch to read it on any other machine.
        let arm = ["--override-arch", "arm64"]
        let input = try PeerView.skopeo("oci:\(layout)", globalFlags: arm)
        #expect(input.manifestMediaType == "application/vnd.docker.distribution.manifest.v2+json")
        try PeerRunner.skopeo(arm + ["copy", "-q", "--format", "oci", "oci:\(layout)", "oci:\(tmp.file("skopeo-oci")):x"])
        let skopeoConverted = try PeerView.skopeo("oci:\(tmp.file("skopeo-oci")):x", globalFlags: arm)

        // Kept: docker archives (bare --format docker, docker-archive:) and stdout.
        for (dst, flags, at) in [(tmp.file("d.tar"), ["--format", "docker"], "oci-archive:\(tmp.file("d.tar"))"),
                                 ("docker-archive:\(tmp.file("da.tar")):ex.com/t/d:v1", [], "oci-archive:\(tmp.file("da.tar"))")] {
            try cli.ok("copy", flags + ["oci:\(layout)", dst])
            let got = try PeerView.skopeo(at, globalFlags: arm)
            #expect(got.manifestDigest == input.manifestDigest, "\(dst): the Docker manifest was rewritten")
            #expect(got.configDigest == input.configDigest)
        }
        // Converted: every OCI destination, to one and the same manifest.
        var converted: [Digest] = []
        for (dst, flags, at) in [(tmp.file("o.tar"), ["--format", "oci"], "oci-archive:\(tmp.file("o.tar"))"),
                                 ("oci-archive:\(tmp.file("oa.tar")):x", [], "oci-archive:\(tmp.file("oa.tar")):x"),
                                 ("oci:\(tmp.file("lay")):x", [], "oci:\(tmp.file("lay")):x")] {
            try cli.ok("copy", flags + ["oci:\(layout)", dst])
            let got = try PeerView.skopeo(at, globalFlags: arm)
            #expect(got.manifestMediaType == "application/vnd.oci.image.manifest.v1+json", "\(dst)")
            #expect(got.configDigest == input.configDigest, "\(dst): the config bytes changed")
            #expect(got.diffIDs == input.diffIDs)
            #expect(got.layerDigests == skopeoConverted.layerDigests && got.layerMediaTypes == skopeoConverted.layerMediaTypes,
                    "\(dst): layers \(got.layerMediaTypes), skopeo converts to \(skopeoConverted.layerMediaTypes)")
            let configType = try #require(try JSONSerialization.jsonObject(with: Data(got.manifest)) as? [String: Any])["config"] as? [String: Any]
            #expect(configType?["mediaType"] as? String == "application/vnd.oci.image.config.v1+json")
            converted.append(got.manifestDigest)
        }
        #expect(Set(converted).count == 1, "OCI destinations hold different conversions: \(converted)")
        CopyOracle.expectClean(cli, outputDirectory: tmp.path, layout: tmp.file("lay"), "docker types")
    }

    /// The parameterised tests below need the list: an empty one would test nothing.
    @Test func testImagesAreListed() {
        #expect(TestImageInfo.all.count >= 12, "TestImages/INDEX.tsv lists \(TestImageInfo.all.count) archives")
        #expect(TestImageInfo.all.allSatisfy { FS.exists($0.path) })
    }

    /// Every TestImages archive through one source → destination pair (the
    /// pairs rotate so each kind is used): skopeo reads the input's image
    /// from the destination; a docker-flavour destination refuses zstd layers
    /// and writes nothing.
    @Test(arguments: RotatedTestImage.all)
    func testImage(_ entry: RotatedTestImage) throws {
        try Required.tools("skopeo", "gzip")
        let (i, info) = (entry.index, entry.info)
        let tmp = try TempDir(prefix: "ocitool-ti")
        let cli = OCIToolCLI(root: tmp.file("store"), tmpdir: tmp.file("tmp"))
        let isDocker = info.format == "docker"
        // The input as skopeo reads it (1.9.3 cannot read a gzip-compressed docker archive: give it the tar).
        var peerPath = info.path
        if info.outerCompression == "gzip" {
            peerPath = tmp.file("input.tar")
            let r = try Shell.run(["sh", "-c", "gzip -dc < \"$1\" > \"$2\"", "sh", info.path, peerPath])
            try #require(r.status == 0, "gunzip: \(r.stderr)")
        }
        let multi = info.tags.count > 1 && isDocker && info.file.contains("multi")
        let pick = multi ? ":@1" : ""
        let expected = try PeerView.skopeo((isDocker ? "docker-archive:" : "oci-archive:") + peerPath + pick)
        let manifestDigest: Digest
        if isDocker {
            manifestDigest = try Digest(parsing: cli.ok("digest", ["docker-archive:\(info.path)\(pick)"]).stdoutText
                .trimmingCharacters(in: .whitespacesAndNewlines))
        } else {
            manifestDigest = expected.manifestDigest
        }

        var stdin: String?
        let source: String
        switch multi ? 1 : i % 3 {
        case 0: source = info.path
        case 1: source = (isDocker ? "docker-archive:" : "oci-archive:") + info.path + pick
        default: source = "-"; stdin = info.path
        }
        let out = tmp.file("out.tar"), dir = tmp.file("lay")
        var stdoutFile: String?
        var flags: [String] = []
        let destination: String, configAt: String, namedManifestAt: String
        var dockerFlavour = false
        switch i % 6 {
        case 0: (destination, configAt, namedManifestAt) = ("oci-archive:\(out):r", "oci-archive:\(out):r", "oci-archive:\(out):r")
        case 1:
            (destination, configAt, namedManifestAt) = ("docker-archive:\(out):ex.com/ti/x:v1", "docker-archive:\(out):ex.com/ti/x:v1", "oci-archive:\(out):v1")
            dockerFlavour = true
        case 2: (destination, configAt, namedManifestAt) = ("oci:\(dir):r", "oci:\(dir):r", "oci:\(dir):r")
        case 3: (destination, configAt, namedManifestAt) = ("store:ex.com/ti/x:v1", "oci:\(cli.root):ex.com/ti/x:v1", "oci:\(cli.root):ex.com/ti/x:v1")
        case 4: (destination, flags, configAt, namedManifestAt) = (out, ["--format", "oci"], "oci-archive:\(out)", "oci-archive:\(out)")
        default:
            (destination, configAt, namedManifestAt) = ("-", "docker-archive:\(out)", "oci-archive:\(out)")
            stdoutFile = out
            dockerFlavour = true
        }
        let r = try cli.run("copy", flags + [source, destination], stdinFile: stdin, stdoutFile: stdoutFile)
        let what = "\(info.file): \(source) → \(destination)"
        if dockerFlavour && expected.layerMediaTypes.contains(where: { $0.hasSuffix("+zstd") }) {
            #expect(r.status == 1, "\(what): zstd layers into a docker archive: \(r.stderr)")
            #expect(r.stderr.contains("zstd") && r.stderr.split(separator: "\n").count == 1, "\(what): \(r.stderr)")
            if stdoutFile != nil {
                #expect(try FS.size(out) == 0, "\(what): bytes on stdout after a refusal")
            } else {
                #expect(!FS.exists(out), "\(what): an archive was written")
            }
            CopyOracle.expectClean(cli, outputDirectory: tmp.path, layout: nil, what)
            return
        }
        try #require(r.status == 0, "\(what): \(r.stderr)")
        var manifestAt = namedManifestAt
        if manifestAt == "oci-archive:\(out)" {
            // A docker archive of an image with several tags has one index.json entry per tag: skopeo needs one named.
            let index = try JSONSerialization.jsonObject(with: Data(Shell.run(["tar", "-xOf", out, "index.json"]).stdout)) as? [String: Any]
            let entries = index?["manifests"] as? [[String: Any]] ?? []
            if entries.count > 1, let ref = (entries[0]["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"] {
                manifestAt += ":" + ref
            }
        }
        let got = try CopyOracle.view(configAt: configAt, manifestAt: manifestAt)
        CopyOracle.expectSame(got, as: expected, manifestDigest: manifestDigest, what)
        CopyOracle.expectClean(cli, outputDirectory: tmp.path, layout: i % 6 == 2 ? dir : nil, what)
    }
}
