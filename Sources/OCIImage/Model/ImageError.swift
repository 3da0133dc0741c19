import OCICore

/// Errors about images as a whole: missing or changed blobs, images that
/// cannot be built or selected. Each names what it concerns.
public enum ImageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A blob the image needs is not in `source`.
    case blobMissing(Digest, source: String)
    /// A blob's bytes do not match its descriptor.
    case blobMismatch(Digest, what: String, message: String)
    /// A layer decompresses to something other than its diff_id.
    case diffIDMismatch(what: String, expected: Digest, actual: Digest)
    /// `what` is not valid: `reason`.
    case invalid(String, String)
    /// No image of `source` matches `ref`.
    case notFound(ref: String, source: String)
    /// `ref` matches several images.
    case ambiguous(ref: String, candidates: [String])
    /// No image for the platform asked for.
    case platform(String)

    public var description: String {
        switch self {
        case let .blobMissing(d, source): return "blob \(d) is missing from \(source)"
        case let .blobMismatch(d, what, message): return "\(what): blob \(d): \(message)"
        case let .diffIDMismatch(what, expected, actual): return "\(what): diff_id mismatch: config says \(expected), content is \(actual)"
        case let .invalid(what, reason): return "\(what): \(reason)"
        case let .notFound(ref, source): return "No such image in \(source): \(ref)"
        case let .ambiguous(ref, candidates): return "\(ref) is ambiguous: matches \(candidates.joined(separator: ", "))"
        case let .platform(message): return message
        }
    }
}
