import Foundation
import OCICore
import OCIModel
import OCIStore
#if canImport(Glibc)
import Glibc
#endif

/// Re-encoding layer blobs while an archive is read (`convert --compress`):
/// a member that looks like a layer in another compression (a gzip or zstd
/// stream, or a plain tar) is decoded and encoded straight into the spool,
/// so only the re-encoded copy is ever written to disk. Its original digest
/// and size (what the manifest names) and its diff_id are computed on the
/// way; `ArchiveRecognizer` verifies them as for any blob, and the converter
/// then swaps in the new blob.
///
/// Where the member's bytes can be read again (a plain tar file, a layout
/// directory), the re-encoding runs on a pool of workers, one layer per core,
/// reading the member from the file while the scan goes on; from a stream
/// (stdin, a compressed archive) it runs inline as the member is read. Both
/// give the same bytes.
///
/// A member that is not recognised as a layer here (JSON, an empty tar
/// without a ustar header) is spooled as it is and re-encoded afterwards, if
/// it turns out to be a layer, by `LayerRecoder`.
public struct IngestRecoding: Sendable {
    /// The compression layers end up in.
    public var target: LayerCompression
    /// gzip 1-9 / zstd 1-19; nil for the default.
    public var level: Int?
    /// Encoder threads per layer (0: one per core).
    public var threads: Int
    /// Layers re-encoded at once from a file (0: one per core).
    public var workers: Int

    public init(target: LayerCompression, level: Int? = nil, threads: Int = 0, workers: Int = 0) {
        self.target = target
        self.level = level
        self.threads = threads
        self.workers = workers
    }

    /// The compression a member whose data starts with `head` is re-encoded
    /// from, or nil to keep it as it is.
    func sourceCompression(head: [UInt8]) -> LayerCompression? {
        let source: LayerCompression
        switch Compression.detect(head) {
        case .gzip: source = .gzip
        case .zstd: source = .zstd
        case .none:
            guard Self.isTarHeader(head) else { return nil }
            source = .none
        case .xz, .bzip2: return nil
        }
        return source == target ? nil : source
    }

    /// A POSIX or GNU tar header ("ustar" magic at offset 257).
    static func isTarHeader(_ head: [UInt8]) -> Bool {
        head.count >= 262 && Array(head[257..<262]) == Array("ustar".utf8)
    }
}

/// A blob re-encoded while it was read.
public struct RecodedBlob: Sendable {
    /// The staging file of the re-encoded bytes (digest and size of the new blob).
    public let staged: StagedBlob
    public let compression: LayerCompression
}

/// Where a member's bytes lie in a regular file, to be read again.
struct MemberLocation: Sendable {
    let path: String
    let offset: Int64
    let size: Int64
}

/// A member source whose members can be read again from a file.
protocol LocatableMemberSource: MemberSource {
    /// The current member's location (call between `next()` and reading its data).
    func location(size: Int64) -> MemberLocation?
}

extension TarReader: LocatableMemberSource {
    func location(size: Int64) -> MemberLocation? {
        guard let path = filePath, let offset = currentDataOffset else { return nil }
        return MemberLocation(path: path, offset: offset, size: size)
    }
}

extension ScannedArchive {
    /// Reads one member, re-encoding it if it is a layer in another
    /// compression: on the pool when it can be read again from a file
    /// (returns nil: the blob is registered by `collectRecodes()`), else inline.
    func ingestRecoding(_ source: MemberSource, path: String, size: Int64, plan: IngestRecoding,
                        progress: ProgressScope?) throws -> Blob? {
        let context = "\(name): \(path)"
        if let pool = recodePool, let location = (source as? LocatableMemberSource)?.location(size: size),
           let from = plan.sourceCompression(head: try Self.head(of: location)) {
            pool.submit(RecodeJob(member: path, location: location, from: from, plan: plan, staging: store.blobs,
                                  context: context, progress: progress))
            return nil
        }
        // Work on this thread from here on: let the pool use the other cores meanwhile.
        if size >= 1 << 20 { recodePool?.start() }
        let task = progress?.task(id: path, label: path, phase: "read", total: size)
        defer { task?.finish() }
        let sink = RecodingIngestSink(plan: plan, staging: store.blobs, size: size, context: context, task: task)
        let outcome: RecodingIngestSink.Outcome
        do {
            let counted: ByteSink = task.map { CountingSink(forwardingTo: sink, progress: $0.bytes) } ?? sink
            try source.readData(into: counted)
            outcome = try sink.close()
        } catch {
            sink.abandon()
            throw error
        }
        switch outcome {
        case let .kept(staged, digester, parallel):
            let blob = Blob(digest: staged.digest, size: staged.size, compression: digester.compression ?? .none,
                            uncompressedDigest: digester.uncompressedDigest, decodeError: digester.decodeError,
                            staged: staged, member: path)
            let registered = register(blob, member: path)
            if registered.staged == staged, parallel, blob.compression == .gzip || blob.compression == .zstd {
                verifier.submit(blob.digest, path: staged.path, context: context)
            }
            return registered
        case let .recoded(result):
            return register(result.blob(member: path, target: plan.target), member: path)
        }
    }

    /// Records `blob` for `member`; a second copy of a known blob is discarded.
    private func register(_ blob: Blob, member: String) -> Blob {
        members[member] = blob.digest
        if let existing = blobs[blob.digest] {
            blob.staged?.discard()
            blob.recoded?.staged.discard()
            return existing
        }
        blobs[blob.digest] = blob
        return blob
    }

    /// Waits for the pool and records the blobs it re-encoded.
    /// - Throws: the first failure, in member order (after removing every staged result).
    func collectRecodes() throws {
        guard let pool = recodePool else { return }
        recodePool = nil
        let results = pool.wait()
        if let failure = results.sorted(by: { $0.key < $1.key }).lazy.compactMap({ r -> Error? in
            if case let .failure(e) = r.value { return e }
            return nil
        }).first {
            for case let .success(r) in results.values { r.staged.discard() }
            throw failure
        }
        for (member, result) in results.sorted(by: { $0.key < $1.key }) {
            guard case let .success(r) = result else { continue }
            _ = register(r.blob(member: member, target: r.target), member: member)
        }
    }

    /// Up to 512 bytes from the start of a member, read from its file.
    static func head(of location: MemberLocation) throws -> [UInt8] {
        let file = try FileSource(path: location.path)
        guard lseek(file.fd, off_t(location.offset), SEEK_SET) == off_t(location.offset) else {
            throw CoreError.io(context: "seek \(location.path)", errno: errno)
        }
        return try file.readPrefix(Int(min(512, location.size)))
    }
}

/// What re-encoding one layer produced.
struct RecodeResult: Sendable {
    let original: Digest
    let size: Int64
    let from: LayerCompression
    let target: LayerCompression
    let diffID: Digest
    let staged: StagedBlob

    func blob(member: String, target: LayerCompression) -> ScannedArchive.Blob {
        let compression = Compression(layer: from)
        return ScannedArchive.Blob(digest: original, size: size, compression: compression,
                                   uncompressedDigest: compression == .none ? nil : diffID, decodeError: nil,
                                   staged: nil, member: member, recoded: RecodedBlob(staged: staged, compression: target))
    }
}

/// decode → (diff_id hash | encode → staging file + digest), with the
/// original's digest taken on the way. Large layers hash on worker threads.
final class RecodePipeline {
    let input: ByteSink
    private let from: LayerCompression
    private let target: LayerCompression
    private let writer: StagingWriter
    private let original = DigestingSink()
    private var decoded: DigestingSink?
    private var count: Int64 = 0

    init(from: LayerCompression, plan: IngestRecoding, writer: StagingWriter, large: Bool, context: String) throws {
        self.from = from
        self.target = plan.target
        self.writer = writer
        let originalSide: ByteSink = large ? AsyncSink(inner: original) : original
        let encoder = try Compression(layer: plan.target).encoder(into: writer, level: plan.level, threads: plan.threads, context: context)
        if from == .none {
            // The raw stream is the uncompressed one: one hash serves both digests.
            input = FanOutSink(originalSide, encoder)
        } else {
            var decodedSide: ByteSink = encoder
            if plan.target != .none {
                // (Decoding to plain tar, the new blob's own digest is the diff_id.)
                let d = DigestingSink()
                decoded = d
                decodedSide = FanOutSink(large ? AsyncSink(inner: d) : d, encoder)
            }
            input = FanOutSink(originalSide, try Compression(layer: from).decoder(into: decodedSide, context: context))
        }
    }

    /// Finishes the streams; returns the result (`size`: bytes of the original).
    func finish(size: Int64) throws -> RecodeResult {
        try input.finish()
        let staged = try writer.close()
        let originalDigest = try original.digest()
        let diffID: Digest
        if from == .none {
            diffID = originalDigest
        } else if let decoded {
            diffID = try decoded.digest()
        } else {
            diffID = staged.digest
        }
        return RecodeResult(original: originalDigest, size: size, from: from, target: target, diffID: diffID, staged: staged)
    }
}

/// Decides from a member's first 512 bytes whether to keep or re-encode
/// it, then streams it into the spool accordingly (the inline path).
final class RecodingIngestSink: ByteSink {
    enum Outcome {
        /// Spooled as it is.
        case kept(StagedBlob, LayerDigester, parallel: Bool)
        /// Spooled re-encoded.
        case recoded(RecodeResult)
    }

    private enum Pipeline {
        case undecided
        case keep(writer: StagingWriter, digester: LayerDigester, input: ByteSink)
        case recode(writer: StagingWriter, pipeline: RecodePipeline)
    }

    private static let headSize = 512
    private let plan: IngestRecoding
    private let staging: BlobStore
    private let size: Int64
    private let context: String
    private let task: ProgressTask?
    private var head: [UInt8] = []
    private var pipeline = Pipeline.undecided
    private var count: Int64 = 0

    init(plan: IngestRecoding, staging: BlobStore, size: Int64, context: String, task: ProgressTask?) {
        self.plan = plan
        self.staging = staging
        self.size = size
        self.context = context
        self.task = task
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        count += Int64(bytes.count)
        var rest = bytes
        if case .undecided = pipeline {
            let take = min(Self.headSize - head.count, bytes.count)
            head.append(contentsOf: bytes.prefix(take))
            guard head.count == Self.headSize else { return }
            try decide()
            rest = UnsafeRawBufferPointer(rebasing: bytes[take...])
        }
        try input.write(rest)
    }

    func finish() throws {}

    private var input: ByteSink {
        switch pipeline {
        case .undecided: return NullSink()
        case let .keep(_, _, input): return input
        case let .recode(_, pipeline): return pipeline.input
        }
    }

    /// Chooses the pipeline and feeds it the buffered head.
    private func decide() throws {
        let large = size >= 4 << 20
        let writer = try staging.beginStaging(parallel: large)
        do {
            if let from = plan.sourceCompression(head: head) {
                task?.setPhase("recode")
                pipeline = .recode(writer: writer, pipeline: try RecodePipeline(from: from, plan: plan, writer: writer, large: large, context: context))
            } else {
                let digester = LayerDigester(context: context, decode: !large)
                pipeline = .keep(writer: writer, digester: digester, input: TeeSink(writer, digester))
            }
        } catch {
            writer.abandon()
            throw error
        }
        try head.withUnsafeBytes { try input.write($0) }
    }

    /// Finishes the pipeline and returns what was spooled.
    func close() throws -> Outcome {
        if case .undecided = pipeline { try decide() }
        switch pipeline {
        case .undecided:
            throw CoreError.malformed(context: context, message: "internal: no pipeline")
        case let .keep(writer, digester, _):
            try digester.finish()
            return .kept(try writer.close(), digester, parallel: size >= 4 << 20)
        case let .recode(_, pipeline):
            return .recoded(try pipeline.finish(size: count))
        }
    }

    /// Removes the staging file after an error.
    func abandon() {
        switch pipeline {
        case .undecided: return
        case let .keep(writer, _, _): writer.abandon()
        case let .recode(writer, _): writer.abandon()
        }
    }
}

/// One layer to re-encode from its file.
struct RecodeJob: Sendable {
    let member: String
    let location: MemberLocation
    let from: LayerCompression
    let plan: IngestRecoding
    let staging: BlobStore
    let context: String
    let progress: ProgressScope?

    func run() throws -> RecodeResult {
        let task = progress?.task(id: member, label: member, phase: "recode", total: location.size)
        defer { task?.finish() }
        let large = location.size >= 4 << 20
        let writer = try staging.beginStaging(parallel: large)
        do {
            let pipeline = try RecodePipeline(from: from, plan: plan, writer: writer, large: large, context: context)
            let sink: ByteSink = task.map { CountingSink(forwardingTo: pipeline.input, progress: $0.bytes) } ?? pipeline.input
            let copied = try Self.copy(location, into: sink)
            guard copied == location.size else {
                throw CoreError.malformed(context: context, message: "\(location.path) changed while being read (\(copied) of \(location.size) bytes at offset \(location.offset))")
            }
            return try pipeline.finish(size: location.size)
        } catch {
            writer.abandon()
            throw error
        }
    }

    /// Streams `location.size` bytes from `location.offset` of its file.
    static func copy(_ location: MemberLocation, into sink: ByteSink) throws -> Int64 {
        let file = try FileSource(path: location.path)
        guard lseek(file.fd, off_t(location.offset), SEEK_SET) == off_t(location.offset) else {
            throw CoreError.io(context: "seek \(location.path)", errno: errno)
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        var left = location.size
        while left > 0 {
            let want = Int(min(Int64(buffer.count), left))
            let n = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]))
            if n == 0 { break }
            try sink.write(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            left -= Int64(n)
        }
        return location.size - left
    }
}

/// Re-encodes layers from their files on a few worker threads while the
/// scan reads on; `wait()` returns every outcome by member path.
///
/// Workers start when the scan is about to spend time on something else
/// (`start()`) or at its end, then always take the largest layer queued,
/// so that the biggest layer does not start last and run alone.
final class RecodePool: @unchecked Sendable {
    private let cond = NSCondition()
    private var queue: [RecodeJob] = []
    private var results: [String: Result<RecodeResult, Error>] = [:]
    private var closed = false
    private var started = false
    private var running = 0
    private let workers: Int

    init(workers: Int) {
        self.workers = workers > 0 ? workers : max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    func submit(_ job: RecodeJob) {
        cond.withLock {
            queue.append(job)
            cond.broadcast()
        }
    }

    /// Starts the workers (idempotent).
    func start() {
        cond.withLock {
            guard !started else { return }
            started = true
            for _ in 0..<workers {
                running += 1
                let t = Thread { [self] in self.work() }
                t.stackSize = 1 << 20
                t.name = "ocitool-recode"
                t.start()
            }
        }
    }

    /// Waits for every job; returns their outcomes by member path.
    func wait() -> [String: Result<RecodeResult, Error>] {
        start()
        return cond.withLock {
            closed = true
            cond.broadcast()
            while running > 0 { cond.wait() }
            return results
        }
    }

    private func work() {
        while true {
            cond.lock()
            while queue.isEmpty && !closed { cond.wait() }
            guard !queue.isEmpty else {
                running -= 1
                cond.broadcast()
                cond.unlock()
                return
            }
            // Largest first (ties: archive order), for the shortest total time.
            var pick = 0
            for (i, j) in queue.enumerated() where j.location.size > queue[pick].location.size { pick = i }
            let job = queue.remove(at: pick)
            cond.unlock()
            let outcome = Result { try job.run() }
            cond.withLock { results[job.member] = outcome }
        }
    }
}

extension Compression {
    /// The stream compression of a layer compression.
    init(layer: LayerCompression) {
        switch layer {
        case .none: self = .none
        case .gzip: self = .gzip
        case .zstd: self = .zstd
        }
    }
}
