import OCICore

/// Errors of the blob and image stores.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    case notFound(String)
    case ambiguous(String, [String])
    case blobMissing(Digest)
    case digestMismatch(what: String, expected: Digest, actual: Digest)
    case sizeMismatch(what: String, expected: Int64, actual: Int64)
    case corrupt(String)
    case conflict(String)

    public var description: String {
        switch self {
        case let .notFound(ref): return "No such image: \(ref)"
        case let .ambiguous(ref, ids): return "\(ref) is ambiguous: matches \(ids.joined(separator: ", "))"
        case let .blobMissing(d): return "blob \(d) is missing from the store"
        case let .digestMismatch(what, expected, actual): return "\(what): digest mismatch: expected \(expected), content is \(actual)"
        case let .sizeMismatch(what, expected, actual): return "\(what): size mismatch: expected \(expected) bytes, content is \(actual)"
        case let .corrupt(msg): return "store is corrupt: \(msg)"
        case let .conflict(msg): return msg
        }
    }
}
