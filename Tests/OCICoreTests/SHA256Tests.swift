import OCICore
import OCITestSupport
import Testing

/// The streaming SHA-256 (libcrypto) against `sha256sum`, the oracle.
@Suite("SHA-256 against sha256sum")
struct SHA256Tests {
    /// A multi-MB stream whose length is not a multiple of any block size used.
    static let bigStream = TestData.pseudoRandom(count: 3 * 1024 * 1024 + 12_345, seed: 42)

    /// Feeds `bytes` to a fresh hasher in `blockSize` pieces.
    private func hash(_ bytes: [UInt8], blockSize: Int) throws -> Digest {
        let h = SHA256Hasher()
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let end = min(offset + blockSize, raw.count)
                h.update(UnsafeRawBufferPointer(rebasing: raw[offset..<end]))
                offset = end
            }
        }
        #expect(h.count == Int64(bytes.count))
        return try h.finalize()
    }

    @Test func emptyInput() throws {
        let expected = try PeerTools.sha256sum(bytes: [])
        #expect(expected.description == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256Hasher.digest([UInt8]()) == expected)
        #expect(try hash([], blockSize: 1) == expected)
    }

    @Test(arguments: [UInt8(0), 0x61, 0xff])
    func oneByte(_ byte: UInt8) throws {
        #expect(SHA256Hasher.digest([byte]) == (try PeerTools.sha256sum(bytes: [byte])))
    }

    @Test(arguments: [1, 7, 4093, 65537, 1 << 20])
    func multiMegabyteStreamInOddBlocks(_ blockSize: Int) throws {
        let tmp = try TempDir()
        let path = tmp.file("stream.bin")
        let sink = try FileSink(creating: path)
        try sink.write(contentsOf: Self.bigStream)
        try sink.finish()
        let expected = try PeerTools.sha256sum(path: path)
        #expect(try hash(Self.bigStream, blockSize: blockSize) == expected)
    }

    @Test func digestingSinkHashesAndForwards() throws {
        let data = TestData.pseudoRandom(count: 100_003, seed: 7)
        let memory = MemorySink(limit: 1 << 20, context: "test")
        let sink = DigestingSink(forwardingTo: memory)
        try data.withUnsafeBytes { raw in
            for start in stride(from: 0, to: raw.count, by: 4093) {
                try sink.write(UnsafeRawBufferPointer(rebasing: raw[start..<min(start + 4093, raw.count)]))
            }
        }
        #expect(sink.count == Int64(data.count))
        let digest = try sink.digest()
        #expect(digest == (try PeerTools.sha256sum(bytes: data)))
        expectSameBytes(memory.bytes, data)
        // digest() and finish() are idempotent.
        try sink.finish()
        #expect(try sink.digest() == digest)
    }

    @Test func fileSourceCopyIntoDigestingSink() throws {
        let tmp = try TempDir()
        let path = tmp.file("f")
        try FS.writeAtomically(path, bytes: Self.bigStream)
        let sink = DigestingSink()
        let copied = try FileSource(path: path).copy(to: sink, blockSize: 65537)
        #expect(copied == Int64(Self.bigStream.count))
        #expect(try sink.digest() == (try PeerTools.sha256sum(path: path)))
    }
}
