import Foundation
import OCICore
import OCIModel
import OCIImage

extension ImageStore {
    /// What `pruneImages` removed: image entries first (as docker's
    /// `image prune` lists them), then what the blob prune removed.
    public struct ImagePruneReport: Sendable {
        /// One line per removal, in order: a name that was untagged, or an
        /// image ID that was deleted.
        public enum Item: Equatable, Sendable {
            case untagged(String)
            case deleted(Digest)
        }

        public var items: [Item] = []
        /// The unreferenced blobs and staging files removed afterwards.
        public var blobs = PruneReport()
        /// Leftovers of interrupted writers the image transaction removed
        /// (the blob prune's own are in `blobs.removedLeftovers`).
        public var leftovers: [String] = []
    }

    /// docker's `image prune`: removes every image entry `shouldRemove`
    /// accepts (with all its names and per-platform entries), then every
    /// blob no remaining entry references and the staging files of
    /// operations no longer running (see `prune()`).
    ///
    /// The ingest lock is held exclusively throughout (so no load or save is
    /// running): the entries are chosen and removed in one `transaction`,
    /// then the blob prune runs as `prune()` would.
    /// - Parameter shouldRemove: the caller's filter (dangling, `until=`, `label=`).
    /// - Throws: `StoreError.unusable` for an unreadable store; blob errors for a damaged one.
    public func pruneImages(where shouldRemove: (ImageEntry) throws -> Bool) throws -> ImagePruneReport {
        guard exists else { return ImagePruneReport() }
        var report = ImagePruneReport()
        TestHook.point("prune-lock")
        let ingest = try FileLock(path: ingestLockPath, exclusive: true)
        defer { ingest.unlock() }
        TestHook.point("prune-locked")
        var removed: [String] = []
        report.items = try transaction { index, leftovers -> [ImagePruneReport.Item] in
            removed = leftovers
            var items: [ImagePruneReport.Item] = []
            for entry in try entries(from: index) where try shouldRemove(entry) {
                for name in entry.names {
                    Self.removeName(name, from: &index, keepUntagged: false)
                    items.append(.untagged(name.familiarString))
                }
                index.manifests.removeAll { !$0.isAlias && $0.storedTarget.digest == entry.digest }
                items.append(.deleted(entry.id))
            }
            return items
        }
        report.leftovers = removed
        // The blobs the removed entries held, under the same lock.
        report.blobs = try pruneBlobsLocked()
        return report
    }
}
