import OCICore
import OCIModel
import OCIImage

/// A layer tarball given ready-made (`commit --layer`, like `crane append`):
/// checked to be a tar whose paths stay inside the root, then staged as
/// it is when its compression is the one asked for (or none was asked
/// for), else decoded and encoded again. The diff_id is the SHA-256 of the
/// uncompressed tar either way.
enum ReadyLayer {
    /// - Parameters:
    ///   - compression: the blob's compression; nil keeps the file's own.
    /// - Throws: `CommitError.source` for a missing file or an xz/bzip2
    ///   one; `CoreError.archive` when it is not a tar; `LayerError` for
    ///   entries that would leave the root and for limits.
    static func stage(_ path: String, into staging: BlobStore, compression: LayerCompression?, level: Int?,
                      limits: UnionLimits) throws -> BuiltLayer {
        try checkFile(path)
        let detected = Compression.detect(try FileSource(path: path).readPrefix(6))
        guard let own = LayerCompression(rawValue: detected.rawValue) else {
            throw CommitError.source(path: path, reason: "\(detected.rawValue)-compressed layers are not supported (OCI layers are tar, tar+gzip or tar+zstd); decompress it first")
        }
        var (entries, whiteouts, bytes) = (0, 0, Int64(0))
        let reader = try TarReader(path: path, allowEmpty: true)
        let meter = LimitMeter(limits)
        while let entry = try reader.next() {
            let ctx = EntryContext(layer: path, entry: entry.path)
            try meter.countEntry(ctx)
            switch try LayerMember.classify(entry, ctx) {
            case .whiteout, .opaque: whiteouts += 1
            case .entry, .aufsMeta: break
            }
            if entry.kind == .regular {
                try reader.readDataBlocks { _, block in
                    try meter.countBytes(Int64(block.count), ctx)
                    bytes += Int64(block.count)
                }
            }
            entries += 1
        }
        let target = compression ?? own
        let blob: StagedBlob
        let diffID: Digest
        if target == own {
            let writer = try staging.beginStaging(parallel: true)
            var decodeSide: ByteSink?
            do {
                let diff = DigestingSink()
                let decoder = try detected.decoder(into: diff, context: path)
                let side: ByteSink = own == .none ? decoder : AsyncSink(inner: decoder)
                decodeSide = side
                try FileSource(path: path).copy(to: TeeSink(writer, side))
                try side.finish()
                blob = try writer.close()
                diffID = try diff.digest()
            } catch {
                try? decodeSide?.finish()
                writer.abandon()
                throw error
            }
        } else {
            (blob, diffID) = try LayerBuilder.encode(into: staging, compression: target, level: level, name: path) { sink in
                let decoder = try detected.decoder(into: sink, context: path)
                try FileSource(path: path).copy(to: decoder)
                try decoder.finish()
            }
        }
        return BuiltLayer(blob: blob, diffID: diffID, compression: target, entries: entries, whiteouts: whiteouts, dataBytes: bytes)
    }
}

extension ReadyLayer {
    /// The layer file exists and is not a directory.
    static func checkFile(_ path: String) throws {
        guard FS.exists(path) else { throw CommitError.source(path: path, reason: "no such layer file") }
        guard !FS.isDirectory(path) else {
            throw CommitError.source(path: path, reason: "is a directory; --layer takes a tar file (use --rootfs or --upper for directories)")
        }
    }
}

