import Foundation
import OCICore
import OCIModel
import OCIStore

/// Archive to archive without a store (`ocitool convert`): read once →
/// spool → recognise and verify → choose platforms → re-encode layers →
/// write (`ArchiveWriter`) → optionally compress the whole output.
///
/// What is on disk, and where (a private directory under `tmpdir`, removed
/// at the end, on error too):
/// - a layer whose compression changes is re-encoded *while it is read*
///   (`IngestRecoding`), so only the new blob is spooled, once;
/// - every other blob (kept layers, configs, manifests) is spooled once as
///   read, because the writer emits members in a fixed order (lexical) and
///   checks every image before its first byte, so nothing can pass straight
///   from input to output;
/// - memory holds only copy buffers, encoder blocks and the JSON documents.
public enum Converter {
    /// How to convert.
    public struct Options: Sendable {
        /// Output archive flavour.
        public var flavour: ArchiveWriter.Flavour = .docker
        /// Layer compression; nil keeps each layer as it is.
        public var compress: LayerCompression?
        /// Layer compression level (gzip 1-9, zstd 1-19); nil for the default.
        public var level: Int?
        /// Encoder threads per conversion (0: one per core).
        public var threads: Int = 0
        /// The platform to keep from multi-platform inputs (nil: this machine's,
        /// or the only one present).
        public var platform: Platform?
        /// Keep every platform present, as one index per image.
        public var allPlatforms = false
        /// Compression of the whole output stream (`.none`, `.gzip`, `.zstd`).
        public var outputCompression: Compression = .none
        /// Directory for the spool (default: `$TMPDIR`, else /tmp).
        public var tmpdir: String?
        /// Member mtime of the output (`SOURCE_DATE_EPOCH`).
        public var mtime: Int64 = 0
        /// Told the spool directory once it exists (for interrupt cleanup).
        public var onSpoolDirectory: (@Sendable (String) -> Void)?

        public init() {}
    }

    /// What a conversion did.
    public struct Summary: Sendable {
        public var input: String
        /// Images written (each platform of a multi-platform image counts).
        public var images: Int
        /// Distinct layers written.
        public var layers: Int
        /// Layers re-encoded.
        public var recodedLayers: Int
        /// Bytes read (the input file or stream as stored, compressed or not).
        public var bytesIn: Int64
        /// Bytes written (after `outputCompression`).
        public var bytesOut: Int64
        public var seconds: Double
        /// Every image as written, with the digests readers will see.
        public var written: [ImageReport]
        public var warnings: [String]
    }

    /// Converts the archive at `input` (a file, an OCI layout or unpacked
    /// save directory, or nil / `-` for stdin) into `sink`, which is
    /// finished at the end. Nothing is written to `sink` before the input
    /// has been read and every image checked.
    /// - Parameters:
    ///   - outputName: names the output in errors.
    ///   - progress: receives `start`, per-blob `task`s (read, recode,
    ///     write), `blob`, `image` and `warning` events (not `done`/`error`:
    ///     the caller knows when its output is in place).
    /// - Throws: `ArchiveError` for unreadable or inconsistent input,
    ///   `ArchiveWriteError` when the images cannot be written as asked,
    ///   `CoreError` for I/O and corrupt compressed data.
    public static func convert(input: String?, to sink: ByteSink, outputName: String, options: Options,
                               progress: ProgressScope? = nil) throws -> Summary {
        let started = Date()
        let inputName = input == nil || input == "-" ? "stdin" : input ?? "stdin"
        let fileSize = input.flatMap { $0 == "-" || FS.isDirectory($0) ? nil : try? FS.size($0) }
        progress?.start(operation: "convert", source: inputName, destination: outputName, totalBytes: fileSize)

        let base = options.tmpdir ?? ProcessInfoLite.tmpdir
        let spoolRoot = "\(base)/ocitool-convert-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        try FS.makeDirectories(spoolRoot, mode: 0o700)
        options.onSpoolDirectory?(spoolRoot)
        defer { FS.removeTree(spoolRoot) }
        let store = ImageStore(root: spoolRoot, durable: false)

        // 1. Read once, spooling (and re-encoding layers on the way).
        let bytesRead = ByteProgress(label: "input", total: fileSize)
        let source = try ImageLoader.openSource(input, progress: bytesRead)
        let recoding = options.compress.map {
            IngestRecoding(target: $0, level: options.level, threads: options.threads, workers: options.threads)
        }
        let scan = try ScannedArchive.scan(source, store: store, recoding: recoding, progress: progress)
        defer { scan.discard() }

        // 2. Recognise and verify (digests, sizes, diff_ids), choose platforms.
        var recognizer = ArchiveRecognizer(scan: scan, store: store, platform: options.platform)
        recognizer.allPlatforms = options.allPlatforms
        let loaded = try recognizer.recognise()
        var warnings = recognizer.warnings
        var selection = try Selection(loaded: loaded, indexes: recognizer.platformIndexes, scan: scan, store: store,
                                      platform: options.allPlatforms ? nil : options.platform, warnings: &warnings)
        warnings.forEach { progress?.warning($0) }

        // 3. Re-encode: swap in the layers re-encoded while reading, then
        //    re-encode from the spool what was not recognised as a layer then.
        var recoder: LayerRecoder?
        defer { recoder?.discard() }
        var recoded = Set<Digest>()
        if let target = options.compress {
            let r = LayerRecoder(target: target, staging: store.blobs, level: options.level, threads: options.threads)
            recoder = r
            try selection.transform { record in
                let final = try r.recode(try substituteRecoded(record, scan: scan, target: target))
                for (old, new) in zip(record.manifest.layers, final.manifest.layers) where old.digest != new.digest {
                    recoded.insert(new.digest)
                }
                return final
            }
        }

        // 4. Check everything, then write.
        try ArchiveWriter.check(selection.records, indexes: selection.indexes, flavour: options.flavour)
        let counted = CountingSink(forwardingTo: sink)
        let out = options.outputCompression == .none
            ? BufferedSink(counted)
            : try options.outputCompression.encoder(into: counted, level: nil, threads: options.threads, context: outputName)
        var writeOptions = ArchiveWriter.Options(mtime: options.mtime, reporter: progress)
        // Every spooled blob was hashed as it was written to the spool.
        writeOptions.hashedBlobs = selection.spooledBlobs(under: spoolRoot)
        let written = try ArchiveWriter.write(selection.records, indexes: selection.indexes, flavour: options.flavour, to: out,
                                              name: outputName, options: writeOptions)
        return Summary(input: inputName, images: written.images, layers: Set(written.written.flatMap(\.layers)).count,
                       recodedLayers: recoded.count, bytesIn: bytesIn(bytesRead, scan: scan), bytesOut: counted.count,
                       seconds: Date().timeIntervalSince(started), written: written.written, warnings: warnings)
    }

    private static func bytesIn(_ counter: ByteProgress, scan: ScannedArchive) -> Int64 {
        if counter.done > 0 { return counter.done }
        // A directory: what its files hold.
        return scan.blobs.values.reduce(0) { $0 + $1.size } + scan.documents.values.reduce(0) { $0 + Int64($1.count) }
    }

    /// The record with the layers re-encoded while reading swapped in
    /// (new digests, sizes and media types; the manifest rewritten).
    static func substituteRecoded(_ record: ImageRecord, scan: ScannedArchive, target: LayerCompression) throws -> ImageRecord {
        let docker = ManifestRewrite.isDockerFamily(record)
        let toOCI = docker && target == .zstd
        var layers: [Descriptor] = []
        var paths: [Digest: String] = [:]
        for layer in record.manifest.layers {
            var out = layer
            if toOCI { out.mediaType = ManifestRewrite.ociLayerType(layer.mediaType) }
            if let recoded = scan.blob(layer.digest)?.recoded {
                guard MediaType.isTarLayer(layer.mediaType) else {
                    throw ArchiveWriteError.invalid(image: record.displayName,
                                                    message: "layer \(layer.digest.shortID) (\(layer.mediaType)) looked like a tar layer and was re-encoded, but its media type is not a layer's; convert with --compress keep")
                }
                out.mediaType = ManifestRewrite.layerType(original: layer.mediaType, docker: docker && !toOCI, compression: target)
                out.digest = recoded.staged.digest
                out.size = recoded.staged.size
                out.urls = nil
                out.annotations = layer.annotations?.filter { key, _ in
                    !ManifestRewrite.blobSpecificAnnotationPrefixes.contains { key.hasPrefix($0) }
                }
                paths[recoded.staged.digest] = recoded.staged.path
            }
            layers.append(out)
        }
        guard !paths.isEmpty else { return record }
        var result = try ManifestRewrite.apply(to: record, layers: layers, toOCI: toOCI)
        for (d, p) in paths { result.blobPaths[d] = p }
        return result
    }
}
