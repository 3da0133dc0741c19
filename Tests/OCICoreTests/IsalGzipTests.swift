import Foundation
import Testing
import OCICore
import OCITestSupport

/// ISA-L gzip against zlib (the reference) and the system gzip.
@Suite struct IsalGzipTests {
    static func sample(_ n: Int) -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        // Compressible but not trivial: random words from a small alphabet.
        return (0..<n).map { i in i % 97 == 0 ? UInt8.random(in: 0...255, using: &rng) : UInt8(ascii: "a") + UInt8(i % 13) }
    }

    func encode(_ data: [UInt8], _ make: (ByteSink) throws -> ByteSink) throws -> [UInt8] {
        let mem = MemorySink(limit: 1 << 30, context: "test")
        let enc = try make(mem)
        try data.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = min(70_001, raw.count - off)
                try enc.write(UnsafeRawBufferPointer(rebasing: raw[off..<off + n]))
                off += n
            }
        }
        try enc.finish()
        return mem.bytes
    }

    func decode(_ data: [UInt8], _ make: (ByteSink) throws -> ByteSink, block: Int = 4093) throws -> [UInt8] {
        let mem = MemorySink(limit: 1 << 30, context: "test")
        let dec = try make(mem)
        try data.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = min(block, raw.count - off)
                try dec.write(UnsafeRawBufferPointer(rebasing: raw[off..<off + n]))
                off += n
            }
        }
        try dec.finish()
        return mem.bytes
    }

    @Test func isalAndZlibDecodeTheSame() throws {
        let data = Self.sample(3_000_000)
        let zlibGz = try encode(data) { try GzipEncoder(into: $0, level: 6, context: "t") }
        let isalGz = try encode(data) { IsalGzipEncoder(into: $0, context: "t") }
        for gz in [zlibGz, isalGz, zlibGz + isalGz] {
            let viaIsal = try decode(gz) { IsalGzipDecoder(into: $0, context: "t") }
            let viaZlib = try decode(gz) { try GzipDecoder(into: $0, context: "t") }
            #expect(viaIsal == viaZlib)
        }
        #expect(try decode(isalGz) { IsalGzipDecoder(into: $0, context: "t") } == data)
        #expect(try decode(zlibGz + zlibGz, { IsalGzipDecoder(into: $0, context: "t") }, block: 1 << 20) == data + data)
    }

    /// Inflating straight into an `AsyncSink`'s lent buffers (small ones, so
    /// that members and input blocks end anywhere inside a buffer) gives
    /// zlib's bytes, for single and concatenated members and any input block size.
    @Test func isalIntoLentBuffersDecodesTheSame() throws {
        let data = Self.sample(2_000_000)
        let zlibGz = try encode(data) { try GzipEncoder(into: $0, level: 6, context: "t") }
        let isalGz = try encode(data) { IsalGzipEncoder(into: $0, context: "t") }
        for gz in [zlibGz, isalGz, zlibGz + isalGz + [0, 0, 0]] {
            let reference = try decode(gz) { try GzipDecoder(into: $0, context: "t") }
            for block in [1, 4093, 1 << 20, gz.count] where block > 1 || gz.count < 300_000 {
                let lent = try decode(gz, { IsalGzipDecoder(into: AsyncSink(inner: $0, slots: 2, slotSize: 65_521), context: "t") }, block: block)
                #expect(lent == reference)
            }
        }
        #expect(throws: CoreError.self) {
            _ = try decode(Array(zlibGz.prefix(zlibGz.count / 2))) { IsalGzipDecoder(into: AsyncSink(inner: $0, slotSize: 4096), context: "t") }
        }
        var bad = zlibGz
        bad[bad.count - 6] ^= 0xff  // CRC trailer
        #expect(throws: CoreError.self) { _ = try decode(bad) { IsalGzipDecoder(into: AsyncSink(inner: $0), context: "t") } }
    }

    @Test func isalOutputIsValidGzipAndDeterministic() throws {
        let data = Self.sample(1_000_000)
        let a = try encode(data) { IsalGzipEncoder(into: $0, context: "t") }
        let b = try encode(data) { IsalGzipEncoder(into: $0, context: "t") }
        #expect(a == b)
        let r = try Shell.run(["gzip", "-dc"], stdin: a)
        #expect(r.status == 0)
        #expect(r.stdout == data)
    }

    @Test func isalRejectsTruncatedAndCorrupt() throws {
        let data = Self.sample(500_000)
        let gz = try encode(data) { try GzipEncoder(into: $0, level: 6, context: "t") }
        #expect(throws: CoreError.self) { _ = try decode(Array(gz.prefix(gz.count / 2))) { IsalGzipDecoder(into: $0, context: "t") } }
        var bad = gz
        bad[bad.count - 6] ^= 0xff  // CRC trailer
        #expect(throws: CoreError.self) { _ = try decode(bad) { IsalGzipDecoder(into: $0, context: "t") } }
        do {
            _ = try decode(Array(gz.prefix(gz.count / 2))) { IsalGzipDecoder(into: $0, context: "layer x") }
        } catch {
            #expect("\(error)".contains("truncated"))
            #expect("\(error)".contains("layer x"))
        }
    }
}
