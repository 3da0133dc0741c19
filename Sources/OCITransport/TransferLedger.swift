import Foundation
import OCICore
import OCIModel
import OCIImage

/// What the copies of one run share so that each blob crosses the network
/// once (`sync`: many images, several at a time, often with common layers).
///
/// - Fetches: the first copy that needs a remote blob fetches it (verified,
///   into its own staging) and keeps a link to the file in `directory`; a
///   copy that needs it meanwhile waits for that fetch, then reads the kept
///   file instead of fetching again.
/// - Pushes: per destination registry, which repositories hold a digest
///   (pushed, mounted or found there by this run). A blob a repository
///   holds is not asked about again; a blob another repository of the same
///   registry holds is mounted from it; two copies never upload the same
///   blob to one registry at once (the second waits, then mounts or skips).
///
/// A copy waits only for a transfer in progress (which waits on nothing),
/// so copies cannot deadlock each other. Thread-safe.
public final class TransferLedger: @unchecked Sendable {
    /// Where fetched blobs are kept (removed by `removeFiles()`).
    public let directory: String
    private let condition = NSCondition()
    private var kept: [Digest: String] = [:]
    private var fetching: Set<Digest> = []
    private var holders: [String: [Digest: [String]]] = [:]
    private var hints: [String: [Digest: [String]]] = [:]
    private var pushing: Set<String> = []
    private var counter = 0

    /// - Parameter directory: an empty directory for kept blobs, best on the
    ///   file system of the staging areas (a hard link is then enough).
    public init(directory: String) {
        self.directory = directory
    }

    // MARK: fetches

    /// What `fetch` gave.
    public enum Fetched {
        /// This call fetched the blob (the caller owns the staged file).
        case staged(StagedBlob)
        /// Another copy fetched it: a verified file, kept until the run ends.
        case kept(String)
    }

    /// Runs `body` (a verified fetch into the caller's staging) unless the
    /// blob was fetched by this run already or is being fetched: then waits
    /// for that fetch and returns its kept file. A failed fetch is not
    /// remembered: the next caller tries again.
    public func fetch(_ digest: Digest, _ body: () throws -> StagedBlob) throws -> Fetched {
        condition.lock()
        while fetching.contains(digest) { condition.wait() }
        if let path = kept[digest] {
            condition.unlock()
            return .kept(path)
        }
        fetching.insert(digest)
        condition.unlock()
        var keptPath: String?
        defer {
            condition.lock()
            fetching.remove(digest)
            if let keptPath { kept[digest] = keptPath }
            condition.broadcast()
            condition.unlock()
        }
        let staged = try body()
        keptPath = keep(staged.path, digest)
        return .staged(staged)
    }

    /// A file kept by an earlier fetch of this run.
    public func keptFile(_ digest: Digest) -> String? {
        condition.lock()
        defer { condition.unlock() }
        return kept[digest]
    }

    /// Links (or, across file systems, copies) `path` into `directory`.
    private func keep(_ path: String, _ digest: Digest) -> String? {
        let target = condition.withLock { () -> String in
            counter += 1
            return "\(directory)/\(digest.encoded)-\(counter)"
        }
        if link(path, target) == 0 { return target }
        do {
            let sink = try FileSink(creating: target)
            try FileSource(path: path).copy(to: sink)
            try sink.finish()
            return target
        } catch {
            FS.removeFile(target)
            return nil
        }
    }

    /// Removes the kept files.
    public func removeFiles() {
        condition.withLock { kept.removeAll() }
        FS.removeTree(directory)
    }

    // MARK: pushes

    /// Repositories of `registry` this run knows to hold `digest`.
    public func repositories(holding digest: Digest, registry: String) -> [String] {
        condition.withLock { holders[registry]?[digest] ?? [] }
    }

    /// Repositories to try mounting `digest` from: those this run knows to
    /// hold it, then those only `hint` named.
    public func mountSources(_ digest: Digest, registry: String) -> [String] {
        condition.withLock {
            let known = holders[registry]?[digest] ?? []
            return known + (hints[registry]?[digest] ?? []).filter { !known.contains($0) }
        }
    }

    /// Records that `repository` of `registry` may hold `digests` (an image
    /// of the run is named after it: it was pulled from there): a place to
    /// mount from, never taken for present. A sync pushing several names of
    /// one image mounts from there whichever name goes first.
    public func hint(_ digests: [Digest], registry: String, repository: String) {
        condition.withLock {
            for d in digests { Self.add(repository, to: &hints, registry: registry, digest: d) }
        }
    }

    /// Records that `repository` of `registry` holds `digest`.
    public func record(_ digest: Digest, registry: String, repository: String) {
        condition.withLock {
            Self.add(repository, to: &holders, registry: registry, digest: digest)
        }
    }

    /// Adds `repository` to `table[registry][digest]` once (call under the lock).
    private static func add(_ repository: String, to table: inout [String: [Digest: [String]]], registry: String, digest: Digest) {
        var list = table[registry]?[digest] ?? []
        if !list.contains(repository) { list.append(repository) }
        table[registry, default: [:]][digest] = list
    }

    /// Runs `body` as the only transfer of `digest` to `registry` in
    /// progress: waits while another one is running.
    public func exclusive<T>(_ digest: Digest, registry: String, _ body: () throws -> T) rethrows -> T {
        let key = "\(registry) \(digest)"
        condition.lock()
        while pushing.contains(key) { condition.wait() }
        pushing.insert(key)
        condition.unlock()
        defer {
            condition.lock()
            pushing.remove(key)
            condition.broadcast()
            condition.unlock()
        }
        return try body()
    }
}
