import Foundation

/// The length of a file one thread is writing, for another thread that
/// reads it as it grows (`FileSource.copyFollowing`): the staging file of a
/// large layer is inflated and hashed on a worker while the archive is
/// still being read into it, from the very bytes that were written and
/// hashed (the file is private to its writer), without waiting for the end.
///
/// The writer reports each write (`grew`), then `complete()` or `abandon()`;
/// a reader waits only while the file is still growing, so an abandoned or
/// finished writer never leaves a reader blocked.
package final class GrowingFile: @unchecked Sendable {
    private let cond = NSCondition()
    private var length: Int64 = 0
    private var ended = false
    private var abandoned = false

    package init() {}

    /// The writer has written `newLength` bytes in all.
    package func grew(to newLength: Int64) {
        cond.withLock {
            length = newLength
            cond.broadcast()
        }
    }

    /// The writer is done: the file has its final length.
    package func complete() {
        cond.withLock {
            ended = true
            cond.broadcast()
        }
    }

    /// The writer gave up (the file is being removed).
    package func abandon() {
        cond.withLock {
            ended = true
            abandoned = true
            cond.broadcast()
        }
    }

    /// Waits until more than `offset` bytes are written or the writer is
    /// done; returns the length written then and whether it is final.
    /// - Throws: `CoreError.io` (ECANCELED) when the writer abandoned the file.
    package func wait(beyond offset: Int64, path: String) throws -> (length: Int64, final: Bool) {
        cond.lock()
        defer { cond.unlock() }
        while length <= offset && !ended { cond.wait() }
        if abandoned { throw CoreError.io(context: "read \(path)", errno: ECANCELED) }
        return (length, ended)
    }
}

extension FileSource {
    /// Reads the first `count` bytes of a growing file (fewer if its final
    /// length is shorter), waiting for them to be written.
    package func readGrowing(_ growth: GrowingFile, atLeast count: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        while out.count < count {
            let (length, final) = try growth.wait(beyond: Int64(out.count), path: path)
            let want = Int(min(Int64(count), length)) - out.count
            if want > 0 {
                var chunk = [UInt8](repeating: 0, count: want)
                let n = try chunk.withUnsafeMutableBytes { try read(into: $0) }
                guard n > 0 else { throw truncated(at: Int64(out.count), length) }
                out += chunk.prefix(n)
            } else if final {
                break
            }
        }
        return out
    }

    /// Pushes the file's content from `start` (the current read position)
    /// into `sink` while another thread writes it, up to the final length
    /// `growth` reports, in blocks of up to `blockSize`.
    /// - Returns: the position reached: the file's final length.
    /// - Throws: `CoreError.io` when the writer abandons the file,
    ///   `CoreError.malformed` when the file ends before the length written.
    @discardableResult
    package func copyFollowing(_ growth: GrowingFile, to sink: ByteSink, from start: Int64 = 0,
                               blockSize: Int = 1 << 20) throws -> Int64 {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: blockSize, alignment: 16)
        defer { buffer.deallocate() }
        var position = start
        while true {
            let (length, final) = try growth.wait(beyond: position, path: path)
            while position < length {
                let want = Int(min(Int64(blockSize), length - position))
                let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]))
                guard n > 0 else { throw truncated(at: position, length) }
                try sink.write(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                position += Int64(n)
            }
            if final { return position }
        }
    }

    private func truncated(at position: Int64, _ length: Int64) -> CoreError {
        .malformed(context: path, message: "the file ends at \(position) bytes; \(length) were written")
    }
}
