/// Collects small writes into `capacity`-byte chunks before passing them on
/// (libarchive hands its writer 10 KiB blocks: one system call each without
/// this). Writes at least as large as the buffer go straight through once
/// the buffer is empty. In front of a `BufferLendingSink` (an `AsyncSink`
/// writing on another thread), the chunks are the sink's own buffers,
/// filled in place: no second copy.
package final class BufferedSink: ByteSink {
    private let next: ByteSink
    private let lender: BufferLendingSink?
    /// The chunk being filled: owned, or borrowed from `lender` (nil until
    /// the first byte after a hand-over).
    private var buffer: UnsafeMutableRawPointer?
    private let capacity: Int
    private var fill = 0

    package init(_ next: ByteSink, capacity: Int = 1 << 20) {
        self.next = next
        if let lender = next as? BufferLendingSink {
            self.lender = lender
            self.capacity = lender.lentBufferSize
        } else {
            lender = nil
            self.capacity = max(capacity, 4096)
            buffer = .allocate(byteCount: self.capacity, alignment: 64)
        }
    }

    deinit {
        guard let buffer else { return }
        if let lender { lender.returnBorrowed(buffer) } else { buffer.deallocate() }
    }

    package func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        var offset = 0
        while offset < bytes.count {
            if fill == 0 && lender == nil && bytes.count - offset >= capacity {
                try next.write(UnsafeRawBufferPointer(start: base + offset, count: bytes.count - offset))
                return
            }
            let chunk: UnsafeMutableRawPointer
            if let buffer { chunk = buffer } else {
                chunk = try lender?.borrowBuffer() ?? .allocate(byteCount: capacity, alignment: 64)
                buffer = chunk
            }
            let n = min(capacity - fill, bytes.count - offset)
            (chunk + fill).copyMemory(from: base + offset, byteCount: n)
            fill += n
            offset += n
            if fill == capacity { try flush() }
        }
    }

    private func flush() throws {
        guard fill > 0, let chunk = buffer else { return }
        let n = fill
        fill = 0
        if let lender {
            buffer = nil
            try lender.submitBorrowed(chunk, count: n)
        } else {
            try next.write(UnsafeRawBufferPointer(start: chunk, count: n))
        }
    }

    /// Writes what is buffered, then finishes `next`.
    package func finish() throws {
        try flush()
        try next.finish()
    }
}
