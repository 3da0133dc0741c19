import OCICore
import OCIModel
import OCIStore

/// One image with everything needed to read it: manifest and config (raw
/// bytes and decoded views), names, and where each blob's bytes are on disk
/// (the store, or the staging area of an archive read without loading).
/// Readers produce it; writers, the union view and mutations consume it.
public struct ImageRecord: Sendable {
    public var descriptor: Descriptor
    public var manifestBytes: [UInt8]
    public var manifest: Manifest
    public var configBytes: [UInt8]
    public var config: ImageConfig
    public var names: [ImageReference]
    /// File path of each blob (config, layers, and the manifest when it is stored).
    public var blobPaths: [Digest: String]

    /// The image ID (config digest).
    public var id: Digest { manifest.config.digest }

    /// The path of a blob, or an error naming it.
    public func path(of digest: Digest) throws -> String {
        guard let p = blobPaths[digest], FS.exists(p) else { throw StoreError.blobMissing(digest) }
        return p
    }

    /// Layer blob paths, bottom first.
    public func layerPaths() throws -> [String] {
        try manifest.layers.map { try path(of: $0.digest) }
    }

    /// From an image in the store.
    public init(stored: StoredImage, store: ImageStore) {
        descriptor = stored.descriptor
        manifestBytes = stored.manifestBytes
        manifest = stored.manifest
        configBytes = stored.configBytes
        config = stored.config
        names = stored.names
        var paths: [Digest: String] = [:]
        for d in [stored.descriptor.digest, stored.manifest.config.digest] + stored.manifest.layers.map(\.digest) {
            paths[d] = store.blobs.path(for: d)
        }
        blobPaths = paths
    }

    /// From an image recognised in a scanned archive.
    init(loaded: LoadedImage, scan: ScannedArchive, store: ImageStore) {
        descriptor = loaded.descriptor
        manifestBytes = loaded.manifestBytes
        manifest = loaded.manifest
        configBytes = loaded.configBytes
        config = loaded.config
        names = loaded.names
        var paths: [Digest: String] = [:]
        for d in [loaded.descriptor.digest, loaded.manifest.config.digest] + loaded.manifest.layers.map(\.digest) {
            if let b = scan.blob(d) { paths[d] = scan.path(of: b) } else if store.blobs.contains(d) { paths[d] = store.blobs.path(for: d) }
        }
        blobPaths = paths
    }
}

/// Images read from an archive without loading them into the user's store:
/// blobs are spooled once into a private staging store under `tmpdir` and
/// deleted by `close()` (or deinit).
public final class SpooledArchive {
    public let records: [ImageRecord]
    public let warnings: [String]
    private let scan: ScannedArchive
    private let spoolRoot: String

    /// Reads `path` (`-` or nil for stdin, a file, or a directory) fully once.
    /// - Parameter reporter: told of each member read (a `read` task per blob).
    public init(path: String?, tmpdir: String? = nil, platform: Platform? = nil, progress: ByteProgress? = nil,
                reporter: ProgressScope? = nil) throws {
        let base = tmpdir ?? ProcessInfoLite.tmpdir
        spoolRoot = "\(base)/ocitool-spool-\(getpidLite())-\(UInt64.random(in: 0...UInt64.max))"
        let store = ImageStore(root: spoolRoot, durable: false)
        do {
            try FS.makeDirectories(spoolRoot)
            let source = try ImageLoader.openSource(path, progress: progress)
            let scan = try ScannedArchive.scan(source, store: store, progress: reporter)
            self.scan = scan
            var rec = ArchiveRecognizer(scan: scan, store: store, platform: platform)
            let loaded: [LoadedImage]
            do { loaded = try rec.recognise() } catch {
                scan.discard()
                throw error
            }
            var records: [ImageRecord] = []
            for img in loaded {
                var r = ImageRecord(loaded: img, scan: scan, store: store)
                if r.blobPaths[img.descriptor.digest] == nil {
                    let s = try store.blobs.stage(bytes: img.manifestBytes)
                    r.blobPaths[img.descriptor.digest] = s.path
                }
                records.append(r)
            }
            self.records = records
            warnings = rec.warnings
        } catch {
            FS.removeTree(spoolRoot)
            throw error
        }
    }

    /// Deletes the spooled blobs.
    public func close() { FS.removeTree(spoolRoot) }

    deinit { close() }
}

import Foundation

enum ProcessInfoLite {
    static var tmpdir: String {
        let t = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        return t.isEmpty ? "/tmp" : (t.hasSuffix("/") && t.count > 1 ? String(t.dropLast()) : t)
    }
}

func getpidLite() -> Int32 { ProcessInfo.processInfo.processIdentifier }

/// Finds an image given on the command line: an archive file or directory
/// when `ref` names one on disk, otherwise a reference into the store.
public enum ImageLocator {
    /// - Returns: the records and, for archives, the spool to close when done.
    public static func open(_ ref: String, store: ImageStore, tmpdir: String? = nil, platform: Platform? = nil) throws -> (records: [ImageRecord], spool: SpooledArchive?) {
        if ref == "-" || FS.exists(ref) {
            let spool = try SpooledArchive(path: ref, tmpdir: tmpdir, platform: platform)
            return (spool.records, spool)
        }
        let stored = try store.resolve(ref)
        return ([ImageRecord(stored: stored, store: store)], nil)
    }
}
