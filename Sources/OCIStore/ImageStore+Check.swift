import OCICore
import OCIModel
import OCIImage

extension ImageStore {
    /// What `fsck` found (and, with repair, did).
    public struct CheckReport: Sendable {
        /// Blobs whose content does not hash to their name.
        public var corruptBlobs: [Digest] = []
        /// Entries (by ref.name, or digest when unnamed) that reference a
        /// missing or corrupt blob, with the first problem found.
        public var danglingEntries: [(entry: String, problem: String)] = []
        /// Staging files of operations no longer running.
        public var staleStagingFiles = 0
        /// Blobs checked.
        public var blobsChecked = 0
        /// With repair: what was removed.
        public var repaired = false

        public var isClean: Bool { corruptBlobs.isEmpty && danglingEntries.isEmpty }
    }

    /// Verifies every blob's digest and every entry's references (each
    /// manifest, index, config and layer present and intact). With
    /// `repair`, removes corrupt blobs, drops the entries that can no longer
    /// be read and removes stale staging files, in one transaction (it waits
    /// for running operations).
    public func check(repair: Bool = false, progress: ByteProgress? = nil) throws -> CheckReport {
        var report = CheckReport()
        guard exists else { return report }
        // Staging files are stale when no operation holds a lease; this
        // process's own lock would hide that, so look before taking it.
        var idle = false
        if !repair, let probe = FileLock.attempt(path: ingestLockPath, exclusive: true) {
            idle = true
            probe.unlock()
        }
        let ingest = try FileLock(path: ingestLockPath, exclusive: repair)
        defer { ingest.unlock() }
        let corrupt = Set(try blobs.allDigests().filter { d in
            report.blobsChecked += 1
            let sink = DigestingSink()
            guard (try? blobs.copy(d, into: sink, progress: progress)) != nil, let actual = try? sink.digest() else { return true }
            return actual != d
        })
        report.corruptBlobs = corrupt.sorted()
        let index = try readIndex()
        var bad = Set<Int>()
        for (i, d) in index.manifests.enumerated() {
            if let problem = firstProblem(d, corrupt: corrupt) {
                bad.insert(i)
                let label = d.annotations?[AnnotationKey.refName] ?? d.digest.description
                report.danglingEntries.append((label, problem))
            }
        }
        if FS.isDirectory(blobs.ingestDirectory), repair || idle {
            report.staleStagingFiles = (try? FS.listDirectory(blobs.ingestDirectory).count) ?? 0
        }
        guard repair, !report.isClean || report.staleStagingFiles > 0 else { return report }
        try transaction { index in
            for d in corrupt { FS.removeFile(blobs.blobPath(d)) }
            index.manifests.removeAll { firstProblem($0, corrupt: corrupt) != nil }
            for name in (try? FS.listDirectory(blobs.ingestDirectory)) ?? [] { FS.removeTree(blobs.ingestDirectory + "/" + name) }
        }
        report.repaired = true
        _ = bad
        return report
    }

    /// The first missing or corrupt blob below an entry, described; nil if intact.
    private func firstProblem(_ entry: Descriptor, corrupt: Set<Digest>) -> String? {
        var queue = [entry.digest]
        if entry.storedTarget.digest != entry.digest { queue.append(entry.storedTarget.digest) }
        var seen = Set<Digest>()
        func bad(_ d: Digest, _ what: String) -> String? {
            if corrupt.contains(d) { return "\(what) \(d) is corrupt" }
            if blobs.path(of: d) == nil { return "\(what) \(d) is missing" }
            return nil
        }
        while let d = queue.popLast() {
            guard seen.insert(d).inserted else { continue }
            if let p = bad(d, "manifest") { return p }
            guard let bytes = try? blobs.read(d, limit: DocumentLimit.bytes),
                  let probe = try? CanonicalJSON.decode(MediaTypeProbe.self, from: bytes, what: "") else {
                return "manifest \(d) cannot be parsed"
            }
            for m in probe.manifests ?? [] {
                queue.append(m.digest)
                if let o = m.annotations?[StoreAnnotation.originalDigest], let od = try? Digest(parsing: o) { queue.append(od) }
            }
            if let c = probe.config {
                if let p = bad(c.digest, "config") { return p }
                if let man = try? Manifest.parse(bytes, what: "") {
                    for l in man.layers where !MediaType.isNondistributable(l.mediaType) {
                        if let p = bad(l.digest, "layer") { return p }
                    }
                }
            }
        }
        return nil
    }
}
