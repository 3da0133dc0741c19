import Foundation
import OCICore
import OCIModel

/// A multi-platform image: an image index (OCI index or Docker manifest
/// list) and the platform images it keeps, each a full `ImageRecord`.
/// Read with `--all-platforms`; written by `ArchiveWriter` as one blob for
/// the index, listed (with its names) in `index.json`, and the children's
/// blobs. image-spec image-index.md.
public struct PlatformIndexRecord: Sendable {
    /// The index's descriptor as the input listed it.
    public var descriptor: Descriptor
    /// The index document as read (unknown fields survive a rewrite).
    public var indexBytes: [UInt8]
    public var names: [ImageReference]
    /// The platform images, in the index's order.
    public var children: [ImageRecord]
    /// Index entries for each child (platform, annotations), same order.
    public var entries: [Descriptor]
    /// Entries dropped because their blobs were absent (for messages).
    public var pruned: [String]

    public init(descriptor: Descriptor, indexBytes: [UInt8], names: [ImageReference], children: [ImageRecord],
                entries: [Descriptor], pruned: [String]) {
        self.descriptor = descriptor
        self.indexBytes = indexBytes
        self.names = names
        self.children = children
        self.entries = entries
        self.pruned = pruned
    }

    /// How messages name this image.
    public var displayName: String { names.first?.familiarString ?? descriptor.digest.shortID }

    /// The index document for `children` (as they will be written): the
    /// original bytes when nothing changed, else the original JSON with its
    /// `manifests` replaced (digests, sizes and media types of the children
    /// as written; platform and annotations as listed) and, when a child is
    /// not a Docker manifest, the OCI index media type.
    func rendered(children: [ImageRecord]) throws -> (descriptor: Descriptor, bytes: [UInt8]) {
        let what = "index \(descriptor.digest)"
        guard var object = try CanonicalJSON.object(from: indexBytes, what: what) as? [String: Any] else {
            throw ArchiveWriteError.invalid(image: displayName, message: "\(what) is not a JSON object")
        }
        let originalEntries = object["manifests"] as? [Any] ?? []
        var list: [Any] = []
        for (child, entry) in zip(children, entries) {
            // Keep the original entry object (unknown fields), with this child's identity.
            var e = originalEntries.compactMap { $0 as? [String: Any] }
                .first { ($0["digest"] as? String) == entry.digest.description } ?? [:]
            e["mediaType"] = child.descriptor.mediaType.isEmpty ? (child.manifest.mediaType ?? MediaType.ociManifest) : child.descriptor.mediaType
            e["digest"] = child.descriptor.digest.description
            e["size"] = NSNumber(value: child.descriptor.size)
            list.append(e)
        }
        let docker = children.allSatisfy { MediaType.isDocker($0.manifest.mediaType ?? $0.descriptor.mediaType) }
        let mediaType = docker && (object["mediaType"] as? String) == MediaType.dockerManifestList ? MediaType.dockerManifestList : MediaType.ociIndex
        let unchanged = originalEntries.count == list.count
            && zip(children, entries).allSatisfy { $0.descriptor.digest == $1.digest }
            && (object["mediaType"] as? String ?? MediaType.ociIndex) == mediaType
        if unchanged {
            return (Descriptor(mediaType: mediaType, digest: descriptor.digest, size: Int64(indexBytes.count)), indexBytes)
        }
        object["manifests"] = list
        object["mediaType"] = mediaType
        let bytes = try CanonicalJSON.encode(object: object)
        return (Descriptor(mediaType: mediaType, digest: SHA256Hasher.digest(bytes), size: Int64(bytes.count)), bytes)
    }
}
