import OCICore

/// Builds and reads small tar streams in tests (through OCICore's
/// `TarWriter` and `TarReader`; peers judge the result separately).
public enum TarFixtures {
    /// A member to write: the header and, for regular files, its data
    /// (for sparse files, the data regions back to back).
    public struct Member: Sendable {
        public var entry: TarEntry
        public var data: [UInt8]
        public init(_ entry: TarEntry, data: [UInt8] = []) {
            self.entry = entry
            self.data = data
        }
    }

    /// Writes `members` as one tar stream and returns its bytes.
    /// - Throws: whatever `TarWriter` throws.
    public static func tarBytes(_ members: [Member]) throws -> [UInt8] {
        let sink = MemorySink(limit: 1 << 30, context: "test tar")
        let writer = try TarWriter(sink: sink, name: "test tar")
        for m in members {
            try writer.writeHeader(m.entry)
            try writer.dataSink.write(contentsOf: m.data)
        }
        try writer.finish()
        return sink.bytes
    }

    /// Writes `members` as a tar file at `path`.
    public static func writeTar(_ members: [Member], to path: String) throws {
        try FS.writeAtomically(path, bytes: tarBytes(members))
    }

    /// Reads every member of the tar (possibly compressed) at `path`, with
    /// the data of regular members (not for sparse files over `dataLimit`).
    /// - Throws: the reader's error on malformed input.
    public static func readAll(path: String, dataLimit: Int64 = 64 << 20) throws -> [Member] {
        let reader = try TarReader(path: path)
        var out: [Member] = []
        while let entry = try reader.next() {
            var data: [UInt8] = []
            if entry.kind == .regular && entry.size <= dataLimit {
                let sink = MemorySink(limit: Int(dataLimit), context: entry.path)
                try reader.readData(into: sink)
                data = sink.bytes
            }
            out.append(Member(entry, data: data))
        }
        return out
    }
}
