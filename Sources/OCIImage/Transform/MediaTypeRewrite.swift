import Foundation
import OCICore
import OCIModel

/// Rewrites an image manifest's raw JSON: new layer descriptors and/or the
/// OCI media-type family, keeping every other field (annotations, subject,
/// unknown keys) as it was. The result is serialised with `CanonicalJSON`
/// (sorted keys, no escaped slashes), so the same edit gives the same bytes.
public enum ManifestRewrite {
    /// Layer annotations that describe one particular compressed blob
    /// (eStargz / zstd:chunked tables of contents); they are dropped when a
    /// layer is re-encoded because they would no longer be true.
    public static let blobSpecificAnnotationPrefixes = [
        "containerd.io/snapshot/stargz/", "io.containers.estargz.", "io.containers.zstd-chunked.",
    ]

    /// Converts a Docker-family layer media type to its OCI equivalent.
    public static func ociLayerType(_ t: String) -> String {
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
    public static func layerType(original: String, docker: Bool, compression: LayerCompression) -> String {
        guard MediaType.isNondistributable(original) else { return MediaType.layer(docker: docker, compression: compression) }
        switch (docker, compression) {
        case (true, .gzip): return MediaType.dockerForeignLayerGzip
        case (true, .none): return "application/vnd.docker.image.rootfs.foreign.diff.tar"
        case (_, .zstd): return MediaType.ociLayerNondistributableZstd
        case (false, .none): return MediaType.ociLayerNondistributable
        case (false, .gzip): return MediaType.ociLayerNondistributableGzip
        }
    }

    /// Returns `image` with a manifest whose layers are `layers` (same
    /// count and order) and, with `toOCI`, whose media types are OCI ones;
    /// new layer blobs are read from `files`. The config bytes are
    /// untouched; the manifest keeps every field it does not change.
    static func apply(to image: Image, layers: [Descriptor], toOCI: Bool, files: [Digest: String] = [:]) throws -> Image {
        let what = "manifest \(image.digest)"
        guard var object = try CanonicalJSON.object(from: image.manifest.bytes, what: what) as? [String: Any] else {
            throw ImageError.invalid(what, "not a JSON object")
        }
        guard let oldLayers = object["layers"] as? [Any], oldLayers.count == layers.count else {
            throw ImageError.invalid(what, "layer list does not match")
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
        let manifest = try Document(manifest: bytes, what: "rewritten \(what)")
        var descriptor = image.descriptor
        descriptor.mediaType = toOCI ? MediaType.ociManifest : (manifest.view.mediaType ?? image.descriptor.mediaType)
        descriptor.digest = manifest.digest
        descriptor.size = manifest.size
        let blobs: any BlobSource = files.isEmpty ? image.blobs : BlobMap(sourceName: image.blobs.sourceName, files: files, fallback: image.blobs)
        return try Image(descriptor: descriptor, manifest: manifest, config: image.config, names: image.names, blobs: blobs)
    }

    /// The image in the OCI media-type family (manifest, config descriptor
    /// and layer media types); unchanged if it already is one.
    public static func convertedToOCI(_ image: Image) throws -> Image {
        guard image.isDockerFamily else { return image }
        let layers = image.layers.map { l -> Descriptor in
            var l = l
            l.mediaType = ociLayerType(l.mediaType)
            return l
        }
        return try apply(to: image, layers: layers, toOCI: true)
    }

    /// The index with every child in the OCI family; the index itself
    /// becomes an OCI index when rendered.
    public static func convertedToOCI(_ index: ImageIndex) throws -> ImageIndex {
        try index.mapping { try convertedToOCI($0) }
    }
}
