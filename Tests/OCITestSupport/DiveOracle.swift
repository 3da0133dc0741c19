import Foundation
import OCICore

/// An independent reading of dive's efficiency (wagoodman/dive
/// `filetree/efficiency.go`, `image.Analyze`): a small Python program that
/// builds dive's per-layer trees from the layer tars with `tarfile`, stacks
/// them dive's way for whiteouts, and computes the score, the wasted bytes
/// and the user-layer ratio. Written from dive's algorithm, not from
/// ocitool's code, so the two can be compared.
public enum DiveOracle {
    public struct Figures: Decodable, Sendable {
        public var efficiency: Double
        public var wastedBytes: Int64
        public var sizeBytes: Int64
        public var userSizeBytes: Int64
        /// Whiteouts whose target dive could not find (dive stops visiting that layer there).
        public var missingWhiteoutTargets: Int
    }

    /// Runs the oracle on layer blobs (plain tar or gzip/bzip2/xz), bottom first.
    public static func figures(layers: [String]) throws -> Figures {
        let r = try Shell.run(["python3", "-c", script] + layers)
        guard r.status == 0 else { throw OracleError(description: "dive oracle failed: \(r.stderr)") }
        return try JSONDecoder().decode(Figures.self, from: Data(r.stdout))
    }

    public struct OracleError: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    static let script = #"""
import sys, tarfile, posixpath, json
WH, DWH = ".wh.", ".wh..wh.."
class N:
    def __init__(s, name, parent):
        s.name, s.parent, s.kids, s.size, s.isdir = name, parent, {}, 0, False
def path_of(n):
    parts, cur = [], n
    while cur.parent is not None:
        nm = cur.name
        if cur is n and nm.startswith(WH): nm = nm[len(WH):]
        parts.append(nm); cur = cur.parent
    return "/" + "/".join(reversed(parts))
def names(p): return [x for x in p.strip("/").split("/") if x]
def add(root, p, size, isdir):
    node, ns = root, names(p)
    for i, nm in enumerate(ns):
        if nm in node.kids: node = node.kids[nm]
        else:
            if nm.startswith(DWH): return
            c = N(nm, node); node.kids[nm] = c; node = c
        if i == len(ns) - 1: node.size, node.isdir = size, isdir
def get(root, p):
    node = root
    for nm in names(p):
        if nm not in node.kids: return None
        node = node.kids[nm]
    return node
def child_first(n, out):
    for k in sorted(n.kids): child_first(n.kids[k], out)
    if n.parent is not None: out.append(n)
    return out
def copy(n, parent):
    c = N(n.name, parent); c.size, c.isdir = n.size, n.isdir
    for k, v in n.kids.items(): c.kids[k] = copy(v, c)
    return c
def stack(lower, upper):
    for node in child_first(upper, []):
        if node.name.startswith(WH):
            t = get(lower, path_of(node))
            if t is not None and t.parent is not None: del t.parent.kids[t.name]
        else: add(lower, path_of(node), node.size, node.isdir)
trees, sizes = [], []
for p in sys.argv[1:]:
    root, total = N("", None), 0
    with tarfile.open(p, "r:*") as tf:
        for m in tf:
            name = posixpath.normpath(m.name)
            if name == ".": continue
            total += m.size
            add(root, name, m.size, m.isdir())
    trees.append(root); sizes.append(total)
stats, missing = {}, 0
for idx, tree in enumerate(trees):
    for node in child_first(tree, []):
        if node.kids: continue
        p = path_of(node)
        if node.name.startswith(WH):
            stacked = copy(trees[0], None)
            for j in range(0, idx): stack(stacked, trees[j])
            prev = get(stacked, p)
            if prev is None:
                missing += 1
                break
            size = sum(x.size for x in child_first(prev, [])) if prev.isdir else 0
        else: size = node.size
        s = stats.setdefault(p, [0, -1, 0])
        s[0] += size
        if s[1] < 0 or size < s[1]: s[1] = size
        s[2] += 1
minimum = sum(max(0, s[1]) for s in stats.values())
discovered = sum(s[0] for s in stats.values())
wasted = sum(s[0] for s in stats.values() if s[2] >= 2)
print(json.dumps({"efficiency": 1.0 if discovered == 0 else minimum / discovered, "wastedBytes": wasted,
                  "sizeBytes": sum(sizes), "userSizeBytes": sum(sizes[1:]), "missingWhiteoutTargets": missing}))
"""#
}
