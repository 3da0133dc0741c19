import Foundation
import Testing
import OCICore
import OCIStore
import OCITestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A tmpfs of a given size, mounted for one test and unmounted at the end.
final class Tmpfs {
    let dir: TempDir
    var path: String { dir.path }

    init(megabytes: Int) throws {
        dir = try TempDir(prefix: "ocitool-tmpfs")
        let r = try Shell.run(["mount", "-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", dir.path])
        guard r.status == 0 else { throw PeerRunner.Failure(description: "mount -t tmpfs on \(dir.path): \(r.stderr)") }
    }

    deinit {
        if (try? Shell.run(["umount", dir.path]))?.status != 0 { _ = try? Shell.run(["umount", "-l", dir.path]) }
    }

    /// Bytes an unprivileged writer can still allocate.
    var free: Int64 {
        var st = statvfs()
        guard statvfs(path, &st) == 0 else { return 0 }
        return Int64(st.f_bavail) * Int64(st.f_frsize)
    }

    /// Fills the file system until `leaving` bytes (about) are free.
    func fill(_ name: String, leaving: Int64) throws {
        let size = free - leaving
        guard size > 0 else { return }
        let r = try Shell.run(["fallocate", "-l", "\(size)", path + "/" + name])
        guard r.status == 0 else { throw PeerRunner.Failure(description: "fallocate: \(r.stderr)") }
    }

    /// Fills the file system completely (writes until ENOSPC).
    func fillCompletely(_ name: String) throws {
        if free > 1 << 20 { try fill(name + "-bulk", leaving: 1 << 20) }
        let sink = try FileSink(creating: path + "/" + name)
        let block = [UInt8](repeating: 0x55, count: 4096)
        do {
            while true { try sink.write(contentsOf: block) }
        } catch CoreError.io(_, let e) where e == ENOSPC {}
        try sink.finish()
    }
}

@Suite("Reliability: a full file system", .serialized,
       .enabled(if: getuid() == 0, "skipped: mounting the 50 MB tmpfs these tests fill needs root (CI runs make test as root)"))
struct ReliabilityFullDiskTests {
    /// The checks after a verb on a full disk: it succeeded, or it failed
    /// with one line naming ENOSPC; after a failure the store is byte for
    /// byte as it was; fsck is clean and nothing is left in ingest/.
    final class Checker {
        let root: String
        var snapshot: TreeSnapshot

        init(root: String) throws {
            self.root = root
            snapshot = try TreeSnapshot(root)
        }

        @discardableResult
        func attempt(_ verb: String, _ args: [String], mustSucceed: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) throws -> Shell.Result {
            let r = try Reliability.ocitool(root, verb, args)
            let what = "\(verb) \(args.joined(separator: " "))"
            print("full disk: \(what): \(r.status == 0 ? "succeeded" : "failed: " + r.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
            if r.status == 0 {
                snapshot = try TreeSnapshot(root)
            } else {
                #expect(!mustSucceed, "\(what) must succeed on a full disk: \(r.stderr)", sourceLocation: sourceLocation)
                let lines = r.stderr.split(separator: "\n")
                #expect(r.status == 1 && lines.count == 1 && lines[0].hasPrefix("Error: ") && lines[0].contains("No space left on device"),
                        "\(what): status \(r.status), stderr: \(r.stderr)", sourceLocation: sourceLocation)
                #expect(try TreeSnapshot(root) == snapshot, "\(what) failed but changed the store", sourceLocation: sourceLocation)
            }
            #expect(Reliability.stagingFiles(root).isEmpty, "\(what) left staging files \(Reliability.stagingFiles(root))",
                    sourceLocation: sourceLocation)
            #expect(Reliability.interruptedWrites(root).isEmpty, "\(what) left \(Reliability.interruptedWrites(root))",
                    sourceLocation: sourceLocation)
            let fsck = try Reliability.ocitool(root, "fsck")
            #expect(fsck.status == 0, "fsck after \(what): \(fsck.stdoutText) \(fsck.stderr)", sourceLocation: sourceLocation)
            return r
        }
    }

    @Test func everyVerbFailsCleanlyOrSucceeds() throws {
        let images = try Reliability.images()
        let disk = try Tmpfs(megabytes: 50)
        let root = disk.path + "/root"
        try Reliability.ocitoolOK(root, "load", ["-q", images.app])
        try Reliability.ocitoolOK(root, "load", ["-q", images.base])
        let check = try Checker(root: root)

        // Half a MiB left: less than any new layer (1 MiB each).
        try disk.fill("filler", leaving: 512 << 10)
        try check.attempt("load", [images.other])
        #expect(try !Reliability.listedNames(root).contains("docker.io/library/other:1"))
        try check.attempt("save", ["-o", disk.path + "/out.tar", "app:1"])
        #expect(!FS.exists(disk.path + "/out.tar"), "a failed save leaves nothing at the -o path")
        #expect(try FS.listDirectory(disk.path).allSatisfy { !$0.contains("ocitool-tmp") }, "a failed save leaves no temp file")
        try check.attempt("unpack", ["app:1", disk.path + "/rootfs"])
        FS.removeTree(disk.path + "/rootfs")

        // Nothing left at all.
        try disk.fillCompletely("filler2")
        try check.attempt("load", [images.other])
        try check.attempt("tag", ["app:1", "app:full"])
        try check.attempt("rmi", ["base:1"])
        let prune = try check.attempt("prune", [], mustSucceed: true)
        #expect(prune.stdoutText.contains("Total reclaimed space: 0B"), "\(prune.stdoutText)")
        try check.attempt("config", ["-c", "ENV FULL=1", "app:1", "app:cfg"])
        try check.attempt("fsck", ["--repair"], mustSucceed: true)

        // With room again, the store works as before.
        FS.removeFile(disk.path + "/filler")
        FS.removeFile(disk.path + "/filler2")
        FS.removeFile(disk.path + "/filler2-bulk")
        try Reliability.ocitoolOK(root, "tag", ["app:1", "app:after"])
        try Reliability.ocitoolOK(root, "load", ["-q", images.other])
        let problems = try Reliability.problems(root)
        #expect(problems.isEmpty, "\(problems)")
    }

    /// prune on a full disk with something to reclaim: it only removes
    /// files, so it succeeds (and frees the space).
    @Test func pruneWithSomethingToReclaimWorksOnAFullDisk() throws {
        let images = try Reliability.images()
        let disk = try Tmpfs(megabytes: 50)
        let root = disk.path + "/root"
        try Reliability.ocitoolOK(root, "load", ["-q", images.app])
        try Reliability.ocitoolOK(root, "load", ["-q", images.base])
        try Reliability.ocitoolOK(root, "rmi", ["base:1"])
        try disk.fillCompletely("filler")
        let r = try Reliability.ocitool(root, "prune")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdoutText.contains("deleted: sha256:"))
        #expect(disk.free > 1 << 20, "the space came back")
        let problems = try Reliability.problems(root)
        #expect(problems.isEmpty, "\(problems)")
    }
}
