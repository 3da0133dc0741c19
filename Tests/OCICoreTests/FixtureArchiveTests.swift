import Foundation
import OCICore
import OCITestSupport
import Testing

/// Every archive in `TestImages/` and every tar file in `../shared/corpus/`
/// reads as a tar stream, and each regular member's SHA-256 (TarReader →
/// DigestingSink) equals GNU tar's extraction piped to `sha256sum`.
@Suite("Fixture archives")
struct FixtureArchiveTests {
    /// Members compared against GNU tar per archive, at most.
    static let memberBudget = 50

    /// One regular member as TarReader delivered it.
    struct ReadMember {
        var path: String
        var digest: Digest
    }

    /// Reads the whole archive, hashing every regular member.
    /// - Throws: the reader's error.
    static func readAndHash(_ path: String) throws -> (members: [ReadMember], entries: Int) {
        let reader = try TarReader(path: path)
        var members: [ReadMember] = []
        var entries = 0
        while let entry = try reader.next() {
            entries += 1
            guard entry.kind == .regular else { continue }
            let sink = DigestingSink()
            let n = try reader.readData(into: sink)
            #expect(n == entry.size, "\(path): \(entry.path): read \(n) of \(entry.size) bytes")
            members.append(ReadMember(path: entry.path, digest: try sink.digest()))
        }
        return (members, entries)
    }

    /// GNU tar reports names without a leading `/`.
    static func gnuName(_ path: String) -> String {
        String(path.drop { $0 == "/" })
    }

    /// Up to `memberBudget` distinct names, spread evenly over the archive
    /// (first and last included), skipping names GNU tar refuses (`..`).
    static func sample(_ members: [ReadMember]) -> [String] {
        var seen = Set<String>()
        let names = members.map(\.path).filter { name in
            !name.split(separator: "/").contains("..") && seen.insert(name).inserted
        }
        guard names.count > memberBudget else { return names }
        return (0..<memberBudget).map { names[$0 * (names.count - 1) / (memberBudget - 1)] }
    }

    /// Reads `path` and compares member digests with GNU tar.
    /// - Parameter mayFail: a NEGATIVE fixture: reading may throw (but must not crash).
    static func check(_ path: String, mayFail: Bool) throws {
        let read: (members: [ReadMember], entries: Int)
        do {
            read = try readAndHash(path)
        } catch {
            if mayFail {
                #expect(error is CoreError, "\(path): NEGATIVE fixture failed with a non-core error: \(error)")
                return
            }
            Issue.record("\(path): \(error)")
            return
        }
        #expect(read.entries > 0, "\(path): no members")
        let names = sample(read.members)
        let peer = try PeerTools.gnuTarMemberDigests(archive: path, members: names)
        for name in names {
            let ours = read.members.filter { $0.path == name }.map(\.digest)
            #expect(peer[gnuName(name)] == ours, "\(path): member \(name)")
        }
    }

    @Test(arguments: Fixtures.corpusTarFiles)
    func corpusTarFile(_ relative: String) throws {
        let negative = Fixtures.corpusIndex.entry(for: relative)?.isNegative ?? false
        try Self.check(Fixtures.corpusDir + "/" + relative, mayFail: negative)
    }

    @Test(arguments: Fixtures.testImageArchives)
    func testImagesArchive(_ relative: String) throws {
        try Self.check(Fixtures.testImagesDir + "/" + relative, mayFail: false)
    }

    /// The fixture lists themselves: INDEX.md parsed, NEGATIVE rows counted
    /// as its totals say, every file fixture found by the walk.
    @Test func corpusIndexAgreesWithTheFolder() throws {
        try #require(FS.isDirectory(Fixtures.corpusDir), "corpus missing at \(Fixtures.corpusDir)")
        let index = Fixtures.corpusIndex
        let markdown = try String(contentsOfFile: Fixtures.corpusDir + "/INDEX.md", encoding: .utf8)
        // "* fixtures: 117 (61 files, 56 directories)" and "* flagged NEGATIVE / malformed: 37"
        func total(_ prefix: String) -> Int? {
            markdown.split(separator: "\n").first { $0.hasPrefix(prefix) }
                .flatMap { Int($0.dropFirst(prefix.count).prefix { $0.isNumber }) }
        }
        #expect(index.entries.count == total("* fixtures: "))
        #expect(index.negativePaths.count == total("* flagged NEGATIVE / malformed: "))
        #expect(index.entry(for: "dive/test-gzip-image.tar")?.isNegative == true)
        #expect(index.entry(for: "jib/docker-save.tar")?.isNegative == false)
        let files = index.entries.filter { !FS.isDirectory(Fixtures.corpusDir + "/" + $0.path) && !$0.declaresNotTar }.map(\.path)
        #expect(!files.isEmpty)
        let walked = Set(Fixtures.corpusTarFiles)
        for f in files { #expect(walked.contains(f), "\(f) listed in INDEX.md but not found as a tar file") }
        #expect(!walked.contains { $0.contains("/blobs/") }, "layout blobs are not fixtures")
    }
}
