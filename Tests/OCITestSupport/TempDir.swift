import Foundation
import OCICore

/// A uniquely named scratch directory under `$TMPDIR` (or `/tmp`), removed
/// with everything in it by `cleanup()` or, at the latest, when released.
///
/// ```swift
/// let tmp = try TempDir()
/// let path = tmp.file("layer.tar")
/// ```
public final class TempDir: Sendable {
    /// Absolute path of the directory.
    public let path: String

    /// Creates the directory (`mkdtemp`, mode 0700).
    /// - Parameter prefix: the start of the directory name, to tell tests apart.
    /// - Throws: `CoreError.io` if the directory cannot be created.
    public init(prefix: String = "ocitool-test") throws {
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((base + "/" + prefix + "-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else { throw CoreError.io(context: "mkdtemp in \(base)", errno: errno) }
        path = String(cString: template)
    }

    deinit { FS.removeTree(path) }

    /// `path/name` (nothing is created).
    public func file(_ name: String) -> String { path + "/" + name }

    /// Removes the directory tree now. Idempotent.
    public func cleanup() { FS.removeTree(path) }
}
