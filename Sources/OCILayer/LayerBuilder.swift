import OCICore
import OCIModel
import OCIImage

/// One member of a layer being built: a header, and for regular files
/// where the data is read from (a `HostTree`).
struct LayerItem {
    enum Content {
        /// Header only (directories, symlinks, devices, whiteouts).
        case none
        /// Regular-file data at `components` of the tree; files sharing an
        /// `identity` with `linkCount` > 1 are written once, then as hard links.
        case file(components: [String], identity: HostTree.Identity, linkCount: Int)
    }

    var header: TarEntry
    var content: Content

    /// `.wh.NAME` in `parent`: removes NAME of the lower layers.
    static func whiteout(parent: [String], name: String) -> LayerItem {
        LayerItem(header: TarEntry(path: (parent + [LayerMember.whiteoutPrefix + name]).joined(separator: "/"), kind: .regular, mode: 0),
                  content: .none)
    }

    /// `.wh..wh..opq` in `directory`: hides every lower child of it.
    static func opaque(directory: [String]) -> LayerItem {
        LayerItem(header: TarEntry(path: (directory + [LayerMember.opaqueName]).joined(separator: "/"), kind: .regular, mode: 0),
                  content: .none)
    }

    var isMarker: Bool {
        guard case .none = content, header.kind == .regular else { return false }
        return PathString(header.path).lastComponent.hasPrefix(LayerMember.whiteoutPrefix)
    }
}

/// A layer made by `commit`, staged but not yet published.
public struct BuiltLayer: Sendable {
    /// The blob as stored (compressed as asked), in a staging area.
    public var blob: StagedBlob
    /// SHA-256 of the uncompressed tar.
    public var diffID: Digest
    /// The blob's compression.
    public var compression: LayerCompression
    /// Tar members written (whiteouts included).
    public var entries: Int
    /// Whiteout and opaque markers among them.
    public var whiteouts: Int
    /// Bytes of file data.
    public var dataBytes: Int64
}

/// Writes a deterministic layer tar from a list of items and stages it,
/// compressed: members in the order given (callers sort: parents before
/// children, markers before their siblings, names in byte order), headers
/// from the items only (numeric owners, no user names, whole-second
/// mtimes, PAX only where USTAR cannot hold a field), file data streamed
/// from disk in bounded blocks, hard links to the first member of their
/// group. tar → SHA-256 (diff_id) → compressor (on a worker thread) →
/// staging file (hashed: the blob digest).
enum LayerBuilder {
    /// - Parameters:
    ///   - items: the members, in order.
    ///   - tree: where regular-file data is read.
    ///   - mtimeClamp: `SOURCE_DATE_EPOCH`: later mtimes become it, and
    ///     whiteouts get it (0 without).
    static func build(_ items: [LayerItem], from tree: HostTree?, into staging: BlobStore,
                      compression: LayerCompression, level: Int?, mtimeClamp: Int64?, name: String) throws -> BuiltLayer {
        var entries = 0, whiteouts = 0
        var bytes: Int64 = 0
        let (blob, diffID) = try encode(into: staging, compression: compression, level: level, name: name) { sink in
            let tar = try TarWriter(sink: sink, name: name)
            var firstPath: [HostTree.Identity: String] = [:]
            for item in items {
                var h = item.header
                h.mtimeNanoseconds = 0
                h.uname = nil
                h.gname = nil
                h.sparseRegions = nil
                switch item.content {
                case .none:
                    if item.isMarker {
                        h.mtime = mtimeClamp ?? 0
                        whiteouts += 1
                    } else if let clamp = mtimeClamp, h.mtime > clamp {
                        h.mtime = clamp
                    }
                    if h.kind != .regular { h.size = 0 }
                    try tar.writeHeader(h)
                case let .file(components, identity, linkCount):
                    if let clamp = mtimeClamp, h.mtime > clamp { h.mtime = clamp }
                    if linkCount > 1, let first = firstPath[identity] {
                        h.kind = .hardlink
                        h.linkTarget = first
                        h.size = 0
                        h.xattrs = []
                        try tar.writeHeader(h)
                    } else {
                        if linkCount > 1 { firstPath[identity] = h.path }
                        guard let tree else { throw CommitError.invalid("internal: file data without a source tree") }
                        let source = try tree.openFile(components, identity: identity, size: h.size)
                        try tar.writeEntry(h, source: source)
                        bytes += h.size
                    }
                }
                entries += 1
            }
            try tar.finish()
        }
        return BuiltLayer(blob: blob, diffID: diffID, compression: compression, entries: entries, whiteouts: whiteouts, dataBytes: bytes)
    }

    /// Runs `body` with a sink that takes the uncompressed tar; returns the
    /// staged (compressed) blob and the tar's digest. `body` must finish
    /// the sink (a `TarWriter.finish()` does). The staging file is removed
    /// on any error.
    static func encode(into staging: BlobStore, compression: LayerCompression, level: Int?, name: String,
                       _ body: (ByteSink) throws -> Void) throws -> (StagedBlob, Digest) {
        let writer = try staging.beginStaging(parallel: true)
        var pipeline: ByteSink?
        do {
            let codec = Compression(rawValue: compression.rawValue) ?? .gzip
            let encoder = try codec.encoder(into: writer, level: level, context: name)
            let encodeSide: ByteSink = compression == .none ? encoder : AsyncSink(inner: encoder)
            pipeline = encodeSide
            let diff = DigestingSink(forwardingTo: encodeSide)
            try body(diff)
            try diff.finish()
            let blob = try writer.close()
            return (blob, try diff.digest())
        } catch {
            try? pipeline?.finish()  // drain the worker before the file goes
            writer.abandon()
            throw error
        }
    }
}
