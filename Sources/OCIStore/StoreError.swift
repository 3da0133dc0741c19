import OCICore

/// Errors of the image store.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    case notFound(String)
    case ambiguous(String, [String])
    case corrupt(String)
    case conflict(String)
    /// The store directory cannot be used: `reason`.
    case unusable(root: String, reason: String)

    public var description: String {
        switch self {
        case let .notFound(ref): return "No such image: \(ref)"
        case let .ambiguous(ref, ids): return "\(ref) is ambiguous: matches \(ids.joined(separator: ", "))"
        case let .corrupt(msg): return "store is corrupt: \(msg)"
        case let .conflict(msg): return msg
        case let .unusable(root, reason): return "store \(root): \(reason)"
        }
    }
}
