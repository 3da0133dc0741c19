import Foundation
import CLinux

/// The one concurrency primitive of ocitool: a bounded pool of worker
/// threads taking jobs from one queue (highest `priority` first, then in
/// submission order), with a bounded backlog, cancellation, and a `close()`
/// that joins every thread it started — no thread outlives the operation
/// that owns the pool. Hashing on another core, block-parallel gzip,
/// re-encoding layers while an archive is read, diff_id checks and batch
/// conversions all run on it.
///
/// ```swift
/// let pool = WorkerPool(threads: 2, name: "recode")
/// defer { pool.close() }
/// let pending = layers.map { l in pool.submit(priority: l.size) { try recode(l) } }
/// let results = try pending.map { try $0.wait() }
/// ```
package final class WorkerPool: @unchecked Sendable {
    private let core: PoolCore

    /// - Parameters:
    ///   - threads: workers at most (0: one per core); started as jobs arrive.
    ///   - maxQueued: `submit` waits while this many jobs wait for a worker.
    package init(threads: Int = 0, maxQueued: Int = .max, name: String, stackSize: Int = 1 << 20) {
        core = PoolCore(threads: threads, maxQueued: maxQueued, name: name, stackSize: stackSize)
    }

    /// Dropping the pool drops its queued jobs and joins its threads.
    deinit { core.close(cancelQueued: true) }

    /// The number of workers this pool may run.
    package var threadLimit: Int { core.threadLimit }

    /// The cores this process may run on (at least 1): the default size of
    /// a pool and of every "one per core" choice.
    package static var cores: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// Queues `job`; returns the handle its result (or error) arrives in.
    /// After `cancel()` or `close()`, the job does not run and its handle
    /// throws `CancellationError`. Waits while `maxQueued` jobs wait.
    @discardableResult
    package func submit<T>(priority: Int64 = 0, _ job: @escaping @Sendable () throws -> T) -> Pending<T> {
        core.submit(priority: priority, job)
    }

    /// Drops the jobs not started yet (their handles throw `CancellationError`);
    /// running jobs finish. Jobs can poll `isCancelled` to stop early.
    package func cancel() { core.cancel() }

    /// Has `cancel()` been called?
    package var isCancelled: Bool { core.isCancelled }

    /// Runs the queued jobs (or, with `cancelQueued`, drops them), waits for
    /// running ones and for every worker thread to exit. Idempotent.
    package func close(cancelQueued: Bool = false) { core.close(cancelQueued: cancelQueued) }

    /// Waits until no job is queued or running (the pool stays open).
    package func waitIdle() { core.waitIdle() }
}

/// The state the worker threads share; they hold this, not the pool, so
/// dropping the last reference to a pool stops them.
private final class PoolCore: @unchecked Sendable {
    private let cond = NSCondition()
    private var queue: [(priority: Int64, sequence: UInt64, run: () -> Void, drop: () -> Void)] = []
    private var sequence: UInt64 = 0
    private var started = 0
    private var running = 0
    private var idle = 0
    private var closing = false
    private var cancelled = false
    private let maxThreads: Int
    private let maxQueued: Int
    private let name: String
    private let stackSize: Int
    /// Workers started and not yet joined.
    private var threads: [pthread_t] = []

    init(threads: Int, maxQueued: Int, name: String, stackSize: Int) {
        maxThreads = threads > 0 ? threads : WorkerPool.cores
        self.maxQueued = max(1, maxQueued)
        self.name = name
        self.stackSize = stackSize
    }

    /// The number of workers this pool may run.
    var threadLimit: Int { maxThreads }

    /// Queues `job`; returns the handle its result (or error) arrives in.
    /// After `cancel()` or `close()`, the job does not run and its handle
    /// throws `CancellationError`.
    func submit<T>(priority: Int64 = 0, _ job: @escaping @Sendable () throws -> T) -> Pending<T> {
        let pending = Pending<T>()
        cond.lock()
        defer { cond.unlock() }
        while queue.count >= maxQueued && !cancelled && !closing { cond.wait() }
        guard !cancelled && !closing else {
            pending.fulfil(.failure(CancellationError()))
            return pending
        }
        sequence += 1
        queue.append((priority, sequence, { pending.fulfil(Result { try job() }) }, { pending.fulfil(.failure(CancellationError())) }))
        if idle == 0 && started < maxThreads { spawn() }
        cond.broadcast()
        return pending
    }

    /// Drops the jobs not started yet (their handles throw `CancellationError`);
    /// running jobs finish. Jobs can poll `isCancelled` to stop early.
    func cancel() {
        let dropped: [() -> Void] = cond.withLock {
            cancelled = true
            defer { queue.removeAll() }
            cond.broadcast()
            return queue.map(\.drop)
        }
        for drop in dropped { drop() }
    }

    /// Has `cancel()` been called?
    var isCancelled: Bool { cond.withLock { cancelled } }

    /// Runs the queued jobs (or, with `cancelQueued`, drops them), waits
    /// for running ones and for every worker thread to exit. Idempotent.
    func close(cancelQueued: Bool = false) {
        if cancelQueued { cancel() }
        cond.lock()
        closing = true
        cond.broadcast()
        while started > 0 { cond.wait() }
        let exiting = threads
        threads.removeAll()
        cond.unlock()
        // Every worker has left `work()`; joining waits for the threads
        // themselves to end, so none is still listed when close returns.
        for t in exiting { pthread_join(t, nil) }
    }

    /// Waits until no job is queued or running (the pool stays open).
    func waitIdle() {
        cond.lock()
        while !queue.isEmpty || running > 0 { cond.wait() }
        cond.unlock()
    }

    /// Starts one worker (called with `cond` held). If the system refuses
    /// a thread and no worker runs, the queued jobs are dropped rather than
    /// left waiting for ever.
    private func spawn() {
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        defer { pthread_attr_destroy(&attr) }
        pthread_attr_setstacksize(&attr, max(stackSize, 1 << 16))
        let start = Unmanaged.passRetained(WorkerStart(core: self, name: "ocitool-\(name)")).toOpaque()
        var tid = pthread_t()
        let rc = pthread_create(&tid, &attr, { arg in
            guard let arg else { return nil }
            Unmanaged<WorkerStart>.fromOpaque(arg).takeRetainedValue().run()
            return nil
        }, start)
        guard rc == 0 else {
            Unmanaged<WorkerStart>.fromOpaque(start).release()
            if started == 0 {
                let dropped = queue.map(\.drop)
                queue.removeAll()
                for drop in dropped { drop() }
            }
            return
        }
        started += 1
        threads.append(tid)
    }

    fileprivate func work() {
        cond.lock()
        while true {
            if let i = nextIndex() {
                let job = queue.remove(at: i)
                running += 1
                cond.broadcast()
                cond.unlock()
                job.run()
                cond.lock()
                running -= 1
                cond.broadcast()
                continue
            }
            if closing { break }
            idle += 1
            cond.wait()
            idle -= 1
        }
        started -= 1
        cond.broadcast()
        cond.unlock()
    }

    /// The queued job to run next: highest priority, then oldest.
    private func nextIndex() -> Int? {
        guard !queue.isEmpty else { return nil }
        var best = 0
        for i in 1..<queue.count where queue[i].priority > queue[best].priority { best = i }
        return best
    }
}

/// What a new worker thread runs: names itself, then serves the pool.
private final class WorkerStart {
    let core: PoolCore
    let name: String
    init(core: PoolCore, name: String) {
        self.core = core
        self.name = name
    }

    func run() {
        _ = pthread_setname_np(pthread_self(), String(name.utf8.prefix(15)) ?? "ocitool")
        core.work()
    }
}

/// The result of one job of a `WorkerPool`, waited for by its submitter.
package final class Pending<T>: @unchecked Sendable {
    private let cond = NSCondition()
    private var result: Result<T, Error>?

    fileprivate func fulfil(_ r: Result<T, Error>) {
        cond.withLock {
            result = r
            cond.broadcast()
        }
    }

    /// Waits for the job; returns its value or rethrows its error.
    package func wait() throws -> T {
        cond.lock()
        defer { cond.unlock() }
        while true {
            if let result { return try result.get() }
            cond.wait()
        }
    }

    /// Is the result there?
    package var isDone: Bool { cond.withLock { result != nil } }
}
