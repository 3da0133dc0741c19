import CZlib

private let outChunk = 256 << 10

/// A streaming gzip encoder (zlib). The header is pinned (mtime 0, no name,
/// OS 255 "unknown") so the same input gives the same bytes on every machine.
public final class GzipEncoder: ByteSink {
    private var stream = z_stream()
    private let next: ByteSink
    private let context: String
    private var out: UnsafeMutablePointer<UInt8>
    private var header = gz_header()
    private var finished = false

    public init(into next: ByteSink, level: Int = 6, context: String) throws {
        self.next = next
        self.context = context
        out = .allocate(capacity: outChunk)
        let rc = ocitool_deflateInit2(&stream, Int32(level), 15 + 16, 8)
        guard rc == Z_OK else {
            out.deallocate()
            throw CoreError.compression(context: context, message: "deflateInit2 failed (\(rc))")
        }
        header.time = 0
        header.os = 255
        deflateSetHeader(&stream, &header)
    }

    deinit {
        deflateEnd(&stream)
        out.deallocate()
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        stream.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: UInt8.self))
        stream.avail_in = UInt32(bytes.count)
        try pump(flush: Z_NO_FLUSH)
    }

    public func finish() throws {
        guard !finished else { return }
        finished = true
        stream.next_in = nil
        stream.avail_in = 0
        try pump(flush: Z_FINISH)
        try next.finish()
    }

    private func pump(flush: Int32) throws {
        repeat {
            stream.next_out = out
            stream.avail_out = UInt32(outChunk)
            let rc = deflate(&stream, flush)
            if rc == Z_STREAM_ERROR {
                throw CoreError.compression(context: context, message: "deflate failed")
            }
            let have = outChunk - Int(stream.avail_out)
            if have > 0 { try next.write(UnsafeRawBufferPointer(start: out, count: have)) }
            if flush == Z_FINISH && rc == Z_STREAM_END { return }
        } while stream.avail_out == 0 || stream.avail_in > 0 || flush == Z_FINISH
    }
}

/// A streaming gzip decoder (zlib) that accepts concatenated members and
/// rejects truncated or corrupt input with a clear error.
public final class GzipDecoder: ByteSink {
    private var stream = z_stream()
    private let next: ByteSink
    private let context: String
    private var out: UnsafeMutablePointer<UInt8>
    private var atMemberEnd = false
    private var sawInput = false
    private var finished = false

    public init(into next: ByteSink, context: String) throws {
        self.next = next
        self.context = context
        out = .allocate(capacity: outChunk)
        let rc = ocitool_inflateInit2(&stream, 15 + 16)
        guard rc == Z_OK else {
            out.deallocate()
            throw CoreError.compression(context: context, message: "inflateInit2 failed (\(rc))")
        }
    }

    deinit {
        inflateEnd(&stream)
        out.deallocate()
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        stream.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: UInt8.self))
        stream.avail_in = UInt32(bytes.count)
        while stream.avail_in > 0 {
            if atMemberEnd {
                // Another gzip member follows (pigz, bgzip style), or trailing zeros.
                if stream.next_in.pointee == 0 {
                    // Trailing zero padding after the last member: accept and ignore.
                    stream.next_in += 1
                    stream.avail_in -= 1
                    continue
                }
                inflateReset(&stream)
                atMemberEnd = false
            }
            sawInput = true
            stream.next_out = out
            stream.avail_out = UInt32(outChunk)
            let rc = inflate(&stream, Z_NO_FLUSH)
            let have = outChunk - Int(stream.avail_out)
            if have > 0 { try next.write(UnsafeRawBufferPointer(start: out, count: have)) }
            switch rc {
            case Z_OK, Z_BUF_ERROR:
                continue
            case Z_STREAM_END:
                atMemberEnd = true
            default:
                let msg = stream.msg.map { String(cString: $0) } ?? "error \(rc)"
                throw CoreError.compression(context: context, message: "gzip data is corrupt: \(msg)")
            }
        }
    }

    public func finish() throws {
        guard !finished else { return }
        finished = true
        guard atMemberEnd || !sawInput else {
            throw CoreError.compression(context: context, message: "gzip stream is truncated (unexpected end of data)")
        }
        guard sawInput else {
            throw CoreError.compression(context: context, message: "gzip stream is empty")
        }
        try next.finish()
    }
}
