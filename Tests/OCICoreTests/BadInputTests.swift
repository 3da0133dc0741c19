import OCICore
import OCITestSupport
import Testing

/// Damaged input must end in a thrown `CoreError` that names the problem:
/// never a crash, never a silently short result.
@Suite("Bad input")
struct BadInputTests {
    static let bigData = TestData.pseudoRandom(count: 200_000, seed: 11)
    static let members: [TarFixtures.Member] = [
        .init(TarEntry(path: "first.txt", kind: .regular, size: 5), data: Array("first".utf8)),
        .init(TarEntry(path: "big.bin", kind: .regular, size: Int64(bigData.count)), data: bigData),
        .init(TarEntry(path: "last.txt", kind: .regular, size: 4), data: Array("last".utf8)),
    ]
    /// Offset of big.bin's data in the tar written from `members` (plain USTAR headers).
    static let bigDataOffset = 512 + 512 + 512

    /// Reads every member and all its data; returns the bytes delivered.
    @discardableResult
    static func readEverything(_ path: String) throws -> Int64 {
        let reader = try TarReader(path: path)
        var total: Int64 = 0
        while let _ = try reader.next() {
            total += try reader.readData(into: NullSink())
        }
        return total
    }

    /// Expects `readEverything(path)` to throw a `CoreError` whose description
    /// contains one of `needles` and names the file.
    static func expectFailure(_ path: String, mentioning needles: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let n = try readEverything(path)
            Issue.record("read \(n) bytes from \(path) without an error", sourceLocation: sourceLocation)
        } catch let error as CoreError {
            let text = error.description
            #expect(needles.contains { text.localizedLowercase.contains($0.lowercased()) },
                    "\(text) names none of \(needles)", sourceLocation: sourceLocation)
            #expect(text.contains(path), "\(text) does not name the file", sourceLocation: sourceLocation)
        } catch {
            Issue.record("not a CoreError: \(error)", sourceLocation: sourceLocation)
        }
    }

    static func write(_ bytes: [UInt8], _ tmp: TempDir, _ name: String) throws -> String {
        let path = tmp.file(name)
        try FS.writeAtomically(path, bytes: bytes)
        return path
    }

    static func cli(_ args: [String], _ input: [UInt8]) throws -> [UInt8] {
        let r = try Shell.run(args, stdin: input)
        try #require(r.status == 0, "\(args): \(r.stderr)")
        return r.stdout
    }

    // MARK: tar

    @Test func sanityTheIntactTarReads() throws {
        let tmp = try TempDir()
        let tar = try TarFixtures.tarBytes(Self.members)
        #expect(Array(tar[Self.bigDataOffset..<Self.bigDataOffset + 16]) == Array(Self.bigData.prefix(16)))
        #expect(try Self.readEverything(Self.write(tar, tmp, "ok.tar")) == Int64(Self.bigData.count + 9))
    }

    @Test func truncatedInsideMemberData() throws {
        let tmp = try TempDir()
        let tar = try TarFixtures.tarBytes(Self.members)
        let cut = Array(tar.prefix(Self.bigDataOffset + Self.bigData.count / 2))
        let path = try Self.write(cut, tmp, "truncated.tar")
        Self.expectFailure(path, mentioning: ["truncated"])
        // The error names the member being read.
        let reader = try TarReader(path: path)
        _ = try reader.next()
        try reader.readData(into: NullSink())
        #expect(try reader.next()?.path == "big.bin")
        #expect { try reader.readData(into: NullSink()) } throws: { "\($0)".contains("member big.bin") }
    }

    @Test func truncatedRealTarFromGNUTar() throws {
        let tmp = try TempDir()
        try FS.makeDirectories(tmp.file("src"))
        try FS.writeAtomically(tmp.file("src/a.bin"), bytes: Self.bigData)
        try FS.writeAtomically(tmp.file("src/b.txt"), bytes: Array("b".utf8))
        let r = try Shell.run(["tar", "--format=gnu", "-C", tmp.file("src"), "-cf", tmp.file("gnu.tar"), "a.bin", "b.txt"])
        try #require(r.status == 0, "\(r.stderr)")
        let tar = try FS.readFile(tmp.file("gnu.tar"))
        let path = try Self.write(Array(tar.prefix(512 + Self.bigData.count / 3)), tmp, "cut.tar")
        Self.expectFailure(path, mentioning: ["truncated"])
    }

    @Test func truncatedInsideAHeader() throws {
        let tmp = try TempDir()
        let tar = try TarFixtures.tarBytes(Self.members)
        let secondHeader = 512 + 512
        let path = try Self.write(Array(tar.prefix(secondHeader + 200)), tmp, "cut-header.tar")
        Self.expectFailure(path, mentioning: ["truncated", "damaged"])
    }

    @Test func corruptedFirstHeaderChecksum() throws {
        let tmp = try TempDir()
        var tar = try TarFixtures.tarBytes(Self.members)
        tar[3] ^= 0x20  // "first.txt" -> "firSt.txt": the stored checksum no longer matches
        let path = try Self.write(tar, tmp, "bad-first.tar")
        Self.expectFailure(path, mentioning: ["checksum", "damaged", "unrecognized archive format"])
    }

    @Test func corruptedLaterHeaderChecksum() throws {
        let tmp = try TempDir()
        var tar = try TarFixtures.tarBytes(Self.members)
        tar[512 + 512 + 2] ^= 0x01  // in big.bin's header
        let path = try Self.write(tar, tmp, "bad-second.tar")
        Self.expectFailure(path, mentioning: ["checksum", "damaged"])
    }

    @Test func notATarAtAll() throws {
        let tmp = try TempDir()
        let path = try Self.write(TestData.pseudoRandom(count: 10_000, seed: 3), tmp, "random.bin")
        Self.expectFailure(path, mentioning: ["unrecognized archive format"])
    }

    @Test func emptyFileAndEmptyTar() throws {
        let tmp = try TempDir()
        let empty = try Self.write([], tmp, "empty.tar")
        let lenient = try TarReader(path: empty, allowEmpty: true)
        #expect(try lenient.next() == nil)
        #expect(throws: CoreError.self) { try Self.readEverything(empty) }
        let zeros = try Self.write([UInt8](repeating: 0, count: 1024), tmp, "zeros.tar")
        #expect(try TarReader(path: zeros).next() == nil, "two zero blocks are a valid empty tar")
    }

    // MARK: gzip

    @Test func gzipTarCutInHalf() throws {
        let tmp = try TempDir()
        let gz = try Self.cli(["gzip", "-c"], TarFixtures.tarBytes(Self.members))
        let path = try Self.write(Array(gz.prefix(gz.count / 2)), tmp, "half.tar.gz")
        Self.expectFailure(path, mentioning: ["truncated", "gzip", "unexpected end"])
    }

    @Test func gzipTarCutJustBeforeTheTrailer() throws {
        // All tar bytes decode; only the CRC/ISIZE trailer is missing.
        let tmp = try TempDir()
        let gz = try Self.cli(["gzip", "-c"], TarFixtures.tarBytes(Self.members))
        let path = try Self.write(Array(gz.dropLast(8)), tmp, "no-trailer.tar.gz")
        Self.expectFailure(path, mentioning: ["truncated", "gzip", "unexpected end", "crc", "damaged"])
    }

    @Test(arguments: Codec.gzipCodecs, [2, 3])
    func gzipDecoderCutStream(_ codec: Codec, _ divisor: Int) throws {
        let gz = try Self.cli(["gzip", "-c"], Self.bigData)
        let out = MemorySink(limit: 1 << 20, context: "out")
        let decoder = try codec.decoder(into: out)
        try decoder.write(contentsOf: Array(gz.prefix(gz.count / divisor)))
        #expect(out.bytes.count < Self.bigData.count)
        #expect { try decoder.finish() } throws: { error in
            guard case let .compression(context, message) = error as? CoreError else { return false }
            return context == "decode" && message.contains("truncated")
        }
    }

    @Test(arguments: Codec.gzipCodecs)
    func gzipDecoderCutInTrailer(_ codec: Codec) throws {
        let gz = try Self.cli(["gzip", "-c"], Self.bigData)
        let decoder = try codec.decoder(into: NullSink())
        try decoder.write(contentsOf: Array(gz.dropLast(3)))
        #expect { try decoder.finish() } throws: { "\($0)".contains("truncated") }
    }

    @Test(arguments: Codec.gzipCodecs)
    func gzipDecoderCorruptData(_ codec: Codec) throws {
        var gz = try Self.cli(["gzip", "-c"], Self.bigData)
        gz[gz.count / 2] ^= 0xff
        let decoder = try codec.decoder(into: NullSink())
        #expect {
            try decoder.write(contentsOf: gz)
            try decoder.finish()
        } throws: { "\($0)".contains("gzip data is corrupt") }
    }

    @Test(arguments: Codec.gzipCodecs)
    func gzipDecoderCorruptCRC(_ codec: Codec) throws {
        var gz = try Self.cli(["gzip", "-c"], Self.bigData)
        gz[gz.count - 6] ^= 0x01  // CRC32 in the trailer
        let decoder = try codec.decoder(into: NullSink())
        #expect {
            try decoder.write(contentsOf: gz)
            try decoder.finish()
        } throws: { "\($0)".contains("gzip data is corrupt") }
    }

    // MARK: zstd

    @Test func zstdTarCutInHalf() throws {
        let tmp = try TempDir()
        let zst = try Self.cli(["zstd", "-q", "-c"], TarFixtures.tarBytes(Self.members))
        let path = try Self.write(Array(zst.prefix(zst.count / 2)), tmp, "half.tar.zst")
        Self.expectFailure(path, mentioning: ["truncated", "zstd", "unexpected end", "damaged"])
    }

    @Test(arguments: [2, 3])
    func zstdDecoderCutStream(_ divisor: Int) throws {
        let zst = try Self.cli(["zstd", "-q", "-c"], Self.bigData)
        let out = MemorySink(limit: 1 << 20, context: "out")
        let decoder = try ZstdDecoder(into: out, context: "layer.zst")
        try decoder.write(contentsOf: Array(zst.prefix(zst.count / divisor)))
        #expect(out.bytes.count < Self.bigData.count)
        #expect { try decoder.finish() } throws: { error in
            guard case let .compression(context, message) = error as? CoreError else { return false }
            return context == "layer.zst" && message.contains("truncated")
        }
    }

    @Test func zstdDecoderCutInChecksum() throws {
        let zst = try Self.cli(["zstd", "-q", "-c"], Self.bigData)  // the CLI writes a 4-byte checksum
        let decoder = try ZstdDecoder(into: NullSink(), context: "x")
        try decoder.write(contentsOf: Array(zst.dropLast(2)))
        #expect { try decoder.finish() } throws: { "\($0)".contains("truncated") }
    }

    @Test func zstdDecoderCorruptData() throws {
        var zst = try Self.cli(["zstd", "-q", "-c"], Self.bigData + Self.bigData)
        zst[zst.count - 2] ^= 0xff  // the content checksum
        let decoder = try ZstdDecoder(into: NullSink(), context: "x")
        #expect {
            try decoder.write(contentsOf: zst)
            try decoder.finish()
        } throws: { "\($0)".contains("zstd data is corrupt") }
    }
}
