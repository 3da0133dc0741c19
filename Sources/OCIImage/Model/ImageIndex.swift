import Foundation
import OCICore
import OCIModel

/// A multi-platform image: an image index (OCI index or Docker manifest
/// list, image-spec image-index.md) with the platform images it lists.
/// Nested indexes are flattened into their parent when read.
///
/// `children` are the images present (verified, in the index's order);
/// `absent` are entries the input listed without their blobs (sparse saves)
/// or that are not images (artifacts). An index written anywhere lists only
/// what is present: its original bytes when nothing was left out or changed,
/// else a rewrite (`rendered`).
public struct ImageIndex: Sendable {
    /// The index's descriptor (media type, digest, size).
    public let descriptor: Descriptor
    /// The index document as read.
    public let document: Document<IndexManifest>
    /// Names, normalised.
    public let names: [ImageReference]
    /// Platform images present, in index order; each descriptor carries the
    /// entry's platform and annotations.
    public let children: [Image]
    /// Entries listed but left out (absent blobs, artifacts), for messages.
    public let absent: [AbsentEntry]
    /// The digest each child had in the index as read (children change
    /// digest when re-encoded); same order as `children`.
    let entryDigests: [Digest]

    /// An index entry that is not among `children`.
    public struct AbsentEntry: Sendable, Equatable {
        public let descriptor: Descriptor
        /// Why: `manifest absent`, `blob … absent`, `artifact …`, `attestation`.
        public let reason: String
        public init(descriptor: Descriptor, reason: String) {
            self.descriptor = descriptor
            self.reason = reason
        }
        /// `linux/arm64 (manifest absent)`.
        public var label: String { "\(descriptor.platform?.description ?? descriptor.digest.shortID) (\(reason))" }
    }

    /// - Throws: `ImageError.invalid` when the descriptor does not match the document.
    public init(descriptor: Descriptor, document: Document<IndexManifest>, names: [ImageReference] = [],
                children: [Image], absent: [AbsentEntry] = []) throws {
        guard descriptor.digest == document.digest, descriptor.size == document.size else {
            throw ImageError.invalid("index \(descriptor.digest)", "descriptor does not match the index document (\(document.digest), \(document.size) bytes)")
        }
        self.descriptor = descriptor
        self.document = document
        self.names = names
        self.children = children
        self.absent = absent
        entryDigests = children.map(\.digest)
    }

    private init(unchecked descriptor: Descriptor, _ document: Document<IndexManifest>, _ names: [ImageReference],
                 _ children: [Image], _ absent: [AbsentEntry], _ entryDigests: [Digest]) {
        self.descriptor = descriptor
        self.document = document
        self.names = names
        self.children = children
        self.absent = absent
        self.entryDigests = entryDigests
    }

    /// The index digest (docker's image ID for a multi-platform image in a containerd store).
    public var digest: Digest { descriptor.digest }
    /// How messages name the index.
    public var displayName: String { names.first?.familiarString ?? digest.shortID }
    /// Platform images that are not attestations.
    public var platformImages: [Image] { children.filter { !$0.isAttestation } }
    /// Platforms present, as `os/arch[/variant]`.
    public var platforms: [String] { platformImages.compactMap { $0.platform?.description } }

    /// The same index under other names.
    public func named(_ names: [ImageReference]) -> ImageIndex {
        ImageIndex(unchecked: descriptor, document, names, children, absent, entryDigests)
    }

    /// The same index with each child mapped (re-encoded, converted to OCI
    /// media types), in the same order.
    public func mapping(_ transform: (Image) throws -> Image) rethrows -> ImageIndex {
        ImageIndex(unchecked: descriptor, document, names, try children.map(transform), absent, entryDigests)
    }

    /// The same index without the children `drop` selects; they become absent with `reason`.
    public func dropping(reason: String, where drop: (Image) -> Bool) -> ImageIndex {
        var kept: [Image] = []
        var keptDigests: [Digest] = []
        var gone: [AbsentEntry] = []
        for (child, original) in zip(children, entryDigests) {
            if drop(child) {
                gone.append(AbsentEntry(descriptor: child.descriptor, reason: reason))
            } else {
                kept.append(child)
                keptDigests.append(original)
            }
        }
        return ImageIndex(unchecked: descriptor, document, names, kept, absent + gone, keptDigests)
    }

    /// The index document for the children as they are now: the original
    /// bytes when nothing was left out or changed; else the original JSON
    /// with `manifests` replaced by the children's entries (each keeping
    /// the original entry's unknown fields, platform and annotations, with
    /// the child's digest, size and media type) and, when a child is not a
    /// Docker manifest, the OCI index media type. Serialised canonically.
    public func rendered() throws -> (descriptor: Descriptor, bytes: [UInt8]) {
        let what = "index \(descriptor.digest)"
        let unchanged = absent.isEmpty && children.count == document.view.manifests.count
            && zip(children, document.view.manifests).allSatisfy { $0.digest == $1.digest }
            && zip(children, entryDigests).allSatisfy { $0.digest == $1 }
        if unchanged { return (descriptor, document.bytes) }
        guard var object = try CanonicalJSON.object(from: document.bytes, what: what) as? [String: Any] else {
            throw ImageError.invalid(what, "not a JSON object")
        }
        let original = (object["manifests"] as? [Any] ?? []).compactMap { $0 as? [String: Any] }
        var list: [Any] = []
        for (child, was) in zip(children, entryDigests) {
            // The original entry object (unknown fields, platform, annotations), with this child's identity.
            var e = original.first { ($0["digest"] as? String) == was.description } ?? [:]
            e["mediaType"] = child.mediaType
            e["digest"] = child.digest.description
            e["size"] = NSNumber(value: child.descriptor.size)
            if e["platform"] == nil, let p = child.platform {
                var po: [String: Any] = ["os": p.os, "architecture": p.architecture]
                if let v = p.variant { po["variant"] = v }
                e["platform"] = po
            }
            list.append(e)
        }
        let docker = children.allSatisfy(\.isDockerFamily)
        let mediaType = docker && (object["mediaType"] as? String) == MediaType.dockerManifestList ? MediaType.dockerManifestList : MediaType.ociIndex
        object["manifests"] = list
        object["mediaType"] = mediaType
        let bytes = try CanonicalJSON.encode(object: object)
        return (Descriptor(mediaType: mediaType, digest: SHA256Hasher.digest(bytes), size: Int64(bytes.count)), bytes)
    }

    /// The index as it will be written: `rendered()` as an index of its own.
    public func normalised() throws -> ImageIndex {
        let (d, bytes) = try rendered()
        if d.digest == descriptor.digest { return self }
        let doc = Document(bytes: bytes, digest: d.digest, view: try IndexManifest.parse(bytes, what: "index \(d.digest)"))
        return ImageIndex(unchecked: d, doc, names, children, [], children.map(\.digest))
    }
}
