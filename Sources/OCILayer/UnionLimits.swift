/// Explicit bounds on what reading a layer stack may cost, so a
/// decompression bomb or a path-count bomb stops with a clear error instead
/// of filling the disk or the memory.
public struct UnionLimits: Sendable, Equatable {
    /// Most uncompressed file data, summed over every layer (bytes).
    public var maxBytes: Int64
    /// Most tar members, summed over every layer (whiteouts included).
    public var maxEntries: Int64

    /// 64 GiB of file data and 4 million members: above any real image,
    /// far below what would exhaust a machine.
    public static let defaults = UnionLimits(maxBytes: 64 << 30, maxEntries: 4_000_000)

    public init(maxBytes: Int64, maxEntries: Int64) {
        self.maxBytes = maxBytes
        self.maxEntries = maxEntries
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

    /// Counts `n` bytes of file data.
    func countBytes(_ n: Int64, _ ctx: EntryContext) throws {
        bytes += n
        if bytes > limits.maxBytes || n < 0 {
            throw LayerError.limitExceeded(layer: ctx.layer, entry: ctx.entry, what: "uncompressed file data",
                                           limit: limits.maxBytes, flag: "--max-bytes")
        }
    }

    /// Fails early when a member announces more data than the budget left.
    func checkAnnounced(_ n: Int64, _ ctx: EntryContext) throws {
        if n < 0 || n > limits.maxBytes - bytes {
            throw LayerError.limitExceeded(layer: ctx.layer, entry: ctx.entry, what: "uncompressed file data",
                                           limit: limits.maxBytes, flag: "--max-bytes")
        }
    }
}
