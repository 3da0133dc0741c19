import CZlib
import Foundation

/// A block-parallel gzip encoder in the style of pigz: the input is cut
/// into fixed-size blocks, each block is deflated on its own (primed with
/// the previous block's last 32 KiB as a dictionary, so the ratio stays
/// close to one stream) by one of `threads` workers, and the blocks are
/// written in order as one gzip member: header, the blocks (each ending
/// byte-aligned with a sync flush, the last one final), CRC-32 and length.
///
/// The output depends only on the input bytes, the block size and the
/// level: never on the thread count or on how the input is chunked into
/// `write` calls, so the same layer gives the same digest on every machine.
/// Memory is bounded: at most `2 × threads` blocks (input + output) are in
/// flight. `next` is written only from the caller's thread.
///
/// Dropped without `finish()` (an abandoned output), the encoder writes
/// nothing more: no final block, no trailer, so the stream reads as truncated.
///
/// Levels: 1 (default) is ISA-L's igzip (its level 2: as fast as its level 1
/// here, about 20× zlib -6 per core, and ~1.5% smaller); 2–9 are zlib's
/// levels, also block-parallel.
package final class ParallelGzipEncoder: ByteSink {
    /// The default block size (512 KiB: a block and its output are held per
    /// job in flight, so this bounds memory; output is no larger than with
    /// 1 MiB, the previous default, because each block starts with the last
    /// 32 KiB of the one before as its dictionary).
    package static let defaultBlockSize = 512 << 10
    static let window = 32 << 10

    private let next: ByteSink
    private let context: String
    private let blockSize: Int
    private let threads: Int
    private let pool: GzipWorkerPool

    private var current: UnsafeMutableRawPointer
    private var fill = 0
    private var previousTail: [UInt8] = []
    private var nextToWrite = 0
    private var sequence = 0
    private var crc: UInt32 = 0
    private var length: UInt64 = 0
    private var headerWritten = false
    private var finished = false
    private var inline: BlockDeflating?
    private var inlineOut: UnsafeMutablePointer<UInt8>?

    /// - Parameters:
    ///   - next: receives the gzip stream; finished by `finish()`.
    ///   - level: 1 (or nil) for ISA-L's fast deflate, 2-9 for zlib's levels.
    ///   - threads: workers (0: one per core; 1 compresses on the caller's thread; at most 256).
    ///   - blockSize: bytes of input per block (64 KiB to 64 MiB).
    ///   - context: names the stream in errors.
    /// - Throws: `CoreError.compression` for a level outside 1-9.
    package init(into next: ByteSink, level: Int? = nil, threads: Int = 0, blockSize: Int = ParallelGzipEncoder.defaultBlockSize,
                context: String) throws {
        let lvl = level ?? 1
        guard (1...9).contains(lvl) else {
            throw CoreError.compression(context: context, message: "gzip level \(lvl) is out of range (1-9)")
        }
        self.next = next
        self.context = context
        // Blocks of 64 KiB to 64 MiB (32-bit deflate counts), at most 256 workers.
        self.blockSize = min(max(blockSize, 64 << 10), 64 << 20)
        self.threads = min(threads > 0 ? threads : WorkerPool.cores, 256)
        // Worst case of deflate: stored blocks, 5 bytes per 64 KiB, plus the sync marker.
        pool = GzipWorkerPool(level: lvl, context: context, blockSize: self.blockSize,
                              outCapacity: self.blockSize + self.blockSize / 8 + (64 << 10), threads: self.threads)
        current = pool.takeInput()
    }

    deinit {
        pool.stop()
        inlineOut?.deallocate()
    }

    package func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        guard !finished else { throw CoreError.compression(context: context, message: "write after finish") }
        var offset = 0
        while offset < bytes.count {
            let n = min(blockSize - fill, bytes.count - offset)
            (current + fill).copyMemory(from: base + offset, byteCount: n)
            fill += n
            offset += n
            if fill == blockSize { try dispatch(last: false) }
        }
    }

    package func finish() throws {
        guard !finished else { return }
        finished = true
        try dispatch(last: true)
        try drain(all: true)
        pool.stop()
        var trailer = [UInt8](repeating: 0, count: 8)
        for i in 0..<4 {
            trailer[i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i)))
            trailer[4 + i] = UInt8(truncatingIfNeeded: length >> (8 * UInt64(i)))
        }
        try next.write(contentsOf: trailer)
        try next.finish()
    }

    /// Hands the current block to a worker (or compresses it here with one thread).
    private func dispatch(last: Bool) throws {
        if !headerWritten {
            headerWritten = true
            // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=255 (unknown): the same on every machine.
            try next.write(contentsOf: [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff] as [UInt8])
        }
        let dictionary = previousTail
        if fill >= Self.window {
            previousTail = Array(UnsafeRawBufferPointer(start: current + fill - Self.window, count: Self.window))
        }
        if threads == 1 {
            try compressInline(count: fill, dictionary: dictionary, last: last)
            fill = 0
            return
        }
        pool.submit(GzipWorkerPool.Job(sequence: sequence, input: current, count: fill, dictionary: dictionary, last: last))
        sequence += 1
        fill = 0
        // Writes finished blocks; waits while too many are in flight.
        try drain(all: false)
        if !last { current = pool.takeInput() }
    }

    private func compressInline(count: Int, dictionary: [UInt8], last: Bool) throws {
        let deflater = try inline ?? makeBlockDeflater(level: pool.level, context: context)
        inline = deflater
        let out = inlineOut ?? .allocate(capacity: pool.outCapacity)
        inlineOut = out
        let input = UnsafeRawBufferPointer(start: current, count: count)
        let produced = try deflater.deflate(input, dictionary: dictionary, last: last, into: out, capacity: pool.outCapacity)
        account(count: count, crc: gzipCRC32(input))
        try next.write(UnsafeRawBufferPointer(start: out, count: produced))
    }

    private func account(count: Int, crc blockCRC: UInt32) {
        if count > 0 { crc = UInt32(truncatingIfNeeded: crc32_combine(UInt(crc), UInt(blockCRC), off_t(count))) }
        length &+= UInt64(count)
    }

    /// Writes finished blocks in order. With `all`, waits for every block;
    /// otherwise waits only while `2 × threads` blocks are in flight.
    private func drain(all: Bool) throws {
        while let done = try pool.nextResult(sequence: nextToWrite, waitAll: all) {
            nextToWrite += 1
            account(count: done.count, crc: done.crc)
            defer { pool.recycle(done) }
            try next.write(UnsafeRawBufferPointer(start: done.output, count: done.produced))
        }
    }
}

/// The blocks of one `ParallelGzipEncoder` in flight on a `WorkerPool`,
/// and the buffers and deflaters they share. Results are taken in order by
/// the encoder's thread; buffers are reused; `stop()` drops what is queued
/// and joins the workers (from the encoder's deinit too, so an abandoned
/// encoder leaves no thread behind).
private final class GzipWorkerPool: @unchecked Sendable {
    struct Job: @unchecked Sendable {
        let sequence: Int
        let input: UnsafeMutableRawPointer
        let count: Int
        let dictionary: [UInt8]
        let last: Bool
    }

    struct Done: @unchecked Sendable {
        let input: UnsafeMutableRawPointer
        let count: Int
        let output: UnsafeMutablePointer<UInt8>
        let produced: Int
        let crc: UInt32
    }

    let level: Int
    let context: String
    let blockSize: Int
    let outCapacity: Int
    let threads: Int
    private let workers: WorkerPool
    private let lock = NSLock()
    private var freeInputs: [UnsafeMutableRawPointer] = []
    private var freeOutputs: [UnsafeMutablePointer<UInt8>] = []
    private var allInputs: [UnsafeMutableRawPointer] = []
    private var allOutputs: [UnsafeMutablePointer<UInt8>] = []
    private var deflaters: [BlockDeflating] = []
    /// Blocks submitted and not yet taken, by sequence (the encoder's thread only).
    private var pending: [Int: Pending<Done>] = [:]

    init(level: Int, context: String, blockSize: Int, outCapacity: Int, threads: Int) {
        self.level = level
        self.context = context
        self.blockSize = blockSize
        self.outCapacity = outCapacity
        self.threads = threads
        workers = WorkerPool(threads: threads, name: "gzip")
    }

    deinit {
        workers.close(cancelQueued: true)
        allInputs.forEach { $0.deallocate() }
        allOutputs.forEach { $0.deallocate() }
    }

    func takeInput() -> UnsafeMutableRawPointer {
        lock.withLock {
            if let b = freeInputs.popLast() { return b }
            let b = UnsafeMutableRawPointer.allocate(byteCount: blockSize, alignment: 64)
            allInputs.append(b)
            return b
        }
    }

    func submit(_ job: Job) {
        pending[job.sequence] = workers.submit { [self] in try compress(job) }
    }

    /// The finished block `sequence`, waiting for it when `waitAll` or
    /// while `2 × threads` blocks are in flight; nil when there is no need to wait.
    /// - Throws: the first error of a worker.
    func nextResult(sequence: Int, waitAll: Bool) throws -> Done? {
        guard let p = pending[sequence] else { return nil }
        guard waitAll || p.isDone || pending.count >= 2 * threads else { return nil }
        let done = try p.wait()
        pending[sequence] = nil
        return done
    }

    func recycle(_ done: Done) {
        lock.withLock {
            freeInputs.append(done.input)
            freeOutputs.append(done.output)
        }
    }

    func stop() { workers.close(cancelQueued: true) }

    private func compress(_ job: Job) throws -> Done {
        let (output, reused) = lock.withLock { () -> (UnsafeMutablePointer<UInt8>, BlockDeflating?) in
            let o: UnsafeMutablePointer<UInt8>
            if let f = freeOutputs.popLast() { o = f } else {
                o = .allocate(capacity: outCapacity)
                allOutputs.append(o)
            }
            return (o, deflaters.popLast())
        }
        do {
            let deflater = try reused ?? makeBlockDeflater(level: level, context: context)
            defer { lock.withLock { deflaters.append(deflater) } }
            let input = UnsafeRawBufferPointer(start: job.input, count: job.count)
            let produced = try deflater.deflate(input, dictionary: job.dictionary, last: job.last, into: output, capacity: outCapacity)
            return Done(input: job.input, count: job.count, output: output, produced: produced, crc: gzipCRC32(input))
        } catch {
            lock.withLock { freeOutputs.append(output) }
            throw error
        }
    }
}
