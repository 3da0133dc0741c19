import OCICore
import Foundation

/// Something that happened during a long operation (load, save, convert,
/// commit, unpack), for progress displays and machine-readable logs.
/// Every event names its `job`: the input being worked on, so that the
/// events of concurrent jobs (a `convert` batch) can be told apart.
public struct ProgressEvent: Sendable {
    /// The job this event belongs to (an input path, `stdin`, an image name).
    public var job: String
    public var kind: Kind

    public init(job: String, kind: Kind) {
        self.job = job
        self.kind = kind
    }

    public enum Kind: Sendable {
        /// The operation began; `totalBytes` is the input size when known.
        case start(operation: String, source: String, destination: String?, totalBytes: Int64?)
        /// A task over one blob or layer (`phase`: read, recode, write,
        /// apply…) advanced to `done` of `total` bytes; `finished` on its last event.
        case task(TaskReport)
        /// A blob was written to the output (digest and size as stored).
        case blob(digest: Digest, size: Int64, mediaType: String?)
        /// One image is complete in the output.
        case image(ImageReport)
        /// Something the user should know; the operation goes on.
        case warning(String)
        /// The job failed with this one-line message.
        case error(String)
        /// The job succeeded.
        case done(DoneReport)
    }
}

/// The state of one blob or layer task.
public struct TaskReport: Sendable {
    /// Stable within a job (a member path, a digest).
    public var id: String
    /// Short text for displays (a short digest, a member name).
    public var label: String
    /// What is done to the bytes: `read`, `recode`, `write`, `apply`…
    public var phase: String
    public var done: Int64
    public var total: Int64?
    public var finished: Bool
    /// Seconds since the task started.
    public var elapsed: Double
}

/// An image as the output holds it: the digests `ocitool inspect` reports
/// after loading it (`Id` = config digest, `Descriptor.digest` = manifest
/// digest, `RootFS.Layers` = diff_ids).
public struct ImageReport: Sendable {
    public var names: [String]
    public var manifestDigest: Digest
    public var configDigest: Digest
    public var mediaType: String
    public var platform: String?
    public var layers: [Digest]
    public var diffIDs: [Digest]

    public init(names: [String], manifestDigest: Digest, configDigest: Digest, mediaType: String,
                platform: String?, layers: [Digest], diffIDs: [Digest]) {
        self.names = names
        self.manifestDigest = manifestDigest
        self.configDigest = configDigest
        self.mediaType = mediaType
        self.platform = platform
        self.layers = layers
        self.diffIDs = diffIDs
    }
}

/// The end of a successful job.
public struct DoneReport: Sendable {
    public var images: [ImageReport]
    public var bytesIn: Int64
    public var bytesOut: Int64
    public var seconds: Double
    /// Where the result went (a file, `stdout`, a store).
    public var destination: String?

    public init(images: [ImageReport], bytesIn: Int64, bytesOut: Int64, seconds: Double, destination: String?) {
        self.images = images
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
        self.seconds = seconds
        self.destination = destination
    }
}

/// Receives progress events; implementations must be safe to call from
/// any thread (encoders and hashers report from worker threads).
public protocol ProgressReporter: AnyObject, Sendable {
    func report(_ event: ProgressEvent)
}

/// A reporter that drops everything (`-q`).
public final class SilentProgressReporter: ProgressReporter {
    public init() {}
    public func report(_ event: ProgressEvent) {}
}

/// A reporter bound to one job: what library code is handed.
///
/// ```swift
/// let task = progress.task(id: path, label: "layer", phase: "read", total: size)
/// try reader.readData(into: CountingSink(forwardingTo: sink, progress: task.bytes))
/// task.finish()
/// ```
public struct ProgressScope: Sendable {
    public let reporter: any ProgressReporter
    public let job: String

    public init(reporter: any ProgressReporter, job: String) {
        self.reporter = reporter
        self.job = job
    }

    public func emit(_ kind: ProgressEvent.Kind) {
        reporter.report(ProgressEvent(job: job, kind: kind))
    }

    public func start(operation: String, source: String, destination: String? = nil, totalBytes: Int64? = nil) {
        emit(.start(operation: operation, source: source, destination: destination, totalBytes: totalBytes))
    }

    /// Starts a byte-counting task (reported at most 10 times a second, and when it ends).
    public func task(id: String, label: String, phase: String, total: Int64?) -> ProgressTask {
        ProgressTask(scope: self, id: id, label: label, phase: phase, total: total)
    }

    public func blob(_ digest: Digest, size: Int64, mediaType: String? = nil) {
        emit(.blob(digest: digest, size: size, mediaType: mediaType))
    }

    public func image(_ report: ImageReport) { emit(.image(report)) }
    public func warning(_ message: String) { emit(.warning(message)) }
    public func error(_ message: String) { emit(.error(message)) }
    public func done(_ report: DoneReport) { emit(.done(report)) }
}

/// Counts the bytes of one task and reports them, throttled. Thread-safe.
public final class ProgressTask: @unchecked Sendable {
    private let scope: ProgressScope
    private let id: String
    private let label: String
    private var phase: String
    private let total: Int64?
    private let started = Date()
    private let lock = NSLock()
    private var lastReport = Date()
    private var ended = false
    /// The counter of this task, to hand to `CountingSink`, `TarReader` or
    /// `ArchiveWriter.Options`; every advance of it advances the task.
    public let bytes: ByteProgress

    /// Reports at most this often while running.
    static let interval: TimeInterval = 0.1

    init(scope: ProgressScope, id: String, label: String, phase: String, total: Int64?) {
        self.scope = scope
        self.id = id
        self.label = label
        self.phase = phase
        self.total = total
        let box = WeakTask()
        bytes = ByteProgress(label: label, total: total) { done, _ in box.task?.update(done: done) }
        box.task = self
        send(done: 0, finished: false)
    }

    /// Adds `n` bytes.
    public func advance(by n: Int64) { bytes.advance(by: n) }

    /// Changes what the task is doing (`read` → `recode` once a member is
    /// known to be a layer that changes compression); reported at once.
    public func setPhase(_ newPhase: String) {
        let changed: Bool = lock.withLock {
            defer { phase = newPhase }
            return phase != newPhase && !ended
        }
        if changed { send(done: bytes.done, finished: false) }
    }

    private func update(done: Int64) {
        let now = Date()
        let due: Bool = lock.withLock {
            guard !ended, now.timeIntervalSince(lastReport) >= Self.interval else { return false }
            lastReport = now
            return true
        }
        if due { send(done: done, finished: false) }
    }

    /// Ends the task (idempotent).
    public func finish() {
        let first: Bool = lock.withLock {
            defer { ended = true }
            return !ended
        }
        if first { send(done: bytes.done, finished: true) }
    }

    private func send(done: Int64, finished: Bool) {
        let phase = lock.withLock { self.phase }
        scope.emit(.task(TaskReport(id: id, label: label, phase: phase, done: done, total: total,
                                    finished: finished, elapsed: Date().timeIntervalSince(started))))
    }
}

private final class WeakTask: @unchecked Sendable {
    weak var task: ProgressTask?
}
