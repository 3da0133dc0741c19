import OCICore
import OCIModel
import OCIStore

/// Loads image archives into the store: one streamed pass that stages and
/// hashes every blob, then recognition and verification, then one atomic
/// commit. On any error every staging file is removed and the store is left
/// exactly as it was.
public enum ImageLoader {
    /// What a load did.
    public struct Result: Sendable {
        public var images: [LoadedImage]
        public var newBlobs: Int
        public var newBytes: Int64
        public var warnings: [String]
    }

    /// Opens `path` as a member source: a directory (OCI layout or unpacked
    /// save), a file, or `-` for standard input.
    public static func openSource(_ path: String?, progress: ByteProgress? = nil) throws -> MemberSource {
        guard let path, path != "-" else {
            return try TarReader(fd: 0, name: "stdin", progress: progress)
        }
        if FS.isDirectory(path) { return try DirectoryMemberSource(directory: path) }
        return try TarReader(path: path, progress: progress)
    }

    /// Loads every image of `source` into `store`.
    /// - Parameters:
    ///   - platform: for multi-platform inputs; nil picks the host's.
    ///   - onBlob: called after each blob is staged (for progress output).
    ///   - progress: told of each member read (a `read` task per blob).
    public static func load(_ source: MemberSource, into store: ImageStore, platform: Platform? = nil,
                            onBlob: ((ScannedArchive.Blob) -> Void)? = nil, progress: ProgressScope? = nil) throws -> Result {
        let lock = try store.ingestLock()
        defer { lock.unlock() }
        let scan = try ScannedArchive.scan(source, store: store, onBlob: onBlob, progress: progress)
        defer { scan.discard() }
        var recognizer = ArchiveRecognizer(scan: scan, store: store, platform: platform)
        let images = try recognizer.recognise()

        var staged: [StagedBlob] = []
        var seen = Set<Digest>()
        func add(_ d: Digest) {
            guard seen.insert(d).inserted, let s = scan.blob(d)?.staged else { return }
            staged.append(s)
        }
        var extra: [StagedBlob] = []
        defer { extra.forEach { $0.discard() } }
        for img in images {
            if img.synthesizedManifest {
                if !store.blobs.contains(img.descriptor.digest) && seen.insert(img.descriptor.digest).inserted {
                    extra.append(try store.blobs.stage(bytes: img.manifestBytes))
                }
            } else {
                add(img.descriptor.digest)
            }
            add(img.manifest.config.digest)
            img.manifest.layers.forEach { add($0.digest) }
        }
        try store.commit(staged: staged + extra, images: images.map { ($0.descriptor, $0.names) })
        return Result(images: images, newBlobs: staged.count + extra.count,
                      newBytes: (staged + extra).reduce(0) { $0 + $1.size }, warnings: recognizer.warnings)
    }
}
