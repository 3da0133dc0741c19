/// Stream compression kinds ocitool recognises.
public enum Compression: String, Sendable, CaseIterable, Codable {
    case none, gzip, zstd, xz, bzip2

    /// Detects the compression of a stream from its first bytes (magic
    /// numbers; never from a file name). Zstandard skippable frames count as zstd.
    public static func detect<C: Collection>(_ prefix: C) -> Compression where C.Element == UInt8 {
        let b = Array(prefix.prefix(6))
        if b.count >= 2 && b[0] == 0x1f && b[1] == 0x8b { return .gzip }
        if b.count >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd { return .zstd }
        // Skippable frame: 0x184D2A5? little-endian.
        if b.count >= 4 && (b[0] & 0xf0) == 0x50 && b[1] == 0x2a && b[2] == 0x4d && b[3] == 0x18 { return .zstd }
        if b.count >= 6 && b[0] == 0xfd && b[1] == 0x37 && b[2] == 0x7a && b[3] == 0x58 && b[4] == 0x5a && b[5] == 0x00 { return .xz }
        if b.count >= 3 && b[0] == 0x42 && b[1] == 0x5a && b[2] == 0x68 { return .bzip2 }
        return .none
    }

    /// Returns a sink that decodes this compression into `downstream`
    /// (gzip through ISA-L; `GzipDecoder` is the zlib reference).
    /// - Throws: for xz/bzip2, which are only read through libarchive.
    package func decoder(into downstream: ByteSink, context: String) throws -> ByteSink {
        switch self {
        case .none: return PassThroughSink(downstream)
        case .gzip: return IsalGzipDecoder(into: downstream, context: context)
        case .zstd: return try ZstdDecoder(into: downstream, context: context)
        case .xz, .bzip2:
            throw CoreError.compression(context: context, message: "\(rawValue) layers are not supported (OCI layers are tar, tar+gzip or tar+zstd)")
        }
    }

    /// Returns a sink that encodes into `downstream` with this compression
    /// (gzip: `ParallelGzipEncoder`; zstd: `ZstdEncoder`, multi-threaded mode).
    /// - Parameters:
    ///   - level: gzip 1-9 (1 = ISA-L, the default), zstd 1-19 (default 3).
    ///   - threads: worker threads (0: one per core).
    package func encoder(into downstream: ByteSink, level: Int? = nil, threads: Int = 0, context: String) throws -> ByteSink {
        switch self {
        case .none: return PassThroughSink(downstream)
        case .gzip:
            // Block-parallel on `threads` cores (0: all), output independent of
            // the thread count. Default and level 1: ISA-L's fast deflate; 2-9: zlib.
            return try ParallelGzipEncoder(into: downstream, level: level, threads: threads, context: context)
        case .zstd: return try ZstdEncoder(into: downstream, level: level ?? 3, threads: threads, context: context)
        case .xz, .bzip2:
            throw CoreError.compression(context: context, message: "writing \(rawValue) is not supported")
        }
    }
}

/// Forwards bytes unchanged.
package final class PassThroughSink: ByteSink {
    private let next: ByteSink
    package init(_ next: ByteSink) { self.next = next }
    package func write(_ bytes: UnsafeRawBufferPointer) throws { try next.write(bytes) }
    package func finish() throws { try next.finish() }
}
