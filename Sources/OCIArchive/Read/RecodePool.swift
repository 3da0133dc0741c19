import Foundation
import OCICore
import OCIModel
import OCIImage
#if canImport(Glibc)
import Glibc
#endif

/// One layer to re-encode from its file.
struct RecodeJob: Sendable {
    let member: String
    let location: MemberLocation
    let from: LayerCompression
    let plan: RecodePlan
    let staging: BlobStore
    let context: String
    let progress: ProgressScope?

    func run() throws -> RecodedLayer {
        let task = progress?.task(id: member, label: member, phase: "recode", total: location.size)
        defer { task?.finish() }
        let large = location.size >= 4 << 20
        let writer = try staging.beginStaging(parallel: large)
        do {
            let pipeline = try RecodePipeline(from: from, plan: plan, writer: writer, large: large, context: context)
            let sink: ByteSink = task.map { CountingSink(forwardingTo: pipeline.input, progress: $0.bytes) } ?? pipeline.input
            let copied = try Self.copy(location, into: sink)
            guard copied == location.size else {
                throw CoreError.malformed(context: context, message: "\(location.path) changed while being read (\(copied) of \(location.size) bytes at offset \(location.offset))")
            }
            return try pipeline.finish(size: location.size)
        } catch {
            writer.abandon()
            throw error
        }
    }

    /// Streams `location.size` bytes from `location.offset` of its file.
    static func copy(_ location: MemberLocation, into sink: ByteSink) throws -> Int64 {
        let file = try FileSource(path: location.path)
        guard lseek(file.fd, off_t(location.offset), SEEK_SET) == off_t(location.offset) else {
            throw CoreError.io(context: "seek \(location.path)", errno: errno)
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        var left = location.size
        while left > 0 {
            let want = Int(min(Int64(buffer.count), left))
            let n = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]))
            if n == 0 { break }
            try sink.write(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            left -= Int64(n)
        }
        return location.size - left
    }
}

/// Re-encodes layers from their files on a few worker threads while the
/// scan reads on; `wait()` returns every outcome by member path.
///
/// Workers start when the scan is about to spend time on something else
/// (`start()`) or at its end, then always take the largest layer queued,
/// so that the biggest layer does not start last and run alone.
final class RecodePool: @unchecked Sendable {
    private let cond = NSCondition()
    private var queue: [RecodeJob] = []
    private var results: [String: Result<RecodedLayer, Error>] = [:]
    private var closed = false
    private var started = false
    private var running = 0
    private let workers: Int

    init(workers: Int) {
        self.workers = workers > 0 ? workers : max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    func submit(_ job: RecodeJob) {
        cond.withLock {
            queue.append(job)
            cond.broadcast()
        }
    }

    /// Starts the workers (idempotent).
    func start() {
        cond.withLock {
            guard !started else { return }
            started = true
            for _ in 0..<workers {
                running += 1
                let t = Thread { [self] in self.work() }
                t.stackSize = 1 << 20
                t.name = "ocitool-recode"
                t.start()
            }
        }
    }

    /// Waits for every job; returns their outcomes by member path.
    func wait() -> [String: Result<RecodedLayer, Error>] {
        start()
        return cond.withLock {
            closed = true
            cond.broadcast()
            while running > 0 { cond.wait() }
            return results
        }
    }

    private func work() {
        while true {
            cond.lock()
            while queue.isEmpty && !closed { cond.wait() }
            guard !queue.isEmpty else {
                running -= 1
                cond.broadcast()
                cond.unlock()
                return
            }
            // Largest first (ties: archive order), for the shortest total time.
            var pick = 0
            for (i, j) in queue.enumerated() where j.location.size > queue[pick].location.size { pick = i }
            let job = queue.remove(at: pick)
            cond.unlock()
            let outcome = Result { try job.run() }
            cond.withLock { results[job.member] = outcome }
        }
    }
}
