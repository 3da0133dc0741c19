import Foundation
import Testing
import OCICore
import OCIModel
import OCIStore
import OCIArchive
import OCIImage
import OCITransport
import OCITestSupport

/// Helpers shared by the save tests of this target.
enum SaveTests {
    /// Loads an archive into a fresh store (library API).
    static func loadFresh(_ path: String, in tmp: TempDir, root: String = "root") throws -> (ImageStore, ImageOps.LoadResult) {
        let store = ImageStore(root: tmp.file(root))
        let result = try ImageOps.load(path, into: store)
        return (store, result)
    }

    /// Every image of the store, in store order (index children included).
    static func records(_ store: ImageStore) throws -> [Image] {
        try ImageOps.images(in: store)
    }

    /// docker save's selection over the images of a store.
    static func select(_ refs: [String], from images: [Image], source: String) throws -> [Image] {
        try ImageSelector.select(refs, from: images.map { .image($0) }, source: source).flatMap(\.images)
    }

    /// Writes `records` into the file `path`.
    @discardableResult
    static func write(_ records: [Image], _ flavour: ArchiveWriter.Flavour, to path: String, mtime: Int64 = 0) throws -> ArchiveWriter.Summary {
        try ImageOps.write(records, flavour, to: path, mtime: mtime)
    }

    /// Does any layer of `records` hold zstd data?
    static func hasZstd(_ records: [Image]) throws -> Bool {
        for r in records {
            for l in r.manifest.layers {
                let head = try FileSource(path: try r.path(of: l.digest)).readPrefix(6)
                if Compression.detect(head) == .zstd { return true }
            }
        }
        return false
    }

    /// Reads one member of a tar file with GNU tar.
    static func member(_ archive: String, _ name: String) throws -> [UInt8] {
        let r = try Shell.run(["tar", "-xOf", archive, name])
        guard r.status == 0 else { throw PeerRunner.Failure(description: "tar -xOf \(archive) \(name): \(r.stderr)") }
        return r.stdout
    }

    /// A member parsed as JSON.
    static func json(_ archive: String, _ name: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(try member(archive, name)), options: [.fragmentsAllowed])
    }

    /// `sha256:<hex>` of each regular member, as GNU tar extracts it, with
    /// the member name (`NAME DIGEST` lines, in archive order).
    static func contentHashes(_ archive: String) throws -> [String] {
        let script = #"printf '%s %s\0' "$TAR_FILENAME" "$(sha256sum | cut -c1-64)""#
        let r = try Shell.run(["tar", "-xf", archive, "--to-command=" + script])
        guard r.status == 0 else { throw PeerRunner.Failure(description: "tar --to-command \(archive): \(r.stderr)") }
        return r.stdout.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Gives each unnamed record a test name (umoci and skopeo `oci-archive:`
    /// address images by tag).
    static func named(_ records: [Image]) throws -> [Image] {
        try records.enumerated().map { i, r in
            r.names.isEmpty ? r.named([try ImageReference(parsing: "localhost/ocitool-save-test/image\(i):t\(i)")]) : r
        }
    }
}
