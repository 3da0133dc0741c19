import Foundation

/// A thread-safe byte counter with an optional total, observed by progress
/// displays. Every stream can advance one.
public final class ByteProgress: @unchecked Sendable {
    private let lock = NSLock()
    private var _done: Int64 = 0
    /// What is being counted (a layer digest, a file name).
    public let label: String
    /// The expected total, when known.
    public let total: Int64?
    private let onAdvance: (@Sendable (Int64, Int64?) -> Void)?

    public init(label: String, total: Int64?, onAdvance: (@Sendable (Int64, Int64?) -> Void)? = nil) {
        self.label = label
        self.total = total
        self.onAdvance = onAdvance
    }

    public var done: Int64 { lock.withLock { _done } }

    public func advance(by n: Int64) {
        let now = lock.withLock { () -> Int64 in
            _done += n
            return _done
        }
        onAdvance?(now, total)
    }
}
