@testable import OCICore
import OCITestSupport
import Testing

/// Values crossing into C libraries are checked: out-of-range input gives
/// a `CoreError`, never a trap; the portable SHA-256 fallback matches libcrypto.
@Suite("Checked C boundaries")
struct CheckedBoundaryTests {
    // MARK: TarWriter refuses what a header cannot hold

    static func expectRefusal(_ entry: TarEntry, _ needle: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let w = try TarWriter(sink: MemorySink(limit: 1 << 20, context: "t"), name: "out.tar")
        #expect(sourceLocation: sourceLocation) { try w.writeHeader(entry) } throws: { error in
            guard case .malformed = error as? CoreError else { return false }
            return "\(error)".contains(needle) && "\(error)".contains("out.tar")
        }
    }

    @Test func writerRefusesNegativeIdsAndSizes() throws {
        try Self.expectRefusal(TarEntry(path: "f", kind: .regular, uid: -1), "negative uid")
        try Self.expectRefusal(TarEntry(path: "f", kind: .regular, gid: -7), "negative uid or gid")
        try Self.expectRefusal(TarEntry(path: "f", kind: .regular, size: -1), "negative size")
    }

    @Test func writerRefusesNULInNames() throws {
        try Self.expectRefusal(TarEntry(path: "a\u{0}b", kind: .regular), "name contains a NUL")
        try Self.expectRefusal(TarEntry(path: "l", kind: .symlink, linkTarget: "x\u{0}"), "link target contains a NUL")
        try Self.expectRefusal(TarEntry(path: "f", kind: .regular, xattrs: [.init(name: "user.\u{0}", value: [1])]), "extended attribute name")
    }

    @Test func writerRefusesInvalidSparseMaps() throws {
        let overlap = TarEntry(path: "s", kind: .regular, size: 100, sparseRegions: [.init(offset: 0, length: 10), .init(offset: 5, length: 10)])
        try Self.expectRefusal(overlap, "sparse map is invalid")
        let beyond = TarEntry(path: "s", kind: .regular, size: 100, sparseRegions: [.init(offset: 95, length: 10)])
        try Self.expectRefusal(beyond, "sparse map is invalid")
        let overflow = TarEntry(path: "s", kind: .regular, size: .max, sparseRegions: [.init(offset: .max - 1, length: .max)])
        try Self.expectRefusal(overflow, "sparse map is invalid")
        let negative = TarEntry(path: "s", kind: .regular, size: 100, sparseRegions: [.init(offset: 0, length: -4)])
        try Self.expectRefusal(negative, "sparse map is invalid")
    }

    @Test func storedSizeSaturates() {
        let e = TarEntry(path: "s", kind: .regular, size: .max, sparseRegions: [.init(offset: 0, length: .max), .init(offset: 0, length: .max)])
        #expect(e.storedSize == .max)
        #expect(TarEntry(path: "f", kind: .regular, size: 12).storedSize == 12)
    }

    @Test func writerRoundTripsDeviceNumbersUpToUInt32Max() throws {
        let tmp = try TempDir()
        let path = tmp.file("dev.tar")
        let dev = TarEntry(path: "dev/big", kind: .characterDevice, mode: 0o600, deviceMajor: .max, deviceMinor: .max)
        try TarFixtures.writeTar([.init(dev)], to: path)
        let got = try #require(try TarReader(path: path).next())
        #expect(got.deviceMajor == .max && got.deviceMinor == .max)
        // GNU tar, the oracle, reads the same numbers.
        let listing = try Shell.run(["tar", "--numeric-owner", "-tvf", path])
        #expect(listing.stdoutText.contains("4294967295,4294967295"), "\(listing.stdoutText) \(listing.stderr)")
    }

    // MARK: encoder parameters

    @Test func encoderLevelsOutOfRangeThrow() throws {
        #expect(throws: CoreError.self) { try GzipEncoder(into: NullSink(), level: 10, context: "t") }
        #expect(throws: CoreError.self) { try GzipEncoder(into: NullSink(), level: Int.max, context: "t") }
        #expect(throws: CoreError.self) { try ZstdEncoder(into: NullSink(), level: 1000, context: "t") }
        #expect(throws: CoreError.self) { try ZstdEncoder(into: NullSink(), level: Int.min, context: "t") }
        #expect(throws: CoreError.self) { try ParallelGzipEncoder(into: NullSink(), level: 0, context: "t") }
    }

    @Test func absurdThreadAndBlockCountsAreClamped() throws {
        let out = MemorySink(limit: 1 << 20, context: "t")
        let enc = try ParallelGzipEncoder(into: out, threads: Int.max, blockSize: Int.max, context: "t")
        try enc.write(contentsOf: [UInt8](repeating: 7, count: 1000))
        try enc.finish()
        let back = MemorySink(limit: 1 << 20, context: "t")
        let dec = try GzipDecoder(into: back, context: "t")
        try dec.write(contentsOf: out.bytes)
        try dec.finish()
        #expect(back.bytes == [UInt8](repeating: 7, count: 1000))
        let z = try ZstdEncoder(into: NullSink(), threads: Int.max, context: "t")
        try z.write(contentsOf: [1, 2, 3] as [UInt8])
        try z.finish()
    }

    @Test func writesAfterFinishThrow() throws {
        let gz = try GzipEncoder(into: NullSink(), context: "t")
        try gz.finish()
        #expect(throws: CoreError.self) { try gz.write(contentsOf: [1] as [UInt8]) }
        let z = try ZstdEncoder(into: NullSink(), context: "t")
        try z.finish()
        #expect(throws: CoreError.self) { try z.write(contentsOf: [1] as [UInt8]) }
    }

    // MARK: SHA-256 fallback

    @Test func softwareSHA256MatchesLibcrypto() throws {
        for size in Array(0...200) + [511, 512, 513, 4095, 65_537, 1_000_003] {
            let data = TestData.pseudoRandom(count: size, seed: UInt64(size) + 1)
            let soft = SHA256Hasher(softwareOnly: true)
            // Odd chunks, to cross every buffering boundary.
            data.withUnsafeBytes { raw in
                var offset = 0
                var step = 1
                while offset < raw.count {
                    let end = min(raw.count, offset + step)
                    soft.update(UnsafeRawBufferPointer(rebasing: raw[offset..<end]))
                    offset = end
                    step = step * 3 % 1021 + 1
                }
            }
            #expect(try soft.finalize() == SHA256Hasher.digest(data), "size \(size)")
        }
        #expect(try SHA256Hasher(softwareOnly: true).finalize().encoded == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func hasherMisuseThrowsInsteadOfTrapping() throws {
        let h = SHA256Hasher()
        h.update([1, 2, 3] as [UInt8])
        _ = try h.finalize()
        #expect(throws: CoreError.self) { try h.finalize() }
        h.update([4] as [UInt8])
        #expect(h.failed)
        let sink = DigestingSink()
        try sink.write(contentsOf: [9] as [UInt8])
        _ = try sink.digest()
        #expect(throws: CoreError.self) { try sink.write(contentsOf: [9] as [UInt8]) }
    }
}
