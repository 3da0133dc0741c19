import OCICore
import OCITestSupport
import Testing

/// An output given up before `finish()` (an error mid-stream, a writer
/// dropped) must never look complete downstream: no tar padding or
/// end-of-archive blocks, no gzip trailer, no closed zstd frame, and the
/// sink is not finished.
@Suite("Abandoned outputs are truncated, never complete")
struct AbandonedOutputTests {
    /// Records every byte and whether it was finished; can fail after `failAfter` bytes.
    final class RecordingSink: ByteSink {
        var bytes: [UInt8] = []
        var finished = false
        var writesAfterFailure = 0
        let failAfter: Int?
        private var failed = false

        init(failAfter: Int? = nil) { self.failAfter = failAfter }

        func write(_ chunk: UnsafeRawBufferPointer) throws {
            if failed { writesAfterFailure += 1 }
            if let failAfter, bytes.count + chunk.count > failAfter {
                failed = true
                throw CoreError.io(context: "write recorder", errno: 28)  // ENOSPC
            }
            bytes.append(contentsOf: chunk)
        }

        func finish() throws { finished = true }
    }

    static let payload = TestData.pseudoRandom(count: 300_000, seed: 5)

    static func file(_ name: String, _ data: [UInt8]) -> TarEntry {
        TarEntry(path: name, kind: .regular, mode: 0o644, mtime: 1_700_000_000, size: Int64(data.count))
    }

    /// What GNU tar says about a stream.
    static func gnuTarList(_ bytes: [UInt8]) throws -> Shell.Result {
        try Shell.run(["tar", "-tvf", "-"], stdin: bytes)
    }

    @Test func sanityAFinishedTarEndsWithTwoZeroBlocks() throws {
        let sink = RecordingSink()
        let w = try TarWriter(sink: sink, name: "out.tar")
        try w.writeFile(Self.file("a.bin", Self.payload), bytes: Self.payload)
        try w.finish()
        #expect(sink.finished)
        #expect(sink.bytes.suffix(1024).allSatisfy { $0 == 0 })
        #expect(try Self.gnuTarList(sink.bytes).status == 0)
    }

    @Test func droppedMidMemberLeavesATruncatedTar() throws {
        let sink = RecordingSink()
        do {
            let w = try TarWriter(sink: sink, name: "out.tar")
            try w.writeFile(Self.file("a.bin", Self.payload), bytes: Self.payload)
            try w.writeHeader(Self.file("b.bin", Self.payload))
            try Self.payload.prefix(100_000).withUnsafeBytes { try w.write($0) }
            // Dropped here, as when an export fails between two reads.
        }
        #expect(!sink.finished)
        #expect(sink.bytes.count % 10240 == 0, "only whole libarchive blocks reached the sink")
        #expect(sink.bytes.count < 512 + Self.payload.count + 512 + 100_000 + 1024)
        let listed = try Self.gnuTarList(sink.bytes)
        #expect(listed.status != 0, "GNU tar read the abandoned stream as complete: \(listed.stdoutText)")
        #expect(listed.stderr.contains("Unexpected EOF"), "\(listed.stderr)")
    }

    @Test func droppedBetweenMembersHasNoEndOfArchive() throws {
        let sink = RecordingSink()
        let data = [UInt8](repeating: 0x61, count: 10240 - 512)  // a member filling exactly one block
        do {
            let w = try TarWriter(sink: sink, name: "out.tar")
            for i in 0..<3 { try w.writeFile(Self.file("f\(i)", data), bytes: data) }
        }
        #expect(!sink.finished)
        #expect(sink.bytes.count <= 3 * 10240)
        #expect(!sink.bytes.suffix(1024).allSatisfy { $0 == 0 }, "end-of-archive blocks were written")
    }

    @Test func abandonStopsEverythingAndLaterCallsThrow() throws {
        let sink = RecordingSink()
        let w = try TarWriter(sink: sink, name: "out.tar")
        try w.writeFile(Self.file("a.bin", Self.payload), bytes: Self.payload)
        let before = sink.bytes.count
        w.abandon()
        #expect(throws: CoreError.self) { try w.writeFile(Self.file("b", [1]), bytes: [1]) }
        #expect(throws: CoreError.self) { try w.finish() }
        #expect(sink.bytes.count == before)
        #expect(!sink.finished)
    }

    @Test func finishWithMissingDataAbandons() throws {
        let sink = RecordingSink()
        let w = try TarWriter(sink: sink, name: "out.tar")
        try w.writeHeader(Self.file("short.bin", Self.payload))
        try Self.payload.prefix(20_000).withUnsafeBytes { try w.write($0) }
        #expect { try w.finish() } throws: { "\($0)".contains("bytes of data missing") }
        #expect(!sink.finished)
        #expect(try Self.gnuTarList(sink.bytes).status != 0)
    }

    @Test func aFailingSinkIsNotWrittenAgain() throws {
        let sink = RecordingSink(failAfter: 25_000)
        do {
            let w = try TarWriter(sink: sink, name: "out.tar")
            #expect(throws: CoreError.self) { try w.writeFile(Self.file("a.bin", Self.payload), bytes: Self.payload) }
        }
        #expect(sink.writesAfterFailure == 0, "libarchive flushed into the failed sink on free")
        #expect(!sink.finished)
    }

    // MARK: encoders

    enum Encoder: String, CaseIterable, Sendable {
        case zlib, isal, parallel1, parallel2, zstd
        func make(_ sink: ByteSink) throws -> ByteSink {
            switch self {
            case .zlib: return try GzipEncoder(into: sink, context: "t")
            case .isal: return IsalGzipEncoder(into: sink, context: "t")
            case .parallel1: return try ParallelGzipEncoder(into: sink, threads: 1, blockSize: 64 << 10, context: "t")
            case .parallel2: return try ParallelGzipEncoder(into: sink, threads: 2, blockSize: 64 << 10, context: "t")
            case .zstd: return try ZstdEncoder(into: sink, threads: 1, context: "t")
            }
        }
        func decoder(_ sink: ByteSink) throws -> ByteSink {
            self == .zstd ? try ZstdDecoder(into: sink, context: "d") : try GzipDecoder(into: sink, context: "d")
        }
        var tool: [String] { self == .zstd ? ["zstd", "-t", "-q"] : ["gzip", "-t"] }
    }

    @Test(arguments: Encoder.allCases)
    func finishedStreamsAreWhole(_ kind: Encoder) throws {
        let sink = RecordingSink()
        let enc = try kind.make(sink)
        try enc.write(contentsOf: Self.payload + Self.payload)
        try enc.finish()
        #expect(sink.finished)
        #expect(try Shell.run(kind.tool, stdin: sink.bytes).status == 0)
    }

    @Test(arguments: Encoder.allCases)
    func droppedEncodersWriteNoTrailer(_ kind: Encoder) throws {
        let sink = RecordingSink()
        do {
            let enc = try kind.make(sink)
            // Incompressible data, several blocks (zstd's workers take jobs
            // of several MiB): some output has reached the sink.
            for _ in 0..<(kind == .zstd ? 80 : 8) { try enc.write(contentsOf: Self.payload) }
        }
        #expect(!sink.finished)
        #expect(!sink.bytes.isEmpty, "nothing was flushed: the test would prove nothing")
        let check = try Shell.run(kind.tool, stdin: sink.bytes)
        #expect(check.status != 0, "\(kind.tool[0]) accepted the abandoned stream")
        let decoder = try kind.decoder(NullSink())
        try decoder.write(contentsOf: sink.bytes)
        #expect { try decoder.finish() } throws: { "\($0)".contains("truncated") }
    }
}
