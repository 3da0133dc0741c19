import OCICore
#if canImport(Glibc)
import Glibc
#endif

/// A shared hold on the store's ingest lock for the length of one
/// operation (a load, a commit, a save reading blobs): `prune` and `fsck
/// --repair` take the lock exclusively, so they never remove a staging
/// file or blob an operation in flight uses.
///
/// Taking a lease on a directory that holds no store yet creates the
/// directory; releasing it without a store having been committed there
/// removes what the lease created, if no other operation uses it, so a
/// failed operation on an absent store leaves nothing behind.
public final class StoreLease: @unchecked Sendable {
    private let store: ImageStore
    private var lock: FileLock?
    private let created: [String]

    init(store: ImageStore) throws {
        self.store = store
        var made: [String] = []
        var dir = store.root
        var missing: [String] = []
        while !dir.isEmpty && dir != "/" && dir != "." && !FS.exists(dir) {
            missing.append(dir)
            dir = PathString(dir).deletingLastComponent
        }
        if FS.exists(store.root) && !FS.isDirectory(store.root) {
            throw StoreError.unusable(root: store.root, reason: "is not a directory")
        }
        do {
            for d in missing.reversed() {
                guard mkdir(d, 0o755) == 0 || errno == EEXIST else { throw CoreError.io(context: "mkdir \(d)", errno: errno) }
                made.append(d)
            }
            if !FS.exists(store.ingestLockPath) { made.append(store.ingestLockPath) }
            TestHook.point("lease-lock")
            lock = try FileLock(path: store.ingestLockPath, exclusive: false)
        } catch {
            for p in made.reversed() { _ = remove(p) }
            throw error
        }
        created = made
    }

    /// Releases the lease (idempotent). If the operation created the store
    /// directory and no store was committed in it, what it created is removed.
    public func release() {
        guard let lock else { return }
        lock.unlock()
        self.lock = nil
        guard !created.isEmpty, !store.exists,
              let exclusive = FileLock.attempt(path: store.ingestLockPath, exclusive: true) else { return }
        defer { exclusive.unlock() }
        // Nobody else stages here and no store was made: undo.
        if FS.isDirectory(store.blobs.ingestDirectory), (try? FS.listDirectory(store.blobs.ingestDirectory))?.isEmpty == true {
            _ = rmdir(store.blobs.ingestDirectory)
        }
        FS.removeFile(store.indexLockPath)
        for p in created.reversed() { _ = remove(p) }
    }

    deinit { release() }
}
