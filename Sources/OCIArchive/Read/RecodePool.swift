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
            try location.copy(into: sink, context: context)
            return try pipeline.finish(size: location.size)
        } catch {
            writer.abandon()
            throw error
        }
    }
}

/// Re-encodes layers from their files on a `WorkerPool` while the scan
/// reads on; `wait()` returns every outcome by member path.
///
/// Jobs are held until the scan is about to spend time on something else
/// (`start()`) or until its end, then handed to the pool largest first, so
/// that the biggest layer does not start last and run alone.
final class RecodePool {
    private let pool: WorkerPool
    private var held: [RecodeJob] = []
    private var started = false
    private var pending: [(String, Pending<RecodedLayer>)] = []

    init(workers: Int) {
        pool = WorkerPool(threads: workers, name: "recode", stackSize: 1 << 20)
    }

    func submit(_ job: RecodeJob) {
        if started { run(job) } else { held.append(job) }
    }

    /// Starts the workers (idempotent).
    func start() {
        guard !started else { return }
        started = true
        for job in held.sorted(by: { $0.location.size > $1.location.size }) { run(job) }
        held = []
    }

    private func run(_ job: RecodeJob) {
        pending.append((job.member, pool.submit(priority: job.location.size) { try job.run() }))
    }

    /// Waits for every job and stops the workers; returns the outcomes by member path.
    func wait() -> [String: Result<RecodedLayer, Error>] {
        start()
        var out: [String: Result<RecodedLayer, Error>] = [:]
        for (member, p) in pending { out[member] = Result { try p.wait() } }
        pending = []
        pool.close()
        return out
    }
}
