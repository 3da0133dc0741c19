/// Errors raised by the streaming core. Each case carries enough context
/// (file, archive member, library message) to print one clear line.
public enum CoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A digest string does not follow the OCI grammar or its algorithm's encoding.
    case invalidDigest(String, reason: String)
    /// A system call failed; `context` names the file or operation.
    case io(context: String, errno: Int32)
    /// libarchive reported an error reading or writing a tar stream.
    case archive(context: String, message: String)
    /// A compressed stream is corrupt or truncated.
    case compression(context: String, message: String)
    /// Input ended early, or was malformed.
    case malformed(context: String, message: String)
    /// Input is well-formed but exceeds a limit the caller set (sizes,
    /// counts, sparse expansion); `message` names the limit.
    case limit(context: String, message: String)
    /// A C library could not do its part (allocation, initialisation);
    /// `context` names the library call.
    case library(context: String, message: String)

    public var description: String {
        switch self {
        case let .invalidDigest(value, reason):
            return "invalid digest \"\(value.prefix(80))\": \(reason)"
        case let .io(context, errno):
            return "\(context): \(String(cString: strerror(errno)))"
        case let .archive(context, message):
            return context.isEmpty ? message : "\(context): \(message)"
        case let .compression(context, message):
            return context.isEmpty ? message : "\(context): \(message)"
        case let .malformed(context, message):
            return context.isEmpty ? message : "\(context): \(message)"
        case let .limit(context, message):
            return context.isEmpty ? message : "\(context): \(message)"
        case let .library(context, message):
            return context.isEmpty ? message : "\(context): \(message)"
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
