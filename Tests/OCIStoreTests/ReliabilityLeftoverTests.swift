import Foundation
import Testing
import OCICore
import OCIStore
import OCITestSupport
#if canImport(Glibc)
import Glibc
#endif

/// What a killed or interrupted operation leaves, and who removes it.
@Suite("Reliability: leftovers of interrupted writers, interrupts, failed loads")
struct ReliabilityLeftoverTests {
    final class Setup {
        let tmp: TempDir
        let root: String
        let images: Reliability.Images
        init() throws {
            tmp = try TempDir(prefix: "ocitool-leftover")
            root = tmp.file("root")
            images = try Reliability.images()
            try Reliability.ocitoolOK(root, "load", ["-q", images.app])
        }

        /// Files a killed writer leaves: a temp index and a staging file.
        func plantLeftovers() throws {
            try FS.writeAtomically(root + "/index.json.tmp-999-1", bytes: Array(#"{"schemaVersion":2,"manif"#.utf8))
            try FS.writeAtomically(root + "/oci-layout.tmp-999-2", bytes: Array("{".utf8))
            try FS.makeDirectories(root + "/ingest")
            try FS.writeAtomically(root + "/ingest/999-123", bytes: TestData.pseudoRandom(count: 4096))
        }
    }

    @Test func theNextWriterRemovesATempIndex() throws {
        let s = try Setup()
        try s.plantLeftovers()
        // Readers leave them alone (they hold no lock that tells them the writer is gone).
        try Reliability.ocitoolOK(s.root, "images")
        #expect(Reliability.interruptedWrites(s.root).count == 2)
        try Reliability.ocitoolOK(s.root, "tag", ["app:1", "app:next"])
        #expect(Reliability.interruptedWrites(s.root).isEmpty, "tag left \(Reliability.interruptedWrites(s.root))")
        // Staging files are prune's (a running load may own one).
        #expect(Reliability.stagingFiles(s.root) == ["999-123"])
        let problems = try Reliability.problems(s.root)
        #expect(problems.isEmpty, "\(problems)")
    }

    @Test func pruneRemovesAndReportsLeftovers() throws {
        let s = try Setup()
        try s.plantLeftovers()
        let fsck = try Reliability.ocitool(s.root, "fsck")
        #expect(fsck.status == 0 && fsck.stdoutText.contains("stale staging files: 1"), "\(fsck.stdoutText)")
        let prune = try Reliability.ocitool(s.root, "prune")
        #expect(prune.status == 0, "\(prune.stderr)")
        let out = prune.stdoutText.split(separator: "\n").map(String.init)
        for p in ["ingest/999-123", "index.json.tmp-999-1", "oci-layout.tmp-999-2"] {
            #expect(out.contains("deleted leftover: \(p)"), "prune should report \(p):\n\(prune.stdoutText)")
        }
        #expect(out.last?.hasPrefix("Total reclaimed space: ") == true && out.last != "Total reclaimed space: 0B", "\(prune.stdoutText)")
        #expect(Reliability.interruptedWrites(s.root).isEmpty && Reliability.stagingFiles(s.root).isEmpty)
        let again = try Reliability.ocitoolOK(s.root, "prune")
        #expect(again.stdoutText == "Total reclaimed space: 0B\n")
        let problems = try Reliability.problems(s.root)
        #expect(problems.isEmpty, "\(problems)")
    }

    /// A load that fails into a directory that did not exist leaves no
    /// directory behind (neither the root nor its missing parents).
    @Test func aFailedLoadCreatesNoStore() throws {
        let s = try Setup()
        let bad = s.tmp.file("bad.tar")
        var corrupted = false
        try rewriteArchive(s.images.other, to: bad) { path, bytes in
            guard !corrupted, bytes.count >= 1 << 20 else { return nil }
            corrupted = true
            var b = bytes
            b[b.count / 2] ^= 1
            return b
        }
        try #require(corrupted)
        let parent = s.tmp.file("a")
        let root = parent + "/b/root"
        let r = try Reliability.ocitool(root, "load", [bad])
        #expect(r.status == 1 && r.stderr.hasPrefix("Error: "), "\(r.stderr)")
        #expect(!FS.exists(parent), "a failed load left \(parent)")
        // Into an existing store: unchanged, nothing staged left.
        let before = try TreeSnapshot(s.root)
        let r2 = try Reliability.ocitool(s.root, "load", [bad])
        #expect(r2.status == 1)
        #expect(try TreeSnapshot(s.root) == before)
        #expect(Reliability.stagingFiles(s.root).isEmpty)
    }

    enum Interrupt: String, CaseIterable, CustomStringConvertible, Sendable {
        case sigint, sigterm, sighup
        var signal: Int32 { self == .sigint ? SIGINT : self == .sigterm ? SIGTERM : SIGHUP }
        var description: String { rawValue }
    }

    /// Ctrl-C (or SIGTERM, SIGHUP) while a load has staged its blobs: the
    /// staging files are removed and the store is as it was.
    @Test(arguments: Interrupt.allCases)
    func anInterruptedLoadRemovesItsStagingFiles(_ interrupt: Interrupt) throws {
        let s = try Setup()
        let before = try TreeSnapshot(s.root)
        let load = try ChildProcess(Reliability.argv(s.root, "load", [s.images.other]),
                                    environment: ["OCITOOL_TEST_HOOK": "store-staged:touch=\(s.tmp.path)/staged,wait-for=\(s.tmp.path)/never"])
        try load.awaitFile(s.tmp.path + "/staged")
        #expect(!Reliability.stagingFiles(s.root).isEmpty)
        load.signal(interrupt.signal)
        let r = try load.wait()
        #expect(r.status == 128 + interrupt.signal, "\(r.stderr)")
        #expect(Reliability.stagingFiles(s.root).isEmpty, "left in ingest/: \(Reliability.stagingFiles(s.root))")
        #expect(try TreeSnapshot(s.root) == before)
        #expect(try Reliability.problems(s.root).isEmpty)
    }

    /// The same into a directory that held no store: no store, no blobs,
    /// no staging files remain.
    @Test func anInterruptedFirstLoadLeavesNoStore() throws {
        let s = try Setup()
        let root = s.tmp.file("new-root")
        let load = try ChildProcess(Reliability.argv(root, "load", [s.images.other]),
                                    environment: ["OCITOOL_TEST_HOOK": "store-staged:touch=\(s.tmp.path)/staged,wait-for=\(s.tmp.path)/never"])
        try load.awaitFile(s.tmp.path + "/staged")
        load.signal(SIGINT)
        #expect(try load.wait().status == 130)
        #expect(!FS.exists(root + "/index.json"))
        let left = try TreeSnapshot(root)
        #expect(Reliability.blobNames(root).isEmpty && Reliability.stagingFiles(root).isEmpty, "left: \(left)")
    }

    /// Ctrl-C just before save's rename: nothing at the -o path, no temp
    /// file beside it, no spool.
    @Test func anInterruptedSaveLeavesNoFile() throws {
        let s = try Setup()
        let work = s.tmp.file("work")
        try FS.makeDirectories(work)
        try FS.writeAtomically(work + "/out.tar", bytes: Array("the old file".utf8))
        let save = try ChildProcess(Reliability.argv(s.root, "save", ["-o", work + "/out.tar", "app:1"]),
                                    environment: ["OCITOOL_TEST_HOOK": "output-before-rename:touch=\(s.tmp.path)/written,wait-for=\(s.tmp.path)/never",
                                                  "TMPDIR": work])
        try save.awaitFile(s.tmp.path + "/written")
        #expect(try FS.listDirectory(work).contains { $0.hasPrefix(".out.tar.ocitool-tmp-") })
        save.signal(SIGINT)
        #expect(try save.wait().status == 130)
        let left = try FS.listDirectory(work)
        #expect(left == ["out.tar"], "left: \(left)")
        #expect(try FS.readFile(work + "/out.tar") == Array("the old file".utf8), "the old file is untouched")
    }
}
