import Foundation
import Testing
import OCICore
import OCIModel
import OCIRegistry
import OCIRegistryTestSupport
import OCITestSupport

/// Round trips against a real distribution 2.8.2 registry over plain HTTP.
@Suite("Registry client vs distribution (plain HTTP)")
struct DistributionRoundTripTests {
    @Test func smallAndChunkedBlobsRoundTrip() throws {
        let registry = try DistributionRegistry()
        defer { registry.stop() }
        let tmp = try TempDir(prefix: "ocitool-reg")
        var options = plainOptions()
        options.chunkSize = 64 << 10
        options.monolithicLimit = 100 << 10
        let client = try RegistryClient(registry: registry.host, options: options)
        defer { client.shutdown() }
        let repo = uniqueRepo("blobs")
        for (name, size) in [("empty", 0), ("small", 1000), ("chunked", 300_000)] {
            let blob = try TestBlob(in: tmp, name: name, count: size, seed: UInt64(size))
            #expect(try client.blobSize(repository: repo, digest: blob.descriptor.digest) == nil)
            let progress = ByteProgress(label: name, total: Int64(size))
            #expect(try client.pushBlob(repository: repo, descriptor: blob.descriptor, file: blob.path, progress: progress) == .uploaded)
            #expect(progress.done == Int64(size))
            #expect(try client.blobSize(repository: repo, digest: blob.descriptor.digest) == Int64(size))
            // HEAD first: a second push is skipped.
            #expect(try client.pushBlob(repository: repo, descriptor: blob.descriptor, file: blob.path) == .existed)
            let fetchProgress = ByteProgress(label: name, total: Int64(size))
            let back = try fetchToMemory(client, repo, blob.descriptor, progress: fetchProgress)
            #expect(back == blob.bytes)
            #expect(fetchProgress.done == Int64(size))
        }
    }

    @Test func loopbackFallsBackToPlainHTTPQuickly() throws {
        let registry = try DistributionRegistry()
        defer { registry.stop() }
        for host in [registry.host, "localhost:\(registry.port)"] {
            var o = RegistryOptions()  // plainHTTP nil: HTTPS first, then HTTP for loopback hosts
            o.environment = ["HOME": "/nonexistent"]
            let client = try RegistryClient(registry: host, options: o)
            defer { client.shutdown() }
            let start = Date()
            try client.checkAccess()
            #expect(Date().timeIntervalSince(start) < 5, "no backoff before the HTTP fallback")
            #expect(try client.manifestDescriptor(repository: "none/here", reference: "latest") == nil)
        }
        // HTTPS only: no fallback, a clear TLS error.
        let strict = try RegistryClient(registry: registry.host, options: RegistryOptions(plainHTTP: false))
        defer { strict.shutdown() }
        do {
            try strict.checkAccess()
            Issue.record("expected a TLS error")
        } catch let e as RegistryError {
            #expect("\(e)".contains("TLS"), "\(e)")
        }
    }

    @Test func manifestsByTagAndDigestKeepTheirBytes() throws {
        let registry = try DistributionRegistry()
        defer { registry.stop() }
        let tmp = try TempDir(prefix: "ocitool-reg")
        let client = try RegistryClient(registry: registry.host, options: plainOptions())
        defer { client.shutdown() }
        let repo = uniqueRepo("manifests")
        let (bytes, digest) = try pushTestImage(client, repo: repo, tag: "v1", dir: tmp)
        #expect(digest == SHA256Hasher.digest(bytes))
        let byTag = try client.manifest(repository: repo, reference: "v1")
        #expect(byTag.bytes == bytes)
        #expect(byTag.digest == digest)
        #expect(byTag.mediaType == MediaType.ociManifest)
        let byDigest = try client.manifest(repository: repo, reference: digest.description)
        #expect(byDigest.bytes == bytes)
        let head = try #require(try client.manifestDescriptor(repository: repo, reference: "v1"))
        #expect(head.digest == digest && head.size == Int64(bytes.count) && head.mediaType == MediaType.ociManifest)
        #expect(try client.manifestDescriptor(repository: repo, reference: "nope") == nil)

        // Push by digest, then delete it.
        let index = IndexManifest(manifests: [byTag.descriptor])
        let indexBytes = try CanonicalJSON.encode(index)
        let indexDigest = try client.putManifest(repository: repo, reference: SHA256Hasher.digest(indexBytes).description,
                                                 mediaType: MediaType.ociIndex, bytes: indexBytes)
        #expect(try client.manifest(repository: repo, reference: indexDigest.description).mediaType == MediaType.ociIndex)
        try client.deleteManifest(repository: repo, digest: indexDigest)
        #expect(try client.manifestDescriptor(repository: repo, reference: indexDigest.description) == nil)
    }

    @Test func missingThingsNameTheRegistryCodes() throws {
        let registry = try DistributionRegistry()
        defer { registry.stop() }
        let tmp = try TempDir(prefix: "ocitool-reg")
        let client = try RegistryClient(registry: registry.host, options: plainOptions())
        defer { client.shutdown() }
        let repo = uniqueRepo("missing")
        try pushTestImage(client, repo: repo, tag: "v1", dir: tmp)
        do {
            _ = try client.manifest(repository: repo, reference: "nope")
            Issue.record("expected MANIFEST_UNKNOWN")
        } catch let e as RegistryError {
            #expect(e.code == "MANIFEST_UNKNOWN")
            let text = "\(e)"
            #expect(text.contains(registry.host) && text.contains(repo) && text.contains("manifest nope") && text.contains("MANIFEST_UNKNOWN"))
            #expect(!text.contains("\n"))
        }
        let ghost = Descriptor(mediaType: MediaType.ociLayerGzip, digest: SHA256Hasher.digest(Array("ghost".utf8)), size: 5)
        do {
            _ = try fetchToMemory(client, repo, ghost)
            Issue.record("expected BLOB_UNKNOWN")
        } catch let e as RegistryError {
            #expect(e.code == "BLOB_UNKNOWN")
            #expect("\(e)".contains(ghost.digest.description))
        }
        do {
            _ = try client.tags(repository: "no/such/repo")
            Issue.record("expected NAME_UNKNOWN")
        } catch let e as RegistryError {
            #expect(e.code == "NAME_UNKNOWN")
        }
        // A manifest naming a blob the registry lacks.
        let m = Manifest(mediaType: MediaType.ociManifest, config: ghost, layers: [])
        do {
            try client.putManifest(repository: repo, reference: "broken", mediaType: MediaType.ociManifest, bytes: try CanonicalJSON.encode(m))
            Issue.record("expected MANIFEST_BLOB_UNKNOWN")
        } catch let e as RegistryError {
            #expect(e.code?.contains("MANIFEST_BLOB_UNKNOWN") == true || e.code?.contains("BLOB_UNKNOWN") == true, "\(e)")
        }
    }

    @Test func mountBetweenRepositories() throws {
        let registry = try DistributionRegistry()
        defer { registry.stop() }
        let tmp = try TempDir(prefix: "ocitool-reg")
        let client = try RegistryClient(registry: registry.host, options: plainOptions())
        defer { client.shutdown() }
        let a = uniqueRepo("mount-a"), b = uniqueRepo("mount-b"), c = uniqueRepo("mount-c")
        let blob = try TestBlob(in: tmp, name: "blob", count: 5000, seed: 3)
        #expect(try client.pushBlob(repository: a, descriptor: blob.descriptor, file: blob.path) == .uploaded)
        #expect(try client.mountBlob(repository: b, digest: blob.descriptor.digest, from: a))
        #expect(try client.blobSize(repository: b, digest: blob.descriptor.digest) == 5000)
        #expect(try fetchToMemory(client, b, blob.descriptor) == blob.bytes)
        // Mounting from a repository without the blob fails over to an upload.
        let other = try TestBlob(in: tmp, name: "other", count: 700, seed: 4)
        #expect(try client.mountBlob(repository: c, digest: other.descriptor.digest, from: a) == false)
        #expect(try client.pushBlob(repository: c, descriptor: other.descriptor, file: other.path, mountFrom: [a]) == .uploaded)
        #expect(try client.pushBlob(repository: c, descriptor: blob.descriptor, file: blob.path, mountFrom: [a]) == .mounted(from: a))
    }

    @Test func tagListingFollowsLinkPages() throws {
        let registry = try DistributionRegistry()
        defer { registry.stop() }
        let tmp = try TempDir(prefix: "ocitool-reg")
        var options = plainOptions()
        options.tagPageSize = 3
        let client = try RegistryClient(registry: registry.host, options: options)
        defer { client.shutdown() }
        let repo = uniqueRepo("tags")
        let (bytes, _) = try pushTestImage(client, repo: repo, tag: "t0", dir: tmp)
        let names = (1...7).map { "t\($0)" }
        for n in names { try client.putManifest(repository: repo, reference: n, mediaType: MediaType.ociManifest, bytes: bytes) }
        #expect(try client.tags(repository: repo).sorted() == (["t0"] + names).sorted())
        // Several threads at once share the client.
        let errors = ErrorLog()
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            do { if try client.tags(repository: repo).count != 8 { errors.add("wrong count") } } catch { errors.add("\(error)") }
        }
        #expect(errors.all.isEmpty, "\(errors.all)")
    }

    @Test func referrersFallBackToTheTagSchema() throws {
        let registry = try DistributionRegistry()
        defer { registry.stop() }
        let tmp = try TempDir(prefix: "ocitool-reg")
        let client = try RegistryClient(registry: registry.host, options: plainOptions())
        defer { client.shutdown() }
        let repo = uniqueRepo("referrers")
        let (subjectBytes, subjectDigest) = try pushTestImage(client, repo: repo, tag: "v1", dir: tmp)
        #expect(try client.referrers(repository: repo, digest: subjectDigest).isEmpty)
        let subject = Descriptor(mediaType: MediaType.ociManifest, digest: subjectDigest, size: Int64(subjectBytes.count))
        let (sigBytes, sigDigest) = try pushTestImage(client, repo: repo, tag: "sig", dir: tmp, layerSize: 100, seed: 11,
                                                      subject: subject, artifactType: "application/vnd.example.sig")
        // distribution 2.8.2 has no referrers API: the client keeps the tag-schema index.
        var entry = Descriptor(mediaType: MediaType.ociManifest, digest: sigDigest, size: Int64(sigBytes.count))
        entry.artifactType = "application/vnd.example.sig"
        let index = try CanonicalJSON.encode(IndexManifest(manifests: [entry]))
        try client.putManifest(repository: repo, reference: RegistryClient.referrersTag(for: subjectDigest), mediaType: MediaType.ociIndex, bytes: index)
        let found = try client.referrers(repository: repo, digest: subjectDigest)
        #expect(found.map(\.digest) == [sigDigest])
        #expect(try client.referrers(repository: repo, digest: subjectDigest, artifactType: "application/vnd.example.sig").count == 1)
        #expect(try client.referrers(repository: repo, digest: subjectDigest, artifactType: "application/other").isEmpty)
    }
}
