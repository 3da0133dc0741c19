import Foundation
import OCICore
import OCIImage

/// Computes the diff_ids of large compressed blobs from their staged files,
/// on a `WorkerPool` (one job per core) while the archive scan goes on with
/// the next member: the inflate of one layer is the slowest single step of a
/// load, and this lets the layers of an image inflate on both cores at once.
final class DiffIDVerifier {
    private let pool: WorkerPool
    private var pending: [(Digest, Pending<(digest: Digest?, error: String?)>)] = []

    init(concurrency: Int = 0) {
        // At most one job waits per worker: the scan does not run far ahead of the hashing.
        pool = WorkerPool(threads: concurrency, maxQueued: max(1, concurrency), name: "diffid", stackSize: 1 << 20)
    }

    /// Queues the blob at `path` (waits while every worker is busy and one job waits).
    func submit(_ digest: Digest, path: String, context: String) {
        let job = pool.submit { () -> (digest: Digest?, error: String?) in
            let digester = LayerDigester(context: context, parallel: true)
            do {
                try FileSource(path: path).copy(to: digester, blockSize: 256 << 10)
                try digester.finish()
                return (digester.uncompressedDigest, digester.decodeError)
            } catch {
                return (nil, "\(error)")
            }
        }
        pending.append((digest, job))
    }

    /// Waits for every job, stops the workers, and returns the results by blob digest.
    func wait() -> [Digest: (digest: Digest?, error: String?)] {
        var out: [Digest: (digest: Digest?, error: String?)] = [:]
        for (d, p) in pending { out[d] = (try? p.wait()) ?? (nil, "cancelled") }
        pending = []
        pool.close()
        return out
    }
}
