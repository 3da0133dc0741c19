extension TarReader {
    /// What `TarReader` does with a sparse member (GNU old-style `S` headers,
    /// PAX `GNU.sparse.*` 0.0/0.1/1.0): a member whose logical size, holes
    /// included, can be far larger than the bytes it stores. A 10 KB archive
    /// can announce 2^63−1 bytes this way.
    public enum SparsePolicy: Sendable, Equatable, CustomStringConvertible {
        /// `next()` throws `CoreError.limit` naming the member. For inputs
        /// that never hold sparse files: an image archive's members are
        /// blobs, which must be read byte for byte.
        case refuse
        /// `next()` passes over sparse members without returning them and
        /// counts them in `skippedSparseMembers` (for a warning).
        case skip
        /// Sparse members are returned (`TarEntry.sparseRegions` set, `size`
        /// the logical size). `readDataBlocks` delivers only the stored
        /// regions; `readData` writes the holes as zeros. `next()` throws
        /// `CoreError.limit` for a sparse member whose logical size exceeds
        /// `maxLogicalSize`, so `readData` never writes more than that.
        case expand(maxLogicalSize: Int64)

        public var description: String {
            switch self {
            case .refuse: return "refuse"
            case .skip: return "skip"
            case let .expand(max): return "expand up to \(max) bytes"
            }
        }
    }

    /// Bounds on what one member's header may make the reader hold or
    /// produce. Every field is per member; `TarReader` never holds more
    /// than one member's header.
    public struct Limits: Sendable, Equatable {
        /// What to do with sparse members.
        public var sparse: SparsePolicy
        /// Regions a sparse member may list.
        public var maxSparseRegions: Int
        /// Extended attributes one member may carry.
        public var maxXattrs: Int
        /// Bytes of extended-attribute names and values one member may carry.
        public var maxXattrBytes: Int
        /// Bytes of a member name, a link target, a user or group name.
        public var maxNameBytes: Int

        /// The logical size up to which `defaults` expands sparse members (1 GiB).
        public static let defaultMaxSparseSize: Int64 = 1 << 30

        /// Sparse members expanded up to 1 GiB; 131,072 regions; 1,024
        /// xattrs and 256 KiB of them (Linux allows 64 KiB per value);
        /// names up to 64 KiB.
        public static let defaults = Limits(sparse: .expand(maxLogicalSize: defaultMaxSparseSize))

        /// For image archives (docker save, OCI layout archives): sparse
        /// members are refused, everything else as `defaults`.
        public static let imageArchive = Limits(sparse: .refuse)

        /// For a layer tar unpacked under a byte budget: sparse members
        /// are expanded up to `maxBytes` (their logical size counts against
        /// the budget like any file's size).
        public static func layer(maxBytes: Int64) -> Limits {
            Limits(sparse: .expand(maxLogicalSize: max(0, maxBytes)))
        }

        public init(sparse: SparsePolicy, maxSparseRegions: Int = 1 << 17, maxXattrs: Int = 1024,
                    maxXattrBytes: Int = 256 << 10, maxNameBytes: Int = 64 << 10) {
            self.sparse = sparse
            self.maxSparseRegions = maxSparseRegions
            self.maxXattrs = maxXattrs
            self.maxXattrBytes = maxXattrBytes
            self.maxNameBytes = maxNameBytes
        }
    }
}
