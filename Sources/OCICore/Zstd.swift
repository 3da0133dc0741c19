import CZstd

/// A streaming Zstandard encoder. It always runs zstd's multi-threaded mode
/// (at least one worker; `threads` asks for more), because zstd's output is
/// identical for any worker count ≥ 1 but differs from the single-threaded
/// mode: so the same input and level give the same bytes on every machine.
public final class ZstdEncoder: ByteSink {
    private let cctx: OpaquePointer
    private let next: ByteSink
    private let context: String
    private let outSize = ZSTD_CStreamOutSize()
    private let out: UnsafeMutableRawPointer
    private var finished = false

    public init(into next: ByteSink, level: Int = 3, threads: Int = 0, context: String) throws {
        guard let cctx = ZSTD_createCCtx() else {
            throw CoreError.compression(context: context, message: "ZSTD_createCCtx failed")
        }
        self.cctx = cctx
        self.next = next
        self.context = context
        out = .allocate(byteCount: outSize, alignment: 16)
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, Int32(level))
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_nbWorkers, Int32(max(1, threads)))
    }

    deinit {
        ZSTD_freeCCtx(cctx)
        out.deallocate()
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        var input = ZSTD_inBuffer(src: base, size: bytes.count, pos: 0)
        while input.pos < input.size {
            var output = ZSTD_outBuffer(dst: out, size: outSize, pos: 0)
            let rc = ZSTD_compressStream2(cctx, &output, &input, ZSTD_e_continue)
            try check(rc)
            if output.pos > 0 { try next.write(UnsafeRawBufferPointer(start: out, count: output.pos)) }
        }
    }

    public func finish() throws {
        guard !finished else { return }
        finished = true
        var input = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        while true {
            var output = ZSTD_outBuffer(dst: out, size: outSize, pos: 0)
            let remaining = ZSTD_compressStream2(cctx, &output, &input, ZSTD_e_end)
            try check(remaining)
            if output.pos > 0 { try next.write(UnsafeRawBufferPointer(start: out, count: output.pos)) }
            if remaining == 0 { break }
        }
        try next.finish()
    }

    private func check(_ rc: Int) throws {
        if ZSTD_isError(rc) != 0 {
            throw CoreError.compression(context: context, message: "zstd: \(String(cString: ZSTD_getErrorName(rc)))")
        }
    }
}

/// A streaming Zstandard decoder (handles several frames and skippable frames).
public final class ZstdDecoder: ByteSink {
    private let dctx: OpaquePointer
    private let next: ByteSink
    private let context: String
    private let outSize = ZSTD_DStreamOutSize()
    private let out: UnsafeMutableRawPointer
    private var frameOpen = false
    private var sawInput = false
    private var finished = false

    public init(into next: ByteSink, context: String) throws {
        guard let dctx = ZSTD_createDCtx() else {
            throw CoreError.compression(context: context, message: "ZSTD_createDCtx failed")
        }
        self.dctx = dctx
        self.next = next
        self.context = context
        out = .allocate(byteCount: outSize, alignment: 16)
    }

    deinit {
        ZSTD_freeDCtx(dctx)
        out.deallocate()
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        sawInput = true
        var input = ZSTD_inBuffer(src: base, size: bytes.count, pos: 0)
        while input.pos < input.size {
            var output = ZSTD_outBuffer(dst: out, size: outSize, pos: 0)
            let rc = ZSTD_decompressStream(dctx, &output, &input)
            if ZSTD_isError(rc) != 0 {
                throw CoreError.compression(context: context, message: "zstd data is corrupt: \(String(cString: ZSTD_getErrorName(rc)))")
            }
            frameOpen = rc != 0
            if output.pos > 0 { try next.write(UnsafeRawBufferPointer(start: out, count: output.pos)) }
        }
        // Drain output still buffered inside the context.
        while frameOpen {
            var output = ZSTD_outBuffer(dst: out, size: outSize, pos: 0)
            var empty = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
            let rc = ZSTD_decompressStream(dctx, &output, &empty)
            if ZSTD_isError(rc) != 0 {
                throw CoreError.compression(context: context, message: "zstd data is corrupt: \(String(cString: ZSTD_getErrorName(rc)))")
            }
            frameOpen = rc != 0
            if output.pos == 0 { break }
            try next.write(UnsafeRawBufferPointer(start: out, count: output.pos))
        }
    }

    public func finish() throws {
        guard !finished else { return }
        finished = true
        guard sawInput else { throw CoreError.compression(context: context, message: "zstd stream is empty") }
        guard !frameOpen else {
            throw CoreError.compression(context: context, message: "zstd stream is truncated (unexpected end of data)")
        }
        try next.finish()
    }
}
