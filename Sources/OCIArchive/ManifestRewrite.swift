import Foundation
import OCICore
import OCIModel

/// Rewrites an image manifest's raw JSON: new layer descriptors and/or the
/// OCI media-type family, keeping every other field (annotations, subject,
/// unknown keys) as it was. The result is serialised with `CanonicalJSON`
/// (sorted keys, no escaped slashes), so the same edit gives the same bytes.
enum ManifestRewrite {
    /// Layer annotations that describe one particular compressed blob
    /// (eStargz / zstd:chunked tables of contents); they are dropped when a
    /// layer is re-encoded because they would no longer be true.
    static let blobSpecificAnnotationPrefixes = [
        "containerd.io/snapshot/stargz/", "io.containers.estargz.", "io.containers.zstd-chunked.",
    ]

    /// Converts a Docker-family layer media type to its OCI equivalent.
    static func ociLayerType(_ t: String) -> String {
        switch t {
        case MediaType.dockerLayer: return MediaType.ociLayer
        case MediaType.dockerLayerGzip: return MediaType.ociLayerGzip
        case MediaType.dockerForeignLayerGzip: return MediaType.ociLayerNondistributableGzip
        case "application/vnd.docker.image.rootfs.foreign.diff.tar": return MediaType.ociLayerNondistributable
        default: return t
        }
    }

    /// The layer media type for `compression` in a family, keeping a
    /// non-distributable layer non-distributable.
    static func layerType(original: String, docker: Bool, compression: LayerCompression) -> String {
        guard MediaType.isNondistributable(original) else { return MediaType.layer(docker: docker, compression: compression) }
        switch (docker, compression) {
        case (true, .gzip): return MediaType.dockerForeignLayerGzip
        case (true, .none): return "application/vnd.docker.image.rootfs.foreign.diff.tar"
        case (_, .zstd): return MediaType.ociLayerNondistributableZstd
        case (false, .none): return MediaType.ociLayerNondistributable
        case (false, .gzip): return MediaType.ociLayerNondistributableGzip
        }
    }

    /// Is the record's manifest in the Docker media-type family?
    static func isDockerFamily(_ record: ImageRecord) -> Bool {
        MediaType.isDocker(record.manifest.mediaType ?? record.descriptor.mediaType)
    }

    /// Returns `record` with a manifest whose layers are `layers` (same
    /// count and order) and, with `toOCI`, whose media types are OCI ones.
    /// The config bytes are untouched. Blob paths are not changed: the
    /// caller adds paths for new blobs.
    static func apply(to record: ImageRecord, layers: [Descriptor], toOCI: Bool) throws -> ImageRecord {
        let what = "manifest \(record.descriptor.digest)"
        guard var object = try CanonicalJSON.object(from: record.manifestBytes, what: what) as? [String: Any] else {
            throw ArchiveWriteError.invalid(image: record.displayName, message: "\(what) is not a JSON object")
        }
        guard let oldLayers = object["layers"] as? [Any], oldLayers.count == layers.count else {
            throw ArchiveWriteError.invalid(image: record.displayName, message: "\(what): layer list does not match")
        }
        if toOCI {
            object["mediaType"] = MediaType.ociManifest
            if var config = object["config"] as? [String: Any] {
                if (config["mediaType"] as? String) == MediaType.dockerConfig { config["mediaType"] = MediaType.ociConfig }
                object["config"] = config
            }
        }
        var newLayers: [Any] = []
        for (old, new) in zip(oldLayers, layers) {
            var d = old as? [String: Any] ?? [:]
            d["mediaType"] = new.mediaType
            d["digest"] = new.digest.description
            d["size"] = NSNumber(value: new.size)
            if let a = new.annotations, !a.isEmpty { d["annotations"] = a } else { d.removeValue(forKey: "annotations") }
            if let u = new.urls, !u.isEmpty { d["urls"] = u } else { d.removeValue(forKey: "urls") }
            newLayers.append(d)
        }
        object["layers"] = newLayers
        let bytes = try CanonicalJSON.encode(object: object)
        let manifest = try Manifest.parse(bytes, what: "rewritten \(what)")
        var descriptor = Descriptor(mediaType: toOCI ? MediaType.ociManifest : (manifest.mediaType ?? record.descriptor.mediaType),
                                    digest: SHA256Hasher.digest(bytes), size: Int64(bytes.count))
        descriptor.platform = record.descriptor.platform
        var out = record
        out.descriptor = descriptor
        out.manifestBytes = bytes
        out.manifest = manifest
        return out
    }

    /// The record in the OCI media-type family (manifest, config descriptor
    /// and layer media types); unchanged if it already is one.
    static func convertedToOCI(_ record: ImageRecord) throws -> ImageRecord {
        guard isDockerFamily(record) else { return record }
        let layers = record.manifest.layers.map { l -> Descriptor in
            var l = l
            l.mediaType = ociLayerType(l.mediaType)
            return l
        }
        return try apply(to: record, layers: layers, toOCI: true)
    }
}
