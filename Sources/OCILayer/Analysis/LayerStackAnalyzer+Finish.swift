import OCICore

/// Turning the followed union into the public report.
extension LayerStackAnalyzer {
    func finish() -> ImageAnalysis {
        // The final tree, parents first, siblings in byte order (iterative: no recursion on input depth).
        var order: [Int] = []
        var stack: [Node] = [root]
        while let n = stack.popLast() {
            if n !== root { order.append(Int(n.version)) }
            var kids = n.children.values.map { (key: Array($0.name.utf8), node: $0) }
            kids.sort { ByteOrder.precedes($0.key, $1.key) }
            stack.append(contentsOf: kids.reversed().map(\.node))
        }
        var finalBytes = [Int64](repeating: 0, count: versions.count)
        var seen = Set<Int32>()
        var finalFiles = 0
        for v in order {
            let inode = versions[v].inode
            guard inode >= 0 else { continue }
            finalFiles += 1
            if seen.insert(inode).inserted { finalBytes[v] = inodes[Int(inode)].size }
        }
        var wasted: [WastedFile] = []
        var wastedPerLayer = [Int64](repeating: 0, count: reports.count)
        var finalSize: Int64 = 0
        for inode in inodes {
            if inode.liveRefs > 0 {
                finalSize +|= inode.size
                continue
            }
            let v = versions[Int(inode.version)]
            wastedPerLayer[Int(v.layer)] +|= inode.size
            if inode.size > 0 {
                wasted.append(WastedFile(version: Int(inode.version), path: v.path, size: inode.size, layer: Int(v.layer),
                                         hiddenBy: Int(inode.deadAt)))
            }
        }
        let rank = Dictionary(uniqueKeysWithValues: paths.sortedByPath(wasted.map(\.path)).enumerated().map { ($1, $0) })
        wasted.sort { a, b in
            if a.size != b.size { return a.size > b.size }
            if a.path != b.path { return (rank[a.path] ?? 0) < (rank[b.path] ?? 0) }
            return a.layer < b.layer
        }
        for i in reports.indices { reports[i].wastedBytes = wastedPerLayer[i] }
        let publicVersions = versions.enumerated().map { i, v in publicVersion(v, finalBytes: finalBytes[i]) }
        let size = reports.reduce(Int64(0)) { $0 +| $1.size }
        let totals = ImageAnalysis.Totals(size: size, storedSize: reports.reduce(Int64(0)) { $0 +| $1.storedSize },
                                          finalSize: finalSize, wastedBytes: max(0, size - finalSize), finalPaths: order.count,
                                          finalFiles: finalFiles, entries: meter.entries)
        return ImageAnalysis(name: input.name, imageID: input.imageID, layers: reports, paths: paths, versions: publicVersions,
                             finalTree: order, totals: totals, wasted: wasted, dive: dive.figures(paths))
    }

    private func publicVersion(_ v: Version, finalBytes: Int64) -> PathVersion {
        let kind: PathVersion.Kind
        var link: String?
        switch v.memberKind {
        case .hardlink:
            kind = .hardlink
            link = v.hardLinkTarget >= 0 ? paths.path(v.hardLinkTarget) : nil
        case .directory: kind = .directory
        case .symlink:
            kind = .symlink
            link = v.facts.linkTarget
        case .fifo: kind = .fifo
        case .characterDevice: kind = .characterDevice
        case .blockDevice: kind = .blockDevice
        default: kind = .file
        }
        return PathVersion(path: v.path, layer: Int(v.layer), kind: kind, size: v.facts.size, dataSize: v.dataSize,
                           linkTarget: link, mode: v.facts.mode, uid: v.facts.uid, gid: v.facts.gid, mtime: v.facts.mtime,
                           digest: v.facts.digest?.description, implicit: v.implicit,
                           hiddenBy: v.hiddenBy >= 0 ? Int(v.hiddenBy) : nil, finalBytes: finalBytes)
    }
}
