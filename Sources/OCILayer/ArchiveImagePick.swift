import OCICore
import OCIModel
import OCIStore
import OCIArchive

/// Opens a store reference or an archive (`ARCHIVE@N` picks the N-th image,
/// from 0) and chooses one image: shared by the union-view verbs and commit.
enum ArchiveImagePick {
    /// - Returns: the chosen record, the archive path (nil for a store
    ///   image) and the spool to close when done.
    /// - Throws: `LayerError.imageSelection` when an archive holds several
    ///   images and none was picked, or the index is out of range.
    static func open(_ ref: String, store: ImageStore, tmpdir: String?, platform: Platform?) throws
        -> (record: ImageRecord, archive: String?, spool: SpooledArchive?) {
        var target = ref
        var pick: Int?
        if !FS.exists(ref), let at = ref.lastIndex(of: "@"), let n = Int(ref[ref.index(after: at)...]), n >= 0,
           FS.exists(String(ref[..<at])) {
            target = String(ref[..<at])
            pick = n
        }
        let (records, spool) = try ImageLocator.open(target, store: store, tmpdir: tmpdir, platform: platform)
        let archive = spool == nil ? nil : target
        if let pick {
            guard records.indices.contains(pick) else {
                spool?.close()
                throw LayerError.imageSelection(ref: ref, reason: "the archive holds \(records.count) image(s); index \(pick) is out of range")
            }
            return (records[pick], archive, spool)
        }
        if records.count == 1 { return (records[0], archive, spool) }
        spool?.close()
        let names = records.enumerated().map { i, r in "@\(i) " + (r.names.first.map(\.familiarString) ?? r.id.shortID) }
        throw LayerError.imageSelection(ref: ref, reason: records.isEmpty ? "the archive holds no image"
            : "the archive holds \(records.count) images; pick one with \(target)@N (\(names.joined(separator: ", ")))")
    }
}
