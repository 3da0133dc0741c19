import OCICore

/// A content descriptor (image-spec descriptor.md): what a blob is, its
/// digest and size. Unknown fields of a parsed document survive because the
/// document's raw bytes are kept by its owner.
public struct Descriptor: Codable, Hashable, Sendable {
    public var mediaType: String
    public var digest: Digest
    public var size: Int64
    public var urls: [String]?
    public var annotations: [String: String]?
    public var platform: Platform?
    public var artifactType: String?

    public init(mediaType: String, digest: Digest, size: Int64, annotations: [String: String]? = nil, platform: Platform? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.annotations = annotations
        self.platform = platform
    }

    enum CodingKeys: String, CodingKey {
        case mediaType, digest, size, urls, annotations, platform, artifactType
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        mediaType = try c.decodeIfPresent(String.self, forKey: .mediaType) ?? ""
        digest = try c.decode(Digest.self, forKey: .digest)
        size = try c.decode(Int64.self, forKey: .size)
        urls = try c.decodeIfPresent([String].self, forKey: .urls)
        annotations = try c.decodeIfPresent([String: String].self, forKey: .annotations)
        platform = try c.decodeIfPresent(Platform.self, forKey: .platform)
        artifactType = try c.decodeIfPresent(String.self, forKey: .artifactType)
    }
}

/// Annotation keys used on index entries.
public enum AnnotationKey {
    /// The tag (image-spec annotations.md).
    public static let refName = "org.opencontainers.image.ref.name"
    /// The full image name containerd and Docker 25+ write.
    public static let containerdName = "io.containerd.image.name"
    /// BuildKit's marker of attestation manifests in an index.
    public static let dockerReferenceType = "vnd.docker.reference.type"
}
