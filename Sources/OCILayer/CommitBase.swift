import OCICore
import OCIModel
import OCIStore
import OCIArchive

/// The base image of a commit: a store reference, or an archive file or
/// OCI layout directory used directly (spooled under `tmpdir`, verified,
/// never loaded into the store). `ARCHIVE@N` picks the N-th image (from 0)
/// of an archive holding several.
public final class CommitBase {
    /// The chosen image (blob paths in the store or the spool).
    public let record: ImageRecord
    /// The archive the image was read from; nil for a store image.
    public let archive: String?
    private let spool: SpooledArchive?

    /// - Throws: `LayerError.imageSelection` when an archive holds several
    ///   images and none was picked; the store's and archive reader's
    ///   errors (an archive that fails verification among them).
    public init(_ ref: String, store: ImageStore, tmpdir: String? = nil, platform: Platform? = nil) throws {
        (record, archive, spool) = try ArchiveImagePick.open(ref, store: store, tmpdir: tmpdir, platform: platform)
    }

    /// Warnings of the archive reader.
    public var warnings: [String] { spool?.warnings ?? [] }

    /// Deletes the spool of an archive base.
    public func close() { spool?.close() }

    /// The archive format the base came in: `docker` when the archive has
    /// a `manifest.json` (docker save, old or Docker 25+), `oci` for an OCI
    /// layout only (reads the archive's member names once more). For a
    /// store image or stdin: `docker`, `save`'s default (the Docker 25+
    /// hybrid, which holds an OCI layout too).
    public func flavour() -> ArchiveWriter.Flavour {
        guard let archive, archive != "-" else { return .docker }
        if FS.isDirectory(archive) { return FS.exists(archive + "/manifest.json") ? .docker : .oci }
        do {
            let reader = try TarReader(path: archive)
            while let entry = try reader.next() {
                if entry.normalizedPath == "manifest.json" { return .docker }
            }
            return .oci
        } catch {
            return .docker
        }
    }
}
