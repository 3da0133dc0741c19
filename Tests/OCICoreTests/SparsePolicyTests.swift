import OCICore
import OCITestSupport
import Testing

/// `TarReader.SparsePolicy`: refuse, skip, or expand up to a logical size;
/// the expansion is what a caller's byte count sees.
@Suite("Sparse members: refuse, skip, expand")
struct SparsePolicyTests {
    static let corpus = HostileTars.shared

    static func path(_ name: String) throws -> String {
        let c = try #require(try corpus.get().named(name))
        return c.path
    }

    @Test func refuseNamesTheMemberAndItsSizes() throws {
        let reader = try TarReader(path: try Self.path("gnu-sparse-between-files"), limits: .imageArchive)
        #expect(try reader.next()?.path == "ok.txt")
        #expect { try reader.next() } throws: { error in
            guard case let .limit(context, message) = error as? CoreError else { return false }
            return context.hasSuffix("member sparse") && message.contains("logical size 1048576 bytes, 8 stored") && message.contains("refused")
        }
    }

    @Test func skipPassesOverSparseMembersAndCountsThem() throws {
        let reader = try TarReader(path: try Self.path("gnu-sparse-between-files"), limits: .init(sparse: .skip))
        var names: [String] = []
        while let e = try reader.next() {
            names.append(e.path)
            try reader.readData(into: NullSink())
        }
        #expect(names == ["ok.txt", "after.txt"])
        #expect(reader.skippedSparseMembers == 1)
    }

    @Test func expandWritesHolesAsZerosAndTheCallerCountsThem() throws {
        let reader = try TarReader(path: try Self.path("gnu-sparse-between-files"), limits: .layer(maxBytes: 1 << 20))
        _ = try reader.next()
        let e = try #require(try reader.next())
        #expect(e.isSparse && e.size == 1 << 20 && e.storedSize == 8)
        let memory = MemorySink(limit: 2 << 20, context: "t")
        let counted = CountingSink(forwardingTo: memory)
        #expect(try reader.readData(into: counted) == 1 << 20)
        #expect(counted.count == 1 << 20, "the zeros of the holes reach the caller's sink")
        var expected = [UInt8](repeating: 0, count: 1 << 20)
        expected.replaceSubrange(0..<4, with: Array("abcd".utf8))
        expected.replaceSubrange((1 << 19)..<(1 << 19) + 4, with: Array("efgh".utf8))
        #expect(memory.bytes == expected)
        #expect(try reader.next()?.path == "after.txt")
    }

    @Test func expandRefusesALogicalSizeOverTheLimit() throws {
        let reader = try TarReader(path: try Self.path("gnu-sparse-between-files"), limits: .layer(maxBytes: (1 << 20) - 1))
        _ = try reader.next()
        #expect { try reader.next() } throws: { "\($0)".contains("exceeds the limit of 1048575 bytes") }
    }

    @Test func blocksDeliverOnlyTheStoredRegions() throws {
        let reader = try TarReader(path: try Self.path("gnu-sparse-between-files"))
        _ = try reader.next()
        _ = try reader.next()
        var blocks: [(Int64, [UInt8])] = []
        var final: Int64 = -1
        try reader.readDataBlocks({ offset, block in blocks.append((offset, Array(block))) }, finalSize: { final = $0 })
        #expect(blocks.map(\.0) == [0, 1 << 19])
        #expect(blocks.map(\.1) == [Array("abcd".utf8), Array("efgh".utf8)])
        #expect(final == 1 << 20)
    }

    @Test func limitsCanChangeBetweenMembers() throws {
        let reader = try TarReader(path: try Self.path("gnu-sparse-between-files"), limits: .imageArchive)
        _ = try reader.next()
        reader.limits.sparse = .skip
        #expect(try reader.next()?.path == "after.txt")
    }
}
