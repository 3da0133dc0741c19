import OCICore

/// An image manifest (image-spec manifest.md), or a Docker v2 schema 2
/// manifest (same shape).
public struct Manifest: Codable, Sendable, Equatable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var artifactType: String?
    public var config: Descriptor
    public var layers: [Descriptor]
    public var subject: Descriptor?
    public var annotations: [String: String]?

    public init(mediaType: String, config: Descriptor, layers: [Descriptor], annotations: [String: String]? = nil) {
        schemaVersion = 2
        self.mediaType = mediaType
        self.config = config
        self.layers = layers
        self.annotations = annotations
    }

    /// Parses a manifest document.
    public static func parse(_ bytes: [UInt8], what: String) throws -> Manifest {
        try CanonicalJSON.decode(Manifest.self, from: bytes, what: what)
    }
}

/// An image index document (image-spec image-index.md) or Docker manifest
/// list. (The model of a multi-platform image built on it is `OCIImage.ImageIndex`.)
public struct IndexManifest: Codable, Sendable, Equatable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var manifests: [Descriptor]
    public var annotations: [String: String]?

    public init(manifests: [Descriptor], annotations: [String: String]? = nil) {
        schemaVersion = 2
        mediaType = MediaType.ociIndex
        self.manifests = manifests
        self.annotations = annotations
    }

    enum CodingKeys: String, CodingKey { case schemaVersion, mediaType, manifests, annotations }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schemaVersion = try c.decodeIfPresent(Int.self, forKey: .schemaVersion) ?? 2
        mediaType = try c.decodeIfPresent(String.self, forKey: .mediaType)
        // `manifests` may be empty; tolerate null as empty.
        manifests = try c.decodeIfPresent([Descriptor].self, forKey: .manifests) ?? []
        annotations = try c.decodeIfPresent([String: String].self, forKey: .annotations)
    }

    /// Parses an index document.
    public static func parse(_ bytes: [UInt8], what: String) throws -> IndexManifest {
        try CanonicalJSON.decode(IndexManifest.self, from: bytes, what: what)
    }
}

/// Just the `mediaType` of a document, to tell an index from a manifest
/// when the descriptor is silent or wrong.
public struct MediaTypeProbe: Decodable {
    public var mediaType: String?
    public var manifests: [Descriptor]?
    public var config: Descriptor?

    /// Does the document (listed with `listed` as its descriptor's media
    /// type) look like an index rather than a manifest?
    public func isIndex(listed: String?) -> Bool {
        MediaType.isIndex(listed) || MediaType.isIndex(mediaType) || (manifests != nil && config == nil)
    }
}
