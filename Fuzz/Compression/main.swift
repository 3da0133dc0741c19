import FuzzSupport
@testable import OCICore

// The compression detector, decoders and encoders on fuzzed bytes.
// Properties: no trap or hang, output bounded; zlib and ISA-L agree on
// every stream both accept; every encoder's output decodes to its input
// with both decoders, whatever the chunking.

let outputLimit: Int64 = 32 << 20

/// Writes `bytes` into `sink` in `chunk`-byte pieces, then finishes it.
func feed(_ bytes: [UInt8], chunk: Int, into sink: ByteSink) throws {
    var offset = 0
    while offset < bytes.count {
        let end = min(bytes.count, offset + chunk)
        try bytes[offset..<end].withUnsafeBytes { try sink.write($0) }
        offset = end
    }
    try sink.finish()
}

/// Decodes `input` fed in `chunk`-byte pieces; nil when the decoder refuses it.
func decode(_ input: [UInt8], chunk: Int, _ make: (ByteSink) throws -> ByteSink) -> (Digest, Int64)? {
    let sink = BoundedDigestSink(limit: outputLimit)
    do {
        try feed(input, chunk: chunk, into: try make(sink))
        Fuzz.check(sink.finished, "a decoder finished without finishing its sink")
        return (try sink.digest(), sink.count)
    } catch {
        return nil
    }
}

/// Encodes `payload` and checks both decoders give it back.
func roundTrip(_ payload: [UInt8], name: String, chunk: Int, _ make: (ByteSink) throws -> ByteSink) {
    let out = BoundedMemorySink(limit: 8 << 20)
    do {
        try feed(payload, chunk: chunk, into: try make(out))
    } catch {
        Fuzz.fail("\(name) failed to encode \(payload.count) bytes: \(error)")
    }
    let want = SHA256Hasher.digest(payload)
    let kind = Compression.detect(out.bytes)
    Fuzz.check(kind == (name == "zstd" ? .zstd : .gzip), "\(name) output detected as \(kind)")
    let decoders: [(String, (ByteSink) throws -> ByteSink)] = name == "zstd"
        ? [("zstd", { try ZstdDecoder(into: $0, context: "fuzz") })]
        : [("zlib", { try GzipDecoder(into: $0, context: "fuzz") }), ("isal", { IsalGzipDecoder(into: $0, context: "fuzz") })]
    for (dname, d) in decoders {
        guard let (got, n) = decode(out.bytes, chunk: chunk, d) else { Fuzz.fail("\(dname) cannot decode what \(name) wrote") }
        Fuzz.check(got == want && n == Int64(payload.count), "\(dname) decodes \(name)'s output to different bytes")
    }
}

/// The pull-mode inflater `TarReader` uses, refilled `chunk` bytes at a
/// time and read `capacity` bytes at a time; nil when it refuses the input
/// (or its output passes `outputLimit`).
func inflatePull(_ input: [UInt8], chunk: Int, capacity: Int) -> (Digest, Int64)? {
    final class Cursor { var offset = 0 }
    let cursor = Cursor()
    let first = min(chunk, input.count)
    cursor.offset = first
    let inflater = input.withUnsafeBytes { raw in
        IsalGzipInflater(first: UnsafeRawBufferPointer(rebasing: raw[0..<first]), inputSize: chunk, context: "fuzz") { buffer, count in
            let n = min(count, chunk, input.count - cursor.offset)
            if n > 0 {
                input.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress! + cursor.offset, byteCount: n) }
                cursor.offset += n
            }
            return n
        }
    }
    let out = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    defer { out.deallocate() }
    let sink = DigestingSink()
    var total: Int64 = 0
    do {
        while true {
            let n = try inflater.read(into: out, capacity: capacity)
            Fuzz.check((0...capacity).contains(n), "the inflater returned \(n) bytes for a \(capacity)-byte buffer")
            if n == 0 { break }
            total += Int64(n)
            if total > outputLimit { return nil }
            try sink.write(UnsafeRawBufferPointer(start: out, count: n))
        }
        return (try sink.digest(), total)
    } catch {
        return nil
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCompression(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let input = Array(UnsafeRawBufferPointer(start: data, count: size))
    let chunk = 1 + Int(input.first ?? 0) * 37 % 4099
    _ = Compression.detect(input)

    let zlib = decode(input, chunk: chunk) { try GzipDecoder(into: $0, context: "fuzz") }
    let isal = decode(input, chunk: chunk) { IsalGzipDecoder(into: $0, context: "fuzz") }
    if let zlib, let isal {
        Fuzz.check(zlib == isal, "zlib and ISA-L decode the same gzip stream differently (\(zlib.1) vs \(isal.1) bytes)")
    }
    // What the push decoder accepts, the pull inflater reads the same
    // (it also stops quietly at bytes after a member that cannot start one).
    let pulled = inflatePull(input, chunk: chunk, capacity: 1 + Int(input.last ?? 0) * 263 % 70_001)
    if let isal {
        Fuzz.check(pulled.map { $0 == isal } == true, "the pull inflater reads an accepted gzip stream differently (\(pulled?.1 ?? -1) vs \(isal.1) bytes)")
    }
    let whole = decode(input, chunk: max(1, input.count), { try GzipDecoder(into: $0, context: "fuzz") })
    Fuzz.check(zlib.map(\.0) == whole.map(\.0), "zlib's output or verdict depends on the chunking")
    _ = decode(input, chunk: chunk) { try ZstdDecoder(into: $0, context: "fuzz") }

    let level = Int(input.last ?? 0)
    roundTrip(input, name: "zlib", chunk: chunk) { try GzipEncoder(into: $0, level: level % 10, context: "fuzz") }
    roundTrip(input, name: "isal", chunk: chunk) { IsalGzipEncoder(into: $0, context: "fuzz") }
    roundTrip(input, name: "parallel", chunk: chunk) {
        try ParallelGzipEncoder(into: $0, level: 1 + level % 9, threads: 1 + level % 2, blockSize: 64 << 10, context: "fuzz")
    }
    roundTrip(input, name: "zstd", chunk: chunk) { try ZstdEncoder(into: $0, level: 1 + level % 5, threads: 1, context: "fuzz") }
    return 0
}

@_cdecl("fuzz_compression_main")
public func fuzzCompressionMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    Fuzz.main(argc, argv, fuzzCompression)
}
