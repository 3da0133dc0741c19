import OCICore

/// What differs between two file-system trees, the way `docker diff` and
/// `podman diff` report it: `A` added, `C` changed, `D` deleted; the
/// children of an added directory are listed too, those of a deleted one
/// are not.
public enum ImageDiff {
    /// One side of a diff.
    public enum Side {
        /// The union view of a layer stack.
        case layers([LayerSource])
        /// A directory tree on disk (an unpacked root file system).
        case directory(String)
    }

    /// Added, changed or deleted (the letters docker prints).
    public enum Kind: String, Sendable, Equatable {
        case added = "A", changed = "C", deleted = "D"
    }

    /// One changed path (absolute, as inside a container).
    public struct Change: Sendable, Equatable, CustomStringConvertible {
        public var kind: Kind
        /// Starts with `/`.
        public var path: String
        public init(_ kind: Kind, _ path: String) {
            self.kind = kind
            self.path = path
        }
        /// `A /path`, as `docker diff` prints it.
        public var description: String { "\(kind.rawValue) \(path)" }
    }

    /// Changes that turn `a` into `b`, sorted by path (byte order).
    public static func diff(_ a: Side, _ b: Side, limits: UnionLimits = .defaults) throws -> [Change] {
        let ta = try tree(a, limits: limits)
        let tb = try tree(b, limits: limits)
        return compare(ta.root, tb.root).sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
    }

    static func tree(_ side: Side, limits: UnionLimits) throws -> FileTree {
        switch side {
        case let .layers(l): return try FileTree.union(of: l, limits: limits)
        case let .directory(d): return try FileTree.scan(d, limits: limits)
        }
    }

    /// The changes below two directories, with a work list (no recursion):
    /// each pair of directories present on both sides is compared once.
    private static func compare(_ a: FileTree.Node, _ b: FileTree.Node) -> [Change] {
        var out: [Change] = []
        var work: [(old: FileTree.Node?, new: FileTree.Node, prefix: String)] = [(a, b, "")]
        while let (old, new, prefix) = work.popLast() {
            guard let old else {
                // Everything below an added directory is added.
                for (name, child) in new.children {
                    let path = prefix + "/" + name
                    out.append(Change(.added, path))
                    if !child.children.isEmpty { work.append((nil, child, path)) }
                }
                continue
            }
            for name in old.children.keys where new.children[name] == nil {
                out.append(Change(.deleted, prefix + "/" + name))
            }
            for (name, n) in new.children {
                let path = prefix + "/" + name
                guard let o = old.children[name] else {
                    out.append(Change(.added, path))
                    if !n.children.isEmpty { work.append((nil, n, path)) }
                    continue
                }
                if o.facts != n.facts { out.append(Change(.changed, path)) }
                if o.facts.kind == .directory && n.facts.kind == .directory {
                    work.append((o, n, path))
                } else if n.facts.kind == .directory, !n.children.isEmpty {
                    work.append((nil, n, path))
                }
            }
        }
        return out
    }
}
