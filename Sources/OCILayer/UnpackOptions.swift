#if canImport(Glibc)
import Glibc
#endif

/// How `Unpacker` writes entries.
public struct UnpackOptions: Sendable, Equatable {
    /// Limits on entries and bytes over the whole stack.
    public var limits: UnionLimits
    /// Give files the uid/gid of their headers (only possible as root).
    public var sameOwner: Bool
    /// umoci's rootless mode: no device nodes, no chown, whoever runs it;
    /// what is skipped is counted and reported once.
    public var rootless: Bool
    /// Warn about unsafe entries and go on, instead of stopping.
    public var skipUnsafe: Bool
    /// Apply the layers over a directory that already has content.
    public var allowNonEmpty: Bool

    public init(limits: UnionLimits = .defaults, sameOwner: Bool = true, rootless: Bool = false,
                skipUnsafe: Bool = false, allowNonEmpty: Bool = false) {
        self.limits = limits
        self.sameOwner = sameOwner
        self.rootless = rootless
        self.skipUnsafe = skipUnsafe
        self.allowNonEmpty = allowNonEmpty
    }

    var isRoot: Bool { geteuid() == 0 }
    /// chown entries to their header's owner?
    var applyOwnership: Bool { isRoot && sameOwner && !rootless }
    /// mknod character and block devices?
    var createDevices: Bool { isRoot && !rootless }
}

/// What an unpack did, and what it had to leave out.
public struct UnpackReport: Sendable, Equatable {
    /// Layers applied.
    public var layers = 0
    /// Tar members read, whiteouts included.
    public var entries: Int64 = 0
    /// File data written.
    public var bytes: Int64 = 0
    /// Unsafe entries skipped with `skipUnsafe` (one message each).
    public var skippedUnsafe: [String] = []
    /// Device nodes not created (not root, or rootless).
    public var skippedDevices = 0
    /// Entries whose owner was not applied (rootless, or not root).
    public var skippedOwnership = 0
    /// Extended attributes the file system refused.
    public var skippedXattrs = 0
    /// Sockets and unknown member types.
    public var skippedOther = 0
    /// System calls spent resolving paths and walking directories (tests
    /// check that it grows linearly with the input).
    var steps = 0

    public init() {}

    /// One line per kind of thing left out, for a single warning each.
    public var summary: [String] {
        var out: [String] = []
        if skippedDevices > 0 { out.append("\(skippedDevices) device node(s) not created (needs root; rootless mode skips them)") }
        if skippedOwnership > 0 { out.append("ownership of \(skippedOwnership) entr\(skippedOwnership == 1 ? "y" : "ies") not applied (needs root; rootless mode skips chown)") }
        if skippedXattrs > 0 { out.append("\(skippedXattrs) extended attribute(s) could not be set (not permitted or not supported here)") }
        if skippedOther > 0 { out.append("\(skippedOther) socket(s) or member(s) of unknown type skipped") }
        if !skippedUnsafe.isEmpty { out.append("\(skippedUnsafe.count) unsafe entr\(skippedUnsafe.count == 1 ? "y" : "ies") skipped") }
        return out
    }
}
