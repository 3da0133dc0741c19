/// Errors about image records and references.
public enum ModelError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `what` is not valid: `reason`.
    case invalid(String, String)
    /// A JSON document could not be parsed.
    case badJSON(String, String)

    public var description: String {
        switch self {
        case let .invalid(what, reason): return "invalid \(what): \(reason)"
        case let .badJSON(what, reason): return "\(what): not valid JSON for its type: \(reason)"
        }
    }
}
