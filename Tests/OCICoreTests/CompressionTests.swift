import OCICore
import OCITestSupport
import Testing

/// A streaming codec under test: the zlib reference gzip, whatever
/// `Compression.gzip` dispatches to (ISA-L or zlib), and zstd.
enum Codec: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case zlibGzip, defaultGzip, zstd

    var testDescription: String { rawValue }
    var compression: Compression { self == .zstd ? .zstd : .gzip }

    func encoder(into sink: ByteSink, level: Int? = nil, threads: Int = 0) throws -> ByteSink {
        switch self {
        case .zlibGzip: return try GzipEncoder(into: sink, level: level ?? 6, context: "encode")
        case .defaultGzip: return try Compression.gzip.encoder(into: sink, level: level, context: "encode")
        case .zstd: return try ZstdEncoder(into: sink, level: level ?? 3, threads: threads, context: "encode")
        }
    }

    func decoder(into sink: ByteSink) throws -> ByteSink {
        switch self {
        case .zlibGzip: return try GzipDecoder(into: sink, context: "decode")
        case .defaultGzip: return try Compression.gzip.decoder(into: sink, context: "decode")
        case .zstd: return try ZstdDecoder(into: sink, context: "decode")
        }
    }

    static let gzipCodecs: [Codec] = [.zlibGzip, .defaultGzip]
}

/// Compression detection and the gzip/zstd encoders and decoders, judged by
/// the system `gzip`, `zstd`, `xz` and `bzip2`.
@Suite("Compression")
struct CompressionTests {
    /// Multi-MB data that compresses, with an incompressible stretch.
    static let payload: [UInt8] = TestData.compressible(count: 5 * 1024 * 1024 + 333)
        + TestData.pseudoRandom(count: 700_001, seed: 9)

    /// Pushes `input` through `sink` in `chunk`-sized writes, then finishes it.
    static func push(_ input: [UInt8], into sink: ByteSink, chunk: Int) throws {
        try input.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let end = min(offset + chunk, raw.count)
                try sink.write(UnsafeRawBufferPointer(rebasing: raw[offset..<end]))
                offset = end
            }
        }
        try sink.finish()
    }

    static func encode(_ c: Codec, _ input: [UInt8], level: Int? = nil, threads: Int = 0, chunk: Int = 65537) throws -> [UInt8] {
        let out = MemorySink(limit: 1 << 30, context: "encoded")
        try push(input, into: c.encoder(into: out, level: level, threads: threads), chunk: chunk)
        return out.bytes
    }

    static func decode(_ c: Codec, _ input: [UInt8], chunk: Int = 4093) throws -> [UInt8] {
        let out = MemorySink(limit: 1 << 30, context: "decoded")
        try push(input, into: c.decoder(into: out), chunk: chunk)
        return out.bytes
    }

    /// Runs a CLI filter over `input` and returns its stdout.
    static func cli(_ args: [String], _ input: [UInt8]) throws -> [UInt8] {
        let r = try Shell.run(args, stdin: input)
        try #require(r.status == 0, "\(args): \(r.stderr)")
        return r.stdout
    }

    static var smallTar: [UInt8] {
        get throws {
            try TarFixtures.tarBytes([TarFixtures.Member(TarEntry(path: "hello.txt", kind: .regular, size: 6), data: Array("hello\n".utf8))])
        }
    }

    // MARK: detect

    @Test func detectsSystemToolOutputs() throws {
        let tar = try Self.smallTar
        #expect(Compression.detect(try Self.cli(["gzip", "-c"], tar)) == .gzip)
        #expect(Compression.detect(try Self.cli(["zstd", "-q", "-c"], tar)) == .zstd)
        #expect(Compression.detect(try Self.cli(["xz", "-c"], tar)) == .xz)
        #expect(Compression.detect(try Self.cli(["bzip2", "-c"], tar)) == .bzip2)
        #expect(Compression.detect(tar) == .none)
        #expect(Compression.detect([UInt8]()) == .none)
        #expect(Compression.detect([0x1f]) == .none, "one byte of a gzip magic is not enough")
        #expect(Compression.detect(Array("{\"schemaVersion\":2}".utf8)) == .none)
    }

    @Test(arguments: [UInt8(0x50), 0x5a, 0x5f])
    func detectsAndDecodesZstdSkippableFrame(_ first: UInt8) throws {
        let data = Array("after the skippable frame\n".utf8)
        let frame = try Self.cli(["zstd", "-q", "-c"], data)
        let skippable: [UInt8] = [first, 0x2a, 0x4d, 0x18, 5, 0, 0, 0] + Array("meta!".utf8)
        let stream = skippable + frame
        #expect(Compression.detect(stream) == .zstd)
        expectSameBytes(try Self.decode(Codec.zstd, stream, chunk: 3), data)
        expectSameBytes(try Self.cli(["zstd", "-q", "-dc"], stream), data, "the oracle agrees the stream is valid")
    }

    @Test func tarReaderReportsOuterCompression() throws {
        let tmp = try TempDir()
        let tar = try Self.smallTar
        let cases: [(Compression, [String]?)] = [(.none, nil), (.gzip, ["gzip", "-c"]), (.zstd, ["zstd", "-q", "-c"]),
                                                 (.xz, ["xz", "-c"]), (.bzip2, ["bzip2", "-c"])]
        for (kind, tool) in cases {
            let path = tmp.file("t.\(kind.rawValue)")
            try FS.writeAtomically(path, bytes: tool.map { try Self.cli($0, tar) } ?? tar)
            let reader = try TarReader(path: path)
            let entry = try #require(try reader.next())
            #expect(entry.path == "hello.txt")
            #expect(reader.outerCompression == kind)
        }
    }

    @Test func xzAndBzip2AreNotLayerCodecs() throws {
        for kind in [Compression.xz, .bzip2] {
            #expect { try kind.decoder(into: NullSink(), context: "layer") } throws: { "\($0)".contains("not supported") }
            #expect { try kind.encoder(into: NullSink(), context: "layer") } throws: { "\($0)".contains("not supported") }
        }
    }

    // MARK: round trips

    @Test(arguments: [(Codec.zlibGzip, 1), (.zlibGzip, 6), (.zlibGzip, 9), (.defaultGzip, nil), (.defaultGzip, 1), (.defaultGzip, 6),
                      (.zstd, 1), (.zstd, 3), (.zstd, 19)] as [(Codec, Int?)])
    func encoderDecoderRoundTrip(_ codec: Codec, _ level: Int?) throws {
        let input = (level ?? 0) >= 19 ? Array(Self.payload.prefix(1 << 20)) : Self.payload
        let encoded = try Self.encode(codec, input, level: level, chunk: 7919)
        #expect(Compression.detect(encoded) == codec.compression)
        #expect(encoded.count < input.count, "compressed \(encoded.count) vs \(input.count)")
        let decoded = try Self.decode(codec, encoded, chunk: 4093)
        expectSameBytes(decoded, input)
    }

    @Test func gzipCodecsReadEachOther() throws {
        let zlib = try Self.encode(.zlibGzip, Self.payload)
        let fast = try Self.encode(.defaultGzip, Self.payload)
        expectSameBytes(try Self.decode(.defaultGzip, zlib), Self.payload)
        expectSameBytes(try Self.decode(.zlibGzip, fast), Self.payload)
    }

    @Test func passThroughIsIdentity() throws {
        let out = MemorySink(limit: 1 << 30, context: "out")
        try Self.push(Self.payload, into: Compression.none.decoder(into: Compression.none.encoder(into: out, context: "e"), context: "d"), chunk: 1000)
        expectSameBytes(out.bytes, Self.payload)
    }

    @Test(arguments: Codec.allCases, [1, 4093, 1 << 20])
    func decodersAcceptAnyChunking(_ codec: Codec, _ chunk: Int) throws {
        let input = Array(Self.payload.prefix(2 << 20))
        let encoded = try Self.encode(codec, input)
        expectSameBytes(try Self.decode(codec, encoded, chunk: chunk), input)
    }

    @Test func zstdWithWorkerThreadsRoundTrips() throws {
        let encoded = try Self.encode(.zstd, Self.payload, threads: 2)
        expectSameBytes(try Self.decode(.zstd, encoded), Self.payload)
        expectSameBytes(try Self.cli(["zstd", "-q", "-dc"], encoded), Self.payload)
    }

    /// Same input and level give the same bytes whatever the thread count (reproducible layers).
    @Test func zstdOutputIndependentOfThreadCount() throws {
        let input = Self.payload + Self.payload  // larger than one zstd job
        let single = try Self.encode(.zstd, input, threads: 0)
        let one = try Self.encode(.zstd, input, threads: 1)
        let two = try Self.encode(.zstd, input, threads: 2)
        expectSameBytes(one, two, "zstd guarantees equal output for any nbWorkers >= 1:")
        expectSameBytes(single, two, "threads: 0 vs threads: 2:")
    }

    // MARK: determinism

    @Test func zlibGzipEncoderPinsTheHeader() throws {
        let a = try Self.encode(.zlibGzip, Self.payload)
        #expect(Array(a[0..<4]) == [0x1f, 0x8b, 8, 0], "deflate, no FNAME/FEXTRA flags")
        #expect(Array(a[4..<8]) == [0, 0, 0, 0], "mtime 0")
        #expect(a[9] == 255, "OS unknown")
    }

    @Test(arguments: Codec.allCases)
    func encoderIsDeterministic(_ codec: Codec) throws {
        let a = try Self.encode(codec, Self.payload)
        let b = try Self.encode(codec, Self.payload)
        expectSameBytes(a, b)
        if codec != .zstd {
            #expect(Array(a[4..<8]) == [0, 0, 0, 0], "gzip mtime must be 0 for reproducible output")
            #expect(a[3] & 0x08 == 0, "no file name in the header")
        }
    }

    // MARK: interop

    @Test(arguments: Codec.gzipCodecs)
    func gzipDecoderReadsSystemGzip(_ codec: Codec) throws {
        for level in ["-1", "-6", "-9"] {
            let gz = try Self.cli(["gzip", level, "-c"], Self.payload)
            expectSameBytes(try Self.decode(codec, gz), Self.payload, "gzip \(level)")
        }
        // gzip -n omits the name; without it the FNAME field is present (stdin: no name, so force one via a file).
        let tmp = try TempDir()
        let path = tmp.file("named.bin")
        try FS.writeAtomically(path, bytes: Array(Self.payload.prefix(100_000)))
        let r = try Shell.run(["gzip", "-k", "-N", path])
        try #require(r.status == 0, "\(r.stderr)")
        let named = try FS.readFile(path + ".gz")
        #expect(named[3] & 0x08 != 0, "FNAME set")
        expectSameBytes(try Self.decode(codec, named), Array(Self.payload.prefix(100_000)))
    }

    @Test(arguments: Codec.gzipCodecs)
    func gzipDecoderReadsConcatenatedMembers(_ codec: Codec) throws {
        let tmp = try TempDir()
        let a = Array(Self.payload.prefix(1_000_000)), b = Array(Self.payload.suffix(777_777))
        try FS.writeAtomically(tmp.file("a"), bytes: a)
        try FS.writeAtomically(tmp.file("b"), bytes: b)
        let r = try Shell.run(["sh", "-c", "gzip -c \"$1/a\" > \"$1/a.gz\" && gzip -c \"$1/b\" > \"$1/b.gz\" && cat \"$1/a.gz\" \"$1/b.gz\"", "sh", tmp.path])
        try #require(r.status == 0, "\(r.stderr)")
        expectSameBytes(try Self.decode(codec, r.stdout), a + b)
        // Our own encoder's members concatenated, with zero padding after the last.
        let ours = try Self.encode(codec, a) + (try Self.encode(codec, b)) + [0, 0, 0, 0]
        expectSameBytes(try Self.decode(codec, ours, chunk: 65536), a + b)
    }

    @Test(arguments: Codec.gzipCodecs)
    func gzipDecoderRejectsGarbageAfterMember(_ codec: Codec) throws {
        // Longer than a gzip header, so no decoder can take it for a member still to come.
        let gz = try Self.encode(codec, Array("data".utf8)) + Array(String(repeating: "garbage ", count: 8).utf8)
        #expect { try Self.decode(codec, gz) } throws: { error in
            guard case let .compression(context, message) = error as? CoreError else { return false }
            return context == "decode" && message.contains("gzip data is corrupt")
        }
    }

    @Test(arguments: Codec.allCases)
    func systemToolsDecodeOurEncoders(_ codec: Codec) throws {
        let encoded = try Self.encode(codec, Self.payload)
        let tool = codec == .zstd ? "zstd" : "gzip"
        expectSameBytes(try Self.cli([tool, "-q", "-dc"], encoded), Self.payload)
        #expect(try Shell.run([tool, "-q", "-t"], stdin: encoded).status == 0, "\(tool) -t verifies the checksum")
    }

    @Test(arguments: Codec.allCases)
    func emptyStreamsAreReportedNotTreatedAsEmptyContent(_ codec: Codec) throws {
        let name = codec.compression.rawValue
        #expect { try Self.decode(codec, []) } throws: { "\($0)".contains("\(name) stream is empty") }
        // An encoded empty input is a valid stream of zero bytes.
        let encoded = try Self.encode(codec, [])
        #expect(!encoded.isEmpty)
        #expect(try Self.decode(codec, encoded) == [])
        #expect(try Self.cli([codec == .zstd ? "zstd" : "gzip", "-q", "-dc"], encoded) == [])
    }
}
