import OCICore

/// The decoded view of an image configuration (image-spec config.md).
/// The raw bytes are the truth; this view only reads the fields ocitool needs.
public struct ImageConfig: Decodable, Sendable, Equatable {
    public var architecture: String?
    public var os: String?
    public var variant: String?
    public var created: String?
    public var author: String?
    public var rootfs: RootFS?
    public var history: [History]?

    public struct RootFS: Codable, Sendable, Equatable {
        public var type: String?
        public var diffIDs: [Digest]?
        enum CodingKeys: String, CodingKey {
            case type
            case diffIDs = "diff_ids"
        }
    }

    /// One history entry; `emptyLayer` entries have no diff_id.
    public struct History: Codable, Sendable, Equatable {
        public var created: String?
        public var createdBy: String?
        public var author: String?
        public var comment: String?
        public var emptyLayer: Bool?
        enum CodingKeys: String, CodingKey {
            case created, author, comment
            case createdBy = "created_by"
            case emptyLayer = "empty_layer"
        }
        public init(created: String?, createdBy: String?, author: String?, comment: String?, emptyLayer: Bool?) {
            self.created = created
            self.createdBy = createdBy
            self.author = author
            self.comment = comment
            self.emptyLayer = emptyLayer
        }
    }

    /// The diff_ids, or an empty list.
    public var diffIDs: [Digest] { rootfs?.diffIDs ?? [] }

    /// The platform the config names.
    public var platform: Platform {
        Platform(os: os ?? "linux", architecture: architecture ?? "unknown", variant: variant)
    }

    /// Parses a config document.
    public static func parse(_ bytes: [UInt8], what: String) throws -> ImageConfig {
        try CanonicalJSON.decode(ImageConfig.self, from: bytes, what: what)
    }
}
