import OCICore

/// Errors raised while choosing, re-encoding or writing images into an
/// archive. Each names the image (its first name, or short ID) it concerns.
public enum ArchiveWriteError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No image was given to write.
    case noImages
    /// A docker-format reader cannot take this layer (zstd).
    case layerUnsupportedByFlavour(image: String, layer: Digest, reason: String)
    /// A blob the image needs is not on disk.
    case blobMissing(image: String, digest: Digest)
    /// A blob's bytes do not match its descriptor (size or digest).
    case blobMismatch(image: String, digest: Digest, message: String)
    /// A re-encoded layer decompressed to something other than its diff_id.
    case diffIDMismatch(image: String, layer: Digest, expected: Digest, actual: Digest)
    /// `ref` does not name an image of `source`.
    case notFound(ref: String, source: String)
    /// `ref` matches several images.
    case ambiguous(ref: String, ids: [String])
    /// The image is not for the platform asked for.
    case platformMismatch(image: String, has: String, wanted: String)
    /// The image cannot be written for another reason.
    case invalid(image: String, message: String)

    public var description: String {
        switch self {
        case .noImages:
            return "no images to save"
        case let .layerUnsupportedByFlavour(image, layer, reason):
            return "\(image): layer \(layer.shortID): \(reason)"
        case let .blobMissing(image, digest):
            return "\(image): blob \(digest) is missing"
        case let .blobMismatch(image, digest, message):
            return "\(image): blob \(digest): \(message)"
        case let .diffIDMismatch(image, layer, expected, actual):
            return "\(image): layer \(layer.shortID) decompresses to \(actual), but the config's diff_id is \(expected)"
        case let .notFound(ref, source):
            return "No such image in \(source): \(ref)"
        case let .ambiguous(ref, ids):
            return "\(ref) is ambiguous: matches \(ids.joined(separator: ", "))"
        case let .platformMismatch(image, has, wanted):
            return "\(image) is for platform \(has), not \(wanted)"
        case let .invalid(image, message):
            return "\(image): \(message)"
        }
    }
}
