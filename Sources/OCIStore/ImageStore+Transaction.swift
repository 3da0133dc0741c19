import OCICore
import OCIModel
import OCIImage

extension ImageStore {
    /// Runs `body` on `index.json` under the writer lock: the index is read
    /// afresh, `body` resolves what it needs and changes it, and the index is
    /// written back (temp file, fsync, rename) only if it changed. Temporary
    /// files of interrupted writers are removed first (only writers holding
    /// this lock make them).
    ///
    /// Without `creating`, a directory that holds no store is left untouched:
    /// `body` sees an empty index and may not add to it.
    public func transaction<T>(creating: Bool = false, _ body: (inout IndexManifest) throws -> T) throws -> T {
        try transaction(creating: creating) { index, _ in try body(&index) }
    }

    /// `transaction`, telling `body` which leftovers of interrupted writers
    /// (names in `root`) it removed.
    func transaction<T>(creating: Bool = false, _ body: (inout IndexManifest, _ removedLeftovers: [String]) throws -> T) throws -> T {
        if !exists && !creating {
            var empty = IndexManifest(manifests: [])
            let result = try body(&empty, [])
            guard empty.manifests.isEmpty else { throw StoreError.unusable(root: root, reason: "there is no store here") }
            return result
        }
        try FS.makeDirectories(root)
        TestHook.point("index-lock")
        let lock = try FileLock(path: indexLockPath, exclusive: true)
        defer { lock.unlock() }
        TestHook.point("index-locked")
        let leftovers = removeInterruptedWrites()
        var index = try readIndex()
        let before = index
        let result = try body(&index, leftovers)
        index.manifests.sort(by: Self.entryOrder)
        if index != before || !exists {
            try initializeLayout()
            try FS.writeAtomically(indexPath, bytes: CanonicalJSON.encode(index), hook: "before-index-rename")
            TestHook.point("index-renamed")
        }
        return result
    }

    /// Removes `index.json.tmp-*` and `oci-layout.tmp-*` left by a writer
    /// that was killed (call with the index lock held); returns their names.
    @discardableResult
    func removeInterruptedWrites() -> [String] {
        guard let names = try? FS.listDirectory(root) else { return [] }
        let left = names.filter { $0.hasPrefix("index.json.tmp-") || $0.hasPrefix("oci-layout.tmp-") }
        for n in left { FS.removeFile(root + "/" + n) }
        return left
    }

    static func entryOrder(_ a: Descriptor, _ b: Descriptor) -> Bool {
        let na = a.annotations?[AnnotationKey.refName] ?? ""
        let nb = b.annotations?[AnnotationKey.refName] ?? ""
        if na != nb { return na < nb }
        return a.digest < b.digest
    }
}
