/// Every path an analysis met, interned once: a name and the index of the
/// parent, so a path costs one short string however deep it is, and a file
/// list or an HTML report can name paths by number.
///
/// Index 0 is the root (`/`, empty name, parent -1).
public struct AnalysisPathTable: Sendable {
    /// The last component of each path ("" for the root).
    public private(set) var names: [String] = [""]
    /// The parent of each path (-1 for the root).
    public private(set) var parents: [Int32] = [-1]
    private var lookup: [Key: Int32] = [:]

    private struct Key: Hashable {
        var parent: Int32
        var name: String
    }

    /// The root's index.
    public static let root: Int32 = 0

    public init() {}

    /// Number of paths.
    public var count: Int { names.count }

    /// The index of `name` below `parent`, added when new.
    mutating func intern(_ parent: Int32, _ name: String) -> Int32 {
        let key = Key(parent: parent, name: name)
        if let id = lookup[key] { return id }
        let id = Int32(names.count)
        names.append(name)
        parents.append(parent)
        lookup[key] = id
        return id
    }

    /// The index of a path given as components from the root, added when new.
    mutating func intern(_ components: [String]) -> Int32 {
        var id = Self.root
        for c in components { id = intern(id, c) }
        return id
    }

    /// The index of an existing child, nil when unknown.
    func child(_ parent: Int32, _ name: String) -> Int32? { lookup[Key(parent: parent, name: name)] }

    /// The parent of `id` (-1 for the root).
    public func parent(_ id: Int32) -> Int32 { parents[Int(id)] }

    /// The last component of `id`.
    public func name(_ id: Int32) -> String { names[Int(id)] }

    /// Number of components (0 for the root).
    public func depth(_ id: Int32) -> Int {
        var d = 0
        var cur = id
        while cur > 0 {
            d += 1
            cur = parents[Int(cur)]
        }
        return d
    }

    /// The components of `id`, from the root.
    public func components(_ id: Int32) -> [String] {
        var out: [String] = []
        var cur = id
        while cur > 0 {
            out.append(names[Int(cur)])
            cur = parents[Int(cur)]
        }
        return out.reversed()
    }

    /// The absolute path of `id` (`/` for the root), as `diff` prints it.
    public func path(_ id: Int32) -> String { "/" + components(id).joined(separator: "/") }

    /// Orders two paths by the bytes of their absolute paths (the order of
    /// `ocitool diff`).
    public func precedes(_ a: Int32, _ b: Int32) -> Bool {
        ByteOrder.precedes(path(a), path(b))
    }

    /// `ids` (duplicates dropped) in the byte order of their absolute paths,
    /// without building those paths: a walk of the tree they span where each
    /// child sorts twice among its siblings, as itself (`name`) and as the
    /// parent of its descendants (`name/`); so `/lib`, `/lib-x`, `/lib/a`
    /// come out as `diff` sorts them. Cost grows with the paths and their
    /// ancestors, not with their lengths squared.
    public func sortedByPath(_ ids: [Int32]) -> [Int32] {
        let wanted = Set(ids)
        var kids: [Int32: [Int32]] = [:]
        var included: Set<Int32> = [Self.root]
        for id in wanted {
            var cur = id
            while cur > 0, included.insert(cur).inserted {
                let p = parents[Int(cur)]
                kids[p, default: []].append(cur)
                cur = p
            }
        }
        var out: [Int32] = []
        out.reserveCapacity(wanted.count)
        if wanted.contains(Self.root) { out.append(Self.root) }
        var stack: [(id: Int32, descend: Bool)] = []
        func pushChildren(of p: Int32) {
            guard let list = kids[p] else { return }
            var items: [(key: [UInt8], id: Int32, descend: Bool)] = []
            for c in list {
                let name = Array(names[Int(c)].utf8)
                items.append((name, c, false))
                if kids[c] != nil { items.append((name + [UInt8(ascii: "/")], c, true)) }
            }
            items.sort { ByteOrder.precedes($0.key, $1.key) }
            for it in items.reversed() { stack.append((it.id, it.descend)) }
        }
        pushChildren(of: Self.root)
        while let (id, descend) = stack.popLast() {
            if descend { pushChildren(of: id) } else if wanted.contains(id) { out.append(id) }
        }
        return out
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// Byte order of UTF-8 strings (the order `diff` and `tar --sort=name`
/// use), with `memcmp`: sorting 100k paths stays fast in a debug build.
enum ByteOrder {
    static func precedes(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        let n = min(a.count, b.count)
        let c: Int32 = a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                guard n > 0, let x = pa.baseAddress, let y = pb.baseAddress else { return 0 }
                return memcmp(x, y, n)
            }
        }
        return c != 0 ? c < 0 : a.count < b.count
    }

    static func precedes(_ a: String, _ b: String) -> Bool { precedes(Array(a.utf8), Array(b.utf8)) }
}
