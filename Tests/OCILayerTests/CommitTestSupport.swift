import Foundation
import OCICore
import OCIModel
import OCIStore
import OCIArchive
import OCIImage
import OCILayer
import OCITestSupport

/// A base image for commit tests: hand-made layers in an OCI layout,
/// opened as a commit base, with its union unpacked twice (`lower`, kept
/// as it is; `rootfs`, to be changed by the test).
final class CommitFixture {
    let tmp: TempDir
    let base: OpenedImage
    let lower: String
    let rootfs: String
    let staging: BlobStore

    static let epoch: Int64 = 1_700_000_000

    /// A small base of two layers (the second deletes a file of the first).
    static let standardLayers: [[TarFixtures.Member]] = {
        func d(_ p: String, _ mode: UInt32 = 0o755, uid: Int64 = 0) -> TarFixtures.Member {
            .init(TarEntry(path: p, kind: .directory, mode: mode, uid: uid, gid: uid, mtime: epoch))
        }
        func f(_ p: String, _ text: String, _ mode: UInt32 = 0o644, xattrs: [TarEntry.Xattr] = []) -> TarFixtures.Member {
            .init(TarEntry(path: p, kind: .regular, mode: mode, mtime: epoch, size: Int64(text.utf8.count), xattrs: xattrs), data: Array(text.utf8))
        }
        let layer1: [TarFixtures.Member] = [
            d("data/"),
            f("data/hl1.txt", "linked\n"),
            .init(TarEntry(path: "data/hl2.txt", kind: .hardlink, mode: 0o644, mtime: epoch, linkTarget: "data/hl1.txt")),
            .init(TarEntry(path: "data/link", kind: .symlink, mode: 0o755, mtime: epoch, linkTarget: "../etc/hello.txt")),
            f("data/x.txt", "x\n", xattrs: [.init(name: "user.k", value: Array("v".utf8))]),
            d("empty/"), f("empty/e1", "1\n"), f("empty/e2", "2\n"),
            d("etc/"), f("etc/hello.txt", "hello\n"), f("etc/keep.txt", "keep\n"),
            d("etc/conf.d/"), f("etc/conf.d/a.conf", "a\n"), f("etc/conf.d/b.conf", "b\n"),
            d("gone/"), f("gone/a", "a\n"), d("gone/sub/"), f("gone/sub/b", "b\n"),
            d("replace/"), f("replace/old1", "1\n"), f("replace/old2", "2\n"),
            d("srv/", 0o700, uid: 100), f("srv/data", "data\n"),
            f("tmpfile", "t\n"),
            f("todir", "file\n"),
            d("tofile/"), f("tofile/c", "c\n"),
        ]
        let layer2: [TarFixtures.Member] = [.init(TarEntry(path: ".wh.tmpfile", kind: .regular, mode: 0, mtime: epoch))]
        return [layer1, layer2]
    }()

    init(layers: [[TarFixtures.Member]] = CommitFixture.standardLayers) throws {
        tmp = try TempDir(prefix: "ocitool-commit")
        try ImageLayoutBuilder.write(layers: layers.map { try TarFixtures.tarBytes($0) }, to: tmp.file("layout"))
        base = try OpenedImage(tmp.file("layout"), store: ImageStore(root: tmp.file("store")), tmpdir: tmp.path)
        lower = tmp.file("lower")
        rootfs = tmp.file("rootfs")
        let layerSources = try LayerSource.layers(of: base.record)
        try Unpacker.unpack(layerSources, into: lower)
        try Unpacker.unpack(layerSources, into: rootfs)
        staging = BlobStore(root: tmp.file("staging"))
    }

    deinit { base.close() }

    /// Runs a shell script with the root file system as `$1` (`set -eu`).
    func change(_ script: String) throws {
        let r = try Shell.run(["sh", "-c", "set -eu\n" + script, "sh", rootfs])
        guard r.status == 0 else { throw CoreError.malformed(context: "change script", message: r.stderr) }
    }

    /// Commits `source` (default: the root file system) without a store.
    func commit(_ source: CommitSource? = nil, options: Commit.Options = Commit.Options(compression: LayerCompression.none),
                metadata: Commit.Metadata = Commit.Metadata(message: "m", author: "a", created: "2024-01-01T00:00:00Z")) throws
        -> (staged: Staged, listing: LayerListing) {
        let layer = try Commit.buildLayer(from: source ?? .rootfs(rootfs), base: base.record, staging: staging, options: options)
        let record = try Commit.mutation(of: base.record, adding: layer, metadata: metadata).build(names: [])
        return (Staged(record: record, layer: layer), try LayerListing(tar: layer.blob.path))
    }

    /// A commit made without a store: the new image and its layer.
    struct Staged {
        let record: Image
        let layer: BuiltLayer

        /// Deletes the staged layer.
        func discard() { layer.blob.discard() }
    }

    /// Staging files left in the private staging area.
    var leftoverStagingFiles: [String] {
        (try? FS.listDirectory(staging.ingestDirectory)) ?? []
    }
}
