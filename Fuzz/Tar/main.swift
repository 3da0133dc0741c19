import Foundation
import FuzzSupport
@testable import OCICore
#if canImport(Glibc)
import Glibc
#endif

// TarReader over a fuzzed stream, read twice: from a regular file (libarchive
// skips by seeking) and from a pipe (it reads through), with every member's
// data. Properties: no trap, no hang; every header value inside the ranges
// `TarEntry` documents; both reads see the same members and bytes; whatever
// was read can be written again with TarWriter and reads back the same.

/// What one pass saw: per member (path, kind, size, data digest) or the error.
struct Pass: Equatable {
    var members: [String] = []
    var error: String?
}

let limits = TarReader.Limits(sparse: .expand(maxLogicalSize: 8 << 20))

func checkInvariants(_ e: TarEntry) {
    Fuzz.check(!e.path.isEmpty && !e.path.utf8.contains(0), "bad path \(e.path.debugDescription)")
    Fuzz.check((0...Int64(UInt32.max)).contains(e.uid) && (0...Int64(UInt32.max)).contains(e.gid), "uid/gid out of range: \(e.uid)/\(e.gid)")
    Fuzz.check(e.size >= 0, "negative size \(e.size)")
    Fuzz.check(e.mode <= 0o7777, "mode \(e.mode)")
    Fuzz.check((0..<1_000_000_000).contains(e.mtimeNanoseconds), "nanoseconds \(e.mtimeNanoseconds)")
    Fuzz.check(e.kind == .regular || e.size == 0, "\(e.kind) with size \(e.size)")
    if e.kind != .characterDevice && e.kind != .blockDevice {
        Fuzz.check(e.deviceMajor == 0 && e.deviceMinor == 0, "device numbers on a \(e.kind)")
    }
    if let regions = e.sparseRegions {
        Fuzz.check(e.kind == .regular, "sparse map on a \(e.kind)")
        Fuzz.check(e.size <= limits.maxLogicalSizeForFuzz, "sparse member over the limit: \(e.size)")
        var end: Int64 = 0
        for r in regions {
            Fuzz.check(r.offset >= end && r.length >= 0 && r.offset <= e.size - r.length, "bad region \(r) in \(e.size)")
            end = r.offset + r.length
        }
    }
    Fuzz.check(e.xattrs.count <= limits.maxXattrs, "\(e.xattrs.count) xattrs")
    Fuzz.check(zip(e.xattrs, e.xattrs.dropFirst()).allSatisfy { $0.name < $1.name }, "xattrs not sorted or repeated")
}

extension TarReader.Limits {
    var maxLogicalSizeForFuzz: Int64 {
        if case let .expand(max) = sparse { return max }
        return 0
    }
}

/// Reads every member; keeps up to 64 small non-sparse ones for the round trip.
func read(_ reader: TarReader) -> (Pass, [(TarEntry, [UInt8])]) {
    var pass = Pass()
    var kept: [(TarEntry, [UInt8])] = []
    do {
        while let e = try reader.next() {
            checkInvariants(e)
            let sink = BoundedDigestSink(limit: 16 << 20)
            var data: [UInt8] = []
            if e.kind == .regular {
                let memory = BoundedMemorySink(limit: 1 << 20)
                let n = try reader.readData(into: TeeSink(sink, memory))
                Fuzz.check(n == e.size, "readData delivered \(n) of \(e.size) bytes of \(e.path)")
                data = memory.bytes
            } else {
                Fuzz.check(try reader.readData(into: sink) == 0, "data delivered for a \(e.kind)")
            }
            pass.members.append("\(e.path)|\(e.kind)|\(e.size)|\(try sink.digest())")
            if kept.count < 64 && !e.isSparse && data.count == Int(e.size) { kept.append((e, data)) }
        }
    } catch {
        pass.error = "\(error)"
    }
    return (pass, kept)
}

/// Feeds `bytes` through a pipe (a second thread writes, so any size works).
func readThroughPipe(_ bytes: UnsafeRawBufferPointer) -> Pass {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { Fuzz.fail("pipe: \(errno)") }
    let copy = Array(bytes)
    let writerFD = fds[1]
    let done = DispatchGroup()
    DispatchQueue.global().async(group: done) { copy.withUnsafeBytes { raw in
        var off = 0
        while let base = raw.baseAddress, off < raw.count {
            let n = Glibc.write(writerFD, base + off, raw.count - off)
            if n <= 0 { break }
            off += n
        }
        close(writerFD)
    } }
    defer { done.wait() }
    do {
        let reader = try TarReader(fd: fds[0], name: "fuzz", ownsDescriptor: true, allowEmpty: true, limits: limits)
        return read(reader).0
    } catch {
        // The reader owned the descriptor: a failed open closed it.
        return Pass(members: [], error: "\(error)")
    }
}

/// The pipe's writer may meet a reader that stopped early: EPIPE, not a signal.
let ignoreSIGPIPE: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

/// Writes `kept` members with TarWriter and reads them back.
func roundTrip(_ kept: [(TarEntry, [UInt8])]) {
    let out = BoundedMemorySink(limit: 64 << 20)
    var written: [(TarEntry, [UInt8])] = []
    do {
        let writer = try TarWriter(sink: out, name: "rewrite")
        for (e, data) in kept {
            var entry = e
            if entry.kind == .unknown || entry.kind == .socket { continue }
            if entry.kind == .hardlink && (entry.linkTarget ?? "").isEmpty { continue }
            entry.mtimeNanoseconds = 0
            do {
                try writer.writeHeader(entry)
                if entry.kind == .regular { try data.withUnsafeBytes { try writer.write($0) } }
                written.append((entry, data))
            } catch {
                return  // the writer refused a value: fine, as long as it did not trap
            }
        }
        try writer.finish()
    } catch {
        return
    }
    let file = out.bytes.withUnsafeBytes { Fuzz.write($0, to: "rewrite.tar") }
    do {
        let reader = try TarReader(path: file, allowEmpty: true, limits: limits)
        for (e, data) in written {
            guard let back = try reader.next() else { Fuzz.fail("rewritten tar ended before \(e.path)") }
            Fuzz.check(back.normalizedPath == e.normalizedPath, "path \(e.path.debugDescription) came back as \(back.path.debugDescription)")
            Fuzz.check(back.kind == e.kind, "\(e.path): kind \(e.kind) came back as \(back.kind)")
            Fuzz.check(back.uid == e.uid && back.gid == e.gid && back.mode == e.mode, "\(e.path): owner or mode changed")
            if e.kind == .symlink || e.kind == .hardlink {
                Fuzz.check(back.linkTarget == e.linkTarget, "\(e.path): link target \(String(describing: e.linkTarget)) came back as \(String(describing: back.linkTarget))")
            }
            if e.kind == .characterDevice || e.kind == .blockDevice {
                Fuzz.check(back.deviceMajor == e.deviceMajor && back.deviceMinor == e.deviceMinor, "\(e.path): device numbers changed")
            }
            let got = BoundedMemorySink(limit: 2 << 20)
            try reader.readData(into: got)
            Fuzz.check(got.bytes == data || e.kind != .regular, "\(e.path): data changed in the round trip")
        }
    } catch {
        Fuzz.fail("the tar TarWriter wrote does not read back: \(error)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTar(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    _ = ignoreSIGPIPE
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let path = Fuzz.write(bytes, to: "input.tar")
    var fromFile = Pass()
    var kept: [(TarEntry, [UInt8])] = []
    do {
        let reader = try TarReader(path: path, allowEmpty: true, limits: limits)
        (fromFile, kept) = read(reader)
    } catch {
        fromFile.error = "\(error)"
    }
    let fromPipe = readThroughPipe(bytes)
    // Seeking and reading through must agree on every member both reached.
    let common = min(fromFile.members.count, fromPipe.members.count)
    Fuzz.check(Array(fromFile.members.prefix(common)) == Array(fromPipe.members.prefix(common)),
               "file and pipe reads differ:\n\(fromFile.members.prefix(common))\n\(fromPipe.members.prefix(common))")
    if fromFile.members.count == fromPipe.members.count {
        Fuzz.check((fromFile.error == nil) == (fromPipe.error == nil),
                   "one read failed and the other did not: \(fromFile.error ?? "ok") / \(fromPipe.error ?? "ok")")
    }
    roundTrip(kept)
    return 0
}

@_cdecl("fuzz_tar_main")
public func fuzzTarMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    Fuzz.main(argc, argv, fuzzTar)
}
