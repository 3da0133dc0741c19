import CIsal
import CZlib

// Raw deflate of one block for `ParallelGzipEncoder`, and the gzip CRC-32.

/// The gzip CRC-32 of `input` (ISA-L's folded CRC).
func gzipCRC32(_ input: UnsafeRawBufferPointer) -> UInt32 {
    guard let base = input.baseAddress, input.count > 0 else { return 0 }
    var crc: UInt32 = 0
    var offset = 0
    while offset < input.count {
        let n = min(input.count - offset, 1 << 30)
        crc = crc32_gzip_refl(crc, base.assumingMemoryBound(to: UInt8.self) + offset, UInt64(truncatingIfNeeded: n))
        offset += n
    }
    return crc
}

/// ISA-L for level 1, zlib for 2-9.
func makeBlockDeflater(level: Int, context: String) throws -> BlockDeflating {
    level <= 1 ? IsalBlockDeflater(context: context) : try ZlibBlockDeflater(level: level, context: context)
}

/// The 32-bit counts zlib and ISA-L take for one block's input, output
/// capacity and dictionary; a block too large for them is an error.
private func blockSizes(_ input: UnsafeRawBufferPointer, _ capacity: Int, _ dictionary: [UInt8],
                        _ context: String) throws -> (UInt32, UInt32, UInt32) {
    guard let i = UInt32(exactly: input.count), let o = UInt32(exactly: capacity), let d = UInt32(exactly: dictionary.count) else {
        throw CoreError.compression(context: context, message: "a deflate block of \(input.count) bytes is too large")
    }
    return (i, o, d)
}

/// Deflates one block as raw deflate data (no gzip framing), ending with a
/// sync flush (byte-aligned, not final) or, for the last block, a final block.
protocol BlockDeflating: AnyObject {
    func deflate(_ input: UnsafeRawBufferPointer, dictionary: [UInt8], last: Bool,
                 into out: UnsafeMutablePointer<UInt8>, capacity: Int) throws -> Int
}

/// ISA-L igzip at its level 2.
final class IsalBlockDeflater: BlockDeflating {
    static let level: UInt32 = 2
    static let levelBufferSize = Int(OCITOOL_ISAL_LVL2_BUF)
    private let stream: UnsafeMutablePointer<isal_zstream>
    private let levelBuffer: UnsafeMutablePointer<UInt8>
    private let context: String

    init(context: String) {
        self.context = context
        stream = .allocate(capacity: 1)
        UnsafeMutableRawPointer(stream).initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<isal_zstream>.size)
        levelBuffer = .allocate(capacity: Self.levelBufferSize)
    }

    deinit {
        stream.deallocate()
        levelBuffer.deallocate()
    }

    func deflate(_ input: UnsafeRawBufferPointer, dictionary: [UInt8], last: Bool,
                          into out: UnsafeMutablePointer<UInt8>, capacity: Int) throws -> Int {
        let (inCount, outCount, dictCount) = try blockSizes(input, capacity, dictionary, context)
        isal_deflate_init(stream)
        stream.pointee.level = Self.level
        stream.pointee.level_buf = levelBuffer
        stream.pointee.level_buf_size = UInt32(truncatingIfNeeded: Self.levelBufferSize)
        stream.pointee.gzip_flag = UInt16(IGZIP_DEFLATE)
        stream.pointee.end_of_stream = last ? 1 : 0
        stream.pointee.flush = UInt16(last ? NO_FLUSH : SYNC_FLUSH)
        if !dictionary.isEmpty {
            let rc = dictionary.withUnsafeBufferPointer { d in
                isal_deflate_set_dict(stream, UnsafeMutablePointer(mutating: d.baseAddress), dictCount)
            }
            guard rc == COMP_OK else { throw CoreError.compression(context: context, message: "igzip set_dict failed (\(rc))") }
        }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
        stream.pointee.avail_in = inCount
        stream.pointee.next_out = out
        stream.pointee.avail_out = outCount
        var idle = 0
        while true {
            let inBefore = stream.pointee.avail_in, outBefore = stream.pointee.avail_out
            let rc = isal_deflate(stream)
            guard rc == COMP_OK else { throw CoreError.compression(context: context, message: "igzip deflate failed (\(rc))") }
            let state = stream.pointee.internal_state.state
            let complete = stream.pointee.avail_in == 0 && (last ? state == ZSTATE_END : state == ZSTATE_NEW_HDR)
            if complete { break }
            guard stream.pointee.avail_out > 0 else {
                throw CoreError.compression(context: context, message: "igzip output of a block exceeds \(capacity) bytes")
            }
            // Calls may only move igzip's internal state; many in a row that
            // neither consume nor produce mean it is stuck.
            idle = stream.pointee.avail_in == inBefore && stream.pointee.avail_out == outBefore ? idle + 1 : 0
            guard idle <= 16 else { throw CoreError.compression(context: context, message: "igzip deflate makes no progress") }
        }
        return capacity - Int(stream.pointee.avail_out)
    }
}

/// zlib at levels 2-9 (raw deflate).
final class ZlibBlockDeflater: BlockDeflating {
    private let stream: UnsafeMutablePointer<z_stream>
    private let context: String

    init(level: Int, context: String) throws {
        self.context = context
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let rc = ocitool_deflateInit2(stream, Int32(truncatingIfNeeded: level), -15, 8)
        guard rc == Z_OK else {
            stream.deallocate()
            throw CoreError.compression(context: context, message: "deflateInit2 failed (\(rc))")
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
    }

    func deflate(_ input: UnsafeRawBufferPointer, dictionary: [UInt8], last: Bool,
                          into out: UnsafeMutablePointer<UInt8>, capacity: Int) throws -> Int {
        let (inCount, outCount, dictCount) = try blockSizes(input, capacity, dictionary, context)
        let reset = deflateReset(stream)
        guard reset == Z_OK else { throw CoreError.compression(context: context, message: "deflateReset failed (\(reset))") }
        if !dictionary.isEmpty {
            let rc = dictionary.withUnsafeBufferPointer { d in deflateSetDictionary(stream, d.baseAddress, dictCount) }
            guard rc == Z_OK else { throw CoreError.compression(context: context, message: "deflateSetDictionary failed (\(rc))") }
        }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
        stream.pointee.avail_in = inCount
        stream.pointee.next_out = out
        stream.pointee.avail_out = outCount
        let rc = CZlib.deflate(stream, last ? Z_FINISH : Z_SYNC_FLUSH)
        let ok = last ? rc == Z_STREAM_END : (rc == Z_OK && stream.pointee.avail_out > 0)
        guard ok, stream.pointee.avail_in == 0 else {
            throw CoreError.compression(context: context, message: "deflate of a block failed (\(rc))")
        }
        return capacity - Int(stream.pointee.avail_out)
    }
}
