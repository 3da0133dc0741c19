/// The symlink step shared by every parent walk that stays inside a root
/// (`RootedDirectory` on disk, `UnionIndex` and the analyzer in memory):
/// counts the hops against Linux's limit and queues the target's
/// components for the walk to resolve next.
struct SymlinkHops {
    /// The most symlinks one resolution may expand (Linux's own limit).
    static let max = 40

    private var count = 0

    /// Follows the symlink at `shown` (its path, for messages) to `target`
    /// while resolving `components`: the target's components go onto
    /// `pending` (which is popped from the end).
    /// - Returns: true when the walk restarts at the root (an absolute
    ///   target), false to go on from the symlink's directory, nil when the
    ///   target is empty and `lenient` (the caller returns nil).
    /// - Throws: `LayerError.invalidEntry` past `max` hops or for an empty
    ///   target when not lenient.
    mutating func follow(_ target: String, at shown: @autoclosure () -> String, resolving components: [String],
                         pending: inout [String], lenient: Bool, _ ctx: EntryContext) throws -> Bool? {
        count += 1
        guard count <= Self.max else {
            throw ctx.invalid("too many levels of symbolic links resolving \(MemberPath.join(components))")
        }
        guard !target.isEmpty else {
            if lenient { return nil }
            throw ctx.invalid("\(shown()) is a symlink with an empty target")
        }
        pending.append(contentsOf: target.split(separator: "/", omittingEmptySubsequences: true).map(String.init).reversed())
        return target.hasPrefix("/")
    }
}

extension EntryContext {
    /// A parent component of `components` that exists and is neither a
    /// directory nor a symlink.
    func notADirectory(_ shown: String, parentOf components: [String]) -> LayerError {
        invalid("\(shown) is not a directory (needed as a parent of \(MemberPath.join(components)))")
    }
}
