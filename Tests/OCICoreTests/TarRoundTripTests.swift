import OCICore
import OCITestSupport
import Testing

/// TarWriter → TarReader round trips of every field an image layer can
/// carry, judged also by GNU tar and bsdtar listings.
@Suite("Tar round trip")
struct TarRoundTripTests {
    typealias Member = TarFixtures.Member

    /// 200 bytes that USTAR cannot split into prefix/name (last component 159 bytes).
    static let longPath = String(repeating: "L", count: 40) + "/" + String(repeating: "n", count: 159)
    /// 200 bytes that USTAR can split (prefix 121, name 78).
    static let splittablePath = String(repeating: "p", count: 60) + "/" + String(repeating: "q", count: 60) + "/" + String(repeating: "r", count: 78)
    /// A 120-byte symlink target (USTAR linkname holds 100).
    static let longTarget = "../" + String(repeating: "t", count: 50) + "/" + String(repeating: "u", count: 66)
    static let nonASCII = "café/naïve-文件.txt"
    static let sparseSize: Int64 = 9 << 30  // needs PAX size (USTAR holds < 8 GiB)
    static let sparseOffset: Int64 = 5 << 30
    static let sparseData: [UInt8] = Array("hello".utf8)
    static let capability: [UInt8] = [0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00] + [UInt8](repeating: 0, count: 12)

    /// One member of each kind, with the awkward fields set.
    static var members: [Member] {
        let t: Int64 = 1_700_000_000
        return [
            Member(TarEntry(path: "dir/", kind: .directory, mode: 0o755, uid: 0, gid: 0, uname: "root", gname: "root", mtime: t)),
            Member(TarEntry(path: "dir/file.txt", kind: .regular, mode: 0o644, uid: 1000, gid: 1001, uname: "alice", gname: "staff", mtime: t + 1, size: 513),
                   data: TestData.pseudoRandom(count: 513, seed: 1)),
            Member(TarEntry(path: "dir/empty", kind: .regular, mode: 0o600, mtime: t, size: 0)),
            Member(TarEntry(path: "dir/block512", kind: .regular, mode: 0o4755, mtime: t, size: 512),
                   data: TestData.pseudoRandom(count: 512, seed: 2)),
            Member(TarEntry(path: "dir/hardlink", kind: .hardlink, mode: 0o644, uid: 1000, gid: 1001, mtime: t + 1, linkTarget: "dir/file.txt")),
            Member(TarEntry(path: longPath, kind: .regular, mode: 0o640, mtime: t, size: 3), data: [1, 2, 3]),
            Member(TarEntry(path: splittablePath, kind: .regular, mode: 0o640, mtime: t, size: 1), data: [9]),
            Member(TarEntry(path: "link-long", kind: .symlink, mode: 0o777, mtime: t, linkTarget: longTarget)),
            Member(TarEntry(path: "link-short", kind: .symlink, mode: 0o777, mtime: t, linkTarget: "dir/file.txt")),
            Member(TarEntry(path: "xattrs", kind: .regular, mode: 0o755, mtime: t, size: 2,
                            xattrs: [.init(name: "security.capability", value: capability),
                                     .init(name: "trusted.overlay.opaque", value: Array("y".utf8)),
                                     .init(name: "user.test", value: Array("value with spaces = and \u{e9}".utf8))]),
                   data: [0x0a, 0x0b]),
            Member(TarEntry(path: "café/", kind: .directory, mode: 0o755, mtime: t)),
            Member(TarEntry(path: nonASCII, kind: .regular, mode: 0o644, mtime: t, size: 5), data: Array("ünï".utf8)),
            Member(TarEntry(path: "run/fifo", kind: .fifo, mode: 0o600, mtime: t)),
            Member(TarEntry(path: "dev/console", kind: .characterDevice, mode: 0o620, mtime: t, deviceMajor: 5, deviceMinor: 1)),
            Member(TarEntry(path: "dev/sda1", kind: .blockDevice, mode: 0o660, mtime: t, deviceMajor: 8, deviceMinor: 1)),
            Member(TarEntry(path: "tmp/", kind: .directory, mode: 0o1777, mtime: t)),
            Member(TarEntry(path: "bigids", kind: .regular, mode: 0o644, uid: 3_000_000, gid: 4_000_000,
                            uname: "a-user-name-longer-than-the-32-byte-ustar-field", gname: "g", mtime: 4_102_444_800, size: 1),
                   data: [0x42]),
            Member(TarEntry(path: "sparse.img", kind: .regular, mode: 0o644, mtime: t, size: sparseSize,
                            sparseRegions: [.init(offset: sparseOffset, length: Int64(sparseData.count))]),
                   data: sparseData),
        ]
    }

    /// The tar of `members`, written once to a temp dir.
    private func writeFixture(_ tmp: TempDir) throws -> String {
        let path = tmp.file("roundtrip.tar")
        try TarFixtures.writeTar(Self.members, to: path)
        return path
    }

    @Test func everyFieldSurvives() throws {
        let tmp = try TempDir()
        let path = try writeFixture(tmp)
        // sparse.img is 9 GiB logically: over the default expansion limit.
        let reader = try TarReader(path: path, limits: .init(sparse: .expand(maxLogicalSize: Self.sparseSize)))
        var seen = 0
        for expected in Self.members {
            let got = try #require(try reader.next(), "missing member \(expected.entry.path)")
            seen += 1
            let e = expected.entry
            #expect(got.path == e.path)
            #expect(got.kind == e.kind, "\(e.path)")
            #expect(got.mode == e.mode, "\(e.path): mode \(String(got.mode, radix: 8))")
            #expect(got.uid == e.uid, "\(e.path)")
            #expect(got.gid == e.gid, "\(e.path)")
            #expect((got.uname ?? "") == (e.uname ?? ""), "\(e.path)")
            #expect((got.gname ?? "") == (e.gname ?? ""), "\(e.path)")
            #expect(got.mtime == e.mtime, "\(e.path)")
            #expect(got.size == (e.kind == .regular ? e.size : 0), "\(e.path)")
            #expect(got.linkTarget == e.linkTarget, "\(e.path)")
            #expect(got.xattrs == e.xattrs, "\(e.path)")
            #expect(got.deviceMajor == e.deviceMajor && got.deviceMinor == e.deviceMinor, "\(e.path)")
            if e.sparseRegions != nil {
                // Holes are not delivered: only the data region, at its offset.
                var blocks: [(Int64, [UInt8])] = []
                var final: Int64 = -1
                try reader.readDataBlocks({ offset, block in blocks.append((offset, Array(block))) },
                                          finalSize: { final = $0 })
                let data = blocks.filter { !$0.1.allSatisfy { $0 == 0 } }
                #expect(data.count == 1, "the data region came back as zeros: \(blocks.map { ($0.0, $0.1.count) })")
                #expect(data.first?.0 == Self.sparseOffset)
                #expect(data.first?.1 == Self.sparseData)
                #expect(blocks.reduce(0) { $0 + $1.1.count } < 1 << 20, "holes must not be materialised")
                #expect(final == Self.sparseSize)
                let regions = try #require(got.sparseRegions)
                #expect(regions.contains(.init(offset: Self.sparseOffset, length: Int64(Self.sparseData.count))))
            } else if e.kind == .regular {
                let sink = MemorySink(limit: 1 << 20, context: e.path)
                let n = try reader.readData(into: sink)
                #expect(n == e.size)
                expectSameBytes(sink.bytes, expected.data, e.path)
                #expect(got.sparseRegions == nil, "\(e.path)")
            }
        }
        #expect(try reader.next() == nil)
        #expect(seen == Self.members.count)
    }

    @Test(arguments: ["tar", "bsdtar"])
    func peersListTheSameNames(_ tool: String) throws {
        let tmp = try TempDir()
        let path = try writeFixture(tmp)
        let names = try PeerTools.listNames(tool, archive: path)
        #expect(names == Self.members.map(\.entry.path))
    }

    @Test func gnuTarVerboseListingAgrees() throws {
        let tmp = try TempDir()
        let path = try writeFixture(tmp)
        let lines = try PeerTools.listVerbose("tar", archive: path)
        func line(_ name: String) -> String? { lines.first { $0.hasSuffix(" " + name) || $0.contains(" " + name + " ") } }
        #expect(lines.count == Self.members.count, "\(lines)")
        #expect(line("sparse.img")?.contains(" \(Self.sparseSize) ") == true, "\(lines)")
        #expect(line("dev/console")?.hasPrefix("crw--w----") == true)
        #expect(line("dev/console")?.contains("5,1") == true)
        #expect(line("dev/sda1")?.hasPrefix("brw-rw----") == true)
        #expect(line("dev/sda1")?.contains("8,1") == true)
        #expect(line("run/fifo")?.hasPrefix("prw-------") == true)
        #expect(line("tmp/")?.hasPrefix("drwxrwxrwt") == true)
        #expect(line("dir/block512")?.hasPrefix("-rwsr-xr-x") == true)
        #expect(line("link-long -> " + Self.longTarget) != nil, "\(lines)")
        #expect(line("dir/hardlink link to dir/file.txt") != nil, "\(lines)")
        #expect(line("bigids")?.contains("3000000/4000000") == true, "\(lines)")
        #expect(line("dir/file.txt")?.contains("1000/1001") == true)
    }

    @Test func bsdtarVerboseListingAgrees() throws {
        let tmp = try TempDir()
        let path = try writeFixture(tmp)
        let lines = try PeerTools.listVerbose("bsdtar", archive: path)
        func line(_ name: String) -> String? { lines.first { $0.hasSuffix(" " + name) || $0.contains(" " + name + " ") } }
        #expect(lines.count == Self.members.count, "\(lines)")
        #expect(line("sparse.img")?.contains(" \(Self.sparseSize) ") == true, "\(lines)")
        #expect(line("link-long -> " + Self.longTarget) != nil, "\(lines)")
        #expect(line("dir/hardlink link to dir/file.txt") != nil, "\(lines)")
        #expect(line(Self.nonASCII) != nil, "\(lines)")
        #expect(line("dev/console")?.hasPrefix("crw--w----") == true, "\(lines)")
        #expect(line("bigids")?.contains("a-user-name-longer-than-the-32-byte-ustar-field") == true, "\(lines)")
    }

    @Test func gnuTarExtractsTheSameBytes() throws {
        let tmp = try TempDir()
        let path = try writeFixture(tmp)
        let regular = Self.members.filter { $0.entry.kind == .regular && $0.entry.sparseRegions == nil }
        let digests = try PeerTools.gnuTarMemberDigests(archive: path, members: regular.map(\.entry.path))
        for m in regular {
            #expect(digests[m.entry.path] == [SHA256Hasher.digest(m.data)], "\(m.entry.path)")
        }
    }

    @Test func xattrsAreWrittenAsSCHILYPaxRecords() throws {
        let bytes = try TarFixtures.tarBytes(Self.members)
        for key in ["SCHILY.xattr.user.test=", "SCHILY.xattr.security.capability=", "SCHILY.xattr.trusted.overlay.opaque=y"] {
            let needle = Array(key.utf8)
            let found = bytes.indices.dropLast(needle.count).contains { i in bytes[i] == needle[0] && Array(bytes[i..<i + needle.count]) == needle }
            #expect(found, "\(key) not in the pax headers")
        }
    }

    /// A small sparse file, so GNU tar can extract it whole: the holes read
    /// as zeros and the data regions hold exactly what was written. (GNU tar
    /// reads every region but the last in whole 512-byte blocks, as its own
    /// writer stores them, so inner regions here are multiples of 512.)
    @Test func smallSparseFileMatchesGNUTar() throws {
        let size: Int64 = 1 << 20
        let regions: [(Int64, [UInt8])] = [(4096, TestData.pseudoRandom(count: 1024, seed: 5)), (700_001, Array("second region".utf8))]
        var logical = [UInt8](repeating: 0, count: Int(size))
        for (offset, bytes) in regions { logical.replaceSubrange(Int(offset)..<Int(offset) + bytes.count, with: bytes) }
        let entry = TarEntry(path: "small-sparse", kind: .regular, mode: 0o644, size: size,
                             sparseRegions: regions.map { .init(offset: $0.0, length: Int64($0.1.count)) })
        let tmp = try TempDir()
        let path = tmp.file("sparse.tar")
        try TarFixtures.writeTar([Member(entry, data: regions.flatMap(\.1))], to: path)

        let expected = SHA256Hasher.digest(logical)
        #expect(try PeerTools.gnuTarMemberDigests(archive: path, members: ["small-sparse"]) == ["small-sparse": [expected]])
        let reader = try TarReader(path: path)
        #expect(try reader.next()?.size == size)
        let sink = DigestingSink()
        #expect(try reader.readData(into: sink) == size)
        #expect(try sink.digest() == expected)
    }

    @Test func writingTwiceGivesIdenticalBytes() throws {
        let a = try TarFixtures.tarBytes(Self.members)
        let b = try TarFixtures.tarBytes(Self.members)
        expectSameBytes(a, b)
        #expect(a.count % 512 == 0)
        #expect(a.suffix(1024).allSatisfy { $0 == 0 }, "ends with two zero blocks")
        #expect(a.count < 64 << 10, "sparse holes must not be written (\(a.count) bytes)")
    }

    @Test func plainMembersAreUSTARWithoutPaxHeaders() throws {
        let data = Array("hello\n".utf8)
        let bytes = try TarFixtures.tarBytes([Member(TarEntry(path: "a/b.txt", kind: .regular, mode: 0o644, size: 6), data: data)])
        #expect(bytes.count == 512 + 512 + 1024)
        #expect(Array(bytes[257..<265]) == Array("ustar\u{0}00".utf8))
        #expect(bytes[156] == UInt8(ascii: "0"), "typeflag regular, not a pax 'x' header")
        #expect(Array(bytes[0..<7]) == Array("a/b.txt".utf8))
    }

    @Test func directoryWithoutSlashGetsOne() throws {
        let tmp = try TempDir()
        let path = tmp.file("d.tar")
        try TarFixtures.writeTar([Member(TarEntry(path: "plain-dir", kind: .directory, mode: 0o755))], to: path)
        let got = try TarFixtures.readAll(path: path)
        #expect(got.count == 1)
        #expect(got.first?.entry.normalizedPath == "plain-dir")
        #expect(got.first?.entry.kind == .directory)
    }

    /// Sub-second mtimes must not depend on unrelated fields: a member that
    /// needs a pax header anyway (long name) and one that does not must both
    /// keep the nanoseconds or both drop them. Otherwise the same file gets
    /// a different mtime depending on its path length.
    @Test func subSecondMtimeIsKeptOrDroppedConsistently() throws {
        let tmp = try TempDir()
        let path = tmp.file("ns.tar")
        let withPax = TarEntry(path: String(repeating: "x", count: 120), kind: .regular, mtime: 1_700_000_000, mtimeNanoseconds: 123_456_789)
        let plain = TarEntry(path: "short", kind: .regular, mtime: 1_700_000_000, mtimeNanoseconds: 123_456_789)
        try TarFixtures.writeTar([Member(withPax), Member(plain)], to: path)
        let got = try TarFixtures.readAll(path: path).map(\.entry)
        #expect(got.map(\.mtime) == [1_700_000_000, 1_700_000_000])
        #expect(got.first?.mtimeNanoseconds == got.last?.mtimeNanoseconds,
                "long-named member kept \(got.first?.mtimeNanoseconds ?? -1) ns, short-named member kept \(got.last?.mtimeNanoseconds ?? -1) ns")
        #expect([0, 123_456_789].contains(got.first?.mtimeNanoseconds ?? -1))
    }

    @Test func writerRejectsWrongDataSizesAndSockets() throws {
        let sink = MemorySink(limit: 1 << 20, context: "t")
        let w = try TarWriter(sink: sink, name: "out.tar")
        try w.writeHeader(TarEntry(path: "f", kind: .regular, size: 4))
        #expect {
            try w.dataSink.write(contentsOf: [UInt8](repeating: 1, count: 5))
        } throws: { "\($0)".contains("more data than the header's size") }
        try w.dataSink.write(contentsOf: [UInt8](repeating: 1, count: 3))
        #expect {
            try w.writeHeader(TarEntry(path: "g", kind: .regular))
        } throws: { "\($0)".contains("1 bytes of data missing") && "\($0)".contains("member f") }
        #expect {
            try w.finish()
        } throws: { "\($0)".contains("1 bytes of data missing") }

        let w2 = try TarWriter(sink: MemorySink(limit: 1 << 20, context: "t"), name: "out2.tar")
        #expect {
            try w2.writeHeader(TarEntry(path: "sock", kind: .socket))
        } throws: { "\($0)".contains("sockets cannot be stored") }
    }

    @Test func readsGNUFormatLongNamesAndBase256Numbers() throws {
        let tmp = try TempDir()
        let root = tmp.file("root")
        let longName = String(repeating: "g", count: 150)
        try FS.makeDirectories(root + "/sub")
        try FS.writeAtomically(root + "/sub/" + longName, bytes: [1, 2, 3, 4])
        let tarPath = tmp.file("gnu.tar")
        let r = try Shell.run(["tar", "--format=gnu", "--owner=5000000", "--group=6000000", "--mtime=@1700000000",
                               "-C", root, "-cf", tarPath, "sub"])
        try #require(r.status == 0, "\(r.stderr)")
        let got = try TarFixtures.readAll(path: tarPath)
        let file = try #require(got.first { $0.entry.path.hasSuffix(longName) })
        #expect(file.entry.path == "sub/" + longName)
        #expect(file.entry.uid == 5_000_000)
        #expect(file.entry.gid == 6_000_000)
        #expect(file.entry.mtime == 1_700_000_000)
        #expect(file.data == [1, 2, 3, 4])
    }
}
