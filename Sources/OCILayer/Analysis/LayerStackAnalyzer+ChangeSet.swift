import OCICore
import OCIModel

/// The change set of the layer just read: every journaled path compared
/// before and after the layer, reported as `ocitool diff` would between the
/// image cut below the layer and the image cut at it.
extension LayerStackAnalyzer {
    func changeSet(_ layerInput: AnalysisInput.Layer, index: Int, history: ImageConfig.History?,
                   entries: Int, size: Int64) -> LayerReport {
        var files: [FileChange] = []
        var summary = LayerSummary()
        var deletedAt: [Int32: Int] = [:]
        var removed: [(path: Int32, version: Int32)] = []
        for (path, before) in journal where path != AnalysisPathTable.root {
            let after = live[Int(path)]?.version ?? -1
            if before.version < 0 {
                guard after >= 0 else { continue }
                files.append(FileChange(path: path, change: .added, aspects: [], version: Int(after), previous: nil, deletion: nil))
                summary.added.count += 1
                summary.added.bytes +|= versions[Int(after)].dataSize
            } else if after < 0 {
                removed.append((path, before.version))
                summary.hiddenPaths += 1
                let parent = paths.parent(path)
                guard parent >= 0, let p = live[Int(parent)], versions[Int(p.version)].facts.kind == .directory else { continue }
                deletedAt[path] = files.count
                files.append(FileChange(path: path, change: .deleted, aspects: [], version: nil, previous: Int(before.version),
                                        deletion: before.deletion >= 0 ? Int(before.deletion) : nil))
                summary.deleted.count += 1
            } else {
                let old = versions[Int(before.version)], new = versions[Int(after)]
                let aspects = Self.aspects(old.facts, new.facts)
                let kind: ChangeKind = aspects.isEmpty ? .unchanged : .changed
                files.append(FileChange(path: path, change: kind, aspects: aspects, version: Int(after),
                                        previous: Int(before.version), deletion: nil))
                if aspects.isEmpty {
                    summary.unchanged.count += 1
                    summary.unchanged.bytes +|= new.dataSize
                } else {
                    summary.changed.count += 1
                    summary.changed.bytes +|= new.dataSize
                    for a in aspects { summary.changedAspects[a, default: 0] += 1 }
                }
            }
        }
        // Bytes hidden below each deleted path: charged to the nearest deleted ancestor.
        for (path, version) in removed {
            var cur = path
            while cur > 0 {
                if let at = deletedAt[cur] {
                    summary.deleted.bytes +|= versions[Int(version)].dataSize
                    files[at].hiddenBytes +|= versions[Int(version)].dataSize
                    break
                }
                cur = paths.parent(cur)
            }
        }
        let byPath = Dictionary(files.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        files = paths.sortedByPath(files.map(\.path)).compactMap { byPath[$0] }
        summary.whiteouts = deletions.filter { $0.kind == .whiteout }.count
        summary.opaqueDirectories = deletions.filter { $0.kind == .opaque }.count
        return LayerReport(index: index, digest: layerInput.digest, mediaType: layerInput.mediaType,
                           storedSize: layerInput.storedSize, diffID: layerInput.diffID, history: history,
                           entries: entries, size: size, files: files, deletions: deletions, wastedBytes: 0,
                           summary: summary)
    }

    /// What differs between two versions of a path (empty: nothing `diff` sees).
    static func aspects(_ a: FileFacts, _ b: FileFacts) -> [ChangeAspect] {
        if a.kind != b.kind { return [.type] }
        var out: [ChangeAspect] = []
        if a.kind == .regular && (a.size != b.size || a.digest != b.digest) { out.append(.content) }
        if a.mode != b.mode { out.append(.mode) }
        if a.uid != b.uid || a.gid != b.gid { out.append(.owner) }
        if a.linkTarget != b.linkTarget { out.append(.linkTarget) }
        if a.mtime != b.mtime { out.append(.mtime) }
        if a.xattrs != b.xattrs { out.append(.xattrs) }
        if a.device != b.device { out.append(.device) }
        return out
    }
}
