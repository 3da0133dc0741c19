import Foundation
import OCICore
import OCIModel
import OCIStore
#if canImport(Glibc)
import Glibc
#endif

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
            input = TeeSink(originalSide, encoder, finishing: true)
        } else {
            var decodedSide: ByteSink = encoder
            if plan.target != .none {
                // (Decoding to plain tar, the new blob's own digest is the diff_id.)
                let d = DigestingSink()
                decoded = d
                decodedSide = TeeSink(large ? AsyncSink(inner: d) : d, encoder, finishing: true)
            }
            input = TeeSink(originalSide, try Compression(layer: from).decoder(into: decodedSide, context: context), finishing: true)
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
