import Foundation
import Testing
import OCICore
import OCIModel
import OCIStore
import OCIArchive
import OCIImage
import OCITransport
import OCITestSupport

/// `Converter` over every TestImages archive: input → oci → docker with
/// each layer compression. Judged by peers: GNU tar, gzip, zstd and
/// sha256sum (ArchiveOracle) for layer contents and diff_ids, skopeo for
/// each output, podman for docker-format outputs.
@Suite("Convert: round trips of TestImages")
struct ConvertRoundTripTests {
    enum Target: String, CaseIterable, Sendable {
        case keep, gzip, zstd, none
        var compress: LayerCompression? {
            switch self {
            case .keep: return nil
            case .gzip: return .gzip
            case .zstd: return .zstd
            case .none: return LayerCompression.none
            }
        }
    }

    static func convert(_ input: String, to output: String, _ flavour: ArchiveWriter.Flavour, _ compress: LayerCompression?,
                        tmp: TempDir) throws -> ImageCopy.Report {
        var o = ImageCopy.Options()
        o.recode = compress.map { RecodePlan(target: $0, threads: 2, workers: 2) }
        o.tmpdir = tmp.path
        return try ImageCopy.copy(from: ArchiveSource(.path(input)), to: ArchiveDestination(.path(output), flavour: flavour), options: o)
    }

    /// (config digest, diff_ids) of every image of an archive, by the oracle.
    static func identities(_ x: ArchiveOracle.Extracted) -> Set<String> {
        Set(x.images.map { $0.configDigest + " " + $0.diffIDs.joined(separator: ",") })
    }

    @Test(arguments: TestImageInfo.all, Target.allCases)
    func dockerToOCIToDocker(info: TestImageInfo, target: Target) throws {
        let tmp = try TempDir(prefix: "ocitool-convert-rt")
        let input = try ArchiveOracle.extract(info.path, into: tmp.file("in"))
        let want = Self.identities(input)
        try #require(!want.isEmpty)
        let inputHasZstd = try input.images.flatMap(\.layers).contains { try ArchiveOracle.compression(ofFile: input.blobPath($0.digest)) == "zstd" }

        // 1. → OCI with the target compression.
        let oci = tmp.file("out.oci.tar")
        let s1 = try Self.convert(info.path, to: oci, .oci, target.compress, tmp: tmp)
        let x1 = try ArchiveOracle.extract(oci, into: tmp.file("x1"))
        #expect(Self.identities(x1) == want, "config digests and diff_ids unchanged")
        let problems1 = try ArchiveOracle.verifyLayers(x1)
        #expect(problems1.isEmpty, "\(problems1)")
        #expect(x1.images.allSatisfy { $0.manifestMediaType == MediaType.ociManifest })
        if let c = target.compress {
            for l in x1.images.flatMap(\.layers) {
                #expect(try ArchiveOracle.compression(ofFile: x1.blobPath(l.digest)) == c.rawValue)
            }
        }
        #expect(s1.images.count == x1.images.count)
        try Self.skopeoAccepts(oci, x1, docker: false, tmp: tmp)

        // 2. → docker. zstd layers cannot go into a docker archive: refused
        //    before any byte is written; gzip is the way out.
        let docker = tmp.file("out.docker.tar")
        let zstdLayers = target == .zstd || (target == .keep && inputHasZstd)
        if zstdLayers {
            #expect(throws: ArchiveWriteError.self) { try Self.convert(oci, to: docker, .docker, target.compress, tmp: tmp) }
            #expect(!FS.exists(docker), "nothing written before the refusal")
        }
        _ = try Self.convert(oci, to: docker, .docker, zstdLayers ? .gzip : target.compress, tmp: tmp)
        let x2 = try ArchiveOracle.extract(docker, into: tmp.file("x2"))
        #expect(Self.identities(x2) == want)
        let problems2 = try ArchiveOracle.verifyLayers(x2)
        #expect(problems2.isEmpty, "\(problems2)")
        #expect(x2.dockerEntries.count == x2.images.count)
        #expect(Set(x2.dockerEntries.map { "sha256:" + PathString($0.config).lastComponent }) == Set(x2.images.map(\.configDigest)))
        try Self.skopeoAccepts(docker, x2, docker: true, tmp: tmp)
        let podman = try PeerRunner.Podman()
        defer { podman.cleanup() }
        _ = try podman.load(docker)
        #expect(Set(try podman.images().map(\.id)) == Set(x2.images.map(\.configDigest)))
    }

    /// skopeo copies every image of the archive (re-verifying each blob digest)
    /// and reports the same config digest.
    static func skopeoAccepts(_ archive: String, _ x: ArchiveOracle.Extracted, docker: Bool, tmp: TempDir) throws {
        if docker {
            for (i, image) in x.images.enumerated() {
                try PeerRunner.skopeoCopy("docker-archive:\(archive):@\(i)", "dir:\(tmp.file("skopeo-d\(i)"))")
                #expect(try PeerRunner.skopeoConfigDigest("docker-archive:\(archive):@\(i)").description == x.images[i].configDigest,
                        "\(image)")
            }
            return
        }
        // skopeo 1.9 picks an oci-archive image by org.opencontainers.image.ref.name.
        let refs = x.images.compactMap(\.refName)
        for image in x.images {
            let transport: String
            if let ref = image.refName, refs.filter({ $0 == ref }).count == 1 {
                transport = "oci-archive:\(archive):\(ref)"
            } else if x.images.count == 1 {
                transport = "oci-archive:\(archive)"
            } else {
                continue  // not addressable by skopeo 1.9 (two images with one tag)
            }
            try PeerRunner.skopeoCopy(transport, "dir:\(tmp.file("skopeo-\(image.configDigest.suffix(12))"))")
            #expect(try PeerRunner.skopeoConfigDigest(transport).description == image.configDigest)
        }
    }
}
