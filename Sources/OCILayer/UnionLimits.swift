import OCICore

/// Explicit bounds on what reading a layer stack may cost, so a
/// decompression bomb, a path-count bomb or a deep, wide or over-linked tree
/// stops with a clear error (naming the layer and the entry) instead of
/// filling the disk or the memory, or running for hours.
///
/// Every default is far above what real images hold and far below what
/// would hurt a machine:
///
/// | limit | default | why |
/// |---|---|---|
/// | `maxBytes` | 64 GiB | file sizes as the files claim them: holes of sparse files count |
/// | `maxEntries` | 4,000,000 | tar members over the whole stack, whiteouts included |
/// | `maxPathBytes` | 16 KiB | a member path or link target as stored (Linux's `PATH_MAX` is 4 KiB); each component is also held to 255 bytes (`NAME_MAX`) |
/// | `maxDepth` | 4096 | components of any path of the union, symlinks followed (2× what fits in `PATH_MAX`) |
/// | `maxNamesPerDirectory` | 1,048,576 | names one directory may hold |
/// | `maxLinksPerFile` | 65,000 | names one file may have (ext4's own bound) |
/// | `maxXattrsPerEntry` | 1024 | extended attributes on one entry |
/// | `maxXattrBytesPerEntry` | 256 KiB | their names and values together; each name is also held to 255 bytes and each value to 64 KiB, Linux's own limits |
///
/// Memory then follows from the input: unpack keeps one small node per
/// directory met (about 150 bytes) and, per layer, a 64-bit hash (about 25
/// bytes with the set's slack) for each file it writes into a directory
/// that already held something; export, squash and diff keep one header
/// per path of the union (about 330 bytes). Nothing is kept per byte of
/// data. No step recurses or walks the tree once per entry: the work is
/// linear in the number of entries and the length of their paths (a
/// symlink costs the length of its target each time a path crosses it, at
/// most 40 of them per path, as in the kernel).
public struct UnionLimits: Sendable, Equatable {
    /// Most file data over every layer (bytes): each regular file counts
    /// its logical size, so the holes of a sparse file count as data.
    public var maxBytes: Int64
    /// Most tar members, summed over every layer (whiteouts included).
    public var maxEntries: Int64
    /// Longest member path and link target, in bytes as stored.
    public var maxPathBytes: Int
    /// Most components in a path of the union (after symlinks are followed).
    public var maxDepth: Int
    /// Most names in one directory.
    public var maxNamesPerDirectory: Int
    /// Most names (hard links) of one file.
    public var maxLinksPerFile: Int
    /// Most extended attributes on one entry.
    public var maxXattrsPerEntry: Int
    /// Most bytes of extended-attribute names and values on one entry.
    public var maxXattrBytesPerEntry: Int

    /// The defaults in the table above.
    public static let defaults = UnionLimits(maxBytes: 64 << 30, maxEntries: 4_000_000)

    public init(maxBytes: Int64, maxEntries: Int64, maxPathBytes: Int = 16 << 10, maxDepth: Int = 4096,
                maxNamesPerDirectory: Int = 1 << 20, maxLinksPerFile: Int = 65_000,
                maxXattrsPerEntry: Int = 1024, maxXattrBytesPerEntry: Int = 256 << 10) {
        self.maxBytes = maxBytes
        self.maxEntries = maxEntries
        self.maxPathBytes = maxPathBytes
        self.maxDepth = maxDepth
        self.maxNamesPerDirectory = maxNamesPerDirectory
        self.maxLinksPerFile = maxLinksPerFile
        self.maxXattrsPerEntry = maxXattrsPerEntry
        self.maxXattrBytesPerEntry = maxXattrBytesPerEntry
    }
}

/// Counts members and bytes against `UnionLimits` across a whole stack.
final class LimitMeter {
    let limits: UnionLimits
    private(set) var entries: Int64 = 0
    private(set) var bytes: Int64 = 0

    init(_ limits: UnionLimits) { self.limits = limits }

    /// Counts one member.
    func countEntry(_ ctx: EntryContext) throws {
        entries += 1
        if entries > limits.maxEntries {
            throw LayerError.limitExceeded(layer: ctx.layer, entry: ctx.entry, what: "number of entries",
                                           limit: limits.maxEntries, flag: "--max-entries")
        }
    }

    /// Counts one member and checks what its header alone may cost: path
    /// and link-target lengths, depth, extended attributes.
    func check(_ entry: TarEntry, _ ctx: EntryContext) throws {
        try countEntry(ctx)
        if entry.uid < 0 || entry.gid < 0 {
            throw ctx.invalid("owner \(entry.uid):\(entry.gid) is out of range (owners are numbers from 0)")
        }
        func over(_ what: String, _ limit: Int) -> LayerError {
            .limitExceeded(layer: ctx.layer, entry: ctx.entry, what: what, limit: Int64(limit), flag: "")
        }
        let pathBytes = entry.path.utf8.count
        if pathBytes > limits.maxPathBytes { throw over("path length (\(pathBytes) bytes)", limits.maxPathBytes) }
        let targetBytes = entry.linkTarget?.utf8.count ?? 0
        if targetBytes > limits.maxPathBytes { throw over("link target length (\(targetBytes) bytes)", limits.maxPathBytes) }
        if entry.xattrs.isEmpty { return }
        if entry.xattrs.count > limits.maxXattrsPerEntry {
            throw over("number of extended attributes (\(entry.xattrs.count))", limits.maxXattrsPerEntry)
        }
        var total = 0
        for x in entry.xattrs {
            let n = x.name.utf8.count
            if n > Sys.xattrNameMax {
                throw ctx.invalid("an extended attribute name is \(n) bytes long; Linux allows \(Sys.xattrNameMax)")
            }
            if x.value.count > Sys.xattrSizeMax {
                throw ctx.invalid("extended attribute \(LayerError.quote(x.name)) holds \(x.value.count) bytes; Linux allows \(Sys.xattrSizeMax)")
            }
            total += n + x.value.count
        }
        if total > limits.maxXattrBytesPerEntry {
            throw over("size of extended attributes (\(total) bytes)", limits.maxXattrBytesPerEntry)
        }
    }

    /// Counts `n` bytes of file data.
    func countBytes(_ n: Int64, _ ctx: EntryContext) throws {
        let (sum, overflow) = bytes.addingReportingOverflow(n)
        if overflow || n < 0 || sum > limits.maxBytes {
            throw LayerError.limitExceeded(layer: ctx.layer, entry: ctx.entry, what: "uncompressed file data",
                                           limit: limits.maxBytes, flag: "--max-bytes")
        }
        bytes = sum
    }

    /// Fails early when a member announces more data than the budget left.
    func checkAnnounced(_ n: Int64, _ ctx: EntryContext) throws {
        if n < 0 || n > limits.maxBytes - bytes {
            throw LayerError.limitExceeded(layer: ctx.layer, entry: ctx.entry, what: "uncompressed file data",
                                           limit: limits.maxBytes, flag: "--max-bytes")
        }
    }
}

/// How far the data of one regular file reaches, counted against the
/// budget as the blocks come: data blocks, and the holes skipped before
/// them and at the end (so a sparse file costs its logical size). Offsets
/// are checked, never trusted: a block past `Int64.max` is an error.
struct FileExtent {
    private(set) var end: Int64 = 0

    /// A data block of `count` bytes at `offset`.
    /// - Returns: where the block ends.
    mutating func add(offset: Int64, count: Int, _ meter: LimitMeter, _ ctx: EntryContext) throws -> Int64 {
        let (blockEnd, overflow) = offset.addingReportingOverflow(Int64(count))
        guard offset >= 0, !overflow else {
            throw ctx.invalid("sparse data at offset \(offset) (+\(count)) is out of range")
        }
        if offset > end { try meter.countBytes(offset - end, ctx) }
        try meter.countBytes(Int64(count), ctx)
        end = max(end, blockEnd)
        return blockEnd
    }

    /// The logical size at the end of the data: the final hole counts too.
    mutating func finish(size: Int64, _ meter: LimitMeter, _ ctx: EntryContext) throws {
        guard size >= 0 else { throw ctx.invalid("file size \(size) is out of range") }
        if size > end {
            try meter.countBytes(size - end, ctx)
            end = size
        }
    }
}
