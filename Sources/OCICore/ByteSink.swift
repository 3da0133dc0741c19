import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Something bytes are pushed into: a file, a hasher, an encoder, a tar entry.
public protocol ByteSink: AnyObject {
    /// Consumes all of `bytes` or throws.
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Flushes buffered output and reports the last error. Idempotent.
    func finish() throws
}

extension ByteSink {
    /// Writes the bytes of a contiguous collection.
    public func write<C: ContiguousBytes>(contentsOf data: C) throws {
        try data.withUnsafeBytes { try write($0) }
    }
}

/// Computes the SHA-256 of everything written, and forwards it to `next` if given.
package final class DigestingSink: ByteSink {
    private let hasher = SHA256Hasher()
    private let next: ByteSink?
    private var result: Digest?

    package init(forwardingTo next: ByteSink? = nil) { self.next = next }

    package func write(_ bytes: UnsafeRawBufferPointer) throws {
        hasher.update(bytes)
        if hasher.failed { _ = try hasher.finalize() }  // throws the recorded libcrypto failure
        try next?.write(bytes)
    }

    package func finish() throws {
        if result == nil { result = try hasher.finalize() }
        try next?.finish()
    }

    /// Bytes seen so far.
    package var count: Int64 { hasher.count }

    /// The digest; finishes the sink if it was not finished yet.
    package func digest() throws -> Digest {
        try finish()
        guard let result else { throw CoreError.library(context: "SHA-256", message: "no digest") }
        return result
    }
}

/// Counts bytes and reports them to a progress callback, forwarding to `next`.
package final class CountingSink: ByteSink {
    package private(set) var count: Int64 = 0
    private let next: ByteSink?
    private let progress: ByteProgress?

    package init(forwardingTo next: ByteSink? = nil, progress: ByteProgress? = nil) {
        self.next = next
        self.progress = progress
    }

    package func write(_ bytes: UnsafeRawBufferPointer) throws {
        count += Int64(bytes.count)
        progress?.advance(by: Int64(bytes.count))
        try next?.write(bytes)
    }

    package func finish() throws { try next?.finish() }
}

/// Discards everything.
package final class NullSink: ByteSink {
    package init() {}
    package func write(_ bytes: UnsafeRawBufferPointer) throws {}
    package func finish() throws {}
}

/// Collects bytes in memory, up to `limit` (for small JSON documents only).
package final class MemorySink: ByteSink {
    package private(set) var bytes: [UInt8] = []
    private let limit: Int
    private let context: String

    package init(limit: Int, context: String) {
        self.limit = limit
        self.context = context
    }

    package func write(_ chunk: UnsafeRawBufferPointer) throws {
        guard bytes.count + chunk.count <= limit else {
            throw CoreError.malformed(context: context, message: "larger than the \(limit)-byte limit for metadata")
        }
        bytes.append(contentsOf: chunk)
    }

    package func finish() throws {}
}

/// Writes every byte to two sinks. `finish()` finishes both when
/// `finishing` is true; otherwise their owners finish them.
package final class TeeSink: ByteSink {
    private let a: ByteSink
    private let b: ByteSink
    private let finishing: Bool

    package init(_ a: ByteSink, _ b: ByteSink, finishing: Bool = false) {
        self.a = a
        self.b = b
        self.finishing = finishing
    }

    package func write(_ bytes: UnsafeRawBufferPointer) throws {
        try a.write(bytes)
        try b.write(bytes)
    }

    package func finish() throws {
        guard finishing else { return }
        try a.finish()
        try b.finish()
    }
}
