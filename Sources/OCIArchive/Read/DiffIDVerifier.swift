import Foundation
import OCICore
import OCIImage

/// Computes the diff_ids of large compressed blobs from their staged files,
/// on a `WorkerPool` (one job per core) while the archive scan goes on with
/// the next member: the inflate of one layer is the slowest single step of a
/// load, and this lets the layers of an image inflate on both cores at once.
/// A blob still being staged is followed as its file grows (`follow`), so a
/// layer (the largest is often the last member) inflates while it is read.
final class DiffIDVerifier {
    typealias Outcome = (digest: Digest?, error: String?)
    private let pool: WorkerPool
    /// Jobs by blob digest; a followed blob's digest is known only once it is staged.
    private var pending: [(Digest?, Pending<Outcome>)] = []

    init(concurrency: Int = 0) {
        // At most one job waits per worker: the scan does not run far ahead of the hashing.
        pool = WorkerPool(threads: concurrency, maxQueued: max(1, concurrency), name: "diffid", stackSize: 1 << 20)
    }

    /// Queues the blob at `path` (waits while every worker is busy and one job waits).
    func submit(_ digest: Digest, path: String, context: String) {
        let job = pool.submit { () -> Outcome in
            let digester = LayerDigester(context: context, parallel: true)
            do {
                // 512 KiB reads: half the inflate calls of 256 KiB reads.
                try FileSource(path: path).copy(to: digester, blockSize: 512 << 10)
                try digester.finish()
                return (digester.uncompressedDigest, digester.decodeError)
            } catch {
                return (nil, "\(error)")
            }
        }
        pending.append((digest, job))
    }

    /// Queues a job reading the staging file at `path` as `growth` reports
    /// it written; its result counts once `assign` names the blob's digest.
    /// Call before writing the file (waits while every worker is busy and
    /// one job waits: every file written earlier is complete by then, so the
    /// jobs ahead of it never wait for this thread).
    /// - Returns: the ticket for `assign`.
    /// The file is opened here, so the job reads it even if it is removed
    /// (the destination held the blob already) before the job starts.
    func follow(path: String, growth: GrowingFile, context: String) throws -> Int {
        let handle = OpenFile(file: try FileSource(path: path))
        let job = pool.submit { () -> Outcome in
            do {
                let file = handle.file
                // The compression is known from the first bytes: only gzip and
                // zstd blobs are read to the end (a plain tar's diff_id is its digest).
                let digester = LayerDigester(context: context, parallel: true)
                let head = try file.readGrowing(growth, atLeast: 6)
                try digester.write(contentsOf: head)
                guard digester.compression == .gzip || digester.compression == .zstd else { return (nil, nil) }
                try file.copyFollowing(growth, to: digester, from: Int64(head.count), blockSize: 512 << 10)
                try digester.finish()
                return (digester.uncompressedDigest, digester.decodeError)
            } catch {
                return (nil, "\(error)")
            }
        }
        pending.append((nil, job))
        return pending.count - 1
    }

    /// The followed file of `ticket` holds the blob `digest`, a gzip or zstd
    /// blob whose diff_id this job computes.
    func assign(_ ticket: Int, to digest: Digest) {
        pending[ticket].0 = digest
    }

    /// Waits for every job, stops the workers, and returns the results by
    /// blob digest (jobs never assigned a digest are waited for and dropped).
    func wait() -> [Digest: Outcome] {
        var out: [Digest: Outcome] = [:]
        for (d, p) in pending {
            let outcome = (try? p.wait()) ?? (nil, "cancelled")
            if let d { out[d] = outcome }
        }
        pending = []
        pool.close()
        return out
    }
}

/// An open file handed to the one job that reads it.
private struct OpenFile: @unchecked Sendable {
    let file: FileSource
}
