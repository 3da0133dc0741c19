import OCICore
import OCIModel
import OCIStore
import OCIArchive

/// An image named on the command line, opened for the union view: a store
/// reference, or an archive file or OCI layout directory (read into a
/// private spool that `close()` deletes). `ARCHIVE@N` picks the N-th image
/// (from 0) of an archive holding several.
public final class OpenedImage {
    /// The chosen image.
    public let record: ImageRecord
    /// The layers, bottom first.
    public let layers: [LayerSource]
    private let spool: SpooledArchive?

    /// Opens `ref`.
    /// - Throws: `LayerError.imageSelection` when an archive holds several
    ///   images and none was picked, or the index is out of range; the
    ///   store's and archive reader's errors otherwise.
    public init(_ ref: String, store: ImageStore, platform: Platform? = nil) throws {
        let (chosen, _, spool) = try ArchiveImagePick.open(ref, store: store, tmpdir: nil, platform: platform)
        self.spool = spool
        record = chosen
        do {
            layers = try LayerSource.layers(of: chosen)
        } catch {
            spool?.close()
            throw error
        }
    }

    /// Deletes the spool of an archive (nothing for a store image).
    public func close() { spool?.close() }

    /// Does `path` look like an image (an archive file, or a directory with
    /// an OCI layout or a docker-save `manifest.json`) rather than a plain
    /// directory tree?
    public static func looksLikeImage(_ path: String) -> Bool {
        guard FS.isDirectory(path) else { return FS.exists(path) }
        return ["oci-layout", "index.json", "manifest.json"].contains { FS.exists(path + "/" + $0) }
    }
}
