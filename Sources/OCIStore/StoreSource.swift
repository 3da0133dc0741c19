import OCICore
import OCIModel
import OCIImage

/// The store as a copy source (`save`, `push`, `copy NAME …`, the read
/// verbs). Holds a lease while open, so `prune` cannot remove the blobs
/// being read.
public final class StoreSource: ImageSource {
    /// How references pick images.
    public enum Selection: Sendable {
        /// Each reference names one image (`name` = `name:latest`).
        case resolve([String])
        /// docker save's rules: `name` alone is every tag of the repository.
        case select([String])
        /// Every image.
        case all
    }

    public let store: ImageStore
    public let selection: Selection
    private var lease: StoreLease?

    public init(store: ImageStore, selection: Selection) {
        self.store = store
        self.selection = selection
    }

    public var description: String { "the store" }

    public func read(_ context: ReadContext) throws -> SourceContents {
        if store.exists && lease == nil { lease = try store.lease() }
        let all = try store.entries()
        let entries: [ImageEntry]
        switch selection {
        case .all: entries = all
        case let .resolve(refs):
            entries = try refs.map { ref in
                do { return try ImageSelector.resolve(ref, in: all, source: "the store") } catch ImageError.notFound {
                    throw StoreError.notFound(ref)
                }
            }
        case let .select(refs): entries = try ImageSelector.select(refs, from: all, source: "the store")
        }
        return SourceContents(entries: entries)
    }

    public func close() {
        lease?.release()
        lease = nil
    }

    deinit { close() }
}
