import Foundation
import OCICore
import OCIModel
import OCIArchive
import OCIImage

/// Writes small OCI image layouts for tests: from hand-made layer tars (so
/// one layer stack can be given to ocitool, umoci and skopeo alike), or
/// from the blobs of an `Image`.
public enum ImageLayoutBuilder {
    /// Writes `dir` as an OCI layout holding one image tagged `tag` whose
    /// layers are `layers` (uncompressed tars, bottom first).
    /// - Returns: the image ID (config digest).
    @discardableResult
    public static func write(layers: [[UInt8]], to dir: String, tag: String = "t") throws -> Digest {
        try prepare(dir)
        var layerDescriptors: [[String: Any]] = []
        var diffIDs: [String] = []
        for bytes in layers {
            let d = try putBlob(bytes, in: dir)
            diffIDs.append(d.description)
            layerDescriptors.append(["mediaType": MediaType.ociLayer, "digest": d.description, "size": bytes.count])
        }
        let config: [String: Any] = [
            "architecture": Platform.host.architecture, "os": "linux",
            "created": "2023-11-14T22:13:20Z",
            "config": ["Cmd": ["/bin/sh"]],
            "rootfs": ["type": "layers", "diff_ids": diffIDs],
            "history": diffIDs.indices.map { ["created": "2023-11-14T22:13:20Z", "created_by": "test layer \($0 + 1)"] },
        ]
        let configBytes = try CanonicalJSON.encode(object: config)
        let configDigest = try putBlob(configBytes, in: dir)
        let manifest: [String: Any] = [
            "schemaVersion": 2, "mediaType": MediaType.ociManifest,
            "config": ["mediaType": MediaType.ociConfig, "digest": configDigest.description, "size": configBytes.count],
            "layers": layerDescriptors,
        ]
        let manifestBytes = try CanonicalJSON.encode(object: manifest)
        let manifestDigest = try putBlob(manifestBytes, in: dir)
        try writeIndex(dir, manifest: manifestDigest, size: manifestBytes.count, mediaType: MediaType.ociManifest, tag: tag)
        return configDigest
    }

    /// Writes `dir` as an OCI layout holding `record` tagged `tag`: config
    /// and layer blobs copied byte for byte; a Docker manifest is rewritten
    /// with the equivalent OCI media types (skopeo 1.9 does not find Docker
    /// manifests in an OCI layout's index, and umoci 0.4.7 reads only OCI).
    public static func write(record: Image, to dir: String, tag: String = "t") throws {
        try prepare(dir)
        _ = try putBlob(record.configBytes, in: dir)
        for d in record.manifest.layers.map(\.digest) {
            let dest = "\(dir)/blobs/sha256/\(d.encoded)"
            if FS.exists(dest) { continue }
            let src = try record.path(of: d)
            if link(src, dest) != 0 {
                let sink = try FileSink(creating: dest)
                try FileSource(path: src).copy(to: sink)
                try sink.finish()
            }
        }
        var manifestBytes = record.manifestBytes
        let type = record.mediaType
        if type != MediaType.ociManifest {
            let layers: [[String: Any]] = record.manifest.layers.map { l in
                var mt = l.mediaType
                if mt == MediaType.dockerLayer { mt = MediaType.ociLayer }
                if mt == MediaType.dockerLayerGzip || mt == MediaType.dockerForeignLayerGzip { mt = MediaType.ociLayerGzip }
                return ["mediaType": mt, "digest": l.digest.description, "size": l.size]
            }
            let manifest: [String: Any] = [
                "schemaVersion": 2, "mediaType": MediaType.ociManifest,
                "config": ["mediaType": MediaType.ociConfig, "digest": record.manifest.config.digest.description,
                           "size": record.manifest.config.size],
                "layers": layers,
            ]
            manifestBytes = try CanonicalJSON.encode(object: manifest)
        }
        let digest = try putBlob(manifestBytes, in: dir)
        try writeIndex(dir, manifest: digest, size: manifestBytes.count, mediaType: MediaType.ociManifest, tag: tag)
    }

    private static func prepare(_ dir: String) throws {
        try FS.makeDirectories(dir + "/blobs/sha256")
        try FS.writeAtomically(dir + "/oci-layout", bytes: Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
    }

    private static func putBlob(_ bytes: [UInt8], in dir: String) throws -> Digest {
        let d = SHA256Hasher.digest(bytes)
        try FS.writeAtomically("\(dir)/blobs/sha256/\(d.encoded)", bytes: bytes)
        return d
    }

    private static func writeIndex(_ dir: String, manifest: Digest, size: Int, mediaType: String, tag: String) throws {
        let index: [String: Any] = [
            "schemaVersion": 2, "mediaType": MediaType.ociIndex,
            "manifests": [["mediaType": mediaType, "digest": manifest.description, "size": size,
                           "annotations": [AnnotationKey.refName: tag]]],
        ]
        try FS.writeAtomically(dir + "/index.json", bytes: CanonicalJSON.encode(object: index))
    }
}
