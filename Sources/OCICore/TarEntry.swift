/// One member of a tar stream, as read or to be written.
///
/// Field set follows POSIX pax (`ustar` + extended headers): everything an
/// image layer can carry, including xattrs (`SCHILY.xattr.*`).
public struct TarEntry: Sendable, Equatable {
    /// The member type.
    public enum Kind: String, Sendable, Equatable {
        case regular, directory, symlink, hardlink, characterDevice, blockDevice, fifo, socket, unknown
    }

    /// The path exactly as stored (may start with `./` or `/`).
    public var path: String
    public var kind: Kind
    /// Permission bits including setuid/setgid/sticky (07777).
    public var mode: UInt32
    public var uid: Int64
    public var gid: Int64
    public var uname: String?
    public var gname: String?
    /// Modification time, seconds since the epoch.
    public var mtime: Int64
    /// Nanoseconds part of the modification time.
    public var mtimeNanoseconds: Int
    /// Content size (0 for hard links, directories, symlinks); for a sparse
    /// file its logical size, holes included. Never negative when read by
    /// `TarReader`.
    public var size: Int64
    /// Symlink target or hard-link target (a member path), verbatim.
    public var linkTarget: String?
    /// Extended attributes, sorted by name.
    public var xattrs: [Xattr]
    /// Device numbers of character and block devices (0 for other kinds).
    /// Linux's `dev_t` holds 32 bits of each; `TarReader` refuses a device
    /// member whose number does not fit (PAX `SCHILY.devmajor`, GNU base-256
    /// fields can carry up to 63 bits) with `CoreError.malformed`.
    public var deviceMajor: UInt32
    public var deviceMinor: UInt32
    /// Data regions for sparse files (offset, length), in order and not
    /// overlapping; nil for ordinary files.
    public var sparseRegions: [SparseRegion]?

    /// Is this a sparse file (GNU or PAX sparse member)?
    public var isSparse: Bool { sparseRegions != nil }

    /// Bytes of data the member stores in the archive: `size`, or for a
    /// sparse file the sum of its regions (the holes are not stored).
    /// Saturates at `Int64.max` for region lists `TarReader` did not check.
    public var storedSize: Int64 {
        guard let regions = sparseRegions else { return size }
        var total: Int64 = 0
        for r in regions {
            let (sum, overflow) = total.addingReportingOverflow(max(0, r.length))
            if overflow { return .max }
            total = sum
        }
        return total
    }

    public struct Xattr: Sendable, Equatable, Hashable {
        public var name: String
        public var value: [UInt8]
        public init(name: String, value: [UInt8]) {
            self.name = name
            self.value = value
        }
    }

    public struct SparseRegion: Sendable, Equatable {
        public var offset: Int64
        public var length: Int64
        public init(offset: Int64, length: Int64) {
            self.offset = offset
            self.length = length
        }
    }

    public init(path: String, kind: Kind, mode: UInt32 = 0o644, uid: Int64 = 0, gid: Int64 = 0,
                uname: String? = nil, gname: String? = nil, mtime: Int64 = 0, mtimeNanoseconds: Int = 0,
                size: Int64 = 0, linkTarget: String? = nil, xattrs: [Xattr] = [],
                deviceMajor: UInt32 = 0, deviceMinor: UInt32 = 0, sparseRegions: [SparseRegion]? = nil) {
        self.path = path
        self.kind = kind
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.uname = uname
        self.gname = gname
        self.mtime = mtime
        self.mtimeNanoseconds = mtimeNanoseconds
        self.size = size
        self.linkTarget = linkTarget
        self.xattrs = xattrs
        self.deviceMajor = deviceMajor
        self.deviceMinor = deviceMinor
        self.sparseRegions = sparseRegions
    }

    /// `text` (a member name, a link target) on one line: control
    /// characters are shown as `\xNN`, so a newline in a name cannot split
    /// a listing or an error message.
    public static func printable(_ text: String) -> String { TarText.display(text, limit: .max) }

    /// The path without a leading `./` or `/` and without a trailing `/`;
    /// `.` for the root itself.
    public var normalizedPath: String { TarEntry.normalize(path) }

    /// Normalises a member path: strips leading `/` and `./`, trailing `/`,
    /// and collapses `//` and `/./`. `..` components are kept (callers decide).
    public static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for comp in path.split(separator: "/", omittingEmptySubsequences: true) where comp != "." {
            parts.append(comp)
        }
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }
}
