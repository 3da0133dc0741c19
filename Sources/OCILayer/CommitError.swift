#if canImport(Glibc)
import Glibc
#endif

/// Errors of `commit`: reading the changes (a root file system, an overlay
/// upper directory or a layer tarball) and turning them into a layer. Each
/// names the source and the path inside it, so one line says what to fix.
public enum CommitError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The changes directory or file cannot be used at all.
    case source(path: String, reason: String)
    /// A system call failed on `entry` (relative to the source).
    case io(source: String, entry: String, operation: String, errno: Int32)
    /// An entry cannot be stored in a layer (a socket, a name that would
    /// read as a whiteout, a non-UTF-8 name…).
    case unrepresentable(source: String, entry: String, reason: String)
    /// An overlay upper directory uses a feature a layer cannot express.
    case overlayFeature(source: String, entry: String, reason: String)
    /// A file changed while it was being written into the layer.
    case changedWhileReading(source: String, entry: String, reason: String)
    /// The options do not fit together or with the base image.
    case invalid(String)

    public var description: String {
        switch self {
        case let .source(path, reason):
            return "\(path): \(reason)"
        case let .io(source, entry, operation, code):
            return "\(source): \(Self.quote(entry)): \(operation): \(String(cString: strerror(code)))"
        case let .unrepresentable(source, entry, reason):
            return "\(source): \(Self.quote(entry)): cannot be stored in a layer: \(reason)"
        case let .overlayFeature(source, entry, reason):
            return "\(source): \(Self.quote(entry)): \(reason)"
        case let .changedWhileReading(source, entry, reason):
            return "\(source): \(Self.quote(entry)): changed while the layer was written (\(reason)); commit a quiescent file system"
        case let .invalid(message):
            return message
        }
    }

    static func quote(_ s: String) -> String {
        let printable = s.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7f }
        return printable ? s : s.debugDescription
    }
}
