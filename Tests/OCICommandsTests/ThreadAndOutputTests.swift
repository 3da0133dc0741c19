import Foundation
import Testing
import OCICore
import OCITestSupport
#if canImport(Glibc)
import Glibc
#endif

// Threads and outputs (issue #10): every thread an operation starts has
// ended by exit (OCITOOL_DEBUG_THREADS=1 prints the counts), and every
// `-o` behaves like AtomicOutput promises for save, convert, export,
// commit and analyze --html.

/// Inputs shared by these tests, made once: a big generated image (layers
/// over 4 MiB, so the worker pools run), the same image with one layer
/// corrupted, a small podman image with a corrupted layer, a layer tar.
final class BigImages: Sendable {
    let tmp: TempDir
    let good: GeneratedImage.Made
    /// `good` with a byte of its first layer blob flipped (the blob no longer matches its name).
    let corruptBig: String
    /// TestImages/podman-oci.tar with a byte of a layer blob flipped.
    let corruptSmall: String
    /// A one-file layer tar (GNU tar) for `commit --layer`.
    let layer: String

    static let shared: Result<BigImages, any Error> = Result { try BigImages() }

    private init() throws {
        try Required.tools("python3", "tar", "skopeo")
        tmp = try TempDir(prefix: "ocitool-big")
        good = try GeneratedImage.ociArchive(at: tmp.file("big.tar"), layers: 2, bytesPerLayer: 6 << 20, seed: 7)
        // skopeo, an independent reader, agrees on what was made.
        let peer = try PeerView.skopeo("oci-archive:\(good.path)")
        guard peer.configDigest.description == good.configDigest, peer.diffIDs == good.diffIDs else {
            throw PeerRunner.Failure(description: "skopeo reads \(peer) from the generated image")
        }
        let dir = tmp.file("big-dir")
        _ = try GeneratedImage.ociArchive(at: dir, layers: 2, bytesPerLayer: 6 << 20, seed: 7, directory: true)
        try Self.flipByte(dir + "/blobs/" + good.layerDigests[0].replacingOccurrences(of: ":", with: "/"))
        corruptBig = tmp.file("corrupt-big.tar")
        try Self.tar(dir, to: corruptBig)

        let small = tmp.file("small")
        try PeerRunner.untar(try Required.testImage("podman-oci.tar"), into: small)
        let x = try ArchiveOracle.extract(try Required.testImage("podman-oci.tar"), into: tmp.file("small-oracle"))
        let victim = try #require(x.images.first?.layers.first?.digest)
        try Self.flipByte(small + "/blobs/" + victim.replacingOccurrences(of: ":", with: "/"))
        corruptSmall = tmp.file("corrupt-small.tar")
        try Self.tar(small, to: corruptSmall)

        let content = tmp.file("layer-content")
        try FS.makeDirectories(content + "/opt")
        try FS.writeAtomically(content + "/opt/added.txt", bytes: Array("added by the test\n".utf8))
        layer = tmp.file("layer.tar")
        let r = try Shell.run(["tar", "--owner=0", "--group=0", "-cf", layer, "-C", content, "opt"])
        guard r.status == 0 else { throw PeerRunner.Failure(description: "tar -cf: \(r.stderr)") }
    }

    static func flipByte(_ path: String) throws {
        var bytes = try FS.readFile(path, limit: 1 << 28)
        bytes[bytes.count / 2] ^= 0x5a
        FS.removeFile(path)
        try FS.writeAtomically(path, bytes: bytes)
    }

    static func tar(_ dir: String, to archive: String) throws {
        let r = try Shell.run(["tar", "-cf", archive, "-C", dir, "oci-layout", "index.json", "blobs"])
        guard r.status == 0 else { throw PeerRunner.Failure(description: "tar -cf \(archive): \(r.stderr)") }
    }
}

/// `ocitool: threads at start N, at exit M` → (N, M).
func threadCounts(_ stderr: String) -> (start: Int, exit: Int)? {
    for line in stderr.split(separator: "\n") where line.hasPrefix("ocitool: threads at start ") {
        let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        if numbers.count == 2 { return (numbers[0], numbers[1]) }
    }
    return nil
}

@Suite("threads: no operation leaves a thread running")
struct ThreadTests {
    @Test func failingBatchConvertJoinsItsThreads() throws {
        let big = try BigImages.shared.get()
        let tmp = try TempDir(prefix: "ocitool-threads")
        let cli = OCIToolCLI(root: tmp.file("store"), tmpdir: tmp.file("tmp"))
        let out = tmp.file("out")
        let inputs = [try Required.testImage("podman-docker.tar"), big.corruptBig, try Required.testImage("podman-oci.tar"), big.good.path]
        let r = try cli.raw(["convert", "--output-dir", out, "--jobs", "2", "--format", "oci", "--compress", "zstd"] + inputs,
                            environment: ["OCITOOL_DEBUG_THREADS": "1"])
        #expect(r.status == 1, "one input is corrupt: \(r.stderr)")
        let counts = try #require(threadCounts(r.stderr), "no thread counts on stderr: \(r.stderr)")
        #expect(counts.exit <= counts.start, "threads at start \(counts.start), at exit \(counts.exit)")
        // The table: the corrupt one failed naming its blob, the others were written.
        let rows = r.stdoutText.split(separator: "\n")
        let bad = try #require(rows.first { $0.hasPrefix(big.corruptBig) })
        #expect(bad.contains("failed:") && bad.contains(String(big.good.layerDigests[0].dropFirst(7))), "\(bad)")
        #expect(!FS.exists(out + "/corrupt-big.tar"), "a failed conversion left its output")
        for name in ["podman-docker.tar", "podman-oci.tar", "big.tar"] {
            #expect(rows.contains { $0.contains(name) && $0.hasSuffix("ok") }, "\(name): \(r.stdoutText)")
            let got = try PeerView.skopeo("oci-archive:\(out)/\(name)")
            #expect(got.layerMediaTypes.allSatisfy { $0.hasSuffix("+zstd") }, "\(name): \(got.layerMediaTypes)")
        }
        #expect(try PeerView.skopeo("oci-archive:\(out)/big.tar").configDigest.description == big.good.configDigest)
        #expect(cli.leftovers().isEmpty, "spools left: \(cli.leftovers())")
    }

    @Test func bigGzipLoadJoinsItsThreads() throws {
        let big = try BigImages.shared.get()
        let tmp = try TempDir(prefix: "ocitool-threads-load")
        let cli = OCIToolCLI(root: tmp.file("store"), tmpdir: tmp.file("tmp"))
        for (what, stdin) in [("file", nil), ("stdin", big.good.path)] as [(String, String?)] {
            let r = try cli.run("load", stdin == nil ? [big.good.path] : [], stdinFile: stdin, environment: ["OCITOOL_DEBUG_THREADS": "1"])
            #expect(r.status == 0, "\(what): \(r.stderr)")
            let counts = try #require(threadCounts(r.stderr), "\(what): no thread counts on stderr: \(r.stderr)")
            #expect(counts.exit <= counts.start, "\(what): threads at start \(counts.start), at exit \(counts.exit)")
        }
        let got = try PeerView.skopeo("oci:\(cli.root):localhost/ocitool-test/generated:v1")
        #expect(got.configDigest.description == big.good.configDigest && got.diffIDs == big.good.diffIDs)
        #expect(got.layerDigests == big.good.layerDigests)
    }

    @Test func failingLoadJoinsItsThreads() throws {
        let big = try BigImages.shared.get()
        let tmp = try TempDir(prefix: "ocitool-threads-fail")
        let cli = OCIToolCLI(root: tmp.file("store"), tmpdir: tmp.file("tmp"))
        let r = try cli.run("load", [big.corruptBig], environment: ["OCITOOL_DEBUG_THREADS": "1"])
        #expect(r.status == 1)
        #expect(r.stderr.contains(String(big.good.layerDigests[0].dropFirst(7))), "\(r.stderr)")
        let counts = try #require(threadCounts(r.stderr), "no thread counts on stderr: \(r.stderr)")
        #expect(counts.exit <= counts.start, "threads at start \(counts.start), at exit \(counts.exit)")
    }
}

/// One verb that writes an output the user names.
struct OutputVerb: Sendable, CustomStringConvertible {
    var name: String
    var description: String { name }

    static let all = ["save", "convert", "export", "commit", "analyze"].map(OutputVerb.init)

    /// The command line writing to `path`; `failing`: one that fails after the output was named.
    func args(_ cli: OCIToolCLI, _ path: String, big: BigImages, failing: Bool = false) throws -> [String] {
        let image = "localhost/ocitool-test/podman-oci:v1"
        let root = ["--root", cli.root]
        switch name {
        case "save":
            // Failing: zstd layers cannot go into a docker archive.
            return ["save"] + root + ["-o", path, failing ? "localhost/ocitool-test/skopeo-oci-zstd:v1" : image]
        case "convert":
            return ["convert", failing ? try Required.testImage("skopeo-oci-zstd.tar") : try Required.testImage("podman-oci.tar"),
                    "--format", "docker", "-o", path]
        case "export":
            return ["export"] + root + ["-o", path, failing ? big.corruptSmall : image]
        case "commit":
            return ["commit"] + root + ["--layer", big.layer, "-o", path, failing ? big.corruptSmall : image, "ex.com/committed/x:v1"]
        default:
            return ["analyze"] + root + ["--html", path, failing ? big.corruptSmall : image]
        }
    }

    /// Is `bytes` what this verb writes?
    func expectWritten(_ bytes: [UInt8], _ what: String, scratch: TempDir) throws {
        if name == "analyze" {
            #expect(String(decoding: bytes, as: UTF8.self).lowercased().contains("<html"), "\(what): not an HTML report")
            return
        }
        let file = scratch.file("written-\(UInt32.random(in: 0...UInt32.max)).tar")
        try FS.writeAtomically(file, bytes: bytes)
        let names = try PeerTools.listNames("tar", archive: file)
        switch name {
        case "export": #expect(names.contains("etc/hello.txt"), "\(what): export lists \(names.prefix(5))")
        default: #expect(names.contains("index.json") && names.contains("manifest.json"), "\(what): \(names)")
        }
    }
}

@Suite("-o: missing directory, directory, regular file, symlink, FIFO, /dev/null")
struct OutputTests {
    /// A store holding podman-oci (the verbs' image) and the zstd image (for refusals).
    static func setUp(_ tmp: TempDir) throws -> OCIToolCLI {
        let cli = OCIToolCLI(root: tmp.file("store"), tmpdir: tmp.file("tmp"))
        try cli.ok("load", [try Required.testImage("podman-oci.tar")])
        try cli.ok("load", [try Required.testImage("skopeo-oci-zstd.tar")])
        return cli
    }

    static func temporaries(_ dir: String) -> [String] {
        ((try? FS.listDirectory(dir)) ?? []).filter { $0.contains(".ocitool-tmp-") }
    }

    @Test(arguments: OutputVerb.all)
    func refusedOutputsCreateNothing(_ verb: OutputVerb) throws {
        let big = try BigImages.shared.get()
        let tmp = try TempDir(prefix: "ocitool-o-refused")
        let cli = try Self.setUp(tmp)
        let work = tmp.file("work")
        try FS.makeDirectories(work + "/adir")
        let before = try FS.listDirectory(work).sorted()

        let missing = work + "/missing/out.file"
        let r1 = try cli.raw(try verb.args(cli, missing, big: big))
        #expect(r1.status == 1 || r1.status == 64, "\(verb) -o missing/: status \(r1.status)")
        #expect(r1.stderr.split(separator: "\n").count == 1 && r1.stderr.contains(work + "/missing"), "\(verb): \(r1.stderr)")
        #expect(!FS.exists(work + "/missing"), "\(verb): the missing directory was created")

        let r2 = try cli.raw(try verb.args(cli, work + "/adir", big: big))
        #expect(r2.status == 1 || r2.status == 64, "\(verb) -o DIR: status \(r2.status)")
        #expect(r2.stderr.split(separator: "\n").count == 1 && r2.stderr.contains("directory"), "\(verb): \(r2.stderr)")
        #expect(try FS.isDirectory(work + "/adir") && FS.listDirectory(work + "/adir").isEmpty, "\(verb): the directory changed")
        #expect(try FS.listDirectory(work).sorted() == before, "\(verb): files created: \((try? FS.listDirectory(work)) ?? [])")
        #expect(cli.leftovers().isEmpty, "\(verb): spools left")
    }

    @Test(arguments: OutputVerb.all)
    func regularFileIsReplacedAtomically(_ verb: OutputVerb) throws {
        let big = try BigImages.shared.get()
        let tmp = try TempDir(prefix: "ocitool-o-file")
        let cli = try Self.setUp(tmp)
        let work = tmp.file("work")
        try FS.makeDirectories(work)
        let target = work + "/existing.out"
        let old = Array("the old content\n".utf8)
        try FS.writeAtomically(target, bytes: old)

        // A failure leaves the old file as it was, and no temporary beside it.
        let failed = try cli.raw(try verb.args(cli, target, big: big, failing: true))
        #expect(failed.status == 1, "\(verb) (failing): status \(failed.status): \(failed.stderr)")
        #expect(failed.stderr.split(separator: "\n").count == 1, "\(verb): \(failed.stderr)")
        #expect(try FS.readFile(target) == old, "\(verb): a failure changed the old file")
        #expect(Self.temporaries(work).isEmpty, "\(verb): \(Self.temporaries(work))")

        // Success replaces it by a rename (a new inode), never by writing into it.
        var st = stat()
        _ = stat(target, &st)
        let oldInode = st.st_ino
        let r = try cli.raw(try verb.args(cli, target, big: big))
        #expect(r.status == 0, "\(verb): \(r.stderr)")
        try verb.expectWritten(try FS.readFile(target, limit: 1 << 26), "\(verb) -o FILE", scratch: tmp)
        _ = stat(target, &st)
        #expect(st.st_ino != oldInode, "\(verb): the file was written in place, not replaced")
        #expect(Self.temporaries(work).isEmpty, "\(verb): \(Self.temporaries(work))")
    }

    @Test(arguments: OutputVerb.all)
    func symlinkIsWrittenThrough(_ verb: OutputVerb) throws {
        let big = try BigImages.shared.get()
        let tmp = try TempDir(prefix: "ocitool-o-link")
        let cli = try Self.setUp(tmp)
        let work = tmp.file("work")
        try FS.makeDirectories(work + "/real")
        try FS.writeAtomically(work + "/real/target.out", bytes: Array("old\n".utf8))
        let link = work + "/link.out"
        try #require(symlink("real/target.out", link) == 0)
        let r = try cli.raw(try verb.args(cli, link, big: big))
        #expect(r.status == 0, "\(verb): \(r.stderr)")
        var st = stat()
        #expect(lstat(link, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK, "\(verb): the link was replaced")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: link)) == "real/target.out")
        try verb.expectWritten(try FS.readFile(work + "/real/target.out", limit: 1 << 26), "\(verb) -o LINK", scratch: tmp)
        #expect(Self.temporaries(work).isEmpty && Self.temporaries(work + "/real").isEmpty)
    }

    @Test(arguments: OutputVerb.all)
    func fifoAndDevNullAreWrittenInto(_ verb: OutputVerb) throws {
        let big = try BigImages.shared.get()
        let tmp = try TempDir(prefix: "ocitool-o-fifo")
        let cli = try Self.setUp(tmp)
        let fifo = tmp.file("pipe")
        try #require(mkfifo(fifo, 0o600) == 0)
        let captured = tmp.file("captured")
        let reader = try InteractiveChild(["cat", fifo], stdinFile: "/dev/null", stdoutFile: captured)
        let r = try cli.raw(try verb.args(cli, fifo, big: big))
        if r.status != 0 {
            // Release the reader if ocitool never opened the FIFO.
            let fd = open(fifo, O_WRONLY | O_NONBLOCK)
            if fd >= 0 { close(fd) }
        }
        let read = reader.wait()
        #expect(r.status == 0, "\(verb) -o FIFO: \(r.stderr)")
        #expect(read.status == 0)
        var st = stat()
        #expect(lstat(fifo, &st) == 0 && (st.st_mode & S_IFMT) == S_IFIFO, "\(verb): the FIFO was replaced")
        try verb.expectWritten(try FS.readFile(captured, limit: 1 << 26), "\(verb) -o FIFO", scratch: tmp)
        #expect(Self.temporaries(tmp.path).isEmpty)

        let n = try cli.raw(try verb.args(cli, "/dev/null", big: big))
        #expect(n.status == 0, "\(verb) -o /dev/null: \(n.stderr)")
        #expect(stat("/dev/null", &st) == 0 && (st.st_mode & S_IFMT) == S_IFCHR, "/dev/null is no longer a device")
        #expect(Self.temporaries("/dev").isEmpty)
    }
}
