import Foundation
import OCICore
import OCIModel

/// Re-encodes the layers of images to one compression (`--compress`):
/// `Image -> Image`. Each layer whose blob is not already in the target
/// compression is decoded and encoded again into a staging file while both
/// digests are computed (bounded memory: nothing is held whole). The
/// uncompressed content, and so every diff_id, stays the same, which is
/// checked; the config bytes are untouched; the manifest gets the new
/// digests, sizes and media types (the OCI family when the target is zstd,
/// else the image's own family).
///
/// A layer shared by several images is re-encoded once; layers already in
/// the target compression are kept byte for byte; an image none of whose
/// layers changes is returned as it was (same manifest digest). Layers a
/// source re-encoded while reading (`precomputed`) are used as they are.
///
/// The staged blobs stay until `discard()`, or until a destination adopts
/// them (the store renames them into place).
public final class LayerRecoder {
    public let plan: RecodePlan
    private let staging: BlobStore
    private var done: [Digest: RecodedLayer]
    /// Every re-encoded blob staged so far.
    public var staged: [StagedBlob] { done.values.map(\.staged) }
    /// Layers re-encoded (new blob digests).
    public private(set) var recodedLayers = Set<Digest>()
    /// Where a `recode` task per re-encoded layer is reported (bytes of the
    /// original blob read), if anywhere.
    public var progress: ProgressScope?

    /// - Parameters:
    ///   - staging: whose ingest area receives the new blobs.
    ///   - precomputed: layers already re-encoded (by original digest).
    public init(plan: RecodePlan, staging: BlobStore, precomputed: [Digest: RecodedLayer] = [:]) {
        self.plan = plan
        self.staging = staging
        done = precomputed.filter { $0.value.target == plan.target }
    }

    public var target: LayerCompression { plan.target }

    /// The entry with every image's layers in the target compression.
    /// Attestations of an index name image manifests by digest, which
    /// re-encoding changes: they are dropped when a child changes.
    public func recode(_ entry: ImageEntry) throws -> ImageEntry {
        switch entry {
        case let .image(i): return .image(try recode(i))
        case let .index(x):
            let mapped = try x.mapping { $0.isAttestation ? $0 : try recode($0) }
            let changed = zip(mapped.children, x.children).contains { $0.digest != $1.digest }
            return .index(changed ? mapped.dropping(reason: "attestation", where: \.isAttestation) : mapped)
        }
    }

    /// The image with its layers in the target compression.
    /// - Throws: `ImageError.blobMissing` for an absent layer,
    ///   `.diffIDMismatch` if a layer's content does not match its diff_id,
    ///   `CoreError.compression` for corrupt layers, I/O errors of staging.
    public func recode(_ image: Image) throws -> Image {
        let docker = image.isDockerFamily
        let toOCI = docker && target == .zstd
        let diffIDs = image.diffIDs
        var layers: [Descriptor] = []
        var files: [Digest: String] = [:]
        var changed = false
        for (i, layer) in image.layers.enumerated() {
            var out = layer
            if toOCI { out.mediaType = ManifestRewrite.ociLayerType(layer.mediaType) }
            guard MediaType.isTarLayer(layer.mediaType) else {
                layers.append(out)
                continue
            }
            let context = "layer \(layer.digest.shortID) of \(image.displayName)"
            let result: RecodedLayer
            if let r = done[layer.digest] {
                result = r
            } else {
                guard let path = image.blobs.path(of: layer.digest) else {
                    // A non-distributable layer may be absent; it is kept as referenced.
                    if MediaType.isNondistributable(layer.mediaType) {
                        layers.append(out)
                        continue
                    }
                    throw ImageError.blobMissing(layer.digest, source: image.blobs.sourceName)
                }
                let head = try FileSource(path: path).readPrefix(512)
                guard let from = try compression(head: head, context: context) else {
                    layers.append(out)
                    continue
                }
                result = try recode(path: path, layer: layer, from: from, context: context)
                guard result.original == layer.digest, result.originalSize == layer.size else {
                    result.staged.discard()
                    throw ImageError.blobMismatch(layer.digest, what: context,
                                                  message: "content is \(result.original) (\(result.originalSize) bytes), the manifest says \(layer.size) bytes")
                }
                done[layer.digest] = result
            }
            if i < diffIDs.count, result.diffID != diffIDs[i] {
                throw ImageError.diffIDMismatch(what: context, expected: diffIDs[i], actual: result.diffID)
            }
            out.mediaType = ManifestRewrite.layerType(original: layer.mediaType, docker: docker && !toOCI, compression: target)
            out.digest = result.staged.digest
            out.size = result.staged.size
            out.urls = nil
            out.annotations = layer.annotations?.filter { key, _ in
                !ManifestRewrite.blobSpecificAnnotationPrefixes.contains { key.hasPrefix($0) }
            }
            files[result.staged.digest] = result.staged.path
            recodedLayers.insert(result.staged.digest)
            layers.append(out)
            changed = true
        }
        guard changed || toOCI else { return image }
        return try ManifestRewrite.apply(to: image, layers: layers, toOCI: toOCI, files: files)
    }

    /// Deletes every staged blob.
    public func discard() {
        for r in done.values { r.staged.discard() }
        done = [:]
    }

    /// The compression a layer blob starting with `head` is re-encoded
    /// from; nil when it already has the target one.
    func compression(head: [UInt8], context: String) throws -> LayerCompression? {
        try Self.compression(head: head, context: context).flatMap { $0 == target ? nil : $0 }
    }

    static func compression(head: [UInt8], context: String) throws -> LayerCompression? {
        switch Compression.detect(head) {
        case .none: return LayerCompression.none
        case .gzip: return .gzip
        case .zstd: return .zstd
        case let other:
            throw ImageError.invalid(context, "\(other.rawValue)-compressed; only tar, gzip and zstd layers are supported")
        }
    }

    private func recode(path: String, layer: Descriptor, from: LayerCompression, context: String) throws -> RecodedLayer {
        let large = layer.size >= 4 << 20
        let writer = try staging.beginStaging(parallel: large)
        let task = progress?.task(id: "recode:" + layer.digest.description, label: layer.digest.shortID, phase: "recode", total: layer.size)
        defer { task?.finish() }
        do {
            let pipeline = try RecodePipeline(from: from, plan: plan, writer: writer, large: large, context: context)
            let input: ByteSink = task.map { CountingSink(forwardingTo: pipeline.input, progress: $0.bytes) } ?? pipeline.input
            let copied = try FileSource(path: path).copy(to: input)
            return try pipeline.finish(size: copied)
        } catch {
            writer.abandon()
            throw error
        }
    }
}
