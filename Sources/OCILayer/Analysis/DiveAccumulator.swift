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

    struct LayerNode {
        var size: Int64 = 0
        var whiteout = false
    }

    private(set) var stats: [String: PathStat] = [:]
    private(set) var layerSizes: [Int64] = []
    private var nodes: [String: LayerNode] = [:]
    private var hasChildren: Set<String> = []
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
        currentSize +|= entry.size
        let parentKey = comps.dropLast().joined(separator: "/")
        if last.hasPrefix(".wh..wh..") {
            if !comps.dropLast().isEmpty { ensure(parentKey) }
            markAncestors(of: comps.count - 1, comps)
            return
        }
        let key = comps.joined(separator: "/")
        var node = LayerNode(size: entry.size, whiteout: false)
        if last.hasPrefix(LayerMember.whiteoutPrefix) {
            node.whiteout = true
            var target = Array(comps.dropLast())
            target.append(String(last.dropFirst(LayerMember.whiteoutPrefix.count)))
            node.size = analyzer.lowerSubtreeSize(literal: target)
        }
        nodes[key] = node
        markAncestors(of: comps.count, comps)
    }

    /// Visits the finished layer tree's leaves.
    mutating func endLayer(index: Int) {
        layerSizes.append(currentSize)
        for (key, node) in nodes where !hasChildren.contains(key) {
            var path = key
            if node.whiteout, let slash = key.lastIndex(of: "/") {
                path = String(key[..<slash]) + "/" + key[key.index(slash, offsetBy: 1 + LayerMember.whiteoutPrefix.count)...]
            } else if node.whiteout {
                path = String(key.dropFirst(LayerMember.whiteoutPrefix.count))
            }
            var s = stats["/" + path, default: PathStat()]
            s.cumulative +|= node.size
            if s.minimum < 0 || node.size < s.minimum { s.minimum = node.size }
            s.references += 1
            stats["/" + path] = s
        }
        nodes.removeAll()
        hasChildren.removeAll()
    }

    private mutating func ensure(_ key: String) {
        if nodes[key] == nil { nodes[key] = LayerNode() }
    }

    /// Makes the parents of the first `n` components exist, each with a child.
    private mutating func markAncestors(of n: Int, _ comps: [String]) {
        var prefix = ""
        for i in 0..<max(0, n - 1) {
            prefix = i == 0 ? comps[0] : prefix + "/" + comps[i]
            ensure(prefix)
            hasChildren.insert(prefix)
        }
    }

    /// The figures, by dive's definitions.
    func figures() -> DiveFigures {
        var minimum: Int64 = 0, discovered: Int64 = 0, wasted: Int64 = 0
        var inefficient: [DiveFigures.InefficientFile] = []
        for (path, s) in stats {
            minimum +|= max(0, s.minimum)
            discovered +|= s.cumulative
            if s.references >= 2 {
                wasted +|= s.cumulative
                if s.cumulative > 0 {
                    inefficient.append(.init(path: path, references: s.references, cumulativeSize: s.cumulative))
                }
            }
        }
        inefficient.sort {
            $0.cumulativeSize != $1.cumulativeSize ? $0.cumulativeSize > $1.cumulativeSize
                : ByteOrder.precedes($0.path, $1.path)
        }
        let size = layerSizes.reduce(0, +|)
        let user = layerSizes.dropFirst().reduce(0, +|)
        let ratio: Double? = user > 0 ? Double(wasted) / Double(user) : (wasted == 0 ? 0 : nil)
        return DiveFigures(efficiency: discovered == 0 ? 1 : Double(minimum) / Double(discovered), wastedBytes: wasted,
                           sizeBytes: size, userSizeBytes: user, userWastedRatio: ratio, inefficientFiles: inefficient)
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
