import CZlib

private let outChunk = 256 << 10
/// zlib counts input in 32-bit fields: feed at most this much per call.
private let maxZlibInput = 1 << 30

/// A streaming gzip encoder (zlib). The header is pinned (mtime 0, no name,
/// OS 255 "unknown") so the same input gives the same bytes on every machine.
///
/// zlib keeps pointers into its `z_stream` and to the `gz_header`, so both
/// live on the heap, never in a Swift value that could move. Dropped
/// without `finish()`, the encoder writes nothing more: the stream has no
/// final block and no trailer (CRC, length), so it reads as truncated.
package final class GzipEncoder: ByteSink {
    private let stream: UnsafeMutablePointer<z_stream>
    private let header: UnsafeMutablePointer<gz_header>
    private let next: ByteSink
    private let context: String
    private let out: UnsafeMutablePointer<UInt8>
    private var finished = false
    private var failed = false

    /// - Parameters:
    ///   - level: zlib's level, 0-9.
    /// - Throws: `CoreError.compression` for a level out of range or when zlib cannot start.
    package init(into next: ByteSink, level: Int = 6, context: String) throws {
        guard (0...9).contains(level) else {
            throw CoreError.compression(context: context, message: "gzip level \(level) is out of range (0-9)")
        }
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let rc = ocitool_deflateInit2(stream, Int32(truncatingIfNeeded: level), 15 + 16, 8)
        guard rc == Z_OK else {
            stream.deallocate()
            throw CoreError.compression(context: context, message: "deflateInit2 failed (\(rc))")
        }
        let header = UnsafeMutablePointer<gz_header>.allocate(capacity: 1)
        header.initialize(to: gz_header())
        header.pointee.time = 0
        header.pointee.os = 255
        let hrc = deflateSetHeader(stream, header)
        guard hrc == Z_OK else {
            deflateEnd(stream)
            stream.deallocate()
            header.deallocate()
            throw CoreError.compression(context: context, message: "deflateSetHeader failed (\(hrc))")
        }
        self.stream = stream
        self.header = header
        self.next = next
        self.context = context
        out = .allocate(capacity: outChunk)
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
        header.deallocate()
        out.deallocate()
    }

    package func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        guard !finished, !failed else {
            throw CoreError.compression(context: context, message: finished ? "write after finish" : "write after a failure")
        }
        var offset = 0
        while offset < bytes.count {
            let n = min(bytes.count - offset, maxZlibInput)
            stream.pointee.next_in = UnsafeMutablePointer(mutating: (base + offset).assumingMemoryBound(to: UInt8.self))
            stream.pointee.avail_in = UInt32(truncatingIfNeeded: n)
            try pump(flush: Z_NO_FLUSH)
            offset += n
        }
    }

    package func finish() throws {
        guard !finished else { return }
        guard !failed else { throw CoreError.compression(context: context, message: "finish after a failure") }
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0
        try pump(flush: Z_FINISH)
        finished = true
        try next.finish()
    }

    private func pump(flush: Int32) throws {
        while true {
            let inBefore = stream.pointee.avail_in
            stream.pointee.next_out = out
            stream.pointee.avail_out = UInt32(truncatingIfNeeded: outChunk)
            let rc = deflate(stream, flush)
            // Z_BUF_ERROR only means "no progress possible": no input left
            // and room for output; anything else but Z_OK/Z_STREAM_END is fatal.
            guard rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR else {
                failed = true
                throw CoreError.compression(context: context, message: "deflate failed (\(rc))")
            }
            let have = outChunk - Int(stream.pointee.avail_out)
            if have > 0 {
                do { try next.write(UnsafeRawBufferPointer(start: out, count: have)) } catch {
                    failed = true
                    throw error
                }
            }
            if flush == Z_FINISH {
                if rc == Z_STREAM_END { return }
                if rc == Z_BUF_ERROR && have == 0 {
                    failed = true
                    throw CoreError.compression(context: context, message: "deflate made no progress at the end of the stream")
                }
            } else if stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 {
                return
            } else if have == 0 && stream.pointee.avail_in == inBefore {
                failed = true
                throw CoreError.compression(context: context, message: "deflate made no progress")
            }
        }
    }
}

/// A streaming gzip decoder (zlib) that accepts concatenated members and
/// rejects truncated or corrupt input with a clear error.
package final class GzipDecoder: ByteSink {
    private let stream: UnsafeMutablePointer<z_stream>
    private let next: ByteSink
    private let context: String
    private let out: UnsafeMutablePointer<UInt8>
    private var atMemberEnd = false
    private var sawInput = false
    private var finished = false

    package init(into next: ByteSink, context: String) throws {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let rc = ocitool_inflateInit2(stream, 15 + 16)
        guard rc == Z_OK else {
            stream.deallocate()
            throw CoreError.compression(context: context, message: "inflateInit2 failed (\(rc))")
        }
        self.stream = stream
        self.next = next
        self.context = context
        out = .allocate(capacity: outChunk)
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        out.deallocate()
    }

    package func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        var offset = 0
        while offset < bytes.count {
            let n = min(bytes.count - offset, maxZlibInput)
            try inflateChunk(base + offset, n)
            offset += n
        }
    }

    private func inflateChunk(_ base: UnsafeRawPointer, _ count: Int) throws {
        stream.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: UInt8.self))
        stream.pointee.avail_in = UInt32(truncatingIfNeeded: count)
        while stream.pointee.avail_in > 0 {
            if atMemberEnd {
                // Another gzip member follows (pigz, bgzip style), or trailing zeros.
                guard let p = stream.pointee.next_in else { break }
                if p.pointee == 0 {
                    // Trailing zero padding after the last member: accept and ignore.
                    stream.pointee.next_in = p + 1
                    stream.pointee.avail_in -= 1
                    continue
                }
                let rc = inflateReset(stream)
                guard rc == Z_OK else { throw CoreError.compression(context: context, message: "inflateReset failed (\(rc))") }
                atMemberEnd = false
            }
            sawInput = true
            let inBefore = stream.pointee.avail_in
            stream.pointee.next_out = out
            stream.pointee.avail_out = UInt32(truncatingIfNeeded: outChunk)
            let rc = inflate(stream, Z_NO_FLUSH)
            let have = outChunk - Int(stream.pointee.avail_out)
            if have > 0 { try next.write(UnsafeRawBufferPointer(start: out, count: have)) }
            switch rc {
            case Z_OK, Z_BUF_ERROR:
                // Each call consumes input or fills output; a call doing
                // neither would loop forever.
                if have == 0 && stream.pointee.avail_in == inBefore {
                    throw CoreError.compression(context: context, message: "gzip data is corrupt: inflate makes no progress")
                }
            case Z_STREAM_END:
                atMemberEnd = true
            default:
                let msg = stream.pointee.msg.map { String(cString: $0) } ?? "error \(rc)"
                throw CoreError.compression(context: context, message: "gzip data is corrupt: \(msg)")
            }
        }
    }

    package func finish() throws {
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
