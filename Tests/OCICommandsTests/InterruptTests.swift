import Foundation
import Testing
import OCICore
import OCITestSupport
#if canImport(Glibc)
import Glibc
#endif

// Ctrl-C and absent stores (issue #10). SIGINT is sent by the test while
// the operation is certainly under way: ocitool reads half an archive from
// a pipe the test writes, and the signal goes once its staging file, spool
// or `-o` temporary exists. Then: exit status 130, no output and no
// temporary beside it, nothing in the store's ingest/ or the spool, and
// the store byte-identical to before.

@Suite("Ctrl-C: status 130, nothing left behind")
struct InterruptTests {
    /// Runs `args` with the first half of `archive` on its stdin, waits
    /// until `started` holds, sends SIGINT, and returns the exit status and stderr.
    static func interrupt(_ args: [String], archive: String, environment: [String: String] = [:],
                          started: () -> Bool) throws -> (status: Int32, stderr: String) {
        let bytes = try FS.readFile(archive, limit: 1 << 28)
        let child = try InteractiveChild([OCIToolBinary.path] + args, environment: environment)
        #expect(child.write(bytes[..<(bytes.count / 2)]), "ocitool stopped reading before half of the archive")
        let caught = waitUntil(started)
        #expect(caught, "the operation never got under way")
        #expect(child.isRunning, "ocitool ended on half an archive without being interrupted")
        child.interrupt()
        let result = child.wait()
        return result
    }

    /// A store holding one image, and its snapshot.
    static func seededStore(_ tmp: TempDir) throws -> (OCIToolCLI, TreeSnapshot) {
        let cli = OCIToolCLI(root: tmp.file("store"), tmpdir: tmp.file("tmp"))
        try cli.ok("load", [try Required.testImage("podman-docker.tar")])
        return (cli, try TreeSnapshot(cli.root))
    }

    @Test func loadFromAPipe() throws {
        let big = try BigImages.shared.get()
        let tmp = try TempDir(prefix: "ocitool-sigint-load")
        let (cli, before) = try Self.seededStore(tmp)
        let ingest = cli.root + "/ingest"
        let r = try Self.interrupt(["load", "--root", cli.root], archive: big.good.path, environment: ["TMPDIR": cli.tmpdir]) {
            !filesBelow(ingest).isEmpty
        }
        #expect(r.status == 130, "status \(r.status): \(r.stderr)")
        #expect(filesBelow(ingest).isEmpty, "left in ingest/: \(filesBelow(ingest))")
        #expect(try TreeSnapshot(cli.root) == before, "the store changed")
        #expect(cli.leftovers().isEmpty)
    }

    @Test(arguments: ["save", "convert"])
    func archiveFromAPipe(_ verb: String) throws {
        let big = try BigImages.shared.get()
        let tmp = try TempDir(prefix: "ocitool-sigint-\(verb)")
        let (cli, before) = try Self.seededStore(tmp)
        let spool = tmp.file("spool"), out = tmp.file("out/image.tar")
        try FS.makeDirectories(spool)
        try FS.makeDirectories(tmp.file("out"))
        let args = verb == "save"
            ? ["save", "--root", cli.root, "--from", "-", "--tmpdir", spool, "-o", out]
            : ["convert", "--format", "oci", "--compress", "zstd", "--tmpdir", spool, "-o", out]
        let r = try Self.interrupt(args, archive: big.good.path, environment: ["TMPDIR": cli.tmpdir]) {
            !filesBelow(spool).isEmpty
        }
        #expect(r.status == 130, "\(verb): status \(r.status): \(r.stderr)")
        #expect(!FS.exists(out), "\(verb): an output was written")
        #expect(try FS.listDirectory(tmp.file("out")).isEmpty, "\(verb): left beside -o: \((try? FS.listDirectory(tmp.file("out"))) ?? [])")
        #expect(try FS.listDirectory(spool).isEmpty, "\(verb): left in the spool: \((try? FS.listDirectory(spool)) ?? [])")
        #expect(try TreeSnapshot(cli.root) == before, "\(verb): the store changed")
        #expect(cli.leftovers().isEmpty)
    }

    /// `save -o` from the store, interrupted while the `-o` temporary is being
    /// written (a 64 MiB image, watched closely): nothing beside `-o`.
    @Test func saveWhileWritingTheOutput() throws {
        try Required.tools("python3")
        let tmp = try TempDir(prefix: "ocitool-sigint-write")
        let cli = OCIToolCLI(root: tmp.file("store"), tmpdir: tmp.file("tmp"))
        let made = try GeneratedImage.ociArchive(at: tmp.file("huge.tar"), layers: 2, bytesPerLayer: 32 << 20, gzip: false, seed: 3,
                                                 name: "localhost/ocitool-test/huge:v1")
        try cli.ok("load", [made.path])
        FS.removeFile(made.path)
        let before = try TreeSnapshot(cli.root)
        let outDir = tmp.file("out")
        try FS.makeDirectories(outDir)
        let out = outDir + "/huge.tar"
        var caught = false
        // The write takes a moment; if the save finishes before the temporary is seen, try again (a few times).
        for _ in 0..<5 where !caught {
            FS.removeFile(out)
            let child = try InteractiveChild([OCIToolBinary.path, "save", "--root", cli.root, "-o", out, "localhost/ocitool-test/huge:v1"],
                                         stdinFile: "/dev/null", environment: ["TMPDIR": cli.tmpdir])
            var seen = false
            while child.isRunning {
                if ((try? FS.listDirectory(outDir)) ?? []).contains(where: { $0.hasPrefix(".huge.tar.ocitool-tmp-") }) {
                    seen = true
                    child.interrupt()
                    break
                }
            }
            let r = child.wait()
            guard seen, r.status == 130 else {
                #expect(r.status == 0 || r.status == 130, "save: status \(r.status): \(r.stderr)")
                continue
            }
            caught = true
            #expect(!FS.exists(out), "an output was written")
            #expect(try FS.listDirectory(outDir).isEmpty, "left beside -o: \((try? FS.listDirectory(outDir)) ?? [])")
        }
        #expect(caught, "the -o temporary was never seen while the save ran")
        #expect(try TreeSnapshot(cli.root) == before, "the store changed")
        #expect(filesBelow(cli.root + "/ingest").isEmpty)
    }
}

@Suite("absent store: a failed operation creates nothing")
struct AbsentStoreTests {
    @Test func failedOperationsLeaveNoStore() throws {
        let big = try BigImages.shared.get()
        let tmp = try TempDir(prefix: "ocitool-absent")
        let root = tmp.file("a/b/store")
        let cli = OCIToolCLI(root: root, tmpdir: tmp.file("tmp"))
        let cases: [(String, [String], String?)] = [
            ("load", [big.corruptSmall], nil),
            ("load", [], big.corruptSmall),          // from stdin
            ("load", [big.corruptBig], nil),
            ("tag", ["localhost/nothing:v1", "other:v2"], nil),
            ("rmi", ["localhost/nothing:v1"], nil),
            ("rmi", ["-f", "sha256:" + String(repeating: "ab", count: 32)], nil),
            ("inspect", ["localhost/nothing:v1"], nil),
            ("save", ["-o", tmp.file("x.tar"), "localhost/nothing:v1"], nil),
            ("config", ["-c", "CMD [\"x\"]", "localhost/nothing:v1"], nil),
            ("commit", ["--layer", big.layer, "localhost/nothing:v1", "made:v1"], nil),
            ("copy", [big.corruptSmall, "store:made:v1"], nil),
        ]
        for (verb, args, stdin) in cases {
            let r = try cli.run(verb, args, stdinFile: stdin)
            #expect(r.status == 1, "\(verb) \(args): status \(r.status): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(verb): \(r.stderr)")
            #expect(!FS.exists(tmp.file("a")), "\(verb) \(args) created \(tmp.file("a")): \(filesBelow(tmp.file("a")))")
            #expect(!FS.exists(tmp.file("x.tar")))
        }
        #expect(cli.leftovers().isEmpty)
    }
}
