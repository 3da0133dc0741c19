import CZstd

/// A streaming Zstandard encoder. It always runs zstd's multi-threaded mode
/// (at least one worker; `threads` asks for more), because zstd's output is
/// identical for any worker count ≥ 1 but differs from the single-threaded
/// mode: so the same input and level give the same bytes on every machine.
package final class ZstdEncoder: ByteSink {
    private let cctx: OpaquePointer
    private let next: ByteSink
    private let context: String
    private let outSize = ZSTD_CStreamOutSize()
    private let out: UnsafeMutableRawPointer
    private var finished = false

    /// The most workers asked of zstd (its own bound is 200 or 256).
    static let maxThreads = 128

    /// Input bytes per zstd job (each worker compresses one job at a time).
    static let jobSize: Int32 = 1 << 20

    /// - Parameters:
    ///   - level: 1 to `ZSTD_maxCLevel()` (19 or 22), or zstd's negative fast levels.
    ///   - threads: workers (at least one; more than 128 are capped).
    /// - Throws: `CoreError.compression` for a level zstd does not have or a
    ///   parameter it refuses.
    package init(into next: ByteSink, level: Int = 3, threads: Int = 0, context: String) throws {
        guard level >= Int(ZSTD_minCLevel()), level <= Int(ZSTD_maxCLevel()) else {
            throw CoreError.compression(context: context, message: "zstd level \(level) is out of range (\(ZSTD_minCLevel())-\(ZSTD_maxCLevel()))")
        }
        guard let cctx = ZSTD_createCCtx() else {
            throw CoreError.compression(context: context, message: "ZSTD_createCCtx failed")
        }
        self.cctx = cctx
        self.next = next
        self.context = context
        out = .allocate(byteCount: outSize, alignment: 16)
        // deinit frees both from here on.
        let workers = Int32(truncatingIfNeeded: min(max(1, threads), Self.maxThreads))
        try check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, Int32(truncatingIfNeeded: level)), "set level \(level)")
        try check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1), "enable checksums")
        try check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_nbWorkers, workers), "set \(workers) workers")
        // Fixed, so the bytes stay the same for any worker count and level;
        // 1 MiB (zstd's least is 512 KiB) instead of its 8 MiB at level 3:
        // zstd keeps about three jobs of input per worker plus each job's
        // output, so this bounds memory (1.3 GB benchmark image, 2 workers:
        // 45 -> 37 MB peak RSS against 2 MiB jobs) for +1.6% of output
        // against 8 MiB jobs (+0.9% against 2 MiB).
        try check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_jobSize, Self.jobSize), "set the job size")
    }

    deinit {
        ZSTD_freeCCtx(cctx)
        out.deallocate()
    }

    package func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        guard !finished else { throw CoreError.compression(context: context, message: "write after finish") }
        var input = ZSTD_inBuffer(src: base, size: bytes.count, pos: 0)
        while input.pos < input.size {
            var output = ZSTD_outBuffer(dst: out, size: outSize, pos: 0)
            // Each call consumes input or fills output (zstd's contract);
            // with workers it may also just wait for one, still progressing.
            let rc = ZSTD_compressStream2(cctx, &output, &input, ZSTD_e_continue)
            try check(rc, "compress")
            if output.pos > 0 { try next.write(UnsafeRawBufferPointer(start: out, count: output.pos)) }
        }
    }

    /// Ends the frame (last block, checksum) and finishes `next`. Without
    /// it (the encoder dropped), the frame is never closed: a reader sees
    /// a truncated stream.
    package func finish() throws {
        guard !finished else { return }
        finished = true
        var input = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        while true {
            var output = ZSTD_outBuffer(dst: out, size: outSize, pos: 0)
            let remaining = ZSTD_compressStream2(cctx, &output, &input, ZSTD_e_end)
            try check(remaining, "end the frame")
            if output.pos > 0 { try next.write(UnsafeRawBufferPointer(start: out, count: output.pos)) }
            if remaining == 0 { break }
        }
        try next.finish()
    }

    private func check(_ rc: Int, _ what: String) throws {
        if ZSTD_isError(rc) != 0 {
            throw CoreError.compression(context: context, message: "zstd (\(what)): \(String(cString: ZSTD_getErrorName(rc)))")
        }
    }
}

/// A streaming Zstandard decoder (handles several frames and skippable frames).
package final class ZstdDecoder: ByteSink {
    private let dctx: OpaquePointer
    private let next: ByteSink
    private let context: String
    private let outSize = ZSTD_DStreamOutSize()
    private let out: UnsafeMutableRawPointer
    private var frameOpen = false
    private var sawInput = false
    private var finished = false

    package init(into next: ByteSink, context: String) throws {
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

    package func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        sawInput = true
        var input = ZSTD_inBuffer(src: base, size: bytes.count, pos: 0)
        var idle = 0
        while input.pos < input.size {
            var output = ZSTD_outBuffer(dst: out, size: outSize, pos: 0)
            let before = input.pos
            let rc = ZSTD_decompressStream(dctx, &output, &input)
            if ZSTD_isError(rc) != 0 {
                throw CoreError.compression(context: context, message: "zstd data is corrupt: \(String(cString: ZSTD_getErrorName(rc)))")
            }
            frameOpen = rc != 0
            if output.pos > 0 { try next.write(UnsafeRawBufferPointer(start: out, count: output.pos)) }
            // zstd consumes input or produces output on every call; guard
            // against a call that does neither repeating forever.
            if output.pos == 0 && input.pos == before {
                idle += 1
                if idle > 16 { throw CoreError.compression(context: context, message: "zstd data is corrupt: the decoder makes no progress") }
            } else {
                idle = 0
            }
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

    package func finish() throws {
        guard !finished else { return }
        finished = true
        guard sawInput else { throw CoreError.compression(context: context, message: "zstd stream is empty") }
        guard !frameOpen else {
            throw CoreError.compression(context: context, message: "zstd stream is truncated (unexpected end of data)")
        }
        try next.finish()
    }
}
