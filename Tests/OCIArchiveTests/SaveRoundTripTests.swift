import Foundation
import Testing
import OCICore
import OCIModel
import OCIStore
import OCIArchive
import OCIImage
import OCITestSupport

/// load → save → load keeps every image: config digests (image IDs),
/// diff_ids, names, and the digests of OCI manifests; blobs are copied byte
/// for byte; the output is deterministic.
@Suite("save: round trip, byte-exact, deterministic")
struct SaveRoundTripTests {
    @Test("load → save → load keeps IDs, diff_ids, names and OCI manifest digests", arguments: TestImageInfo.all)
    func roundTrip(info: TestImageInfo) throws {
        let tmp = try TempDir(prefix: "ocitool-save-rt")
        let (store, _) = try SaveTests.loadFresh(info.path, in: tmp)
        let records = try SaveTests.records(store)
        try #require(!records.isEmpty)
        for flavour in ArchiveWriter.Flavour.allCases {
            let out = tmp.file("out-\(flavour).tar")
            if flavour == .docker, try SaveTests.hasZstd(records) {
                #expect(throws: ArchiveWriteError.self) { try SaveTests.write(records, flavour, to: out) }
                continue
            }
            let summary = try SaveTests.write(records, flavour, to: out)
            #expect(summary.images == records.count)
            let (_, again) = try SaveTests.loadFresh(out, in: tmp, root: "root-\(flavour)")
            #expect(again.images.count == records.count, "\(info.file) \(flavour)")
            for r in records {
                let back = try #require(again.images.first { $0.id == r.id }, "\(info.file) \(flavour): \(r.id) lost")
                #expect(back.config.diffIDs == r.config.diffIDs)
                #expect(back.configBytes == r.configBytes)
                #expect(Set(back.names) == Set(r.names), "\(info.file) \(flavour)")
                if !MediaType.isDocker(r.descriptor.mediaType) {
                    #expect(back.descriptor.digest == r.descriptor.digest, "\(info.file) \(flavour): OCI manifest digest changed")
                    #expect(back.manifestBytes == r.manifestBytes)
                }
            }
            // Byte for byte: every blob member hashes to its name (GNU tar as the oracle).
            for line in try SaveTests.contentHashes(out) where line.hasPrefix("blobs/sha256/") {
                let parts = line.split(separator: " ")
                #expect(parts.count == 2 && parts[0].dropFirst("blobs/sha256/".count) == parts[1], "\(line)")
            }
        }
    }

    /// Corpus archives written by other tools (BuildKit, containerd, Docker
    /// 25, Jib, kaniko, ggcr…) that ocitool loads: the same checks, library only.
    static let corpus: [String] = Fixtures.corpusTarFiles.filter { rel in
        guard let tmp = try? TempDir(prefix: "ocitool-save-probe") else { return false }
        return (try? SaveTests.loadFresh(Fixtures.corpusDir + "/" + rel, in: tmp)) != nil
    }

    @Test("corpus: load → save → load keeps IDs, diff_ids and OCI manifest digests", arguments: corpus)
    func corpusRoundTrip(rel: String) throws {
        let tmp = try TempDir(prefix: "ocitool-save-corpus")
        let (store, _) = try SaveTests.loadFresh(Fixtures.corpusDir + "/" + rel, in: tmp)
        let records = try SaveTests.records(store)
        let zstd = try SaveTests.hasZstd(records)
        for flavour in ArchiveWriter.Flavour.allCases where !(zstd && flavour == .docker) {
            let out = tmp.file("out-\(flavour).tar")
            try SaveTests.write(records, flavour, to: out)
            let (_, again) = try SaveTests.loadFresh(out, in: tmp, root: "again-\(flavour)")
            #expect(Set(again.images.map(\.id)) == Set(records.map(\.id)), "\(rel) \(flavour)")
            for r in records {
                guard let back = again.images.first(where: { $0.id == r.id }) else { continue }
                #expect(back.config.diffIDs == r.config.diffIDs)
                let keeps = !MediaType.isDocker(r.descriptor.mediaType) || flavour == .docker
                if keeps { #expect(back.descriptor.digest == r.descriptor.digest, "\(rel) \(flavour)") }
            }
        }
    }

    @Test("two saves give identical bytes; headers are fixed; SOURCE_DATE_EPOCH sets mtimes")
    func deterministic() throws {
        let tmp = try TempDir(prefix: "ocitool-save-det")
        let (store, _) = try SaveTests.loadFresh(Fixtures.testImagesDir + "/podman-multi-docker.tar", in: tmp)
        _ = try ImageOps.load(Fixtures.testImagesDir + "/podman-oci.tar", into: store)
        let records = try SaveTests.records(store)
        for flavour in ArchiveWriter.Flavour.allCases {
            let a = tmp.file("a-\(flavour).tar"), b = tmp.file("b-\(flavour).tar")
            try SaveTests.write(records, flavour, to: a)
            // A fresh read of the store, another process's worth of state.
            try SaveTests.write(try SaveTests.records(ImageStore(root: store.root)), flavour, to: b)
            #expect(try PeerTools.sha256sum(path: a) == PeerTools.sha256sum(path: b), "\(flavour)")

            let names = try PeerTools.listNames("tar", archive: a)
            #expect(names == names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
            #expect(Set(names).count == names.count, "a blob is written twice")
            for line in try PeerTools.listVerbose("tar", archive: a) {
                let isDir = line.hasPrefix("d")
                #expect(line.hasPrefix(isDir ? "drwxr-xr-x 0/0 " : "-rw-r--r-- 0/0 "), "\(line)")
                #expect(line.contains(" 1970-01-01 00:00 "), "\(line)")
            }
        }
        let epoch = tmp.file("epoch.tar")
        try SaveTests.write(records, .docker, to: epoch, mtime: 1_700_000_000)
        for line in try PeerTools.listVerbose("tar", archive: epoch) {
            #expect(line.contains(" 2023-11-14 22:13 "), "\(line)")
        }
        let r = try Shell.run(["env", "SOURCE_DATE_EPOCH=1700000000", OCIToolBinary.path, "save", "--root", store.root,
                               "-o", tmp.file("cli-epoch.tar"), records[0].names[0].description])
        #expect(r.status == 0, "\(r.stderr)")
        let cliLines = try PeerTools.listVerbose("tar", archive: tmp.file("cli-epoch.tar"))
        #expect(!cliLines.isEmpty && cliLines.allSatisfy { $0.contains(" 2023-11-14 22:13 ") })
    }

    @Test("several images: one archive, each blob once, docker entries in the order given")
    func severalImages() throws {
        let tmp = try TempDir(prefix: "ocitool-save-multi")
        let (store, _) = try SaveTests.loadFresh(Fixtures.testImagesDir + "/podman-multi-docker.tar", in: tmp)
        _ = try ImageOps.load(Fixtures.testImagesDir + "/podman-oci.tar", into: store)
        _ = try ImageOps.load(Fixtures.testImagesDir + "/podman-docker.tar", into: store)
        let all = try SaveTests.records(store)
        // podman-docker:v1 is the same image as multi-a:v1: one entry, both names.
        let picked = try SaveTests.select(["localhost/ocitool-test/multi-b:v1", "localhost/ocitool-test/multi-a:v1",
                                               "localhost/ocitool-test/podman-oci:v1", "localhost/ocitool-test/podman-docker:v1"],
                                              from: all, source: "store")
        let expected = [["localhost/ocitool-test/multi-b:v1"],
                        ["localhost/ocitool-test/multi-a:v1", "localhost/ocitool-test/podman-docker:v1"],
                        ["localhost/ocitool-test/podman-oci:v1"]]
        #expect(picked.map { $0.names.map(\.description) } == expected)
        let out = tmp.file("multi.tar")
        let summary = try SaveTests.write(picked, .docker, to: out)
        let distinct = Set(picked.flatMap { [$0.descriptor.digest, $0.id] + $0.manifest.layers.map(\.digest) })
        #expect(summary.blobs == distinct.count)
        #expect(distinct.count < picked.reduce(0) { $0 + 2 + $1.manifest.layers.count }, "the fixtures share a layer")
        let entries = try #require(try SaveTests.json(out, "manifest.json") as? [[String: Any]])
        #expect(entries.map { ($0["RepoTags"] as? [String]) ?? [] } == expected)
        for (e, r) in zip(entries, picked) {
            #expect(e["Config"] as? String == "blobs/sha256/\(r.id.encoded)")
            #expect(e["Layers"] as? [String] == r.manifest.layers.map { "blobs/sha256/\($0.digest.encoded)" })
        }
        let repos = try #require(try SaveTests.json(out, "repositories") as? [String: [String: String]])
        #expect(repos["localhost/ocitool-test/multi-a"]?["v1"] == picked[1].manifest.layers.last?.digest.encoded)
    }

    @Test("an image picked by ID is saved without names: bare index entry, RepoTags null, no repositories")
    func untaggedByID() throws {
        let tmp = try TempDir(prefix: "ocitool-save-id")
        let (store, _) = try SaveTests.loadFresh(Fixtures.testImagesDir + "/podman-docker.tar", in: tmp)
        let all = try SaveTests.records(store)
        let picked = try SaveTests.select([String(all[0].id.encoded.prefix(12))], from: all, source: "store")
        #expect(picked.count == 1 && picked[0].names.isEmpty)
        let out = tmp.file("id.tar")
        try SaveTests.write(picked, .docker, to: out)
        let index = try IndexManifest.parse(try SaveTests.member(out, "index.json"), what: "index.json")
        #expect(index.manifests.count == 1 && index.manifests[0].annotations == nil)
        #expect(String(decoding: try SaveTests.member(out, "manifest.json"), as: UTF8.self).contains(#""RepoTags":null"#))
        #expect(!(try PeerTools.listNames("tar", archive: out)).contains("repositories"))
        let (_, again) = try SaveTests.loadFresh(out, in: tmp, root: "again")
        #expect(again.images.map(\.id) == [all[0].id] && again.images[0].names.isEmpty)
    }

    @Test("selection: a bare name saves every tag of the repository; unknown and ambiguous refs are named")
    func selection() throws {
        let tmp = try TempDir(prefix: "ocitool-save-sel")
        let (store, _) = try SaveTests.loadFresh(Fixtures.testImagesDir + "/skopeo-docker.tar", in: tmp)
        let all = try SaveTests.records(store)
        let picked = try SaveTests.select(["localhost/ocitool-test/skopeo-docker"], from: all, source: "the store")
        #expect(picked.count == 1)
        #expect(Set(picked[0].names.map(\.description)) == ["localhost/ocitool-test/skopeo-docker:v1", "localhost/ocitool-test/skopeo-docker:alias"])
        #expect(throws: ImageError.notFound(ref: "nosuch:v1", source: "the store")) {
            try SaveTests.select(["nosuch:v1"], from: all, source: "the store")
        }
        #expect(throws: ImageError.notFound(ref: "localhost/ocitool-test/skopeo-docker:v2", source: "the store")) {
            try SaveTests.select(["localhost/ocitool-test/skopeo-docker:v2"], from: all, source: "the store")
        }
        #expect(throws: ImageError.platform("the store: \(picked[0].displayName) is for platform linux/amd64, not linux/arm64/v8")) {
            var warnings: [String] = []
            _ = try PlatformChoice.one(Platform(parsing: "linux/arm64/v8")).apply(to: picked.map { .image($0) }, source: "the store", warnings: &warnings)
        }
        #expect(throws: ArchiveWriteError.noImages) { try SaveTests.write([], .oci, to: tmp.file("none.tar")) }
    }

    @Test("a missing or changed blob stops the save before anything is written")
    func missingBlob() throws {
        let tmp = try TempDir(prefix: "ocitool-save-missing")
        let (store, _) = try SaveTests.loadFresh(Fixtures.testImagesDir + "/podman-oci.tar", in: tmp)
        let record = try #require(try SaveTests.records(store).first)
        let layer = record.manifest.layers[1].digest
        let path = store.blobs.blobPath(layer)
        let saved = try FS.readFile(path)
        try FS.writeAtomically(path, bytes: saved + [0])
        let sink = MemorySink(limit: 1 << 20, context: "out")
        #expect(throws: ArchiveWriteError.blobMismatch(image: record.displayName, digest: layer, message: "the file has \(saved.count + 1) bytes, the manifest says \(saved.count)")) {
            try ArchiveWriter.write([.image(record)], flavour: .oci, to: sink, name: "out")
        }
        FS.removeFile(path)
        #expect(throws: ArchiveWriteError.blobMissing(image: record.displayName, digest: layer)) {
            try ArchiveWriter.write([.image(record)], flavour: .docker, to: sink, name: "out")
        }
        #expect(sink.bytes.isEmpty)
        // Same size, other content: caught while copying.
        var changed = saved
        changed[changed.count - 1] ^= 0xff
        try FS.writeAtomically(path, bytes: changed)
        #expect(throws: ArchiveWriteError.self) { try ArchiveWriter.write([.image(record)], flavour: .oci, to: NullSink(), name: "out") }
    }
}
