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
    /// - Throws: `ModelError.badJSON`; `ModelError.invalid` naming a Docker
    ///   schema 1 manifest as such, wherever it is met (an OCI index entry,
    ///   a store, a registry).
    public static func parse(_ bytes: [UInt8], what: String) throws -> Manifest {
        do {
            return try CanonicalJSON.decode(Manifest.self, from: bytes, what: what)
        } catch {
            if isSchema1(bytes) { throw ModelError.invalid(what, schema1Message) }
            throw error
        }
    }

    /// The message for a Docker schema 1 manifest.
    public static let schema1Message = "Docker schema 1 manifests are not supported; convert the image to schema 2 or OCI first (e.g. skopeo copy --format v2s2)"

    /// Is `bytes` a Docker schema 1 manifest (`schemaVersion` 1, or a v1 media type)?
    public static func isSchema1(_ bytes: [UInt8]) -> Bool {
        struct Probe: Decodable {
            var schemaVersion: Int?
            var mediaType: String?
        }
        guard let p = try? CanonicalJSON.decode(Probe.self, from: bytes, what: "") else { return false }
        return p.schemaVersion == 1 || (p.mediaType?.hasPrefix("application/vnd.docker.distribution.manifest.v1") ?? false)
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
