import OCICore
import OCIModel
import OCIImage

extension ImageStore {
    /// What `prune` removed.
    public struct PruneReport: Sendable {
        public var removedBlobs: [Digest] = []
        public var removedStagingFiles = 0
        /// Leftovers of interrupted operations removed, relative to the
        /// store root: staging files (`ingest/…`) and temporary index files.
        public var removedLeftovers: [String] = []
        public var reclaimedBytes: Int64 = 0
    }

    /// Digests reachable from `index`: every entry (per-platform ones too),
    /// the originals of companions, and below them indexes, manifests,
    /// configs and layers. Blobs that cannot be read are skipped (they are
    /// `fsck`'s business).
    func referencedDigests(_ index: IndexManifest) -> Set<Digest> {
        var seen = Set<Digest>()
        var queue: [Digest] = []
        for d in index.manifests {
            queue.append(d.digest)
            if d.storedTarget.digest != d.digest { queue.append(d.storedTarget.digest) }
        }
        while let digest = queue.popLast() {
            guard seen.insert(digest).inserted, let bytes = try? blobs.read(digest, limit: DocumentLimit.bytes),
                  let probe = try? CanonicalJSON.decode(MediaTypeProbe.self, from: bytes, what: "") else { continue }
            for m in probe.manifests ?? [] {
                queue.append(m.digest)
                if let o = m.annotations?[StoreAnnotation.originalDigest], let od = try? Digest(parsing: o) { queue.append(od) }
            }
            if let c = probe.config {
                seen.insert(c.digest)
                if let man = try? Manifest.parse(bytes, what: "") { man.layers.forEach { seen.insert($0.digest) } }
            }
        }
        return seen
    }

    /// Digests reachable from the store's `index.json`.
    package func referencedDigests() throws -> Set<Digest> { referencedDigests(try readIndex()) }

    /// Removes blobs no entry references and staging files of operations
    /// that are no longer running (it waits for running ones: they hold a
    /// lease). Changes nothing, and writes nothing, when there is nothing
    /// to remove; does nothing where there is no store.
    public func prune() throws -> PruneReport {
        guard exists else { return PruneReport() }
        TestHook.point("prune-lock")
        let ingest = try FileLock(path: ingestLockPath, exclusive: true)
        defer { ingest.unlock() }
        TestHook.point("prune-locked")
        return try pruneBlobsLocked()
    }

    /// `prune`'s work, with the ingest lock held exclusively by the caller.
    func pruneBlobsLocked() throws -> PruneReport {
        try transaction { index, leftovers in
            var report = PruneReport()
            report.removedLeftovers = leftovers
            let keep = referencedDigests(index)
            for d in try blobs.allDigests() where !keep.contains(d) {
                let p = blobs.blobPath(d)
                report.reclaimedBytes += (try? FS.size(p)) ?? 0
                FS.removeFile(p)
                report.removedBlobs.append(d)
                TestHook.point("prune-removed")
            }
            if FS.isDirectory(blobs.ingestDirectory) {
                for name in try FS.listDirectory(blobs.ingestDirectory) {
                    let p = blobs.ingestDirectory + "/" + name
                    report.reclaimedBytes += (try? FS.size(p)) ?? 0
                    FS.removeTree(p)
                    report.removedStagingFiles += 1
                    report.removedLeftovers.append("ingest/" + name)
                    TestHook.point("prune-removed")
                }
            }
            return report
        }
    }
}
