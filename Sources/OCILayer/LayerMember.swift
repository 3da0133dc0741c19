import OCICore

/// What one tar member of a layer means for the union view (image-spec
/// layer.md): a file-system entry, a whiteout, or an opaque marker, with its
/// path cleaned into components below the root.
enum LayerMember: Equatable {
    /// A file-system entry at `components` (empty: the root itself).
    case entry([String])
    /// `.wh.NAME`: remove `name` from the lower layers' content of `parent`.
    case whiteout(parent: [String], name: String)
    /// `.wh..wh..opq`: hide every lower-layer child of `directory`.
    case opaque(directory: [String])
    /// An AUFS meta entry (`.wh..wh.plnk`, `.wh..wh.aufs`…): ignored.
    case aufsMeta

    static let whiteoutPrefix = ".wh."
    static let opaqueName = ".wh..wh..opq"

    /// Classifies `entry`.
    /// - Throws: `LayerError.unsafeEntry` for `..` escapes and malformed whiteouts.
    static func classify(_ entry: TarEntry, _ ctx: EntryContext) throws -> LayerMember {
        let comps = try MemberPath.components(entry.path, ctx)
        guard let last = comps.last, last.hasPrefix(whiteoutPrefix) else { return .entry(comps) }
        let parent = Array(comps.dropLast())
        if last == opaqueName { return .opaque(directory: parent) }
        if last.hasPrefix(whiteoutPrefix + whiteoutPrefix) { return .aufsMeta }
        let name = String(last.dropFirst(whiteoutPrefix.count))
        if name.isEmpty { throw ctx.unsafe("whiteout with an empty name") }
        if name == "." || name == ".." { throw ctx.unsafe("whiteout of \"\(name)\"") }
        return .whiteout(parent: parent, name: name)
    }
}

/// Cleans member paths and link targets.
enum MemberPath {
    /// Longest name of one component (Linux's `NAME_MAX`).
    static let nameMax = 255

    /// Splits `path` into components below the root: a leading `/` is
    /// dropped (absolute paths are taken relative to the root), `.` and empty
    /// components vanish, `..` removes the previous component.
    /// - Throws: `LayerError.unsafeEntry` when `..` would leave the root;
    ///   `LayerError.invalidEntry` for a component longer than `NAME_MAX`
    ///   (no Linux file system can hold it, so export refuses it as unpack does).
    static func components(_ path: String, _ ctx: EntryContext, what: String = "path") throws -> [String] {
        var out: [String] = []
        for c in path.split(separator: "/", omittingEmptySubsequences: true) {
            if c == "." { continue }
            if c.utf8.count > nameMax {
                throw ctx.invalid("\(what) has a component of \(c.utf8.count) bytes; Linux allows \(nameMax) (File name too long)")
            }
            if c == ".." {
                if out.isEmpty { throw ctx.unsafe("\(what) \(LayerError.quote(path)) leaves the root with \"..\"") }
                out.removeLast()
                continue
            }
            out.append(String(c))
        }
        return out
    }

    /// Components of a hard-link target (a member path, never the root).
    static func linkTarget(_ entry: TarEntry, _ ctx: EntryContext) throws -> [String] {
        let target = entry.linkTarget ?? ""
        let comps = try components(target, ctx, what: "hard-link target")
        if comps.isEmpty { throw ctx.unsafe("hard link to the root directory (\(LayerError.quote(target)))") }
        return comps
    }

    static func join(_ comps: [String]) -> String { comps.isEmpty ? "." : comps.joined(separator: "/") }
}
