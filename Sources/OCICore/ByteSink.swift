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
public final class DigestingSink: ByteSink {
    private let hasher = SHA256Hasher()
    private let next: ByteSink?
    private var result: Digest?

    public init(forwardingTo next: ByteSink? = nil) { self.next = next }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        hasher.update(bytes)
        if hasher.failed { _ = try hasher.finalize() }  // throws the recorded libcrypto failure
        try next?.write(bytes)
    }

    public func finish() throws {
        if result == nil { result = try hasher.finalize() }
        try next?.finish()
    }

    /// Bytes seen so far.
    public var count: Int64 { hasher.count }

    /// The digest; finishes the sink if it was not finished yet.
    public func digest() throws -> Digest {
        try finish()
        guard let result else { throw CoreError.library(context: "SHA-256", message: "no digest") }
        return result
    }
}

/// Counts bytes and reports them to a progress callback, forwarding to `next`.
public final class CountingSink: ByteSink {
    public private(set) var count: Int64 = 0
    private let next: ByteSink?
    private let progress: ByteProgress?

    public init(forwardingTo next: ByteSink? = nil, progress: ByteProgress? = nil) {
        self.next = next
        self.progress = progress
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        count += Int64(bytes.count)
        progress?.advance(by: Int64(bytes.count))
        try next?.write(bytes)
    }

    public func finish() throws { try next?.finish() }
}

/// Discards everything.
public final class NullSink: ByteSink {
    public init() {}
    public func write(_ bytes: UnsafeRawBufferPointer) throws {}
    public func finish() throws {}
}

/// Collects bytes in memory, up to `limit` (for small JSON documents only).
public final class MemorySink: ByteSink {
    public private(set) var bytes: [UInt8] = []
    private let limit: Int
    private let context: String

    public init(limit: Int, context: String) {
        self.limit = limit
        self.context = context
    }

    public func write(_ chunk: UnsafeRawBufferPointer) throws {
        guard bytes.count + chunk.count <= limit else {
            throw CoreError.malformed(context: context, message: "larger than the \(limit)-byte limit for metadata")
        }
        bytes.append(contentsOf: chunk)
    }

    public func finish() throws {}
}

/// Writes every byte to two sinks. `finish()` finishes both when
/// `finishing` is true; otherwise their owners finish them.
public final class TeeSink: ByteSink {
    private let a: ByteSink
    private let b: ByteSink
    private let finishing: Bool

    public init(_ a: ByteSink, _ b: ByteSink, finishing: Bool = false) {
        self.a = a
        self.b = b
        self.finishing = finishing
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try a.write(bytes)
        try b.write(bytes)
    }

    public func finish() throws {
        guard finishing else { return }
        try a.finish()
        try b.finish()
    }
}
