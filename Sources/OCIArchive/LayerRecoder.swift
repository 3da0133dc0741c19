import Foundation
import OCICore
import OCIModel
import OCIStore

/// Re-encodes the layers of images to one compression (`--compress`):
/// `ImageRecord -> ImageRecord`. Each layer whose blob is not already in the
/// target compression is decoded and encoded again into a staging file of
/// `staging` while both digests are computed (bounded memory: nothing is
/// held whole). The uncompressed content, and so every diff_id, stays the
/// same, which is checked; the config bytes are untouched; the new manifest
/// gets the new digests, sizes and media types (the OCI family when the
/// target is zstd, else the image's own family) and is staged too.
///
/// A layer shared by several images is re-encoded once. Layers already in
/// the target compression are kept byte for byte; an image none of whose
/// layers changes is returned as it was (same manifest digest).
///
/// The staged blobs stay until `discard()` (after writing an archive), or
/// the caller publishes them into a store (`staged`).
public final class LayerRecoder {
    /// The compression every layer gets.
    public let target: LayerCompression
    private let staging: BlobStore
    private let level: Int?
    private let threads: Int
    private var done: [Digest: Recoded] = [:]
    /// Every blob staged so far (re-encoded layers and new manifests).
    public private(set) var staged: [StagedBlob] = []
    /// Told the path of each staging file as it is created (so that an
    /// interrupt handler can remove a half-written one).
    public var onStagingFile: (@Sendable (String) -> Void)?

    private struct Recoded {
        let digest: Digest
        let size: Int64
        let path: String
    }

    /// - Parameters:
    ///   - target: the compression of the new layers.
    ///   - staging: whose ingest area receives the new blobs.
    ///   - level: compression level (gzip 1-9, zstd 1-19); nil for the default.
    ///   - threads: zstd worker threads (0: one per core).
    public init(target: LayerCompression, staging: BlobStore, level: Int? = nil, threads: Int = 0) {
        self.target = target
        self.staging = staging
        self.level = level
        self.threads = threads > 0 ? threads : max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// The record with its layers in the target compression.
    /// - Throws: `ArchiveWriteError.blobMissing` for an absent layer,
    ///   `.diffIDMismatch` if a layer's content does not match its diff_id,
    ///   `CoreError.compression` for corrupt layers, I/O errors of staging.
    public func recode(_ record: ImageRecord) throws -> ImageRecord {
        let docker = ManifestRewrite.isDockerFamily(record)
        let toOCI = docker && target == .zstd
        let diffIDs = record.config.diffIDs
        var layers: [Descriptor] = []
        var newPaths: [Digest: String] = [:]
        var changed = false
        for (i, layer) in record.manifest.layers.enumerated() {
            var out = layer
            if toOCI { out.mediaType = ManifestRewrite.ociLayerType(layer.mediaType) }
            guard MediaType.isTarLayer(layer.mediaType) else {
                layers.append(out)
                continue
            }
            guard let path = try? record.path(of: layer.digest) else {
                // A non-distributable layer may be absent; it is kept as referenced.
                if MediaType.isNondistributable(layer.mediaType) {
                    layers.append(out)
                    continue
                }
                throw ArchiveWriteError.blobMissing(image: record.displayName, digest: layer.digest)
            }
            let actual = try Self.compression(ofFile: path, image: record, layer: layer.digest)
            if actual == target {
                layers.append(out)
                continue
            }
            let recoded = try recode(layer: layer.digest, path: path, from: actual,
                                     diffID: i < diffIDs.count ? diffIDs[i] : nil, image: record)
            out.mediaType = ManifestRewrite.layerType(original: layer.mediaType, docker: docker && !toOCI, compression: target)
            out.digest = recoded.digest
            out.size = recoded.size
            out.urls = nil
            out.annotations = layer.annotations?.filter { key, _ in
                !ManifestRewrite.blobSpecificAnnotationPrefixes.contains { key.hasPrefix($0) }
            }
            newPaths[recoded.digest] = recoded.path
            layers.append(out)
            changed = true
        }
        guard changed || toOCI else { return record }
        var result = try ManifestRewrite.apply(to: record, layers: layers, toOCI: toOCI)
        let manifest = try staging.stage(bytes: result.manifestBytes)
        onStagingFile?(manifest.path)
        staged.append(manifest)
        result.blobPaths[manifest.digest] = manifest.path
        for (d, p) in newPaths { result.blobPaths[d] = p }
        return result
    }

    /// Re-encodes every record.
    public func recode(_ records: [ImageRecord]) throws -> [ImageRecord] {
        try records.map { try recode($0) }
    }

    /// Deletes every staged blob.
    public func discard() {
        staged.forEach { $0.discard() }
        staged = []
        done = [:]
    }

    /// The compression of a layer blob, from its first bytes.
    static func compression(ofFile path: String, image: ImageRecord, layer: Digest) throws -> LayerCompression {
        let head = try FileSource(path: path).readPrefix(6)
        switch Compression.detect(head) {
        case .none: return .none
        case .gzip: return .gzip
        case .zstd: return .zstd
        case let other:
            throw ArchiveWriteError.invalid(image: image.displayName,
                                            message: "layer \(layer.shortID) is \(other.rawValue)-compressed; only tar, gzip and zstd layers are supported")
        }
    }

    private func recode(layer: Digest, path: String, from actual: LayerCompression, diffID: Digest?, image: ImageRecord) throws -> Recoded {
        if let r = done[layer] { return r }
        let context = "layer \(layer.shortID) of \(image.displayName)"
        guard let source = Compression(rawValue: actual.rawValue), let dest = Compression(rawValue: target.rawValue) else {
            throw ArchiveWriteError.invalid(image: image.displayName, message: "\(context): unknown compression")
        }
        let large = ((try? FS.size(path)) ?? 0) >= 4 << 20
        let writer = try staging.beginStaging(parallel: large)
        onStagingFile?(writer.path)
        do {
            // read -> decode -> (diff_id hash | encode -> staging file + digest);
            // for large layers the hash and the encoder each run on a worker thread.
            let encoder = try dest.encoder(into: writer, level: level, threads: threads, context: context)
            let diffDigest = DigestingSink()
            let fanOut = large ? TeeSink(AsyncSink(inner: diffDigest), AsyncSink(inner: encoder), finishing: true) : TeeSink(diffDigest, encoder, finishing: true)
            let decoder = try source.decoder(into: fanOut, context: context)
            try FileSource(path: path).copy(to: decoder)
            try decoder.finish()
            let blob = try writer.close()
            let uncompressed = try diffDigest.digest()
            if let diffID, uncompressed != diffID {
                throw ArchiveWriteError.diffIDMismatch(image: image.displayName, layer: layer, expected: diffID, actual: uncompressed)
            }
            staged.append(blob)
            let r = Recoded(digest: blob.digest, size: blob.size, path: blob.path)
            done[layer] = r
            return r
        } catch {
            writer.abandon()
            throw error
        }
    }
}

