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
        var out: [Change] = []
        compare(ta.root, tb.root, prefix: "", into: &out)
        return out.sorted { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }
    }

    static func tree(_ side: Side, limits: UnionLimits) throws -> FileTree {
        switch side {
        case let .layers(l): return try FileTree.union(of: l, limits: limits)
        case let .directory(d): return try FileTree.scan(d)
        }
    }

    private static func compare(_ a: FileTree.Node, _ b: FileTree.Node, prefix: String, into out: inout [Change]) {
        for name in Set(a.children.keys).union(b.children.keys) {
            let path = prefix + "/" + name
            switch (a.children[name], b.children[name]) {
            case let (old?, new?):
                if old.facts != new.facts { out.append(Change(.changed, path)) }
                if old.facts.kind == .directory && new.facts.kind == .directory {
                    compare(old, new, prefix: path, into: &out)
                } else if new.facts.kind == .directory {
                    added(new, prefix: path, into: &out)
                }
            case (_?, nil):
                out.append(Change(.deleted, path))
            case let (nil, new?):
                out.append(Change(.added, path))
                added(new, prefix: path, into: &out)
            case (nil, nil):
                continue
            }
        }
    }

    private static func added(_ node: FileTree.Node, prefix: String, into out: inout [Change]) {
        for (name, child) in node.children {
            let path = prefix + "/" + name
            out.append(Change(.added, path))
            added(child, prefix: path, into: &out)
        }
    }
}
