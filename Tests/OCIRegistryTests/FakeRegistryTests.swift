import Foundation
import Testing
import OCICore
import OCIModel
import OCIRegistry
import OCIRegistryTestSupport
import OCITestSupport

/// Behaviour distribution 2.8.2 cannot show, against the in-process fake registry.
@Suite("Registry client vs fake registry (faults, referrers, chunking)")
struct FakeRegistryTests {
    func client(_ fake: FakeRegistry, _ tweak: (inout RegistryOptions) -> Void = { _ in }) throws -> RegistryClient {
        var o = plainOptions()
        o.retries = 3
        o.retryDelay = 0.02
        tweak(&o)
        return try RegistryClient(registry: fake.host, options: o)
    }

    func blobPath(_ repo: String, _ d: Digest) -> String { "/v2/\(repo)/blobs/\(d)" }

    @Test func referrersAPIWithServerAndClientFiltering() throws {
        let fake = try FakeRegistry()
        defer { fake.stop() }
        let tmp = try TempDir(prefix: "ocitool-fake")
        let c = try client(fake)
        defer { c.shutdown() }
        let (subjectBytes, subjectDigest) = try pushTestImage(c, repo: "app", tag: "v1", dir: tmp)
        let subject = Descriptor(mediaType: MediaType.ociManifest, digest: subjectDigest, size: Int64(subjectBytes.count))
        let (_, sig) = try pushTestImage(c, repo: "app", tag: "sig", dir: tmp, layerSize: 10, seed: 2, subject: subject, artifactType: "application/vnd.example.sig")
        let (_, sbom) = try pushTestImage(c, repo: "app", tag: "sbom", dir: tmp, layerSize: 10, seed: 3, subject: subject, artifactType: "application/vnd.example.sbom")
        #expect(Set(try c.referrers(repository: "app", digest: subjectDigest).map(\.digest)) == [sig, sbom])
        #expect(try c.referrers(repository: "app", digest: subjectDigest, artifactType: "application/vnd.example.sig").map(\.digest) == [sig])
        #expect(fake.requests.contains { $0.uri.contains("/referrers/\(subjectDigest)?artifactType=application/vnd.example.sig") })
        fake.filtersReferrers = false  // the registry ignores the filter: the client applies it
        #expect(try c.referrers(repository: "app", digest: subjectDigest, artifactType: "application/vnd.example.sbom").map(\.digest) == [sbom])
        #expect(try c.referrers(repository: "app", digest: sig).isEmpty)
    }

    @Test func chunkMinLengthForcesLargeEnoughChunks() throws {
        let fake = try FakeRegistry()
        defer { fake.stop() }
        fake.chunkMinLength = 100_000
        let tmp = try TempDir(prefix: "ocitool-fake")
        let c = try client(fake) { $0.chunkSize = 64 << 10; $0.monolithicLimit = 1 << 20 }
        defer { c.shutdown() }
        let blob = try TestBlob(in: tmp, name: "b", count: 250_000)
        try c.uploadBlob(repository: "chunks", descriptor: blob.descriptor, file: blob.path)
        #expect(fake.patchSizes == [100_000, 100_000, 50_000])
        #expect(fake.blob(blob.descriptor.digest) == blob.bytes)
        // Small blobs still go in one PUT.
        let small = try TestBlob(in: tmp, name: "s", count: 5000, seed: 9)
        try c.uploadBlob(repository: "chunks", descriptor: small.descriptor, file: small.path)
        #expect(fake.patchSizes.count == 3)
    }

    @Test func chunkedUploadWithAbsoluteLocations() throws {
        let fake = try FakeRegistry()
        defer { fake.stop() }
        fake.absoluteLocations = true
        let tmp = try TempDir(prefix: "ocitool-fake")
        let c = try client(fake) { $0.chunkSize = 40_000; $0.monolithicLimit = 50_000 }
        defer { c.shutdown() }
        let blob = try TestBlob(in: tmp, name: "b", count: 130_000)
        let progress = ByteProgress(label: "b", total: 130_000)
        try c.uploadBlob(repository: "abs", descriptor: blob.descriptor, file: blob.path, progress: progress)
        #expect(fake.patchSizes == [40_000, 40_000, 40_000, 10_000])
        #expect(fake.blob(blob.descriptor.digest) == blob.bytes)
        #expect(progress.done == 130_000)
        // Every upload request used the latest state (the fake rejects stale Locations).
        #expect(fake.requests.filter { $0.uri.contains("_state=") }.map { $0.queryValue("_state") ?? "" } == ["s0", "s1", "s2", "s3", "s4"])
    }

    @Test func interruptedChunkedUploadResumesFromTheUploadStatus() throws {
        let fake = try FakeRegistry()
        defer { fake.stop() }
        let patches = Counter()
        fake.setHook { req, registry in
            guard req.method == "PATCH", patches.next() == 2 else { return nil }
            // The registry keeps the first 12345 bytes of the second chunk, then the connection breaks.
            var partial = req
            partial.body = Array(req.body.prefix(12345))
            partial.headers = req.headers.filter { $0.name != "content-range" }
            _ = registry.process(partial)
            return .drop
        }
        let tmp = try TempDir(prefix: "ocitool-fake")
        let c = try client(fake) { $0.chunkSize = 50_000; $0.monolithicLimit = 60_000 }
        defer { c.shutdown() }
        let blob = try TestBlob(in: tmp, name: "b", count: 160_000)
        let progress = ByteProgress(label: "b", total: 160_000)
        try c.uploadBlob(repository: "resume", descriptor: blob.descriptor, file: blob.path, progress: progress)
        #expect(fake.blob(blob.descriptor.digest) == blob.bytes)
        #expect(progress.done == 160_000)
        let log = fake.requests.filter { $0.path.contains("/blobs/uploads/") }
        // The status query, then a PATCH continuing at 50000 + 12345.
        #expect(log.contains { $0.method == "GET" })
        #expect(log.contains { $0.method == "PATCH" && $0.header("content-range") == "62345-112344" }, "\(log.map { "\($0.method) \($0.header("content-range") ?? "")" })")

        // A registry that cancels the session when asked (distribution 2.8.2): the upload restarts.
        fake.staleStatusCancels = true
        let patches2 = Counter()
        fake.setHook { req, registry in
            guard req.method == "PATCH", patches2.next() == 2 else { return nil }
            var partial = req
            partial.body = Array(req.body.prefix(999))
            partial.headers = req.headers.filter { $0.name != "content-range" }
            _ = registry.process(partial)
            return .drop
        }
        let other = try TestBlob(in: tmp, name: "o", count: 120_000, seed: 5)
        try c.uploadBlob(repository: "resume2", descriptor: other.descriptor, file: other.path)
        #expect(fake.blob(other.descriptor.digest) == other.bytes)
        #expect(fake.requests.filter { $0.method == "POST" && $0.path.hasPrefix("/v2/resume2/") }.count == 2)
    }

    @Test func tooLargeMonolithicPutFallsBackToChunks() throws {
        let fake = try FakeRegistry { req, _ in
            req.method == "PUT" && req.path.contains("/blobs/uploads/") && !req.body.isEmpty
                ? .error(413, code: "SIZE_INVALID", message: "too large") : nil
        }
        defer { fake.stop() }
        let tmp = try TempDir(prefix: "ocitool-fake")
        let c = try client(fake) { $0.chunkSize = 30_000 }
        defer { c.shutdown() }
        let blob = try TestBlob(in: tmp, name: "b", count: 70_000)
        try c.uploadBlob(repository: "big", descriptor: blob.descriptor, file: blob.path)
        #expect(fake.patchSizes == [30_000, 30_000, 10_000])
        #expect(fake.blob(blob.descriptor.digest) == blob.bytes)
    }

    @Test func mountAnswered202FallsBackToUpload() throws {
        let fake = try FakeRegistry()
        defer { fake.stop() }
        let tmp = try TempDir(prefix: "ocitool-fake")
        let c = try client(fake)
        defer { c.shutdown() }
        let blob = try TestBlob(in: tmp, name: "b", count: 3000)
        #expect(try c.pushBlob(repository: "dst", descriptor: blob.descriptor, file: blob.path, mountFrom: ["src"]) == .uploaded)
        let posts = fake.requests.filter { $0.method == "POST" }
        #expect(posts.first?.queryValue("mount") == blob.descriptor.digest.description && posts.first?.queryValue("from") == "src")
        #expect(fake.requests.contains { $0.method == "DELETE" && $0.path.contains("/blobs/uploads/") })
        fake.addBlob(blob.bytes, repository: "src")
        #expect(try c.pushBlob(repository: "dst2", descriptor: blob.descriptor, file: blob.path, mountFrom: ["src"]) == .mounted(from: "src"))
    }

    @Test func droppedConnectionMidBlobResumesWithRange() throws {
        let fake = try FakeRegistry()
        defer { fake.stop() }
        let tmp = try TempDir(prefix: "ocitool-fake")
        let blob = try TestBlob(in: tmp, name: "b", count: 300_000)
        fake.addBlob(blob.bytes, repository: "drop")
        let gets = Counter()
        fake.setHook { req, registry in
            guard req.method == "GET", req.path.contains("/blobs/sha256:"), gets.next() == 1 else { return nil }
            var r = registry.process(req)
            r.dropAfter = 100_000
            return r
        }
        let c = try client(fake)
        defer { c.shutdown() }
        let progress = ByteProgress(label: "b", total: 300_000)
        #expect(try fetchToMemory(c, "drop", blob.descriptor, progress: progress) == blob.bytes)
        #expect(progress.done == 300_000)
        let ranges = fake.requests.filter { $0.method == "GET" }.compactMap { $0.header("range") }
        #expect(ranges.count == 1 && ranges[0].hasPrefix("bytes="), "\(ranges)")
        // A registry that ignores Range and sends everything again: the client skips what it has.
        let again = Counter()
        fake.setHook { req, registry in
            guard req.method == "GET", req.path.contains("/blobs/sha256:") else { return nil }
            var plain = req
            plain.headers = req.headers.filter { $0.name != "range" }
            var r = registry.process(plain)
            if again.next() == 1 { r.dropAfter = 123_456 }
            return r
        }
        #expect(try fetchToMemory(c, "drop", blob.descriptor) == blob.bytes)
    }

    @Test func unsatisfiableRangeIsAClearError() throws {
        let fake = try FakeRegistry()
        defer { fake.stop() }
        let tmp = try TempDir(prefix: "ocitool-fake")
        let blob = try TestBlob(in: tmp, name: "b", count: 50_000)
        fake.addBlob(blob.bytes, repository: "r416")
        fake.setHook { req, registry in
            guard req.method == "GET", req.path.contains("/blobs/sha256:") else { return nil }
            if req.header("range") != nil { return TestHTTPResponse(status: 416, headers: [("Content-Range", "bytes */50000")]) }
            var r = registry.process(req)
            r.dropAfter = 20_000
            return r
        }
        let c = try client(fake)
        defer { c.shutdown() }
        do {
            _ = try fetchToMemory(c, "r416", blob.descriptor)
            Issue.record("expected 416")
        } catch let e as RegistryError {
            #expect(e.httpStatus == 416, "\(e)")
            // What arrived before the drop (at most 20000 bytes) is kept; the resume is refused.
            #expect("\(e)".contains(blob.descriptor.digest.description) && "\(e)".contains("refused to resume at byte"), "\(e)")
        }
    }

    @Test func rateLimitsAreRetriedAfterRetryAfter() throws {
        let fake = try FakeRegistry()
        defer { fake.stop() }
        let tmp = try TempDir(prefix: "ocitool-fake")
        let c = try client(fake)
        defer { c.shutdown() }
        try pushTestImage(c, repo: "rl", tag: "v1", dir: tmp)
        let hits = Counter()
        fake.setHook { req, _ in
            guard req.path.hasSuffix("/manifests/v1"), hits.next() <= 2 else { return nil }
            return .error(429, code: "TOOMANYREQUESTS", message: "slow down", headers: [("Retry-After", "1")])
        }
        let start = Date()
        _ = try c.manifest(repository: "rl", reference: "v1")
        #expect(Date().timeIntervalSince(start) >= 1.9)
        #expect(hits.value == 3)
        // Always limited: a bounded number of attempts, then the registry's code.
        let always = Counter()
        fake.setHook { req, _ in
            guard req.path.hasSuffix("/manifests/v1") else { return nil }
            _ = always.next()
            return .error(503, code: "UNAVAILABLE", message: "try later")
        }
        do {
            _ = try c.manifest(repository: "rl", reference: "v1")
            Issue.record("expected UNAVAILABLE")
        } catch let e as RegistryError {
            #expect(e.code == "UNAVAILABLE" && e.httpStatus == 503, "\(e)")
        }
        #expect(always.value == 4)  // 1 + retries (3)
    }

    @Test func redirectToAnotherHostDropsAuthorization() throws {
        let storageLog = RequestLog()
        let tmp = try TempDir(prefix: "ocitool-fake")
        let blob = try TestBlob(in: tmp, name: "b", count: 40_000)
        let storage = try TestHTTPServer { req in
            storageLog.add(req)
            return FakeRegistry.serveBytes(blob.bytes, req: req, digest: nil, contentType: "application/octet-stream")
        }
        defer { storage.stop() }
        let fake = try FakeRegistry()
        defer { fake.stop() }
        fake.basicAuth = ("bob", "pw-for-bob")
        fake.addBlob(blob.bytes, repository: "redir")
        fake.blobRedirect = "http://localhost:\(storage.port)"
        let c = try client(fake) { $0.credentials = Credentials(username: "bob", password: "pw-for-bob") }
        defer { c.shutdown() }
        #expect(try fetchToMemory(c, "redir", blob.descriptor) == blob.bytes)
        #expect(storageLog.all.count == 1)
        #expect(storageLog.all.allSatisfy { $0.header("authorization") == nil })
        #expect(storageLog.all.first?.uri.hasSuffix("?sig=abc") == true)
        #expect(fake.requests.contains { $0.header("authorization")?.hasPrefix("Basic ") == true && $0.path.contains("/blobs/") })
    }

    @Test func missingContentLengthIsBoundedAndVerified() throws {
        let fake = try FakeRegistry()
        defer { fake.stop() }
        let tmp = try TempDir(prefix: "ocitool-fake")
        let c = try client(fake)
        defer { c.shutdown() }
        let (bytes, digest) = try pushTestImage(c, repo: "nolen", tag: "v1", dir: tmp, layerSize: 70_000)
        let layer = try Manifest.parse(bytes, what: "m").layers[0]
        let framing = Locked<TestHTTPResponse.Framing>(.chunked)
        fake.setHook { req, registry in
            guard req.method == "GET", req.path.contains("/blobs/") || req.path.contains("/manifests/") else { return nil }
            var r = registry.process(req)
            r.framing = framing.value
            return r
        }
        for f in [TestHTTPResponse.Framing.chunked, .closeDelimited] {
            framing.value = f
            #expect(try c.manifest(repository: "nolen", reference: "v1").digest == digest)
            #expect(try fetchToMemory(c, "nolen", layer).count == 70_000)
        }
        // Close-delimited and cut short: retried, then a size error naming the digest.
        fake.setHook { req, registry in
            guard req.method == "GET", req.path.contains("/blobs/") else { return nil }
            var r = registry.process(req)
            r.framing = .closeDelimited
            r.body = Array(r.body.prefix(1000))
            return r
        }
        do {
            _ = try fetchToMemory(c, "nolen", layer)
            Issue.record("expected a short blob")
        } catch let e as RegistryError {
            #expect("\(e)".contains(layer.digest.description), "\(e)")
        }
    }

    @Test func corruptBlobsAndManifestsAreRefusedNamingTheDigest() throws {
        let fake = try FakeRegistry()
        defer { fake.stop() }
        let tmp = try TempDir(prefix: "ocitool-fake")
        let c = try client(fake)
        defer { c.shutdown() }
        let (bytes, digest) = try pushTestImage(c, repo: "bad", tag: "v1", dir: tmp, layerSize: 5000)
        let layer = try Manifest.parse(bytes, what: "m").layers[0]
        fake.setHook { req, registry in
            guard req.method == "GET", req.path.contains("/blobs/") else { return nil }
            var r = registry.process(req)
            if !r.body.isEmpty { r.body[r.body.count / 2] ^= 0xff }  // same size, wrong bytes
            return r
        }
        do {
            _ = try fetchToMemory(c, "bad", layer)
            Issue.record("expected a digest mismatch")
        } catch let e as RegistryError {
            guard case let .digestMismatch(_, expected, _) = e else { Issue.record("got \(e)"); return }
            #expect(expected == layer.digest.description && "\(e)".contains(layer.digest.description))
        }
        fake.setHook { req, registry in
            guard req.method == "GET", req.path.contains("/blobs/") else { return nil }
            var r = registry.process(req)
            r.body += [1, 2, 3]
            r.framing = .chunked
            return r
        }
        do {
            _ = try fetchToMemory(c, "bad", layer)
            Issue.record("expected a size mismatch")
        } catch let e as RegistryError {
            guard case .sizeMismatch = e else { Issue.record("got \(e)"); return }
            #expect("\(e)".contains(layer.digest.description))
        }
        // A manifest fetched by digest must hash to it; Docker-Content-Digest must match.
        fake.setHook { req, registry in
            guard req.method == "GET", req.path.contains("/manifests/") else { return nil }
            var r = registry.process(req)
            r.body += Array(" ".utf8)
            if req.path.hasSuffix("/v1") {
                r.headers = r.headers.filter { $0.0 != "Docker-Content-Digest" } + [("Docker-Content-Digest", digest.description)]
            }
            return r
        }
        #expect(throws: RegistryError.digestMismatch(RegistryErrorContext(registry: fake.host, repository: "bad", object: "manifest \(digest)"),
                                                     expected: digest.description, actual: SHA256Hasher.digest(bytes + Array(" ".utf8)).description)) {
            _ = try c.manifest(repository: "bad", reference: digest.description)
        }
        do {
            _ = try c.manifest(repository: "bad", reference: "v1")
            Issue.record("expected a Docker-Content-Digest mismatch")
        } catch let e as RegistryError {
            guard case .digestMismatch = e else { Issue.record("got \(e)"); return }
        }
    }

    @Test func schema1AndOversizedManifestsAreRefused() throws {
        let fake = try FakeRegistry()
        defer { fake.stop() }
        let schema1 = Array(#"{"schemaVersion":1,"name":"x","tag":"old","fsLayers":[],"history":[]}"#.utf8)
        fake.addManifest(schema1, mediaType: "application/vnd.docker.distribution.manifest.v1+prettyjws", repository: "old", tag: "v1")
        fake.addManifest(schema1, mediaType: "application/json", repository: "old", tag: "v2")
        let c = try client(fake)
        defer { c.shutdown() }
        for tag in ["v1", "v2"] {
            do {
                _ = try c.manifest(repository: "old", reference: tag)
                Issue.record("expected schema 1 to be refused")
            } catch let e as RegistryError {
                guard case .unsupported = e else { Issue.record("got \(e)"); continue }
                #expect("\(e)".contains("schema 1"))
            }
        }
        let deep = Array((String(repeating: "[", count: 200) + String(repeating: "]", count: 200)).utf8)
        fake.addManifest(deep, mediaType: MediaType.ociManifest, repository: "old", tag: "deep")
        #expect(throws: RegistryError.self) { _ = try c.manifest(repository: "old", reference: "deep") }
        let big = [UInt8](repeating: 0x20, count: (4 << 20) + 1)
        fake.addManifest(big, mediaType: MediaType.ociManifest, repository: "old", tag: "big")
        do {
            _ = try c.manifest(repository: "old", reference: "big")
            Issue.record("expected the size limit")
        } catch let e as RegistryError {
            guard case .invalidResponse = e else { Issue.record("got \(e)"); return }
            #expect("\(e)".contains("limit"))
        }
    }

    @Test func headWithoutDigestFallsBackToGet() throws {
        let fake = try FakeRegistry { req, registry in
            guard req.method == "HEAD", req.path.contains("/manifests/") else { return nil }
            var r = registry.process(req)
            r.headers = r.headers.filter { $0.0 != "Docker-Content-Digest" }
            return r
        }
        defer { fake.stop() }
        let tmp = try TempDir(prefix: "ocitool-fake")
        let c = try client(fake)
        defer { c.shutdown() }
        let (bytes, digest) = try pushTestImage(c, repo: "head", tag: "v1", dir: tmp)
        let d = try #require(try c.manifestDescriptor(repository: "head", reference: "v1"))
        #expect(d.digest == digest && d.size == Int64(bytes.count))
        #expect(fake.requests.contains { $0.method == "GET" && $0.path.hasSuffix("/manifests/v1") })
    }

    @Test func parallelFetchesFromSeveralThreads() throws {
        let fake = try FakeRegistry()
        defer { fake.stop() }
        let tmp = try TempDir(prefix: "ocitool-fake")
        let blobs = try (0..<8).map { try TestBlob(in: tmp, name: "b\($0)", count: 200_000 + $0 * 1000, seed: UInt64($0)) }
        for b in blobs { fake.addBlob(b.bytes, repository: "par") }
        let c = try client(fake)
        defer { c.shutdown() }
        let errors = ErrorLog()
        DispatchQueue.concurrentPerform(iterations: blobs.count) { i in
            do {
                let out = tmp.file("out\(i)")
                let sink = try FileSink(creating: out)
                try c.fetchBlob(repository: "par", descriptor: blobs[i].descriptor, into: sink, progress: nil)
                try sink.finish()
                if try FS.readFile(out) != blobs[i].bytes { errors.add("blob \(i) differs") }
            } catch { errors.add("\(error)") }
        }
        #expect(errors.all.isEmpty, "\(errors.all)")
    }
}

/// A thread-safe counter for hooks.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    /// Increments and returns the new value (1 for the first call).
    func next() -> Int { lock.withLock { n += 1; return n } }
    var value: Int { lock.withLock { n } }
}

/// Requests seen by a test server.
final class RequestLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [TestHTTPRequest] = []
    func add(_ r: TestHTTPRequest) { lock.withLock { items.append(r) } }
    var all: [TestHTTPRequest] { lock.withLock { items } }
}

/// A value shared with hooks.
final class Locked<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var v: T
    init(_ v: T) { self.v = v }
    var value: T {
        get { lock.withLock { v } }
        set { lock.withLock { v = newValue } }
    }
}
