/// `ocitool analyze --tree`: the merged file system as of the last analysed
/// layer, one line per path with the layer its version comes from and a
/// marker for what that layer did (A added, C changed, = rewritten
/// unchanged, D deleted: shown where the path was).
extension AnalysisText {
    public static func tree(_ a: ImageAnalysis) -> String {
        struct Line {
            var path: Int32
            var version: Int
            var marker: ChangeKind?
            var hiddenBytes: Int64 = 0
        }
        var marks: [Int32: ChangeKind] = [:]
        var children: [Int32: [Line]] = [:]
        let last = a.layers.last
        for f in last?.files ?? [] { marks[f.path] = f.change }
        for v in a.finalTree {
            let p = a.versions[v].path
            children[a.paths.parent(p), default: []].append(Line(path: p, version: v, marker: marks[p]))
        }
        for f in last?.files ?? [] where f.change == .deleted {
            if let prev = f.previous {
                children[a.paths.parent(f.path), default: []].append(Line(path: f.path, version: prev, marker: .deleted,
                                                                            hiddenBytes: f.hiddenBytes))
            }
        }
        var rows: [[String]] = []
        // Iterative depth-first walk: (line, prefix for its children, is last sibling).
        var stack: [(Line, String, Bool, Int)] = []
        func push(_ parent: Int32, prefix: String, depth: Int) {
            var keyed = (children[parent] ?? []).map { (key: Array(a.paths.name($0.path).utf8), line: $0) }
            keyed.sort { ByteOrder.precedes($0.key, $1.key) }
            let kids = keyed.map(\.line)
            for (i, k) in kids.enumerated().reversed() { stack.append((k, prefix, i == kids.count - 1, depth)) }
        }
        rows.append(["", "-", "-", "/"])
        push(AnalysisPathTable.root, prefix: "", depth: 1)
        while let (line, prefix, isLast, depth) = stack.popLast() {
            let v = a.versions[line.version]
            var name = oneLine(a.paths.name(line.path))
            if v.kind == .directory { name += "/" }
            if let t = v.linkTarget { name += (v.kind == .hardlink ? " => " : " -> ") + oneLine(t) }
            let branch = prefix + (isLast ? "└── " : "├── ")
            let shownSize = line.marker == .deleted ? size(line.hiddenBytes) : v.kind == .directory ? "-" : size(v.size)
            rows.append([line.marker?.letter ?? "", "\(v.layer < 0 ? "-" : String(v.layer))", shownSize, branch + name])
            if v.kind == .directory && line.marker != .deleted {
                let childPrefix = prefix + (isLast ? "    " : "│   ")
                push(line.path, prefix: childPrefix, depth: depth + 1)
            }
        }
        let title = last.map { "Tree as of layer \($0.index) (markers: what layer \($0.index) did)" } ?? "Tree (no layers)"
        return title + "\n" + table(["", "LAYER", "SIZE", "PATH"], rows)
    }
}
