import Foundation
import Testing
import OCICore
import OCIModel
import OCIRegistry
import OCIRegistryTestSupport
import OCITestSupport

/// Uploads distribution 2.8.2 cannot show: chunk minimums, resumed and
/// restarted sessions, 413, 202 mounts, absolute Locations (fake registry).
@Suite("Registry client vs fake registry: uploads")
struct FakeRegistryUploadTests {
    @Test func chunkMinLengthForcesLargeEnoughChunks() throws {
        let fake = try FakeRegistry()
        defer { fake.stop() }
        fake.chunkMinLength = 100_000
        let tmp = try TempDir(prefix: "ocitool-fake")
        let c = try fakeClient(fake) { $0.chunkSize = 64 << 10; $0.monolithicLimit = 1 << 20 }
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
        let c = try fakeClient(fake) { $0.chunkSize = 40_000; $0.monolithicLimit = 50_000 }
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
        let c = try fakeClient(fake) { $0.chunkSize = 50_000; $0.monolithicLimit = 60_000 }
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
        let c = try fakeClient(fake) { $0.chunkSize = 30_000 }
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
        let c = try fakeClient(fake)
        defer { c.shutdown() }
        let blob = try TestBlob(in: tmp, name: "b", count: 3000)
        #expect(try c.pushBlob(repository: "dst", descriptor: blob.descriptor, file: blob.path, mountFrom: ["src"]) == .uploaded)
        let posts = fake.requests.filter { $0.method == "POST" }
        #expect(posts.first?.queryValue("mount") == blob.descriptor.digest.description && posts.first?.queryValue("from") == "src")
        #expect(fake.requests.contains { $0.method == "DELETE" && $0.path.contains("/blobs/uploads/") })
        fake.addBlob(blob.bytes, repository: "src")
        #expect(try c.pushBlob(repository: "dst2", descriptor: blob.descriptor, file: blob.path, mountFrom: ["src"]) == .mounted(from: "src"))
    }
}
