import OCICore
import OCIModel
import OCIImage

/// Decides from a member's first 512 bytes whether to keep or re-encode
/// it, then streams it into the spool accordingly (the inline path).
final class RecodingIngestSink: ByteSink {
    enum Outcome {
        /// Spooled as it is.
        case kept(StagedBlob, LayerDigester, parallel: Bool)
        /// Spooled re-encoded.
        case recoded(RecodedLayer)
    }

    private enum Pipeline {
        case undecided
        case keep(writer: StagingWriter, digester: LayerDigester, input: ByteSink)
        case recode(writer: StagingWriter, pipeline: RecodePipeline)
    }

    private static let headSize = 512
    private let plan: RecodePlan
    private let staging: BlobStore
    private let size: Int64
    private let context: String
    private let task: ProgressTask?
    private var head: [UInt8] = []
    private var pipeline = Pipeline.undecided
    private var count: Int64 = 0

    init(plan: RecodePlan, staging: BlobStore, size: Int64, context: String, task: ProgressTask?) {
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
