import Foundation
import Testing
import OCICore
import OCIModel
import OCIRegistry
import OCIRegistryTestSupport
import OCITestSupport

/// Fetches and faults distribution 2.8.2 cannot show: the referrers API,
/// resumed downloads, 416, 429, redirects, framing, corrupt content (fake registry).
@Suite("Registry client vs fake registry: fetches and faults")
struct FakeRegistryFetchTests {
    @Test func referrersAPIWithServerAndClientFiltering() throws {
        let fake = try FakeRegistry()
        defer { fake.stop() }
        let tmp = try TempDir(prefix: "ocitool-fake")
        let c = try fakeClient(fake)
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
        let c = try fakeClient(fake)
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
        let c = try fakeClient(fake)
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
        let c = try fakeClient(fake)
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
        let c = try fakeClient(fake) { $0.credentials = Credentials(username: "bob", password: "pw-for-bob") }
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
        let c = try fakeClient(fake)
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
        let c = try fakeClient(fake)
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
        let c = try fakeClient(fake)
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
        let c = try fakeClient(fake)
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
        let c = try fakeClient(fake)
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
