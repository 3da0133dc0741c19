import Foundation
import OCICore
import OCIModel
import OCIImage
import OCIRegistry

/// Copies the referrers of copied manifests (signatures, SBOMs,
/// attestations: manifests whose `subject` names them) from a registry
/// source to a registry destination, after their subjects.
///
/// Referrers are listed with the referrers API, or the tag schema
/// (`sha256-<hex>`) where the source lacks it (`RegistryClient.referrers`).
/// Each referrer's blobs are mounted (same registry) or fetched into a spool
/// and uploaded, then its manifest is pushed by digest; when the destination
/// does not answer `OCI-Subject` (no referrers API, e.g. distribution
/// 2.8.2), its `sha256-<hex>` tag index is updated. Referrers of referrers
/// follow, to a bounded depth.
struct RegistryReferrers {
    let source: RegistrySource
    let destination: RegistryDestination
    let progress: ProgressScope?
    static let maxDepth = 4

    /// Copies the referrers of `subjects` (digests present at the source);
    /// returns how many manifests were copied.
    func copy(subjects: [Digest]) throws -> Int {
        var done = Set<Digest>()
        var copied = 0
        var level = subjects
        for _ in 0..<Self.maxDepth where !level.isEmpty {
            var next: [Digest] = []
            for subject in level {
                for r in try source.client.referrers(repository: source.repository, digest: subject) where done.insert(r.digest).inserted {
                    if try copyOne(r, subject: subject) { copied += 1 }
                    next.append(r.digest)
                }
            }
            level = next
        }
        return copied
    }

    /// Copies one referrer; false when the destination had it listed already.
    private func copyOne(_ r: Descriptor, subject: Digest) throws -> Bool {
        let dst = destination.client, repo = destination.repository
        let what = "\(source.description): referrer \(r.digest) of \(subject)"
        if try destination.hasManifest(r.digest) {
            // Present: make sure the tag schema lists it where it must.
            if try dst.referrers(repository: repo, digest: subject).contains(where: { $0.digest == r.digest }) { return false }
        } else {
            let fetched = try source.client.manifest(repository: source.repository, reference: r.digest.description)
            guard fetched.digest == r.digest else {
                throw ImageError.blobMismatch(r.digest, what: what, message: "the registry served manifest \(fetched.digest)")
            }
            let blobs: [Descriptor]
            if let m = try? Manifest.parse(fetched.bytes, what: what), !fetched.mediaType.contains("index") && !fetched.mediaType.contains("list") {
                blobs = [m.config] + m.layers
            } else {
                progress?.warning("\(what): an index as a referrer is copied without its manifests")
                blobs = []
            }
            for b in blobs { try copyBlob(b, what: what) }
            let result = try dst.pushManifest(repository: repo, reference: r.digest.description, mediaType: fetched.mediaType, bytes: fetched.bytes)
            guard result.digest == r.digest else {
                throw ImageError.blobMismatch(r.digest, what: destination.description, message: "the registry stored the manifest as \(result.digest)")
            }
            if result.subject == subject { return true }
        }
        // No `OCI-Subject`: the referrers tag schema index.
        var listed = r
        if listed.mediaType.isEmpty { listed.mediaType = MediaType.ociManifest }
        try dst.addReferrerByTag(repository: repo, subject: subject, descriptor: listed)
        return true
    }

    /// One blob of a referrer: skipped when present, mounted when the
    /// registries are the same, else fetched (verified) into a spool and uploaded.
    private func copyBlob(_ b: Descriptor, what: String) throws {
        let dst = destination.client, repo = destination.repository
        if let size = try dst.blobSize(repository: repo, digest: b.digest), size == b.size { return }
        if source.reference.domain == destination.reference.domain,
           try dst.mountBlob(repository: repo, digest: b.digest, from: source.repository) { return }
        let spool = "\(ImageCopy.defaultTmpdir)/ocitool-referrer-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        let token = Cleanup.register(spool)
        defer {
            FS.removeFile(spool)
            Cleanup.unregister(token)
        }
        let sink = try FileSink(creating: spool)
        do {
            try source.client.fetchBlob(repository: source.repository, descriptor: b, into: sink)
            try sink.finish()
        } catch {
            try? sink.finish()
            throw error
        }
        let task = progress?.task(id: b.digest.description, label: b.digest.shortID, phase: "push", total: b.size)
        defer { task?.finish() }
        try dst.uploadBlob(repository: repo, descriptor: b, file: spool, progress: task?.bytes)
        progress?.blob(b.digest, size: b.size, mediaType: b.mediaType)
    }
}
