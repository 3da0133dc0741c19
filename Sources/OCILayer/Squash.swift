import Foundation
import OCICore
import OCIModel
import OCIStore
import OCIArchive

/// Flattens an image into one layer: the union view written as a single
/// tar (`UnionExporter`), with the config kept byte for byte except
/// `rootfs.diff_ids` (one) and `history` (one entry naming the squashed
/// range). The result is stored with `ImageStore.commit`.
public enum Squash {
    /// The image made.
    public struct Result: Sendable {
        /// The new manifest (its digest is the repo digest).
        public var manifest: Descriptor
        /// The new image ID (config digest).
        public var id: Digest
        /// The single layer as stored.
        public var layer: Descriptor
        /// Its uncompressed digest.
        public var diffID: Digest
        /// What the export of the stack wrote into the layer.
        public var export: UnionExporter.Report
    }

    /// Squashes `layers` of `record` into a new image in `store`.
    /// - Parameters:
    ///   - names: tags for the new image (none: stored untagged).
    ///   - compression: of the new layer blob.
    ///   - created: the history entry's `created`; default: the config's.
    /// - Throws: `LayerError` from the export, store and JSON errors; nothing
    ///   is left in the store on error.
    public static func squash(_ record: ImageRecord, layers: [LayerSource], into store: ImageStore,
                              names: [ImageReference] = [], compression: LayerCompression = .gzip,
                              created: String? = nil, limits: UnionLimits = .defaults,
                              skipUnsafe: Bool = false, warn: (String) -> Void = { _ in }) throws -> Result {
        let lock = try store.ingestLock()
        defer { lock.unlock() }
        var staged: [StagedBlob] = []
        do {
            // The layer: tar -> diff_id hasher -> compressor -> staging file.
            let staging = try store.blobs.beginStaging(parallel: true)
            let export: UnionExporter.Report
            let diffSink: DigestingSink
            do {
                let codec = Compression(rawValue: compression.rawValue) ?? .gzip
                let encoder = try codec.encoder(into: staging, context: "squashed layer")
                diffSink = DigestingSink(forwardingTo: encoder)
                export = try UnionExporter.export(layers, to: diffSink, name: "squashed layer", limits: limits,
                                                  skipUnsafe: skipUnsafe, warn: warn)
            } catch {
                staging.abandon()
                throw error
            }
            let layerBlob = try staging.close()
            staged.append(layerBlob)
            let diffID = try diffSink.digest()

            // Manifest family: the source's, except zstd, which only OCI has.
            let sourceType = record.manifest.mediaType ?? record.descriptor.mediaType
            let docker = MediaType.isDocker(sourceType) && compression != .zstd
            let layerDescriptor = Descriptor(mediaType: MediaType.layer(docker: docker, compression: compression),
                                             digest: layerBlob.digest, size: layerBlob.size)

            let configBytes = try squashedConfig(record, diffID: diffID, created: created)
            let configBlob = try store.blobs.stage(bytes: configBytes)
            staged.append(configBlob)
            var configType = record.manifest.config.mediaType
            if !docker && MediaType.isDocker(configType) { configType = MediaType.ociConfig }
            let manifest = Manifest(
                mediaType: docker ? MediaType.dockerManifest : MediaType.ociManifest,
                config: Descriptor(mediaType: configType, digest: configBlob.digest, size: configBlob.size),
                layers: [layerDescriptor],
                annotations: record.manifest.annotations)
            let manifestBlob = try store.blobs.stage(bytes: CanonicalJSON.encode(manifest))
            staged.append(manifestBlob)
            let descriptor = Descriptor(mediaType: manifest.mediaType ?? MediaType.ociManifest,
                                        digest: manifestBlob.digest, size: manifestBlob.size,
                                        platform: record.descriptor.platform)
            try store.commit(staged: staged, images: [(descriptor, names)])
            return Result(manifest: descriptor, id: configBlob.digest, layer: layerDescriptor, diffID: diffID, export: export)
        } catch {
            staged.forEach { $0.discard() }
            throw error
        }
    }

    /// The source config with one diff_id and one history entry; every
    /// other field is kept as it was.
    static func squashedConfig(_ record: ImageRecord, diffID: Digest, created: String?) throws -> [UInt8] {
        let what = "config \(record.id)"
        guard var object = try CanonicalJSON.object(from: record.configBytes, what: what) as? [String: Any] else {
            throw ModelError.badJSON(what, "not a JSON object")
        }
        var rootfs = object["rootfs"] as? [String: Any] ?? [:]
        rootfs["type"] = "layers"
        rootfs["diff_ids"] = [diffID.description]
        object["rootfs"] = rootfs
        let diffIDs = record.config.diffIDs
        let history = record.config.history ?? []
        var range = "\(diffIDs.count) layer(s)"
        if let first = diffIDs.first, let last = diffIDs.last {
            range += first == last ? " \(first)" : " \(first)..\(last)"
        }
        var entry: [String: Any] = [
            "created_by": "ocitool squash: \(range) of image \(record.id)",
            "comment": "squashed \(history.count) history entr\(history.count == 1 ? "y" : "ies") into one layer",
        ]
        if let when = created ?? record.config.created ?? history.last(where: { $0.created != nil })?.created {
            entry["created"] = when
        }
        object["history"] = [entry]
        return try CanonicalJSON.encode(object: object)
    }
}
