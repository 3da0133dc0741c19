import OCICore
import OCIModel

/// A JSON document as stored (image-spec descriptor.md): its raw bytes,
/// which are the truth and are never re-serialised, their digest, and a
/// parsed view of the fields ocitool reads. Unknown fields survive because
/// the bytes do. The view's fields read through the document:
/// `image.config.history`, `image.manifest.layers`.
@dynamicMemberLookup
public struct Document<View: Sendable>: Sendable {
    /// The document exactly as read or written.
    public let bytes: [UInt8]
    /// The SHA-256 of `bytes`.
    public let digest: Digest
    /// The decoded view.
    public let view: View

    /// Size in bytes.
    public var size: Int64 { Int64(bytes.count) }

    /// A field of the parsed view.
    public subscript<T>(dynamicMember keyPath: KeyPath<View, T>) -> T { view[keyPath: keyPath] }

    /// A document from bytes already known to hash to `digest`.
    package init(bytes: [UInt8], digest: Digest, view: View) {
        self.bytes = bytes
        self.digest = digest
        self.view = view
    }
}

extension Document where View == Manifest {
    /// Parses a manifest, hashing its bytes.
    /// - Throws: `ModelError.badJSON` naming `what`.
    public init(manifest bytes: [UInt8], what: String) throws {
        self.init(bytes: bytes, digest: SHA256Hasher.digest(bytes), view: try Manifest.parse(bytes, what: what))
    }
}

extension Document where View == ImageConfig {
    /// Parses an image config, hashing its bytes.
    /// - Throws: `ModelError.badJSON` naming `what`.
    public init(config bytes: [UInt8], what: String) throws {
        self.init(bytes: bytes, digest: SHA256Hasher.digest(bytes), view: try ImageConfig.parse(bytes, what: what))
    }
}

extension Document where View == IndexManifest {
    /// Parses an image index, hashing its bytes.
    /// - Throws: `ModelError.badJSON` naming `what`.
    public init(index bytes: [UInt8], what: String) throws {
        self.init(bytes: bytes, digest: SHA256Hasher.digest(bytes), view: try IndexManifest.parse(bytes, what: what))
    }
}
