import Foundation
import OCICore
import OCIModel
import OCIImage

/// Flattens an image into one layer: the union view written as a single
/// tar (`UnionExporter`), with the config kept byte for byte except
/// `rootfs.diff_ids` (one) and `history` (one entry naming the squashed
/// range). A mutation the copy engine applies (`ImageCopy.Options.mutate`).
public enum Squash {
    /// Squashes `image` into a new one-layer image whose layer is staged in `staging`.
    /// - Parameters:
    ///   - names: names of the new image.
    ///   - compression: of the new layer blob.
    ///   - created: the history entry's `created`; default: the config's.
    /// - Throws: `LayerError` from the export, staging and JSON errors; the
    ///   staged layer is removed on error.
    public static func mutate(_ image: Image, staging: BlobStore, names: [ImageReference] = [],
                              compression: LayerCompression = .gzip, created: String? = nil,
                              limits: UnionLimits = .defaults, skipUnsafe: Bool = false,
                              warn: (String) -> Void = { _ in }) throws -> MutatedImage {
        let layers = try LayerSource.layers(of: image)
        // The layer: tar -> diff_id hasher -> compressor -> staging file.
        let writer = try staging.beginStaging(parallel: true)
        let diffSink: DigestingSink
        do {
            let codec = Compression(rawValue: compression.rawValue) ?? .gzip
            let encoder = try codec.encoder(into: writer, context: "squashed layer")
            diffSink = DigestingSink(forwardingTo: encoder)
            try UnionExporter.export(layers, to: diffSink, name: "squashed layer", limits: limits, skipUnsafe: skipUnsafe, warn: warn)
        } catch {
            writer.abandon()
            throw error
        }
        let layerBlob = try writer.close()
        do {
            let diffID = try diffSink.digest()
            // Manifest family: the source's, except zstd, which only OCI has.
            let docker = image.isDockerFamily && compression != .zstd
            let layer = Descriptor(mediaType: MediaType.layer(docker: docker, compression: compression),
                                   digest: layerBlob.digest, size: layerBlob.size)
            let config = try Document(config: try squashedConfig(image, diffID: diffID, created: created), what: "squashed config")
            var configType = image.manifest.view.config.mediaType
            if !docker && MediaType.isDocker(configType) { configType = MediaType.ociConfig }
            let manifest = Manifest(mediaType: docker ? MediaType.dockerManifest : MediaType.ociManifest,
                                    config: Descriptor(mediaType: configType, digest: config.digest, size: config.size),
                                    layers: [layer], annotations: image.manifest.view.annotations)
            let document = try Document(manifest: try CanonicalJSON.encode(manifest), what: "squashed manifest")
            let descriptor = Descriptor(mediaType: manifest.mediaType ?? MediaType.ociManifest, digest: document.digest,
                                        size: document.size, platform: image.descriptor.platform)
            let squashed = try Image(descriptor: descriptor, manifest: document, config: config, names: names,
                                     blobs: BlobMap(sourceName: "squash", files: [layerBlob.digest: layerBlob.path]))
            return MutatedImage(image: squashed, staged: [layerBlob])
        } catch {
            layerBlob.discard()
            throw error
        }
    }

    /// The source config with one diff_id and one history entry; every
    /// other field is kept as it was.
    static func squashedConfig(_ image: Image, diffID: Digest, created: String?) throws -> [UInt8] {
        let what = "config \(image.id)"
        guard var object = try CanonicalJSON.object(from: image.config.bytes, what: what) as? [String: Any] else {
            throw ModelError.badJSON(what, "not a JSON object")
        }
        var rootfs = object["rootfs"] as? [String: Any] ?? [:]
        rootfs["type"] = "layers"
        rootfs["diff_ids"] = [diffID.description]
        object["rootfs"] = rootfs
        let diffIDs = image.diffIDs
        let history = image.config.view.history ?? []
        var range = "\(diffIDs.count) layer(s)"
        if let first = diffIDs.first, let last = diffIDs.last {
            range += first == last ? " \(first)" : " \(first)..\(last)"
        }
        var entry: [String: Any] = [
            "created_by": "ocitool squash: \(range) of image \(image.id)",
            "comment": "squashed \(history.count) history entr\(history.count == 1 ? "y" : "ies") into one layer",
        ]
        if let when = created ?? image.config.view.created ?? history.last(where: { $0.created != nil })?.created {
            entry["created"] = when
        }
        object["history"] = [entry]
        return try CanonicalJSON.encode(object: object)
    }
}
