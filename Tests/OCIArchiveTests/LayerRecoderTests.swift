import Foundation
import Testing
import OCICore
import OCIModel
import OCIStore
import OCIArchive
import OCIImage
import OCITestSupport

/// `--compress`: layers re-encoded into staging files; diff_ids, config
/// bytes and layer contents stay; manifests get new digests and sizes.
@Suite("save --compress: LayerRecoder")
struct LayerRecoderTests {
    /// What GNU tar sees in each layer: verbose listing and content hashes.
    func layerViews(_ record: Image) throws -> [[String]] {
        try record.manifest.layers.map { l in
            let path = try record.path(of: l.digest)
            return try PeerTools.listVerbose("tar", archive: path) + SaveTests.contentHashes(path)
        }
    }

    func compressions(_ record: Image) throws -> [Compression] {
        try record.manifest.layers.map { Compression.detect(try FileSource(path: try record.path(of: $0.digest)).readPrefix(6)) }
    }

    @Test("threads are shared by the layers re-encoded at once: one layer per 4 threads (per thread to plain tar), at least one thread each")
    func threadSplit() {
        let cases: [(threads: Int, workers: Int, layers: Int, each: Int)] = [
            (1, 0, 1, 1), (2, 0, 1, 2), (3, 0, 1, 3), (4, 0, 1, 4), (8, 0, 2, 4), (9, 0, 2, 4), (16, 0, 4, 4),
            (2, 2, 2, 1), (8, 1, 1, 8), (1, 3, 3, 1),
        ]
        for c in cases {
            let plan = RecodePlan(target: .zstd, threads: c.threads, workers: c.workers)
            #expect(plan.layersAtOnce == c.layers && plan.threadsPerLayer == c.each,
                    "threads \(c.threads), workers \(c.workers): \(plan.layersAtOnce) × \(plan.threadsPerLayer)")
        }
        // Decoding to plain tar: inflate is serial per layer, one layer per thread.
        #expect(RecodePlan(target: .none, threads: 8).layersAtOnce == 8)
        #expect(RecodePlan(target: .none, threads: 8, workers: 2).layersAtOnce == 2)
        // 0: one thread per core.
        let cores = RecodePlan(target: .gzip)
        #expect(cores.layersAtOnce == max(1, WorkerPool.cores / 4))
        #expect(cores.layersAtOnce * cores.threadsPerLayer <= max(WorkerPool.cores, 1))
    }

    @Test("zstd → gzip → none keeps diff_ids, config and layer contents", arguments: TestImageInfo.all.filter { $0.outerCompression == "none" })
    func chain(info: TestImageInfo) throws {
        let tmp = try TempDir(prefix: "ocitool-recode")
        let (store, _) = try SaveTests.loadFresh(info.path, in: tmp)
        let staging = BlobStore(root: tmp.file("staging"))
        let originals = try SaveTests.records(store)
        for original in originals {
            let views = try layerViews(original)
            var current = original
            var recoders: [LayerRecoder] = []
            for target in [LayerCompression.zstd, .gzip, .none] {
                let recoder = LayerRecoder(plan: RecodePlan(target: target), staging: staging)
                recoders.append(recoder)
                current = try recoder.recode(current)
                let want: Compression = target == .zstd ? .zstd : target == .gzip ? .gzip : .none
                #expect(try compressions(current) == Array(repeating: want, count: current.manifest.layers.count))
                #expect(current.id == original.id)
                #expect(current.configBytes == original.configBytes)
                #expect(current.config.diffIDs == original.config.diffIDs)
                #expect(current.names == original.names)
                #expect(try layerViews(current) == views, "\(info.file) \(target)")
                // The new manifest: canonical JSON of the right family, digest of its bytes.
                #expect(SHA256Hasher.digest(current.manifestBytes) == current.descriptor.digest)
                let types = current.manifest.layers.map(\.mediaType)
                if target == .zstd || !MediaType.isDocker(original.descriptor.mediaType) {
                    #expect(current.descriptor.mediaType == MediaType.ociManifest)
                    #expect(types.allSatisfy { $0.hasPrefix("application/vnd.oci.image.layer.v1.tar") })
                }
                for (l, want) in zip(current.manifest.layers, Array(repeating: target, count: current.manifest.layers.count)) {
                    #expect(l.mediaType.hasSuffix(want == .none ? ".tar" : want == .gzip ? "gzip" : "+zstd"), "\(l.mediaType)")
                    #expect(try FS.size(current.path(of: l.digest)) == l.size)
                }
                // Loads back: the writer and the reader agree with the new manifest.
                let out = tmp.file("\(original.id.shortID)-\(target).tar")
                try SaveTests.write([current], .oci, to: out)
                let (_, back) = try SaveTests.loadFresh(out, in: tmp, root: "back-\(original.id.shortID)-\(target)")
                #expect(back.images.map(\.descriptor.digest) == [current.descriptor.digest])
            }
            recoders.forEach { $0.discard() }
        }
        // Every staged blob is gone after discard.
        let left = FS.isDirectory(staging.ingestDirectory) ? try FS.listDirectory(staging.ingestDirectory) : []
        #expect(left.isEmpty, "\(left)")
    }

    @Test("layers already in the target compression are kept byte for byte; nothing to do keeps the manifest")
    func keepsWhatMatches() throws {
        let tmp = try TempDir(prefix: "ocitool-recode-keep")
        let (store, _) = try SaveTests.loadFresh(Fixtures.testImagesDir + "/handmade-opaque-oci.tar", in: tmp)
        let original = try #require(try SaveTests.records(store).first)
        #expect(try compressions(original) == [.none, .gzip, .zstd])
        let recoder = LayerRecoder(plan: RecodePlan(target: .gzip), staging: BlobStore(root: tmp.file("staging")))
        defer { recoder.discard() }
        let gz = try recoder.recode(original)
        #expect(gz.manifest.layers[1] == original.manifest.layers[1])
        #expect(gz.manifest.layers[0].digest != original.manifest.layers[0].digest)
        #expect(recoder.staged.count == 2, "two layers (the manifest is in memory)")
        // Unchanged: same record, same bytes.
        let again = try recoder.recode(gz)
        #expect(again.manifestBytes == gz.manifestBytes && again.descriptor == gz.descriptor)
        let none = LayerRecoder(plan: RecodePlan(target: .none), staging: BlobStore(root: tmp.file("staging")))
        defer { none.discard() }
        let (dstore, _) = try SaveTests.loadFresh(Fixtures.testImagesDir + "/podman-docker.tar", in: tmp, root: "docker")
        let plain = try #require(try SaveTests.records(dstore).first)
        let same = try none.recode(plain)
        #expect(same.descriptor == plain.descriptor && same.manifestBytes == plain.manifestBytes)
        #expect(none.staged.isEmpty)
    }

    @Test("a layer shared by two images is re-encoded once; Docker-family manifests stay Docker unless zstd")
    func sharedAndFamily() throws {
        let tmp = try TempDir(prefix: "ocitool-recode-shared")
        let (store, _) = try SaveTests.loadFresh(Fixtures.testImagesDir + "/podman-multi-docker.tar", in: tmp)
        let records = try SaveTests.records(store)
        #expect(records.count == 2)
        let recoder = LayerRecoder(plan: RecodePlan(target: .gzip), staging: BlobStore(root: tmp.file("staging")))
        defer { recoder.discard() }
        let out = try records.map { try recoder.recode($0) }
        let distinct = Set(records.flatMap { $0.manifest.layers.map(\.digest) })
        #expect(recoder.staged.count == distinct.count, "each layer once")
        #expect(Set(out.flatMap { $0.manifest.layers.map(\.digest) }).count == distinct.count)

        // A Docker v2 schema 2 manifest keeps its family for gzip, becomes OCI for zstd.
        let docker = try dockerFamily(records[0], in: tmp)
        let gz = try recoder.recode(docker)
        #expect(gz.descriptor.mediaType == MediaType.dockerManifest)
        #expect(gz.manifest.config.mediaType == MediaType.dockerConfig)
        #expect(gz.manifest.layers.allSatisfy { $0.mediaType == MediaType.dockerLayerGzip })
        let z = LayerRecoder(plan: RecodePlan(target: .zstd), staging: BlobStore(root: tmp.file("staging")))
        defer { z.discard() }
        let zst = try z.recode(docker)
        #expect(zst.descriptor.mediaType == MediaType.ociManifest)
        #expect(zst.manifest.config.mediaType == MediaType.ociConfig && zst.id == docker.id)
        #expect(zst.manifest.layers.allSatisfy { $0.mediaType == MediaType.ociLayerZstd })
        // --format oci converts a Docker-family manifest; --format docker keeps it.
        let oci = tmp.file("docker-family.oci.tar"), hybrid = tmp.file("docker-family.docker.tar")
        try SaveTests.write([docker], .oci, to: oci)
        try SaveTests.write([docker], .docker, to: hybrid)
        let ociIndex = try IndexManifest.parse(try SaveTests.member(oci, "index.json"), what: "index.json")
        #expect(ociIndex.manifests.map(\.mediaType) == [MediaType.ociManifest])
        let hybridIndex = try IndexManifest.parse(try SaveTests.member(hybrid, "index.json"), what: "index.json")
        #expect(hybridIndex.manifests.map(\.digest) == [docker.descriptor.digest])
    }

    @Test("a layer whose content does not match its diff_id is refused")
    func diffIDMismatch() throws {
        let tmp = try TempDir(prefix: "ocitool-recode-bad")
        let (store, _) = try SaveTests.loadFresh(Fixtures.testImagesDir + "/podman-docker.tar", in: tmp)
        let stored = try #require(try SaveTests.records(store).first)
        // Point layer 0 at layer 1's bytes (a valid tar with another diff_id).
        let l0 = stored.manifest.layers[0].digest, l1 = stored.manifest.layers[1].digest
        let record = stored.reading(from: BlobMap(sourceName: "test", files: [l0: store.blobs.blobPath(l1)], fallback: stored.blobs))
        let recoder = LayerRecoder(plan: RecodePlan(target: .gzip), staging: BlobStore(root: tmp.file("staging")))
        defer { recoder.discard() }
        #expect(throws: ImageError.blobMismatch(l0, what: "layer \(l0.shortID) of \(record.displayName)",
                                                message: "content is \(l1) (\(record.manifest.layers[1].size) bytes), the manifest says \(record.manifest.layers[0].size) bytes")) {
            try recoder.recode(record)
        }
        let left = try FS.listDirectory(tmp.file("staging/ingest"))
        #expect(left.isEmpty, "\(left)")
    }

    /// The record re-expressed with a Docker v2 schema 2 manifest (as a
    /// containerd-store export would have it).
    func dockerFamily(_ record: Image, in tmp: TempDir) throws -> Image {
        var m = record.manifest.view
        m.mediaType = MediaType.dockerManifest
        m.config.mediaType = MediaType.dockerConfig
        m.layers = m.layers.map { l in
            var l = l
            l.mediaType = l.mediaType.hasSuffix("gzip") ? MediaType.dockerLayerGzip : MediaType.dockerLayer
            return l
        }
        let document = try Document(manifest: try CanonicalJSON.encode(m), what: "docker manifest")
        return try Image(descriptor: Descriptor(mediaType: MediaType.dockerManifest, digest: document.digest, size: document.size),
                         manifest: document, config: record.config, names: record.names, blobs: record.blobs)
    }
}
