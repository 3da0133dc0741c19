import OCICore

/// dive's efficiency bookkeeping (wagoodman/dive `filetree/efficiency.go`),
/// fed member by member during the one pass.
///
/// dive builds one tree per layer from its members (parents made as empty
/// nodes, a repeated path keeps its last member, `.wh..wh..*` names left
/// out) and visits that tree's leaves. Each leaf path adds its size to the
/// path's cumulative size and lowers the path's minimum: a file's size is
/// its header size (0 for hard links, symlinks, directories); a `.wh.NAME`
/// leaf counts, under NAME's path, the summed sizes below NAME in the layers
/// underneath when NAME was a directory, and 0 when it was a file. Then
/// efficiency = Σ minimum / Σ cumulative over all paths, and the wasted
/// bytes are the cumulative sizes of the paths met more than once.
///
/// Where dive's own stacking is wrong (it ignores opaque directories and
/// does not follow symlinked parents), the lower tree used for a whiteout
/// is the real union view, without what the same layer wrote earlier; a
/// whiteout of a path that does not exist counts 0 (dive stops visiting the
/// layer there with an error).
struct DiveAccumulator {
    struct PathStat {
        var cumulative: Int64 = 0
        var minimum: Int64 = -1
        var references = 0
    }

    /// A node of dive's layer tree: a path (literal components, interned),
    /// or the `.wh.NAME` node that names path NAME.
    struct NodeKey: Hashable {
        var path: Int32
        var whiteout: Bool
    }

    private(set) var stats: [Int32: PathStat] = [:]
    private(set) var layerSizes: [Int64] = []
    private var nodes: [NodeKey: Int64] = [:]
    private var hasChildren: Set<Int32> = []
    private var currentSize: Int64 = 0

    mutating func beginLayer() {
        nodes.removeAll(keepingCapacity: true)
        hasChildren.removeAll(keepingCapacity: true)
        currentSize = 0
    }

    /// One member, seen before it is applied (a whiteout's lower tree is
    /// still there).
    mutating func member(_ entry: TarEntry, _ member: LayerMember, analyzer: LayerStackAnalyzer, _ ctx: EntryContext) {
        guard let comps = try? MemberPath.components(entry.path, ctx), let last = comps.last else { return }
        currentSize +|= max(0, entry.size)
        let parent = analyzer.paths.intern(Array(comps.dropLast()))
        if last.hasPrefix(".wh..wh..") {
            if parent != AnalysisPathTable.root, nodes[NodeKey(path: parent, whiteout: false)] == nil {
                nodes[NodeKey(path: parent, whiteout: false)] = 0
            }
            markAncestors(of: parent, analyzer.paths)
            return
        }
        if last.hasPrefix(LayerMember.whiteoutPrefix) {
            let name = String(last.dropFirst(LayerMember.whiteoutPrefix.count))
            let target = analyzer.paths.intern(parent, name)
            var literal = Array(comps.dropLast())
            literal.append(name)
            nodes[NodeKey(path: target, whiteout: true)] = analyzer.lowerSubtreeSize(literal: literal)
            markAncestors(of: target, analyzer.paths)
            return
        }
        let id = analyzer.paths.intern(parent, last)
        nodes[NodeKey(path: id, whiteout: false)] = max(0, entry.size)
        markAncestors(of: id, analyzer.paths)
    }

    /// Makes every ancestor of `id` a node with a child (stops at the first
    /// one already marked: its own ancestors are marked too).
    private mutating func markAncestors(of id: Int32, _ paths: AnalysisPathTable) {
        var cur = paths.parent(id)
        while cur > 0, hasChildren.insert(cur).inserted {
            let key = NodeKey(path: cur, whiteout: false)
            if nodes[key] == nil { nodes[key] = 0 }
            cur = paths.parent(cur)
        }
    }

    /// Visits the finished layer tree's leaves.
    mutating func endLayer(index: Int) {
        layerSizes.append(currentSize)
        for (key, size) in nodes where key.whiteout || !hasChildren.contains(key.path) {
            var s = stats[key.path, default: PathStat()]
            s.cumulative +|= size
            if s.minimum < 0 || size < s.minimum { s.minimum = size }
            s.references += 1
            stats[key.path] = s
        }
        nodes.removeAll()
        hasChildren.removeAll()
    }

    /// The figures, by dive's definitions.
    func figures(_ paths: AnalysisPathTable) -> DiveFigures {
        var minimum: Int64 = 0, discovered: Int64 = 0, wasted: Int64 = 0
        var inefficient: [(id: Int32, references: Int, size: Int64)] = []
        for (id, s) in stats {
            minimum +|= max(0, s.minimum)
            discovered +|= s.cumulative
            if s.references >= 2 {
                wasted +|= s.cumulative
                if s.cumulative > 0 { inefficient.append((id, s.references, s.cumulative)) }
            }
        }
        let rank = Dictionary(uniqueKeysWithValues: paths.sortedByPath(inefficient.map(\.id)).enumerated().map { ($1, $0) })
        inefficient.sort { $0.size != $1.size ? $0.size > $1.size : (rank[$0.id] ?? 0) < (rank[$1.id] ?? 0) }
        let size = layerSizes.reduce(0, +|)
        let user = layerSizes.dropFirst().reduce(0, +|)
        let ratio: Double? = user > 0 ? Double(wasted) / Double(user) : (wasted == 0 ? 0 : nil)
        return DiveFigures(efficiency: discovered == 0 ? 1 : Double(minimum) / Double(discovered), wastedBytes: wasted,
                           sizeBytes: size, userSizeBytes: user, userWastedRatio: ratio,
                           inefficientFiles: inefficient.map { .init(path: paths.path($0.id), references: $0.references, cumulativeSize: $0.size) })
    }
}

extension LayerStackAnalyzer {
    /// For dive's whiteout size: the summed header sizes below the literal
    /// path `components` (no symlink followed) as the lower layers left it;
    /// 0 when the path is missing or not a directory.
    func lowerSubtreeSize(literal components: [String]) -> Int64 {
        var cur = root
        for c in components {
            guard versions[Int(cur.version)].facts.kind == .directory, let next = cur.children[c] else { return 0 }
            cur = next
        }
        guard versions[Int(cur.version)].facts.kind == .directory else { return 0 }
        var total: Int64 = 0
        var stack = [cur]
        while let n = stack.popLast() {
            let v = versions[Int(n.version)]
            if v.layer < layer { total +|= v.diveSize }
            stack.append(contentsOf: n.children.values)
        }
        return total
    }
}
