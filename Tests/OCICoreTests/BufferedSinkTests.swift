import Foundation
import OCICore
import Testing

/// `BufferedSink` in front of an `AsyncSink` fills the async sink's own
/// buffers in place (export writes this way): the bytes arrive whole and
/// in order whatever the sizes of the writes, memory stays at the async
/// sink's bound, and an error of the inner sink comes back to the writer.
@Suite("BufferedSink over a lending sink")
struct BufferedSinkTests {
    /// Writes of every size around the buffer size: small, exact, larger.
    static func pieces(_ total: Int) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var n = 0
        var size = 1
        while n < total {
            let k = min(size, total - n)
            out.append((0..<k).map { UInt8(truncatingIfNeeded: (n + $0) &* 31 &+ 7) })
            n += k
            size = size * 3 % 200_003 + 1
        }
        return out
    }

    @Test func bytesArriveWholeAndInOrder() throws {
        let pieces = Self.pieces(3_000_000)
        let expected = Array(pieces.joined())
        for slotSize in [4096, 65_521, 1 << 20] {
            let memory = MemorySink(limit: 8 << 20, context: "t")
            let async = AsyncSink(inner: memory, slots: 2, slotSize: slotSize, name: "test")
            let buffered = BufferedSink(async)
            for p in pieces { try p.withUnsafeBytes { try buffered.write($0) } }
            try buffered.finish()
            #expect(memory.bytes == expected, "slot size \(slotSize)")
            #expect(async.buffersAllocated <= 4, "slot size \(slotSize): \(async.buffersAllocated) buffers")
        }
    }

    @Test func innerErrorsReachTheWriter() throws {
        let async = AsyncSink(inner: MemorySink(limit: 100_000, context: "small"), slots: 2, slotSize: 4096, name: "test")
        let buffered = BufferedSink(async)
        #expect(throws: CoreError.self) {
            for p in Self.pieces(1_000_000) { try p.withUnsafeBytes { try buffered.write($0) } }
            try buffered.finish()
        }
    }

    /// Dropped unfinished (an export that failed): the borrowed buffer goes
    /// back, `abandon` stops the worker, nothing is written after it.
    @Test func abandonedStopsWriting() throws {
        let memory = MemorySink(limit: 8 << 20, context: "t")
        let async = AsyncSink(inner: memory, slots: 2, slotSize: 4096, name: "test")
        do {
            let buffered = BufferedSink(async)
            try [UInt8](repeating: 1, count: 10_000).withUnsafeBytes { try buffered.write($0) }
        }
        async.abandon()
        let after = memory.bytes.count
        #expect(after <= 8192, "\(after) bytes: only whole buffers handed over before the drop")
        #expect(memory.bytes.count == after)
    }
}
