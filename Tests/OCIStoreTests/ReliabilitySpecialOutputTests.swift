import Foundation
import Testing
import OCICore
import OCITestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Reads a FIFO on its own thread until the writer closes it, hashing what
/// it reads.
final class FIFOReader: @unchecked Sendable {
    let path: String
    private let done = DispatchSemaphore(value: 0)
    private var digest: Digest?
    private var count: Int64 = 0
    private var failure: String?

    init(_ path: String) {
        self.path = path
        let thread = Thread { [self] in
            defer { done.signal() }
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { failure = "open \(path): errno \(errno)"; return }
            defer { close(fd) }
            let sink = DigestingSink()
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                count += Int64(n)
                do { try buffer.withUnsafeBytes { try sink.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) } } catch {
                    failure = "\(error)"
                    return
                }
            }
            digest = try? sink.digest()
        }
        thread.start()
    }

    /// Waits for the reader (after the writer exited: if it never opened
    /// the FIFO, opening it here for writing lets the reader see EOF).
    func finish() -> (digest: Digest?, bytes: Int64, failure: String?) {
        let fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        if fd >= 0 { close(fd) }
        done.wait()
        return (digest, count, failure)
    }
}

@Suite("Reliability: -o onto FIFOs, symlinks and devices writes into them, never replaces them")
struct ReliabilitySpecialOutputTests {
    enum Verb: String, CaseIterable, CustomStringConvertible, Sendable {
        case save, export, convert
        var description: String { rawValue }
    }

    /// The verb's command line writing to `output`.
    static func command(_ verb: Verb, root: String, output: String, images: Reliability.Images) -> [String] {
        switch verb {
        case .save: return ["save", "--root", root, "-o", output, "app:1"]
        case .export: return ["export", "--root", root, "-o", output, "app:1"]
        case .convert: return ["convert", "--format", "oci", "-o", output, images.app]
        }
    }

    final class Setup {
        let tmp: TempDir
        let images: Reliability.Images
        let root: String
        let verb: Verb
        /// The output written to a new regular file (the verbs are reproducible).
        let reference: Digest

        init(_ verb: Verb) throws {
            self.verb = verb
            tmp = try TempDir(prefix: "ocitool-special")
            images = try Reliability.images()
            root = tmp.file("root")
            try Reliability.ocitoolOK(root, "load", ["-q", images.app])
            let out = tmp.file("reference")
            let r = try OCIToolBinary.run(ReliabilitySpecialOutputTests.command(verb, root: root, output: out, images: images))
            guard r.status == 0 else { throw PeerRunner.Failure(description: "\(verb) -o FILE: \(r.stderr)") }
            reference = try PeerTools.sha256sum(path: out)
        }

        func run(_ output: String) throws -> Shell.Result {
            try OCIToolBinary.run(ReliabilitySpecialOutputTests.command(verb, root: root, output: output, images: images))
        }
    }

    /// Device number 1,3 (the null device), as glibc encodes small numbers.
    static let nullDevice: dev_t = (1 << 8) | 3

    static func lstatMode(_ path: String) -> mode_t? {
        var st = stat()
        return lstat(path, &st) == 0 ? st.st_mode & S_IFMT : nil
    }

    static func rdev(_ path: String) -> UInt? {
        var st = stat()
        return lstat(path, &st) == 0 ? UInt(st.st_rdev) : nil
    }

    @Test(arguments: Verb.allCases)
    func symlinksAndFIFOs(_ verb: Verb) throws {
        let s = try Setup(verb)

        // A symlink to a regular file: the file it names is written, the link stays.
        for relative in [false, true] {
            let target = s.tmp.file("target-\(relative)")
            try FS.writeAtomically(target, bytes: Array("old contents".utf8))
            let link = s.tmp.file("link-\(relative)")
            #expect(symlink(relative ? "target-\(relative)" : target, link) == 0)
            let r = try s.run(link)
            #expect(r.status == 0, "\(verb) -o symlink: \(r.stderr)")
            #expect(Self.lstatMode(link) == S_IFLNK, "the symlink was replaced")
            #expect(try PeerTools.sha256sum(path: target) == s.reference, "the link's target does not hold the output")
            #expect(try FS.listDirectory(s.tmp.path).allSatisfy { !$0.contains("ocitool-tmp") }, "temp file left")
        }

        // A FIFO: a reader gets exactly the bytes a regular file gets.
        let fifo = s.tmp.file("fifo")
        #expect(mkfifo(fifo, 0o644) == 0)
        let reader = FIFOReader(fifo)
        let r = try s.run(fifo)
        let got = reader.finish()
        #expect(r.status == 0, "\(verb) -o FIFO: \(r.stderr)")
        #expect(got.failure == nil, "\(got.failure ?? "")")
        #expect(got.digest == s.reference, "the FIFO's reader got \(got.bytes) bytes that differ from the file output")
        #expect(Self.lstatMode(fifo) == S_IFIFO, "the FIFO was replaced")
    }

    @Test(arguments: Verb.allCases)
    func characterDevices(_ verb: Verb) throws {
        let s = try Setup(verb)
        // A null device made in the temp dir first: if a regression replaced
        // device files, it replaces this one, not the machine's /dev/null.
        var nodeStayed = true
        if getuid() == 0 {
            let node = s.tmp.file("null-node")
            #expect(mknod(node, S_IFCHR | 0o666, Self.nullDevice) == 0, "mknod: errno \(errno)")
            let r = try s.run(node)
            #expect(r.status == 0, "\(verb) -o a device node: \(r.stderr)")
            nodeStayed = Self.lstatMode(node) == S_IFCHR && Self.rdev(node) == UInt(Self.nullDevice)
            #expect(nodeStayed, "the character device was replaced by a file")
        } else {
            print("\(verb): not root, so no device node of our own (mknod): testing /dev/null only")
        }
        guard nodeStayed else {
            Issue.record("not writing to /dev/null: a device node was replaced, /dev/null would be too")
            return
        }
        let devNull = Self.rdev("/dev/null")
        let r = try s.run("/dev/null")
        #expect(r.status == 0, "\(verb) -o /dev/null: \(r.stderr)")
        #expect(Self.lstatMode("/dev/null") == S_IFCHR && Self.rdev("/dev/null") == devNull, "/dev/null was replaced")

        let link = s.tmp.file("to-dev-null")
        #expect(symlink("/dev/null", link) == 0)
        let l = try s.run(link)
        #expect(l.status == 0, "\(verb) -o symlink to /dev/null: \(l.stderr)")
        #expect(Self.lstatMode(link) == S_IFLNK, "the symlink was replaced")
        #expect(Self.lstatMode("/dev/null") == S_IFCHR && Self.rdev("/dev/null") == devNull, "/dev/null was replaced")
    }
}
