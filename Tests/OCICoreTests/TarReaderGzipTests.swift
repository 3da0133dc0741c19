import Foundation
import OCICore
import OCITestSupport
import Testing

/// `TarReader` inflates gzip input itself with ISA-L (`IsalGzipInflater`)
/// instead of libarchive's zlib filter. Inputs are made by Python's
/// `tarfile`/`gzip` and GNU gzip: the reader must list the same members and
/// bytes as from the plain tar, read concatenated members, skip unread data
/// by reading through, accept what libarchive accepted after the stream,
/// and refuse corrupt or cut streams with one clean error naming the file.
@Suite("TarReader: gzip inflated with ISA-L")
struct TarReaderGzipTests {
    /// Writes plain.tar (3 members, one of 6 MiB of pseudo-random bytes, so
    /// several reads of inflated output and a file large enough to be
    /// inflated ahead) and its gzip variants into `dir`.
    static let program = #"""
import gzip, io, os, random, subprocess, sys, tarfile
d = sys.argv[1]
rng = random.Random(7)
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
    for name, data in [("a/small", b"hello\n"), ("a/big", rng.randbytes(6 << 20)), ("z/last", b"last member\n" * 1000)]:
        i = tarfile.TarInfo(name); i.size = len(data); i.mtime = 1700000000
        t.addfile(i, io.BytesIO(data))
plain = buf.getvalue()
def put(name, data):
    with open(os.path.join(d, name), "wb") as f: f.write(data)
put("plain.tar", plain)
gz = subprocess.run(["gzip", "-c", "-6"], input=plain, capture_output=True, check=True).stdout
put("gnu.tar.gz", gz)
half = len(plain) // 2
put("two-members.tar.gz", gzip.compress(plain[:half], mtime=0) + gzip.compress(plain[half:], mtime=0))
put("zero-padded.tar.gz", gz + b"\0" * 4096)
put("trailing-garbage.tar.gz", gz + b"not gzip at all\n")
put("cut.tar.gz", gz[: len(gz) * 3 // 4])
bad = bytearray(gz); bad[len(gz) // 2] ^= 0xff
put("flipped.tar.gz", bytes(bad))
bad_crc = bytearray(gz); bad_crc[-8] ^= 0xff
put("bad-crc.tar.gz", bytes(bad_crc))
"""#

    static func make() throws -> TempDir {
        let tmp = try TempDir(prefix: "ocitool-tar-gzip")
        let r = try Shell.run(["python3", "-c", program, tmp.path])
        try #require(r.status == 0, "\(r.stderr)")
        return tmp
    }

    /// Path, size and digest of every member, reading data only when `read`;
    /// with `ahead`, inflated on another thread (and checked to be).
    static func listing(_ path: String, read: Bool = true, ahead: Bool = false) throws -> [String] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        try #require(fd >= 0)
        let reader = try TarReader(fd: fd, name: path, ownsDescriptor: true, inflateAhead: ahead)
        var out: [String] = []
        while let e = try reader.next() {
            if ahead { #expect(reader.inflatesAhead, "\(path): not inflated ahead") }  // every file here is over 4 MiB
            if read {
                let sink = DigestingSink()
                try reader.readData(into: sink)
                out.append("\(e.path) \(e.size) \(try sink.digest())")
            } else {
                out.append("\(e.path) \(e.size)")
            }
        }
        return out
    }

    @Test(arguments: ["gnu.tar.gz", "two-members.tar.gz", "zero-padded.tar.gz", "trailing-garbage.tar.gz"])
    func readsWhatThePlainTarHolds(_ name: String) throws {
        let tmp = try Self.make()
        let plain = try Self.listing(tmp.file("plain.tar"))
        #expect(plain.count == 3)
        #expect(try Self.listing(tmp.file(name)) == plain)
        #expect(try Self.listing(tmp.file(name), ahead: true) == plain)
        #expect(try Self.listing(tmp.file(name), read: false, ahead: true) == Self.listing(tmp.file("plain.tar"), read: false))
        let reader = try TarReader(path: tmp.file(name))
        _ = try reader.next()
        #expect(reader.outerCompression == .gzip)
        #expect(reader.currentDataOffset == nil, "an offset in the inflated stream is not one in the file")
    }

    /// Members whose data is not read are skipped by reading through; the
    /// last member's bytes are still right.
    @Test func skippedDataIsReadThrough() throws {
        let tmp = try Self.make()
        #expect(try Self.listing(tmp.file("gnu.tar.gz"), read: false) == Self.listing(tmp.file("plain.tar"), read: false))
        let reader = try TarReader(path: tmp.file("gnu.tar.gz"))
        _ = try reader.next()
        _ = try reader.next()
        let last = try #require(try reader.next())
        let sink = MemorySink(limit: 1 << 20, context: "last")
        try reader.readData(into: sink)
        #expect(last.path == "z/last")
        #expect(sink.bytes == Array(("last member\n" as String).utf8) .repeated(1000))
    }

    /// From a pipe too (no seeking at all).
    @Test func fromAPipe() throws {
        let tmp = try Self.make()
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        let writer = fds[1]
        let source = tmp.file("two-members.tar.gz")
        let feeder = Thread {
            if let f = try? FileSource(path: source) {
                _ = try? f.copy(to: FDWriteSink(fd: writer))
            }
            close(writer)
        }
        feeder.start()
        let reader = try TarReader(fd: fds[0], name: "pipe", ownsDescriptor: true)
        var got: [String] = []
        while let e = try reader.next() {
            let sink = DigestingSink()
            try reader.readData(into: sink)
            got.append("\(e.path) \(e.size) \(try sink.digest())")
        }
        #expect(got == (try Self.listing(tmp.file("plain.tar"))))
    }

    @Test(arguments: [("cut.tar.gz", "gzip stream is truncated"), ("flipped.tar.gz", "gzip data is corrupt"),
                      ("bad-crc.tar.gz", "gzip data is corrupt")])
    func damagedStreamsFailCleanly(_ name: String, _ message: String) throws {
        let tmp = try Self.make()
        let path = tmp.file(name)
        for ahead in [false, true] {
            #expect {
                _ = try Self.listing(path, ahead: ahead)
            } throws: { error in
                let text = "\(error)"
                return error is CoreError && text.contains(path) && text.contains(message) && !text.contains("\n")
            }
        }
    }

    /// A reader dropped in the middle of a stream inflated ahead stops its
    /// worker (which reads the descriptor the reader closes) and waits for
    /// it: many in a row end, none hangs.
    @Test func droppedMidStreamStopsTheWorker() throws {
        let tmp = try Self.make()
        for _ in 0..<20 {
            let fd = open(tmp.file("gnu.tar.gz"), O_RDONLY | O_CLOEXEC)
            try #require(fd >= 0)
            let reader = try TarReader(fd: fd, name: "gnu.tar.gz", ownsDescriptor: true, inflateAhead: true)
            _ = try reader.next()
            #expect(reader.inflatesAhead)
        }
    }
}

/// Writes to a descriptor (the test's pipe feeder).
private final class FDWriteSink: ByteSink {
    let fd: Int32
    init(fd: Int32) { self.fd = fd }
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var off = 0
        while let base = bytes.baseAddress, off < bytes.count {
            let n = Glibc.write(fd, base + off, bytes.count - off)
            if n <= 0 { throw CoreError.io(context: "write pipe", errno: errno) }
            off += n
        }
    }
    func finish() throws {}
}

private extension Array {
    func repeated(_ n: Int) -> [Element] { Array((0..<n).map { _ in self }.joined()) }
}
