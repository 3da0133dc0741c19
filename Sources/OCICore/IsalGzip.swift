import CIsal

private let isalOutChunk = 512 << 10

/// A streaming gzip decoder on Intel ISA-L's igzip (about 4× zlib's inflate
/// speed here). Accepts concatenated members, verifies each member's CRC,
/// and rejects truncated or corrupt input. Output is identical to
/// `GzipDecoder`'s (zlib), which the tests use as the reference.
///
/// When `next` lends its buffers (`BufferLendingSink`, e.g. the `AsyncSink`
/// that hashes the output on another core), igzip inflates straight into
/// them and each is passed on when full: the decompressed stream is never
/// copied. Otherwise it inflates into its own 512 KiB buffer.
package final class IsalGzipDecoder: ByteSink {
    private let inflate = GzipInflateState()
    private var state: UnsafeMutablePointer<inflate_state> { inflate.pointer }
    private let next: ByteSink
    private let lender: BufferLendingSink?
    private let context: String
    /// Own output buffer (nil when `next` lends its buffers).
    private let out: UnsafeMutablePointer<UInt8>?
    /// The lent buffer being filled, and how much of it is filled.
    private var lent: UnsafeMutableRawPointer?
    private var lentFill = 0
    private var sawInput = false
    private var finished = false

    package init(into next: ByteSink, context: String) {
        self.next = next
        self.context = context
        lender = (next as? BufferLendingSink).flatMap { $0.lentBufferSize > 0 ? $0 : nil }
        out = lender == nil ? .allocate(capacity: isalOutChunk) : nil
    }

    deinit {
        if let lent, let lender { lender.returnBorrowed(lent) }
        out?.deallocate()
    }

    private var memberDone: Bool { inflate.memberDone }

    /// Where the next inflate call writes, and how much room there is.
    private func outputTarget() throws -> (UnsafeMutablePointer<UInt8>, Int) {
        guard let lender else { return (out!, isalOutChunk) }
        if lent == nil {
            lent = try lender.borrowBuffer()
            lentFill = 0
        }
        return ((lent! + lentFill).assumingMemoryBound(to: UInt8.self), lender.lentBufferSize - lentFill)
    }

    /// Passes on `produced` bytes the last call wrote at `target`.
    private func deliver(_ target: UnsafeMutablePointer<UInt8>, _ produced: Int) throws {
        guard produced > 0 else { return }
        guard let lender, let buffer = lent else {
            try next.write(UnsafeRawBufferPointer(start: target, count: produced))
            return
        }
        lentFill += produced
        if lentFill == lender.lentBufferSize {
            lent = nil
            try lender.submitBorrowed(buffer, count: lentFill)
        }
    }

    package func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        var input = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: UInt8.self))
        var remaining = bytes.count
        while remaining > 0 || (!memberDone && sawInput) {
            if memberDone {
                if remaining == 0 { break }
                if input.pointee == 0 {
                    // Zero padding after the last member: ignore.
                    input += 1
                    remaining -= 1
                    continue
                }
                inflate.startNextMember()
            }
            // Feed at most 4 GiB - 1 at a time (avail_in is 32-bit).
            let chunk = min(remaining, Int(UInt32.max))
            let (target, room) = try outputTarget()
            state.pointee.next_in = input
            state.pointee.avail_in = UInt32(truncatingIfNeeded: chunk)
            sawInput = true
            state.pointee.next_out = target
            state.pointee.avail_out = UInt32(truncatingIfNeeded: room)
            let rc = isal_inflate(state)
            let consumed = chunk - Int(state.pointee.avail_in)
            input += consumed
            remaining -= consumed
            let produced = room - Int(state.pointee.avail_out)
            try deliver(target, produced)
            if rc < 0 {
                throw GzipInflateState.corrupt(rc, context)
            }
            if memberDone { continue }
            // Input used up and output not full: wait for more input.
            if remaining == 0 && produced < room { break }
            // Every call consumes input or produces output; one that does
            // neither would repeat forever.
            if consumed == 0 && produced == 0 {
                throw GzipInflateState.noProgress(rc, context)
            }
        }
    }

    package func finish() throws {
        guard !finished else { return }
        finished = true
        guard sawInput else { throw CoreError.compression(context: context, message: "gzip stream is empty") }
        guard memberDone else {
            throw GzipInflateState.truncated(context)
        }
        if let lender, let buffer = lent {
            lent = nil
            try lender.submitBorrowed(buffer, count: lentFill)
        }
        try next.finish()
    }
}

/// A streaming gzip encoder on ISA-L's igzip at its level 1 (about 20× zlib
/// -6 here, output ~10% larger). The header is igzip's fixed one (mtime 0,
/// OS 255), so output is the same on every machine.
package final class IsalGzipEncoder: ByteSink {
    private let stream: UnsafeMutablePointer<isal_zstream>
    private let levelBuffer: UnsafeMutablePointer<UInt8>
    private let next: ByteSink
    private let context: String
    private let out: UnsafeMutablePointer<UInt8>
    private var finished = false

    package init(into next: ByteSink, context: String) {
        self.next = next
        self.context = context
        stream = .allocate(capacity: 1)
        UnsafeMutableRawPointer(stream).initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<isal_zstream>.size)
        isal_deflate_init(stream)
        levelBuffer = .allocate(capacity: Int(OCITOOL_ISAL_LVL1_BUF))
        stream.pointee.level = 1
        stream.pointee.level_buf = levelBuffer
        stream.pointee.level_buf_size = UInt32(truncatingIfNeeded: OCITOOL_ISAL_LVL1_BUF)
        stream.pointee.gzip_flag = UInt16(IGZIP_GZIP)
        stream.pointee.end_of_stream = 0
        stream.pointee.flush = UInt16(NO_FLUSH)
        out = .allocate(capacity: isalOutChunk)
    }

    deinit {
        stream.deallocate()
        levelBuffer.deallocate()
        out.deallocate()
    }

    package func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        var input = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: UInt8.self))
        var remaining = bytes.count
        while remaining > 0 {
            let chunk = min(remaining, 1 << 30)
            stream.pointee.next_in = input
            stream.pointee.avail_in = UInt32(truncatingIfNeeded: chunk)
            repeat {
                let before = stream.pointee.avail_in
                let produced = try pump()
                if produced == 0 && stream.pointee.avail_in == before && before > 0 {
                    throw CoreError.compression(context: context, message: "igzip deflate makes no progress")
                }
            } while stream.pointee.avail_in > 0
            input += chunk
            remaining -= chunk
        }
    }

    /// One deflate call; returns the bytes it produced (already passed on).
    @discardableResult
    private func pump() throws -> Int {
        stream.pointee.next_out = out
        stream.pointee.avail_out = UInt32(truncatingIfNeeded: isalOutChunk)
        let rc = isal_deflate(stream)
        guard rc == COMP_OK else {
            throw CoreError.compression(context: context, message: "igzip deflate failed (\(rc))")
        }
        let produced = isalOutChunk - Int(stream.pointee.avail_out)
        if produced > 0 { try next.write(UnsafeRawBufferPointer(start: out, count: produced)) }
        return produced
    }

    package func finish() throws {
        guard !finished else { return }
        finished = true
        stream.pointee.end_of_stream = 1
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0
        var idle = 0
        repeat {
            if try pump() == 0 {
                idle += 1
                if idle > 16 { throw CoreError.compression(context: context, message: "igzip deflate makes no progress at the end of the stream") }
            } else {
                idle = 0
            }
        } while stream.pointee.internal_state.state != ZSTATE_END
        try next.finish()
    }
}

/// An igzip inflate state for gzip streams (each member's CRC checked), one
/// member after another: what `IsalGzipDecoder` and `IsalGzipInflater` share.
private final class GzipInflateState {
    let pointer: UnsafeMutablePointer<inflate_state>

    init() {
        pointer = .allocate(capacity: 1)
        UnsafeMutableRawPointer(pointer).initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<inflate_state>.size)
        isal_inflate_init(pointer)
        pointer.pointee.crc_flag = UInt32(ISAL_GZIP)
    }

    deinit { pointer.deallocate() }

    var memberDone: Bool { pointer.pointee.block_state == ISAL_BLOCK_FINISH }

    /// Starts the next member where the input stands.
    func startNextMember() {
        let next = pointer.pointee.next_in, left = pointer.pointee.avail_in
        isal_inflate_reset(pointer)
        pointer.pointee.crc_flag = UInt32(ISAL_GZIP)
        pointer.pointee.next_in = next
        pointer.pointee.avail_in = left
    }

    static func corrupt(_ rc: Int32, _ context: String) -> CoreError {
        .compression(context: context, message: "gzip data is corrupt (igzip error \(rc))")
    }

    static func noProgress(_ rc: Int32, _ context: String) -> CoreError {
        .compression(context: context, message: "gzip data is corrupt (igzip makes no progress, status \(rc))")
    }

    static func truncated(_ context: String) -> CoreError {
        .compression(context: context, message: "gzip stream is truncated (unexpected end of data)")
    }
}

/// Pull-mode igzip for `TarReader`: inflates the compressed bytes `refill`
/// reads into the caller's buffer, at most one buffer per call, so output
/// stays bounded whatever the compression ratio. Concatenated members are
/// read and each member's CRC checked; after a member, zero padding or
/// bytes that cannot start another member end the stream (as libarchive's
/// gzip filter does: a tar reader stops at its end-of-archive blocks
/// anyway); a truncated member or corrupt data is an error.
package final class IsalGzipInflater {
    private let inflate = GzipInflateState()
    private var state: UnsafeMutablePointer<inflate_state> { inflate.pointer }
    private let input: UnsafeMutableRawPointer
    private let inputSize: Int
    private let refill: (UnsafeMutableRawPointer, Int) throws -> Int
    private let context: String
    private var endOfInput = false
    private var finished = false

    /// - Parameters:
    ///   - first: the first bytes of the stream (already read by the caller).
    ///   - refill: reads up to the given count of further compressed bytes
    ///     into the buffer; 0 at the end of the input.
    package init(first: UnsafeRawBufferPointer, inputSize: Int = 256 << 10, context: String,
                 refill: @escaping (UnsafeMutableRawPointer, Int) throws -> Int) {
        self.context = context
        self.refill = refill
        self.inputSize = max(inputSize, first.count)
        input = .allocate(byteCount: self.inputSize, alignment: 64)
        if let base = first.baseAddress, first.count > 0 { input.copyMemory(from: base, byteCount: first.count) }
        state.pointee.next_in = input.assumingMemoryBound(to: UInt8.self)
        state.pointee.avail_in = UInt32(truncatingIfNeeded: first.count)
    }

    deinit { input.deallocate() }

    private var memberDone: Bool { inflate.memberDone }

    /// Reads more compressed input when all of it is used; false at its end.
    private func fill() throws -> Bool {
        if state.pointee.avail_in > 0 { return true }
        if endOfInput { return false }
        let n = try refill(input, inputSize)
        if n <= 0 {
            endOfInput = true
            return false
        }
        state.pointee.next_in = input.assumingMemoryBound(to: UInt8.self)
        state.pointee.avail_in = UInt32(truncatingIfNeeded: n)
        return true
    }

    /// Inflates into `buffer`; returns the bytes written, 0 at the end of the stream.
    package func read(into buffer: UnsafeMutableRawPointer, capacity: Int) throws -> Int {
        var produced = 0
        while produced < capacity && !finished {
            if memberDone {
                // Zero padding after a member is skipped; other bytes start a new member.
                while state.pointee.avail_in > 0 && state.pointee.next_in.pointee == 0 {
                    state.pointee.next_in += 1
                    state.pointee.avail_in -= 1
                }
                guard try fill() else {
                    finished = true
                    break
                }
                if state.pointee.next_in.pointee == 0 { continue }
                // Bytes that cannot start a member end the stream, as in
                // libarchive's gzip filter (which this reader replaces).
                if state.pointee.next_in.pointee != 0x1f || (state.pointee.avail_in > 1 && state.pointee.next_in[1] != 0x8b) {
                    finished = true
                    break
                }
                inflate.startNextMember()
            }
            guard try fill() else {
                throw GzipInflateState.truncated(context)
            }
            let room = capacity - produced
            let before = state.pointee.avail_in
            state.pointee.next_out = (buffer + produced).assumingMemoryBound(to: UInt8.self)
            state.pointee.avail_out = UInt32(truncatingIfNeeded: room)
            let rc = isal_inflate(state)
            let made = room - Int(state.pointee.avail_out)
            produced += made
            if rc < 0 {
                throw GzipInflateState.corrupt(rc, context)
            }
            if made == 0 && state.pointee.avail_in == before && !memberDone {
                throw GzipInflateState.noProgress(rc, context)
            }
        }
        return produced
    }
}
