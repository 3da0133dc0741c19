import Foundation

/// Runs a pull inflater (`IsalGzipInflater`) on a one-thread `WorkerPool`
/// ahead of its reader: the worker fills up to `buffers` chunks while the
/// reader (libarchive parsing the tar, the caller writing files) works on
/// the one it holds. A reader that does more than inflate then uses two
/// cores instead of one. Memory is bounded by `buffers` × `size`.
///
/// The chunk returned by `next()` stays valid until the next call to
/// `next()` (libarchive's read-callback contract); it is recycled then.
/// The first error of the inflater is returned by `next()` once the chunks
/// inflated before it are used up. `stop()` (or dropping the object) ends
/// the worker; the inflater and its source are not touched afterwards.
package final class InflateAhead {
    private let pool: WorkerPool
    private let state: State
    private var held: UnsafeMutableRawPointer?

    package init(_ inflater: IsalGzipInflater, buffers: Int = 4, size: Int = 256 << 10) {
        state = State(inflater: inflater, buffers: max(2, buffers), size: size)
        pool = WorkerPool(threads: 1, name: "inflate")
        pool.submit { [state] in state.run() }
    }

    deinit {
        stop()
        state.deallocate()
    }

    /// The next chunk of inflated bytes; a count of 0 at the end.
    package func next() throws -> (UnsafeRawPointer?, Int) {
        let (chunk, n) = try state.take(returning: held)
        held = chunk
        return (chunk.map { UnsafeRawPointer($0) }, n)
    }

    /// Stops the worker and waits for it.
    package func stop() {
        state.stop()
        pool.close(cancelQueued: true)
    }
}

/// The chunks and the inflater, shared by the reader and the worker.
private final class State: @unchecked Sendable {
    private let cond = NSCondition()
    private let inflater: IsalGzipInflater
    private let size: Int
    private var all: [UnsafeMutableRawPointer] = []
    private var free: [UnsafeMutableRawPointer] = []
    /// Inflated chunks in order (at most `buffers`).
    private var filled: [(UnsafeMutableRawPointer, Int)] = []
    private var ended = false
    private var failure: Error?
    private var stopping = false

    init(inflater: IsalGzipInflater, buffers: Int, size: Int) {
        self.inflater = inflater
        self.size = size
        all = (0..<buffers).map { _ in .allocate(byteCount: size, alignment: 64) }
        free = all
    }

    func deallocate() { all.forEach { $0.deallocate() } }

    /// The worker: inflates into free chunks until the end, an error or `stop`.
    func run() {
        while true {
            let chunk: UnsafeMutableRawPointer? = cond.withLock {
                while free.isEmpty && !stopping { cond.wait() }
                return stopping ? nil : free.removeLast()
            }
            guard let chunk else { return }
            do {
                let n = try inflater.read(into: chunk, capacity: size)
                cond.withLock {
                    if n == 0 { ended = true; free.append(chunk) } else { filled.append((chunk, n)) }
                    cond.broadcast()
                }
                if n == 0 { return }
            } catch {
                cond.withLock {
                    failure = error
                    free.append(chunk)
                    cond.broadcast()
                }
                return
            }
        }
    }

    /// Gives back the chunk the reader held and waits for the next one.
    func take(returning held: UnsafeMutableRawPointer?) throws -> (UnsafeMutableRawPointer?, Int) {
        cond.lock()
        defer { cond.unlock() }
        if let held {
            free.append(held)
            cond.broadcast()
        }
        while filled.isEmpty && !ended && failure == nil { cond.wait() }
        if !filled.isEmpty {
            let next = filled.removeFirst()
            return (next.0, next.1)
        }
        if let failure { throw failure }
        return (nil, 0)
    }

    func stop() {
        cond.withLock {
            stopping = true
            cond.broadcast()
        }
    }
}
