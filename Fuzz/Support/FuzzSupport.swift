@testable import OCICore
#if canImport(Glibc)
import Glibc
#endif

/// What the harnesses share: a scratch directory per process, bounded
/// sinks, and the one way to report a broken property (a crash libFuzzer
/// records with its input).
public enum Fuzz {
    /// A private directory for this fuzzing process (removed at exit by the runner's cleanup).
    public static let scratch: String = {
        let base = (getenv("TMPDIR").map { String(cString: $0) }).flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        let dir = base + "/ocitool-fuzz-\(getpid())"
        FS.removeTree(dir)
        _ = mkdir(dir, 0o700)
        return dir
    }()

    /// Writes `bytes` to `scratch/name` (replacing it) and returns the path.
    public static func write(_ bytes: UnsafeRawBufferPointer, to name: String) -> String {
        let path = scratch + "/" + name
        FS.removeFile(path)
        do {
            let sink = try FileSink(creating: path, mode: 0o600)
            try sink.write(bytes)
            try sink.finish()
        } catch {
            fail("cannot write the fuzz input to \(path): \(error)")
        }
        return path
    }

    /// A property the code under test must keep was broken: report and abort
    /// (libFuzzer saves the input as a crash artifact).
    public static func fail(_ message: String) -> Never {
        let text = Array("ocitool fuzz property violated: \(message)\n".utf8)
        _ = text.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
        abort()
    }

    /// `condition` must hold.
    public static func check(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { fail(message()) }
    }
}

/// Hashes and counts what it is given, and refuses more than `limit` bytes
/// (so a decompression bomb ends the run for this input, as a limit would).
public final class BoundedDigestSink: ByteSink {
    public struct Full: Error {}
    public let limit: Int64
    public private(set) var count: Int64 = 0
    private let hasher = SHA256Hasher()
    public private(set) var finished = false

    public init(limit: Int64) { self.limit = limit }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        count += Int64(bytes.count)
        if count > limit { throw Full() }
        hasher.update(bytes)
    }

    public func finish() throws { finished = true }

    public func digest() throws -> Digest { try hasher.finalize() }
}

/// Collects up to `limit` bytes in memory.
public final class BoundedMemorySink: ByteSink {
    public let limit: Int
    public private(set) var bytes: [UInt8] = []
    public init(limit: Int) { self.limit = limit }
    public func write(_ chunk: UnsafeRawBufferPointer) throws {
        if bytes.count + chunk.count > limit { throw BoundedDigestSink.Full() }
        bytes.append(contentsOf: chunk)
    }
    public func finish() throws {}
}

/// libFuzzer's entry point for a callback (compiler-rt's `LLVMFuzzerRunDriver`).
public typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

@_silgen_name("LLVMFuzzerRunDriver")
private func llvmFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                                 _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                                 _ callback: FuzzCallback) -> CInt

extension Fuzz {
    /// Runs libFuzzer on `callback`. SwiftPM links every executable with
    /// `main` aliased to `<module>_main`, so each harness defines that symbol
    /// (`@_cdecl("fuzz_tar_main")`…) and calls this instead of relying on
    /// libFuzzer's own `main`.
    public static func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                            _ callback: FuzzCallback) -> CInt {
        var count = argc
        var vector = argv
        return llvmFuzzerRunDriver(&count, &vector, callback)
    }
}
