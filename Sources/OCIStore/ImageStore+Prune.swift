import OCICore
import OCIModel

extension ImageStore {
    /// What `prune` removed.
    public struct PruneReport: Sendable {
        public var removedBlobs: [Digest] = []
        public var removedStagingFiles = 0
        public var reclaimedBytes: Int64 = 0
    }

    /// Digests reachable from `index.json` (manifests, configs, layers, and
    /// children of nested indexes).
    public func referencedDigests() throws -> Set<Digest> {
        var seen = Set<Digest>()
        var queue = try readIndex().manifests
        while let d = queue.popLast() {
            guard seen.insert(d.digest).inserted else { continue }
            guard blobs.contains(d.digest), d.size < 16 << 20 || d.size == 0 else { continue }
            guard let bytes = try? blobs.read(d.digest, limit: 16 << 20),
                  let probe = try? CanonicalJSON.decode(MediaTypeProbe.self, from: bytes, what: "") else { continue }
            if let m = probe.manifests { queue += m }
            if let c = probe.config {
                seen.insert(c.digest)
                if let man = try? Manifest.parse(bytes, what: "") { man.layers.forEach { seen.insert($0.digest) } }
            }
        }
        return seen
    }

    /// Removes blobs no image references and staging files no running load
    /// owns. Waits for running loads (they hold the ingest lock shared).
    public func prune() throws -> PruneReport {
        try initialize()
        let ingest = try FileLock(path: ingestLockPath, exclusive: true)
        defer { ingest.unlock() }
        return try updateIndex { _ in
            var report = PruneReport()
            let keep = try referencedDigests()
            for d in try blobs.allDigests() where !keep.contains(d) {
                let p = blobs.path(for: d)
                report.reclaimedBytes += (try? FS.size(p)) ?? 0
                FS.removeFile(p)
                report.removedBlobs.append(d)
            }
            if FS.isDirectory(blobs.ingestDirectory) {
                for name in try FS.listDirectory(blobs.ingestDirectory) {
                    let p = blobs.ingestDirectory + "/" + name
                    report.reclaimedBytes += (try? FS.size(p)) ?? 0
                    FS.removeTree(p)
                    report.removedStagingFiles += 1
                }
            }
            return report
        }
    }
}
