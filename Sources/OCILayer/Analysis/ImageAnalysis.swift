import OCIModel

/// What `LayerStackAnalyzer` found in an image's layer stack: per layer,
/// what it added, changed and deleted (the change set `ocitool diff` shows
/// between the image cut after the layer below and after this one), what it
/// wrote that the final image no longer shows, and image totals including
/// dive's efficiency figures.
///
/// Paths are indices into `paths`; versions (one per path a layer wrote, or
/// an implicit parent it made) are indices into `versions`.
public struct ImageAnalysis: Sendable {
    /// What the image was called on the command line or in the store.
    public var name: String
    /// The config digest, when known.
    public var imageID: String?
    public var layers: [LayerReport]
    public var paths: AnalysisPathTable
    /// Every version of every path, in the order the layers wrote them.
    public var versions: [PathVersion]
    /// The final file system: version indices of the live paths (root
    /// excluded), parents before children, siblings in byte order.
    public var finalTree: [Int]
    public var totals: Totals
    /// File data that the final image does not show, largest first.
    public var wasted: [WastedFile]
    /// The figures dive computes, by dive's own definitions.
    public var dive: DiveFigures

    /// Image-wide sums.
    public struct Totals: Sendable, Equatable {
        /// File data bytes in all layers (the sum of `LayerReport.size`).
        public var size: Int64
        /// Bytes of the layer blobs as stored (compressed).
        public var storedSize: Int64
        /// File data bytes the final file system shows (each hard-link
        /// group once).
        public var finalSize: Int64
        /// `size - finalSize`: bytes written by a layer and replaced or
        /// deleted above it (or later in the same layer).
        public var wastedBytes: Int64
        /// Paths in the final file system (root excluded).
        public var finalPaths: Int
        /// Regular files among them (hard links included).
        public var finalFiles: Int
        /// Tar members read, over all layers.
        public var entries: Int64
    }
}

/// One layer of the stack and what it did to the union below it.
public struct LayerReport: Sendable {
    /// 0 for the bottom layer.
    public var index: Int
    public var digest: String
    public var mediaType: String
    /// Size of the blob as stored (compressed).
    public var storedSize: Int64
    public var diffID: String?
    /// The config history entry of this layer (empty-layer entries are
    /// skipped, as `history` maps them); nil when the config has none left.
    public var history: ImageConfig.History?
    /// Tar members in the layer.
    public var entries: Int
    /// File data bytes in the layer (the sum of its regular members' sizes:
    /// what it adds to an unpacked root file system before anything above
    /// hides it).
    public var size: Int64
    /// The change set, sorted by path (byte order).
    public var files: [FileChange]
    /// Each whiteout and opaque marker of the layer, in member order, with
    /// what it hid.
    public var deletions: [Deletion]
    /// File data this layer wrote that the final image does not show.
    public var wastedBytes: Int64
    /// Counts and bytes per change kind.
    public var summary: LayerSummary
}

/// Sums of one layer's change set.
public struct LayerSummary: Sendable, Equatable {
    public struct Tally: Sendable, Equatable {
        /// Paths.
        public var count = 0
        /// File data bytes this layer wrote for them (hard links and
        /// directories carry none); for deletions, the bytes hidden.
        public var bytes: Int64 = 0
        public init() {}
    }
    public var added = Tally()
    public var changed = Tally()
    /// Rewritten with the same content and attributes.
    public var unchanged = Tally()
    /// Top-most deleted paths, as `diff` lists them (bytes: file data hidden
    /// below them).
    public var deleted = Tally()
    /// Changed paths per aspect (a path can count for several).
    public var changedAspects: [ChangeAspect: Int] = [:]
    /// Paths the layer's markers and replacements removed, subtrees included.
    public var hiddenPaths = 0
    public var whiteouts = 0
    public var opaqueDirectories = 0
}

/// One path of a layer's change set.
public struct FileChange: Sendable, Equatable {
    public var path: Int32
    public var change: ChangeKind
    /// For `changed`: what differs.
    public var aspects: [ChangeAspect]
    /// The version the layer wrote (nil for deletions).
    public var version: Int?
    /// The version it replaced or deleted (nil for additions).
    public var previous: Int?
    /// For deletions: the index of the marker in `LayerReport.deletions`
    /// (nil when a replacement or an unsupported member type removed it).
    public var deletion: Int?
    /// For deletions: file data bytes hidden at and below the path.
    public var hiddenBytes: Int64 = 0
}

/// How a path differs from the layer below.
public enum ChangeKind: String, Sendable, Equatable, CaseIterable {
    case added, changed, unchanged, deleted

    /// The letter `ocitool diff` prints (`=` for an identical rewrite, which
    /// diff does not list).
    public var letter: String {
        switch self {
        case .added: return "A"
        case .changed: return "C"
        case .unchanged: return "="
        case .deleted: return "D"
        }
    }
}

/// What differs in a changed path (the attributes `diff` compares).
public enum ChangeAspect: String, Sendable, Equatable, Hashable, CaseIterable, Comparable {
    case type, content, mode, owner, linkTarget, mtime, xattrs, device

    public static func < (a: ChangeAspect, b: ChangeAspect) -> Bool {
        allCases.firstIndex(of: a) ?? 0 < allCases.firstIndex(of: b) ?? 0
    }
}

/// A whiteout or opaque marker and what it hid.
public struct Deletion: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        /// `.wh.NAME`.
        case whiteout
        /// `.wh..wh..opq`.
        case opaque
        /// A socket or unknown member type: what was at its path is gone.
        case unsupported
    }
    public var kind: Kind
    /// The member path as stored in the layer.
    public var member: String
    /// The path it names (for an opaque marker, the directory), resolved
    /// inside the root; nil when that path does not exist below.
    public var target: Int32?
    /// Paths it removed, subtrees included.
    public var hiddenPaths: Int
    /// File data bytes of the removed paths (hard links count 0).
    public var hiddenBytes: Int64
}

/// One version of one path: what a layer member (or an implicit parent
/// directory) put there.
public struct PathVersion: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        case file, directory, symlink, hardlink, fifo, characterDevice, blockDevice
    }
    public var path: Int32
    public var layer: Int
    public var kind: Kind
    /// Apparent size (for a hard link, its target's).
    public var size: Int64
    /// File data the member carried (0 for hard links).
    public var dataSize: Int64
    /// Symlink target verbatim, or the hard-link target path.
    public var linkTarget: String?
    public var mode: UInt32
    public var uid: Int64
    public var gid: Int64
    public var mtime: Int64
    /// SHA-256 of the content of regular files.
    public var digest: String?
    /// A parent directory the layer had no entry for.
    public var implicit: Bool
    /// The layer that replaced or deleted this version (nil: the final
    /// image shows it).
    public var hiddenBy: Int?
    /// Bytes of the final file system this path accounts for (each live
    /// hard-link group's data counts once, at its first live path).
    public var finalBytes: Int64
}

/// File data that the final image does not show.
public struct WastedFile: Sendable, Equatable {
    public var version: Int
    public var path: Int32
    public var size: Int64
    /// The layer that wrote it.
    public var layer: Int
    /// The layer that hid its last visible name.
    public var hiddenBy: Int
}

/// dive's figures (wagoodman/dive `filetree/efficiency.go` and
/// `image.Analyze`), computed the way dive computes them so the numbers and
/// `.dive-ci` thresholds carry over.
public struct DiveFigures: Sendable, Equatable {
    /// Σ min size / Σ cumulative size over every path a layer lists as a
    /// leaf (1 when nothing has a size).
    public var efficiency: Double
    /// Σ cumulative size of the paths listed by two or more layers (the
    /// kept copy included, as dive counts).
    public var wastedBytes: Int64
    /// Σ of every member's size, all layers.
    public var sizeBytes: Int64
    /// The same without the bottom layer.
    public var userSizeBytes: Int64
    /// `wastedBytes / userSizeBytes` (nil when that is undefined: no user
    /// bytes but some waste).
    public var userWastedRatio: Double?
    /// Paths listed by two or more layers with a cumulative size, largest first.
    public var inefficientFiles: [InefficientFile]

    public struct InefficientFile: Sendable, Equatable {
        public var path: String
        public var references: Int
        public var cumulativeSize: Int64
    }
}

extension Int64 {
    /// Addition that stops at `Int64.max` instead of trapping: sizes come
    /// from headers (a sparse file's logical size can be anything), and
    /// sums of them must never crash the analysis.
    static func +| (a: Int64, b: Int64) -> Int64 {
        let (r, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b > 0 ? .max : .min) : r
    }

    static func +|= (a: inout Int64, b: Int64) { a = a +| b }
}

infix operator +|: AdditionPrecedence
infix operator +|=: AssignmentPrecedence
