/// Errors found while reading an image archive. Each names the archive and,
/// where it applies, the member.
public enum ArchiveError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `member` of `archive` is wrong: `message`.
    case member(archive: String, member: String, message: String)
    /// The archive as a whole is wrong.
    case archive(archive: String, message: String)

    public var description: String {
        switch self {
        case let .member(archive, member, message): return "\(archive): \(member): \(message)"
        case let .archive(archive, message): return "\(archive): \(message)"
        }
    }
}
