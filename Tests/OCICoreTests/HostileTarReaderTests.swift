import Foundation
import OCICore
import OCITestSupport
import Testing

/// `TarReader` over a generated corpus of hostile archives (Python-built
/// headers): every case ends in success or one clean `CoreError` naming the
/// file, never a trap, a hang or unbounded output.
@Suite("Hostile tars through TarReader")
struct HostileTarReaderTests {
    static let corpus = HostileTars.shared

    /// Reads every member and its data (sparse holes counted, not stored);
    /// returns the bytes delivered.
    static func readEverything(_ path: String, limits: TarReader.Limits = .defaults) throws -> Int64 {
        let reader = try TarReader(path: path, limits: limits)
        var total: Int64 = 0
        while let _ = try reader.next() {
            total += try reader.readData(into: NullSink())
        }
        return total
    }

    @Test func corpusIsThere() throws {
        let corpus = try Self.corpus.get()
        #expect(corpus.cases.count >= 60, "the generator wrote only \(corpus.cases.count) cases")
    }

    @Test func everyCaseEndsCleanly() throws {
        let corpus = try Self.corpus.get()
        for c in corpus.cases {
            let started = Date()
            do {
                let n = try Self.readEverything(c.path)
                switch c.expectation {
                case .ok, .any: break
                case .error: Issue.record("\(c): read \(n) bytes without the expected error")
                }
                #expect(n <= TarReader.Limits.defaultMaxSparseSize, "\(c): \(n) bytes delivered")
            } catch let error as CoreError {
                let text = error.description
                #expect(!text.contains("\n"), "\(c): a multi-line error: \(text)")
                #expect(text.contains(c.path), "\(c): the error does not name the file: \(text)")
                switch c.expectation {
                case .ok: Issue.record("\(c): \(text)")
                case let .error(needle):
                    #expect(needle.isEmpty || text.lowercased().contains(needle.lowercased()), "\(c): \(text)")
                case .any: break
                }
            } catch {
                Issue.record("\(c): not a CoreError: \(error)")
            }
            #expect(Date().timeIntervalSince(started) < 10, "\(c) took \(Date().timeIntervalSince(started)) s")
        }
    }

    /// Each kind of refusal is the one named: checked case by case so a
    /// regression points at the field.
    @Test(arguments: [
        ("pax-devmajor-huge", "device major number 99999999999 does not fit 32 bits"),
        ("gnu-devmajor-base256", "device major number 1099511627776 does not fit 32 bits"),
        ("pax-uid-huge", "uid 99999999999 is out of range"),
        ("gnu-uid-negative", "uid -1 is out of range"),
        ("name-invalid-utf8", "name is not valid UTF-8 (bad-\\xff\\xfe)"),
        ("gnu-sparse-6GiB", "sparse member with a logical size of 6442450944 bytes exceeds the limit of 1073741824 bytes"),
        ("gnu-realsize-on-regular", "the header announces 9223372036854775807 bytes but 163 are stored"),
        ("pax-xattrs-2000", "2000 extended attributes, over the limit of 1024"),
        ("pax-malformed-regular-slash", "a regular file whose name ends in '/'"),
    ])
    func namedRefusal(_ name: String, _ message: String) throws {
        let c = try #require(try Self.corpus.get().named(name))
        #expect { try Self.readEverything(c.path) } throws: { error in
            "\(error)".contains(message) && "\(error)".contains("member")
        }
    }

    @Test func largestDeviceNumbersThatFitAreKept() throws {
        let c = try #require(try Self.corpus.get().named("gnu-devnumbers-max32"))
        let reader = try TarReader(path: c.path)
        let e = try #require(try reader.next())
        #expect(e.kind == .characterDevice)
        #expect(e.deviceMajor == UInt32.max && e.deviceMinor == UInt32.max)
    }

    @Test func devmajorOnARegularFileIsIgnored() throws {
        let c = try #require(try Self.corpus.get().named("pax-devmajor-on-regular"))
        let reader = try TarReader(path: c.path)
        let e = try #require(try reader.next())
        #expect(e.kind == .regular && e.deviceMajor == 0)
        #expect(try reader.readData(into: NullSink()) == 2)
    }

    @Test func idsUpToUInt32MaxAreKept() throws {
        let c = try #require(try Self.corpus.get().named("pax-ids-max32"))
        let e = try #require(try TarReader(path: c.path).next())
        #expect(e.uid == Int64(UInt32.max) && e.gid == Int64(UInt32.max))
    }

    @Test func extremeTimesAreRepresentable() throws {
        let corpus = try Self.corpus.get()
        func first(_ name: String) throws -> TarEntry {
            let c = try #require(corpus.named(name))
            return try #require(try TarReader(path: c.path).next())
        }
        let max = try first("gnu-mtime-base256-max")
        #expect(max.mtime == Int64.max)
        let min = try first("gnu-mtime-base256-min")
        #expect(min.mtime == Int64.min)
        let frac = try first("pax-mtime-long-fraction")
        #expect(frac.mtime == 1 && (0..<1_000_000_000).contains(frac.mtimeNanoseconds))
    }

    @Test func controlCharactersInNamesArrive() throws {
        let c = try #require(try Self.corpus.get().named("name-control-chars"))
        let e = try #require(try TarReader(path: c.path).next())
        #expect(e.path == "a\nb\u{1b}c")
    }

    @Test func hardLinkDataIsNotDelivered() throws {
        let c = try #require(try Self.corpus.get().named("pax-hardlink-with-data"))
        let reader = try TarReader(path: c.path)
        _ = try reader.next()
        let link = try #require(try reader.next())
        #expect(link.kind == .hardlink && link.linkTarget == "ok.txt" && link.size == 0)
        #expect(try reader.readData(into: NullSink()) == 0)
        #expect(try reader.next() == nil)
    }

    @Test func namesUpToTheLimitPass() throws {
        let c = try #require(try Self.corpus.get().named("pax-path-60KiB"))
        let e = try #require(try TarReader(path: c.path).next())
        #expect(e.path.utf8.count == 60_001)
        // The same archive under a smaller name limit is refused with the limit named.
        var small = TarReader.Limits.defaults
        small.maxNameBytes = 4096
        #expect { try Self.readEverything(c.path, limits: small) } throws: { "\($0)".contains("over the limit of 4096") }
    }

    @Test func extendedSparseMapWithinLimitsReads() throws {
        let c = try #require(try Self.corpus.get().named("gnu-sparse-8400-regions"))
        let reader = try TarReader(path: c.path)
        let e = try #require(try reader.next())
        let regions = try #require(e.sparseRegions)
        #expect(regions.count == 8404)
        #expect(e.storedSize == 8404 && e.size == 10_000_000)
        var small = TarReader.Limits.defaults
        small.maxSparseRegions = 1000
        #expect { try Self.readEverything(c.path, limits: small) } throws: { "\($0)".contains("over the limit of 1000") }
    }

    @Test func manyMembersReadInBoundedTime() throws {
        let tmp = try TempDir()
        let path = tmp.file("many.tar")
        try HostileTars.manyMembers(100_000, to: path)
        let started = Date()
        let reader = try TarReader(path: path)
        var n = 0
        while let _ = try reader.next() { n += 1 }
        #expect(n == 100_000)
        #expect(Date().timeIntervalSince(started) < 30)
    }
}

extension HostileTarReaderTests {
    /// A newline in a member name must not split an error message.
    @Test func errorsAboutANameWithANewlineStayOnOneLine() throws {
        let tmp = try TempDir()
        let path = tmp.file("nl.tar")
        try TarFixtures.writeTar([.init(TarEntry(path: "evil\nname", kind: .regular, size: 4), data: Array("data".utf8))], to: path)
        var bytes = try FS.readFile(path)
        bytes.removeLast(bytes.count - 512 - 2)  // cut inside the data
        try FS.writeAtomically(path, bytes: bytes)
        let reader = try TarReader(path: path)
        #expect(try reader.next()?.path == "evil\nname")
        #expect { try reader.readData(into: NullSink()) } throws: { error in
            "\(error)".contains("member evil\\x0aname") && !"\(error)".contains("\n")
        }
        let writer = try TarWriter(sink: NullSink(), name: "out")
        #expect { try writer.writeHeader(TarEntry(path: "bad\nname", kind: .regular, uid: -1)) } throws: { error in
            "\(error)".contains("bad\\x0aname") && !"\(error)".contains("\n")
        }
    }
}
