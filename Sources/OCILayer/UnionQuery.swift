import OCICore

/// Reads single paths of an image's merged file system without unpacking
/// it (`ocitool ls`, `ocitool cat`): the layers are indexed once
/// (`UnionIndex`, headers only), and a file's content is streamed from the
/// one layer member that holds it.
public enum UnionQuery {
    /// One path of the union, as `ls` shows it.
    public struct Entry: Sendable, Equatable {
        /// Absolute path inside the image (`/etc/passwd`).
        public var path: String
        public var kind: TarEntry.Kind
        public var mode: UInt32
        public var uid: Int64
        public var gid: Int64
        public var size: Int64
        public var mtime: Int64
        /// Symlink target, verbatim.
        public var linkTarget: String?
        /// The layer (from 0, bottom first) that wrote the path; nil for implicit directories.
        public var layer: Int?
    }

    /// The entries at `path`: a directory's children (every descendant with
    /// `recursive`), sorted by name; the path itself when it is not a directory.
    /// Symlinks on the way are followed inside the image; the last one is not.
    /// - Throws: `LayerError.invalidEntry` when the path does not exist.
    public static func list(_ layers: [LayerSource], path: String, recursive: Bool = false,
                            limits: UnionLimits = .defaults) throws -> [Entry] {
        let index = try UnionIndex(layers: layers, limits: limits)
        let (node, shown) = try resolve(index, path, followLast: false)
        guard node.isDirectory else { return [entry(node, path: shown)] }
        var out: [Entry] = []
        var stack: [(UnionIndex.Node, String)] = [(node, shown == "/" ? "" : shown)]
        while let (dir, prefix) = stack.popLast() {
            var children: [Entry] = []
            for name in dir.children.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
                guard let child = dir.children[name] else { continue }
                let p = prefix + "/" + name
                children.append(entry(child, path: p))
                if recursive && child.isDirectory { stack.append((child, p)) }
            }
            out += children
        }
        return recursive ? out.sorted { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) } : out
    }

    /// Streams the content of the regular file at `path` into `sink`
    /// (symlinks followed inside the image).
    /// - Returns: the bytes written.
    /// - Throws: `LayerError.invalidEntry` when the path is missing or not a regular file.
    @discardableResult
    public static func cat(_ layers: [LayerSource], path: String, into sink: ByteSink, limits: UnionLimits = .defaults) throws -> Int64 {
        let index = try UnionIndex(layers: layers, limits: limits)
        let (node, shown) = try resolve(index, path, followLast: true)
        // The member holding the content: the group's for a hard-link member, else the node's own.
        let content = node.inode.map { (layer: $0.layer, ordinal: $0.ordinal) } ?? node.source
        guard let content, node.header.kind == .regular || node.header.kind == .hardlink else {
            throw LayerError.invalidEntry(layer: "image", entry: shown, reason: node.isDirectory ? "is a directory" : "is not a regular file (\(node.header.kind.rawValue))")
        }
        let layer = layers[content.layer]
        let reader = try layer.open(limits: index.limits)
        var ordinal = -1
        while let e = try reader.next() {
            ordinal += 1
            guard ordinal == content.ordinal else { continue }
            guard e.kind == .regular, e.size == node.header.size else {
                throw LayerError.invalidEntry(layer: layer.name, entry: e.path, reason: "the layer changed while being read")
            }
            return try reader.readData(into: sink)
        }
        throw LayerError.invalidEntry(layer: layer.name, entry: shown, reason: "the layer ended before the file")
    }

    /// The node at `path`, following symlinks inside the root (at most `SymlinkHops.max`).
    static func resolve(_ index: UnionIndex, _ path: String, followLast: Bool) throws -> (UnionIndex.Node, String) {
        var pending = Array(path.split(separator: "/", omittingEmptySubsequences: true).map(String.init).reversed())
        var cur = index.root
        var hops = 0
        func missing() -> LayerError { LayerError.invalidEntry(layer: "image", entry: path, reason: "no such file or directory") }
        while let c = pending.popLast() {
            if c == "." { continue }
            if c == ".." {
                if let p = cur.parent { cur = p }
                continue
            }
            guard cur.isDirectory, let child = cur.children[c] else { throw missing() }
            if child.header.kind == .symlink && (followLast || !pending.isEmpty) {
                hops += 1
                guard hops <= SymlinkHops.max else { throw LayerError.invalidEntry(layer: "image", entry: path, reason: "too many levels of symbolic links") }
                let target = child.header.linkTarget ?? ""
                if target.hasPrefix("/") { cur = index.root }
                pending += target.split(separator: "/", omittingEmptySubsequences: true).map(String.init).reversed()
                continue
            }
            cur = child
        }
        return (cur, cur.parent == nil ? "/" : "/" + cur.path)
    }

    static func entry(_ n: UnionIndex.Node, path: String) -> Entry {
        let h = n.header
        return Entry(path: path.isEmpty ? "/" : path, kind: h.kind == .hardlink ? .regular : h.kind, mode: h.mode, uid: h.uid,
                     gid: h.gid, size: h.kind == .regular ? h.size : 0, mtime: h.mtime, linkTarget: h.linkTarget,
                     layer: n.source?.layer ?? n.inode?.layer)
    }
}
