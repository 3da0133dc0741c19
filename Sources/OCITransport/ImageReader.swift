import Foundation
import OCICore
import OCIModel
import OCIImage
import OCIStore
import OCIArchive

/// Reads a source without copying it anywhere, for the verbs that look at
/// images (`inspect`, `history`, `manifest`, `config`, `digest`, `validate`,
/// `ls`, `cat`, `unpack`, `export`, `diff`, `analyze`) and for the bases of
/// `commit`, `squash` and `config`: a store reference is read where it is;
/// an archive (file, directory or stdin) is read once into a private spool
/// under `tmpdir`, removed by `close()` (and on an interrupt).
public final class ImageReader {
    public let reference: TransportReference
    /// What the source holds (or its reference selects).
    public let contents: SourceContents
    private let source: ImageSource
    private let spool: String
    private let staging: BlobStore
    private let progress: ProgressScope?
    private let token: Cleanup.Token

    /// Opens and reads `reference`.
    public init(_ reference: TransportReference, context: TransportContext, tmpdir: String? = nil,
                progress: ProgressScope? = nil) throws {
        self.reference = reference
        let dir = "\(tmpdir ?? ImageCopy.defaultTmpdir)/ocitool-read-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        spool = dir
        token = Cleanup.register(dir)
        staging = BlobStore(root: dir, durable: false, label: "the spool")
        self.progress = progress
        let source = try reference.openSource(context)
        self.source = source
        do {
            contents = try source.read(ReadContext(staging: staging, progress: progress))
        } catch {
            source.close()
            FS.removeTree(dir)
            Cleanup.unregister(token)
            throw error
        }
    }

    /// Opens `string` as a source reference (see `TransportReference.source`).
    public convenience init(_ string: String, context: TransportContext, tmpdir: String? = nil, progress: ProgressScope? = nil) throws {
        try self.init(TransportReference.source(string), context: context, tmpdir: tmpdir, progress: progress)
    }

    public var entries: [ImageEntry] { contents.entries }
    public var warnings: [String] { contents.warnings }
    public var description: String { source.description }

    /// The one image the reference names: an index becomes its `platform`
    /// child (default: this machine's); a source holding several images
    /// must be narrowed (`ARCHIVE@N`, `docker-archive:F:NAME:TAG`). With
    /// `localLayers`, layers a source can only stream (a registry) are
    /// fetched into the spool first (for the union view).
    /// - Throws: `ImageError.ambiguous`, `.platform`.
    public func image(platform: Platform? = nil, localLayers: Bool = true, warnings: inout [String]) throws -> Image {
        guard entries.count == 1, let only = entries.first else {
            if entries.isEmpty { throw ImageError.notFound(ref: reference.description, source: source.description) }
            let choices = entries.enumerated().map { i, e in "@\(i) " + e.displayName }
            throw ImageError.invalid(reference.description, "holds \(entries.count) images; pick one with \(pickHint)@N (\(choices.joined(separator: ", ")))")
        }
        let chosen = try PlatformChoice.one(platform).apply(to: [only], source: source.description, warnings: &warnings)
        guard case let .image(image)? = chosen.first else {
            throw ImageError.platform("\(source.description): no image for platform \(platform?.description ?? Platform.host.description)")
        }
        guard localLayers else { return image }
        var fetched: [StagedBlob] = []
        guard case let .image(local)? = try ImageCopy.materialize([.image(image)], into: staging, fetched: &fetched, progress: progress).first else {
            return image
        }
        return local
    }

    /// The one image, ignoring warnings.
    public func image(platform: Platform? = nil, localLayers: Bool = true) throws -> Image {
        var w: [String] = []
        return try image(platform: platform, localLayers: localLayers, warnings: &w)
    }

    private var pickHint: String {
        switch reference {
        case let .archive(path, _, _): return path ?? "-"
        case let .layout(dir, _): return dir
        case .store, .registry: return ""
        }
    }

    /// Removes the spool (idempotent).
    public func close() {
        source.close()
        FS.removeTree(spool)
        Cleanup.unregister(token)
    }

    deinit { close() }
}
