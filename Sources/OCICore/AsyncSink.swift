import Foundation

/// Forwards bytes to `inner` on a one-thread `WorkerPool`, so that
/// CPU-heavy sinks (SHA-256, inflate + SHA-256) run on another core while
/// the caller keeps reading and writing. Memory is bounded: at most
/// `slots` + 1 buffers of `slotSize` bytes; a writer waits when they are
/// all in flight. The worker thread ends with `finish()` (or when the sink
/// is dropped): it never outlives its owner.
///
/// Errors of the inner sink are reported by a later `write` or by `finish`.
/// `inner` is used only by the worker until `finish` returns.
///
/// A producer that makes its bytes itself (a decoder) can fill the slots in
/// place instead of writing (`BufferLendingSink`): no copy between the
/// producer's output and the worker.
package final class AsyncSink: ByteSink, BufferLendingSink, @unchecked Sendable {
    private var inner: ByteSink { shared.inner }
    private let slotSize: Int
    private let pool: WorkerPool
    /// What the jobs share with the writer. Jobs hold this, never the sink:
    /// the sink's last release (and its deinit, which joins the pool) must not
    /// happen on the pool's own worker, or the worker would wait for itself.
    private let shared: Shared
    private var lock: NSLock { shared.lock }
    private var all: [UnsafeMutableRawPointer] = []
    private let maxBuffers: Int
    private var finished = false

    /// - Parameter name: names the worker thread (`ocitool-NAME`).
    package init(inner: ByteSink, slots: Int = 4, slotSize: Int = 256 << 10, name: String = "hash") {
        shared = Shared(inner: inner)
        self.slotSize = slotSize
        maxBuffers = max(1, slots) + 1
        pool = WorkerPool(threads: 1, maxQueued: max(1, slots), name: name)
    }

    deinit {
        pool.close(cancelQueued: true)
        all.forEach { $0.deallocate() }
    }

    /// A buffer: a free one, or a new one while fewer than `maxBuffers` exist
    /// (the pool's bounded queue keeps the count there).
    private func buffer() -> UnsafeMutableRawPointer {
        lock.withLock {
            if let b = shared.free.popLast() { return b }
            let b = UnsafeMutableRawPointer.allocate(byteCount: slotSize, alignment: 64)
            all.append(b)
            return b
        }
    }

    package func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        if let e = lock.withLock({ shared.failure }) { throw e }
        var off = 0
        while off < bytes.count {
            let n = min(slotSize, bytes.count - off)
            let buf = buffer()
            buf.copyMemory(from: base + off, byteCount: n)
            hand(buf, count: n)
            off += n
        }
    }

    /// Queues `count` bytes of the slot `pointer` for the worker, which
    /// returns the slot to the free list when it is done with it.
    private func hand(_ pointer: UnsafeMutableRawPointer, count n: Int) {
        let buf = Slot(pointer: pointer)
        pool.submit { [shared] in
            let failed = shared.lock.withLock { shared.failure != nil }
            if !failed {
                do { try shared.inner.write(UnsafeRawBufferPointer(start: buf.pointer, count: n)) } catch {
                    shared.lock.withLock { if shared.failure == nil { shared.failure = error } }
                }
            }
            shared.lock.withLock { shared.free.append(buf.pointer) }
        }
    }

    package var lentBufferSize: Int { slotSize }

    package func borrowBuffer() throws -> UnsafeMutableRawPointer {
        if let e = lock.withLock({ shared.failure }) { throw e }
        return buffer()
    }

    package func submitBorrowed(_ buffer: UnsafeMutableRawPointer, count: Int) throws {
        guard count > 0 else {
            returnBorrowed(buffer)
            return
        }
        if let e = lock.withLock({ shared.failure }) {
            returnBorrowed(buffer)
            throw e
        }
        hand(buffer, count: min(count, slotSize))
    }

    package func returnBorrowed(_ buffer: UnsafeMutableRawPointer) {
        lock.withLock { shared.free.append(buffer) }
    }

    /// Waits for the worker to drain and stops it, then finishes `inner` on this thread.
    package func finish() throws {
        guard !finished else { return }
        finished = true
        pool.close()
        if let e = lock.withLock({ shared.failure }) { throw e }
        try inner.finish()
    }

    /// Drops the writes not started yet and waits for the running one: after
    /// it, `inner` is no longer used (call it before discarding what `inner`
    /// writes to). Idempotent; a no-op after `finish`.
    package func abandon() {
        finished = true
        pool.close(cancelQueued: true)
    }

    /// The buffers allocated (bounded by `slots` + 1; for tests).
    package var buffersAllocated: Int { lock.withLock { all.count } }
}

/// A sink that lends its own buffers to a producer, which fills one in
/// place and hands it back with `submitBorrowed` (instead of `write`, which
/// would copy). A buffer is `lentBufferSize` bytes; the producer owns it
/// from `borrowBuffer` until it submits or returns it, and submits every
/// filled buffer, in order, before `finish`.
package protocol BufferLendingSink: ByteSink {
    var lentBufferSize: Int { get }
    /// A buffer of `lentBufferSize` bytes to fill. Throws the inner sink's error.
    func borrowBuffer() throws -> UnsafeMutableRawPointer
    /// Passes the first `count` bytes of a borrowed buffer on.
    func submitBorrowed(_ buffer: UnsafeMutableRawPointer, count: Int) throws
    /// Gives back a borrowed buffer unused.
    func returnBorrowed(_ buffer: UnsafeMutableRawPointer)
}

/// The free buffers and the first error, shared by the writer and the worker.
private final class Shared: @unchecked Sendable {
    /// Used only by the worker until `finish` returns.
    let inner: ByteSink
    let lock = NSLock()
    var free: [UnsafeMutableRawPointer] = []
    var failure: Error?
    init(inner: ByteSink) { self.inner = inner }
}

/// A buffer handed to the worker (used by one thread at a time: the writer
/// fills it, then only the worker reads it until it is returned).
private struct Slot: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
}
