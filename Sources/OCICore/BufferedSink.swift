/// Collects small writes into `capacity`-byte chunks before passing them on
/// (libarchive hands its writer 10 KiB blocks: one system call each without
/// this). Writes at least as large as the buffer go straight through once
/// the buffer is empty.
package final class BufferedSink: ByteSink {
    private let next: ByteSink
    private let buffer: UnsafeMutableRawPointer
    private let capacity: Int
    private var fill = 0

    package init(_ next: ByteSink, capacity: Int = 1 << 20) {
        self.next = next
        self.capacity = max(capacity, 4096)
        buffer = .allocate(byteCount: self.capacity, alignment: 64)
    }

    deinit { buffer.deallocate() }

    package func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        var offset = 0
        while offset < bytes.count {
            if fill == 0 && bytes.count - offset >= capacity {
                try next.write(UnsafeRawBufferPointer(start: base + offset, count: bytes.count - offset))
                return
            }
            let n = min(capacity - fill, bytes.count - offset)
            (buffer + fill).copyMemory(from: base + offset, byteCount: n)
            fill += n
            offset += n
            if fill == capacity { try flush() }
        }
    }

    private func flush() throws {
        guard fill > 0 else { return }
        let n = fill
        fill = 0
        try next.write(UnsafeRawBufferPointer(start: buffer, count: n))
    }

    /// Writes what is buffered, then finishes `next`.
    package func finish() throws {
        try flush()
        try next.finish()
    }
}
