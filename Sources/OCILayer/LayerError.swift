#if canImport(Glibc)
import Glibc
#endif

/// Errors of the union view (unpack, export, squash, diff). Every case names
/// the layer and the member it is about, so one line tells the user what to
/// look at.
public enum LayerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The entry would write outside the target directory, replace the
    /// directory itself, or is a malformed whiteout. `--skip-unsafe` turns
    /// these into warnings.
    case unsafeEntry(layer: String, entry: String, reason: String)
    /// A limit of `UnionLimits` was reached; `flag` is the option that
    /// raises it (`--max-bytes`, `--max-entries`), empty for the limits
    /// only the library sets.
    case limitExceeded(layer: String, entry: String, what: String, limit: Int64, flag: String)
    /// A system call failed while applying `entry`.
    case io(layer: String, entry: String, operation: String, errno: Int32)
    /// The entry cannot be applied (hard-link target missing, a parent is a
    /// file, too many symlinks…).
    case invalidEntry(layer: String, entry: String, reason: String)
    /// The destination cannot be used.
    case destination(path: String, reason: String)
    /// A layer is not a tar (an artifact, a squashfs blob…).
    case unsupportedLayer(layer: String, mediaType: String)
    /// The image named on the command line cannot be chosen.
    case imageSelection(ref: String, reason: String)

    public var description: String {
        switch self {
        case let .unsafeEntry(layer, entry, reason):
            return "\(layer): entry \(Self.shorten(Self.quote(entry))): unsafe entry rejected: \(Self.shorten(reason))"
        case let .limitExceeded(layer, entry, what, limit, flag):
            let raise = flag.isEmpty ? "" : " (raise it with \(flag))"
            return "\(layer): entry \(Self.shorten(Self.quote(entry))): \(what) exceeds the limit of \(limit)\(raise)"
        case let .io(layer, entry, operation, code):
            return "\(layer): entry \(Self.shorten(Self.quote(entry))): \(Self.shorten(operation)): \(String(cString: strerror(code)))"
        case let .invalidEntry(layer, entry, reason):
            return "\(layer): entry \(Self.shorten(Self.quote(entry))): \(Self.shorten(reason))"
        case let .destination(path, reason):
            return "\(path): \(reason)"
        case let .unsupportedLayer(layer, mediaType):
            return "\(layer): media type \(mediaType) is not a tar layer; only images with tar layers can be unpacked"
        case let .imageSelection(ref, reason):
            return "\(ref): \(reason)"
        }
    }

    /// True for the errors `--skip-unsafe` may skip.
    public var isUnsafeEntry: Bool {
        if case .unsafeEntry = self { return true }
        return false
    }

    /// Entry names in messages: a path of 40 KB stays one readable line
    /// (its start and end, with the byte count).
    /// Control characters are escaped, so the message stays on one line.
    static func shorten(_ s: String) -> String {
        let n = s.utf8.count
        let short = n > 300 ? "\(s.prefix(100))…[\(n) bytes]…\(s.suffix(60))" : s
        guard short.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else { return short }
        var out = ""
        for u in short.unicodeScalars {
            if u.value < 0x20 || u.value == 0x7f { out += u.escaped(asASCII: true) } else { out.unicodeScalars.append(u) }
        }
        return out
    }

    static func quote(_ s: String) -> String {
        let printable = s.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7f }
        return printable ? s : s.debugDescription
    }
}

/// Names a layer and an entry in errors raised deep inside file-system code.
struct EntryContext {
    var layer: String
    var entry: String

    func io(_ operation: String, _ code: Int32 = errno) -> LayerError {
        .io(layer: layer, entry: entry, operation: operation, errno: code)
    }

    func unsafe(_ reason: String) -> LayerError {
        .unsafeEntry(layer: layer, entry: entry, reason: reason)
    }

    func invalid(_ reason: String) -> LayerError {
        .invalidEntry(layer: layer, entry: entry, reason: reason)
    }
}
