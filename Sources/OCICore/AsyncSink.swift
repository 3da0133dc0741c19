import Foundation

/// Forwards bytes to `inner` on a worker thread, so that CPU-heavy sinks
/// (SHA-256, inflate + SHA-256) run on another core while the caller keeps
/// reading and writing. Memory is bounded: `slots` buffers of `slotSize`
/// bytes; a writer waits when all are in flight.
///
/// Errors of the inner sink are reported by a later `write` or by `finish`.
/// `inner` is used only by the worker until `finish` returns.
public final class AsyncSink: ByteSink, @unchecked Sendable {
    private let inner: ByteSink
    private let slotSize: Int
    private let free: DispatchSemaphore
    private let filled = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var queue: [(UnsafeMutableRawPointer, Int)] = []
    private var pool: [UnsafeMutableRawPointer] = []
    private var allBuffers: [UnsafeMutableRawPointer] = []
    private var failure: Error?
    private var finished = false
    private var started = false

    public init(inner: ByteSink, slots: Int = 4, slotSize: Int = 256 << 10) {
        self.inner = inner
        self.slotSize = slotSize
        free = DispatchSemaphore(value: slots)
        for _ in 0..<slots {
            let b = UnsafeMutableRawPointer.allocate(byteCount: slotSize, alignment: 64)
            pool.append(b)
            allBuffers.append(b)
        }
    }

    deinit {
        if started && !finished {
            enqueue((UnsafeMutableRawPointer(bitPattern: 1)!, -1))
            done.wait()
        }
        allBuffers.forEach { $0.deallocate() }
    }

    private func start() {
        started = true
        let t = Thread { [self] in self.run() }
        t.stackSize = 1 << 20
        t.name = "ocitool-worker"
        t.start()
    }

    private func enqueue(_ item: (UnsafeMutableRawPointer, Int)) {
        lock.withLock { queue.append(item) }
        filled.signal()
    }

    private func run() {
        while true {
            filled.wait()
            let (buf, n) = lock.withLock { queue.removeFirst() }
            if n < 0 { break }
            let failed = lock.withLock { failure != nil }
            if !failed {
                do { try inner.write(UnsafeRawBufferPointer(start: buf, count: n)) } catch {
                    lock.withLock { if failure == nil { failure = error } }
                }
            }
            lock.withLock { pool.append(buf) }
            free.signal()
        }
        done.signal()
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        if !started { start() }
        if let e = lock.withLock({ failure }) { throw e }
        var off = 0
        while off < bytes.count {
            free.wait()
            let buf = lock.withLock { pool.removeLast() }
            let n = min(slotSize, bytes.count - off)
            buf.copyMemory(from: base + off, byteCount: n)
            enqueue((buf, n))
            off += n
        }
    }

    /// Waits for the worker to drain, then finishes `inner` on this thread.
    public func finish() throws {
        guard !finished else { return }
        finished = true
        if started {
            enqueue((UnsafeMutableRawPointer(bitPattern: 1)!, -1))
            done.wait()
        }
        if let e = lock.withLock({ failure }) { throw e }
        try inner.finish()
    }
}
