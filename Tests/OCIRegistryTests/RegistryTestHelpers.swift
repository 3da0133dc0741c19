import Foundation
import OCICore
import OCIModel
import OCIRegistry
import OCIRegistryTestSupport
import OCITestSupport

/// A blob written to a temp file, with its descriptor.
struct TestBlob {
    let path: String
    let bytes: [UInt8]
    let descriptor: Descriptor

    /// `count` pseudo-random bytes (seeded, so failures reproduce).
    init(in dir: TempDir, name: String, count: Int, seed: UInt64 = 1, mediaType: String = MediaType.ociLayerGzip) throws {
        var state = seed &+ 0x9E37_79B9_7F4A_7C15
        var bytes = [UInt8](repeating: 0, count: count)
        for i in 0..<count {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            bytes[i] = UInt8(truncatingIfNeeded: state >> 33)
        }
        try self.init(in: dir, name: name, bytes: bytes, mediaType: mediaType)
    }

    init(in dir: TempDir, name: String, bytes: [UInt8], mediaType: String = MediaType.ociLayerGzip) throws {
        path = dir.file(name)
        self.bytes = bytes
        try FS.writeAtomically(path, bytes: bytes)
        descriptor = Descriptor(mediaType: mediaType, digest: SHA256Hasher.digest(bytes), size: Int64(bytes.count))
    }
}

/// Fetches a blob into memory through the client (for comparisons).
func fetchToMemory(_ client: RegistryClient, _ repo: String, _ d: Descriptor, progress: ByteProgress? = nil) throws -> [UInt8] {
    let sink = MemorySink(limit: 64 << 20, context: "test")
    try client.fetchBlob(repository: repo, descriptor: d, into: sink, progress: progress)
    return sink.bytes
}

/// A small OCI image (config + one layer) pushed through the client; returns the manifest bytes and digest.
@discardableResult
func pushTestImage(_ client: RegistryClient, repo: String, tag: String, dir: TempDir, layerSize: Int = 2048, seed: UInt64 = 7,
                   subject: Descriptor? = nil, artifactType: String? = nil) throws -> (bytes: [UInt8], digest: Digest) {
    let config = try TestBlob(in: dir, name: "config-\(seed).json", bytes: Array("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}".utf8),
                              mediaType: MediaType.ociConfig)
    let layer = try TestBlob(in: dir, name: "layer-\(seed)", count: layerSize, seed: seed)
    _ = try client.pushBlob(repository: repo, descriptor: config.descriptor, file: config.path)
    _ = try client.pushBlob(repository: repo, descriptor: layer.descriptor, file: layer.path)
    var m = Manifest(mediaType: MediaType.ociManifest, config: config.descriptor, layers: [layer.descriptor])
    m.subject = subject
    m.artifactType = artifactType
    let bytes = try CanonicalJSON.encode(m)
    let digest = try client.putManifest(repository: repo, reference: tag, mediaType: MediaType.ociManifest, bytes: bytes)
    return (bytes, digest)
}

/// A repository name unique to one test.
func uniqueRepo(_ base: String) -> String { "\(base)/r\(UInt32.random(in: 0...UInt32.max))" }

/// Options for a plain-HTTP test registry, quick to give up.
func plainOptions() -> RegistryOptions {
    var o = RegistryOptions(plainHTTP: true)
    o.retries = 2
    o.retryDelay = 0.05
    o.environment = ["HOME": "/nonexistent", "PATH": "/usr/bin:/bin"]
    return o
}

/// A client for the fake registry: plain HTTP, quick retries.
func fakeClient(_ fake: FakeRegistry, _ tweak: (inout RegistryOptions) -> Void = { _ in }) throws -> RegistryClient {
    var o = plainOptions()
    o.retries = 3
    o.retryDelay = 0.02
    tweak(&o)
    return try RegistryClient(registry: fake.host, options: o)
}

/// Errors collected from several threads.
final class ErrorLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ s: String) { lock.withLock { items.append(s) } }
    var all: [String] { lock.withLock { items } }
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
