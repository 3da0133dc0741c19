import Foundation
import OCICore
import OCIImage

/// Computes the diff_ids of large compressed blobs from their staged files,
/// two at a time, while the archive scan goes on with the next member: the
/// inflate of one layer is the slowest single step of a load, and this lets
/// the layers of an image inflate on both cores at once.
final class DiffIDVerifier: @unchecked Sendable {
    private let group = DispatchGroup()
    private let slots: DispatchSemaphore
    private let lock = NSLock()
    private var results: [Digest: (digest: Digest?, error: String?)] = [:]

    init(concurrency: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)) {
        slots = DispatchSemaphore(value: concurrency)
    }

    /// Queues the blob at `path`; waits while `concurrency` jobs run.
    func submit(_ digest: Digest, path: String, context: String) {
        slots.wait()
        group.enter()
        let t = Thread { [self] in
            defer {
                slots.signal()
                group.leave()
            }
            let digester = LayerDigester(context: context, parallel: true)
            var outcome: (Digest?, String?)
            do {
                try FileSource(path: path).copy(to: digester, blockSize: 256 << 10)
                try digester.finish()
                outcome = (digester.uncompressedDigest, digester.decodeError)
            } catch {
                outcome = (nil, "\(error)")
            }
            lock.withLock { results[digest] = outcome }
        }
        t.start()
    }

    /// Waits for every job and returns the results by blob digest.
    func wait() -> [Digest: (digest: Digest?, error: String?)] {
        group.wait()
        return lock.withLock { results }
    }
}
