import Foundation
import Testing
import OCICore
import OCITestSupport

/// The block-parallel gzip encoder `convert` (and every `--compress gzip`)
/// uses: valid gzip for GNU gzip, zlib and ISA-L; the same bytes for any
/// thread count and write chunking; bounded blocks.
@Suite("Convert: parallel gzip")
struct ConvertParallelGzipTests {
    static let payload: [UInt8] = TestData.compressible(count: 3 * 1024 * 1024 + 12345)
        + TestData.pseudoRandom(count: 300_001, seed: 7)

    static func encode(_ input: [UInt8], level: Int? = nil, threads: Int, blockSize: Int = 128 << 10, chunk: Int = 65537) throws -> [UInt8] {
        let out = MemorySink(limit: 1 << 30, context: "encoded")
        let enc = try ParallelGzipEncoder(into: out, level: level, threads: threads, blockSize: blockSize, context: "test")
        try input.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let end = min(offset + chunk, raw.count)
                try enc.write(UnsafeRawBufferPointer(rebasing: raw[offset..<end]))
                offset = end
            }
        }
        try enc.finish()
        return out.bytes
    }

    static func decode(_ gz: [UInt8], zlib: Bool) throws -> [UInt8] {
        let out = MemorySink(limit: 1 << 30, context: "decoded")
        let dec: ByteSink = zlib ? try GzipDecoder(into: out, context: "zlib") : IsalGzipDecoder(into: out, context: "isal")
        try gz.withUnsafeBytes { try dec.write($0) }
        try dec.finish()
        return out.bytes
    }

    @Test(arguments: [nil, 6] as [Int?])
    func sameBytesForAnyThreadCountAndChunking(level: Int?) throws {
        let one = SHA256Hasher.digest(try Self.encode(Self.payload, level: level, threads: 1))
        let two = SHA256Hasher.digest(try Self.encode(Self.payload, level: level, threads: 2, chunk: 4093))
        let four = SHA256Hasher.digest(try Self.encode(Self.payload, level: level, threads: 4, chunk: 1 << 20))
        #expect(one == two)
        #expect(one == four)
    }

    @Test(arguments: [nil, 6] as [Int?])
    func decodesWithZlibIsalAndGNUGzip(level: Int?) throws {
        let gz = try Self.encode(Self.payload, level: level, threads: 2)
        let want = SHA256Hasher.digest(Self.payload)
        #expect(SHA256Hasher.digest(try Self.decode(gz, zlib: true)) == want)
        #expect(SHA256Hasher.digest(try Self.decode(gz, zlib: false)) == want)
        let r = try Shell.run(["gzip", "-dc"], stdin: gz)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(SHA256Hasher.digest(r.stdout) == want)
        // One gzip member: gzip -l sees one stream with the right length.
        let t = try Shell.run(["gzip", "-t"], stdin: gz)
        #expect(t.status == 0)
    }

    @Test(arguments: [0, 1, 131_072, 131_073, 262_144])
    func edgeLengths(count: Int) throws {
        let data = TestData.compressible(count: count, seed: UInt64(count) + 1)
        let gz = try Self.encode(data, threads: 2)
        #expect(SHA256Hasher.digest(try Self.decode(gz, zlib: true)) == SHA256Hasher.digest(data))
        let r = try Shell.run(["gzip", "-dc"], stdin: gz)
        #expect(r.status == 0 && SHA256Hasher.digest(r.stdout) == SHA256Hasher.digest(data))
    }

    @Test func ratioCloseToOneStream() throws {
        let data = TestData.compressible(count: 4 << 20, seed: 3)
        let blocks = try Self.encode(data, threads: 2, blockSize: 1 << 20).count
        let out = MemorySink(limit: 1 << 30, context: "one")
        let single = IsalGzipEncoder(into: out, context: "one")
        try data.withUnsafeBytes { try single.write($0) }
        try single.finish()
        // The 32 KiB dictionary keeps block boundaries almost free.
        #expect(Double(blocks) <= Double(out.bytes.count) * 1.02, "blocks \(blocks) vs one stream \(out.bytes.count)")
    }

    @Test func compressionEncoderUsesIt() throws {
        let out = MemorySink(limit: 1 << 30, context: "x")
        let enc = try Compression.gzip.encoder(into: out, threads: 2, context: "x")
        #expect(enc is ParallelGzipEncoder)
        #expect(throws: CoreError.self) { _ = try ParallelGzipEncoder(into: NullSink(), level: 12, context: "x") }
    }
}
