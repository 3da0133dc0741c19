import Foundation
import Testing
import OCICore
import OCIModel
import OCIStore
import OCITestSupport

/// Races between store operations, made deterministic with
/// `OCITOOL_TEST_HOOK`: one process is stopped at a named point
/// (`touch=` tells the test it is there, `wait-for=` holds it), the rival
/// operations are started (each announces itself at the point where it
/// waits for a lock), and then the first is let go. Whatever order the
/// locks then impose, the store must be consistent.
@Suite("Reliability: races between tag, rmi, prune, config and load")
struct ReliabilityRaceTests {
    static func hook(_ rules: String...) -> [String: String] { ["OCITOOL_TEST_HOOK": rules.joined(separator: ";")] }

    static func touch(_ path: String) throws { try FS.writeAtomically(path, bytes: []) }

    /// `tag base:1 base:new` is stopped after it resolved base:1; `rmi
    /// base:1` and `prune` start meanwhile. Either the tag lands on an
    /// image whose blobs all exist, or it fails with "No such image" —
    /// never a name on a deleted manifest.
    @Test func tagPausedAfterResolvingWhileRmiAndPruneRun() throws {
        let bench = try KillBench()
        let (root, work) = try bench.prepare(.tag, label: "race", emptyRoot: false)
        let tag = try ChildProcess(Reliability.argv(root, "tag", ["base:1", "base:new"]),
                                   environment: Self.hook("tag-resolved:touch=\(work)/resolved,wait-for=\(work)/go"))
        try tag.awaitFile(work + "/resolved")
        let rmi = try ChildProcess(Reliability.argv(root, "rmi", ["base:1"]),
                                   environment: Self.hook("index-lock:touch=\(work)/rmi-locking"))
        try rmi.awaitFile(work + "/rmi-locking")
        let prune = try ChildProcess(Reliability.argv(root, "prune"), environment: Self.hook("index-lock:touch=\(work)/prune-locking"))
        try prune.awaitFile(work + "/prune-locking")
        try Self.touch(work + "/go")
        let (t, r, p) = (try tag.wait(), try rmi.wait(), try prune.wait())
        #expect(r.status == 0, "rmi: \(r.stderr)")
        #expect(p.status == 0, "prune: \(p.stderr)")
        if t.status == 0 {
            let s = try Shell.run(["skopeo", "--insecure-policy", "inspect", "oci:\(root):docker.io/library/base:new"])
            #expect(s.status == 0, "the new tag names an image skopeo cannot read: \(s.stderr)")
            // The tag was made under the lock, before rmi: rmi only untagged.
            #expect(r.stdoutText == "Untagged: base:1\n")
        } else {
            #expect(t.status == 1 && t.stderr.contains("No such image"), "tag failed, but not cleanly: \(t.stderr)")
        }
        let problems = try Reliability.problems(root)
        #expect(problems.isEmpty, "\(problems)")

        // The other order: after rmi and prune, the tag finds nothing.
        try Reliability.ocitoolOK(root, "rmi", ["base:new"])
        try Reliability.ocitoolOK(root, "prune")
        let late = try Reliability.ocitool(root, "tag", ["base:new", "base:late"])
        #expect(late.status == 1 && late.stderr.contains("No such image: base:new"), "\(late.stderr)")
        #expect(try Reliability.problems(root).isEmpty)
    }

    /// `config` (a new image from base:1) is stopped after staging its
    /// blobs; `rmi base:1` removes the source and `prune` starts. prune
    /// must wait for config's lease (or config fail cleanly): never a
    /// stored image with a missing blob, never its staged blobs deleted
    /// under it.
    @Test func configPausedAfterStagingWhileRmiAndPruneRun() throws {
        let bench = try KillBench()
        let (root, work) = try bench.prepare(.config, label: "race", emptyRoot: false)
        let config = try ChildProcess(Reliability.argv(root, "config", ["-c", "ENV RACE=1", "base:1", "base:cfg"]),
                                      environment: Self.hook("store-staged:touch=\(work)/staged,wait-for=\(work)/go"))
        try config.awaitFile(work + "/staged")
        #expect(!Reliability.stagingFiles(root).isEmpty, "config stages its new config and manifest in ingest/")
        let rmi = try Reliability.ocitool(root, "rmi", ["base:1"])
        #expect(rmi.status == 0 && rmi.stdoutText.contains("Deleted: sha256:"), "rmi: \(rmi.stdoutText) \(rmi.stderr)")
        let prune = try ChildProcess(Reliability.argv(root, "prune"),
                                     environment: Self.hook("prune-lock:touch=\(work)/prune-locking"))
        try prune.awaitFile(work + "/prune-locking")
        try Self.touch(work + "/go")
        let (c, p) = (try config.wait(), try prune.wait())
        #expect(p.status == 0, "prune: \(p.stderr)")
        // Failing cleanly would be consistent too, but config holds a lease
        // from start to end, so prune waits and config succeeds: a failure
        // here means the lease no longer covers the staged blobs.
        #expect(c.status == 0, "config's lease should have made prune wait: \(c.stderr)")
        if c.status == 0 {
            let s = try Shell.run(["skopeo", "--insecure-policy", "inspect", "--config", "oci:\(root):docker.io/library/base:cfg"])
            #expect(s.status == 0, "config's image is not readable: \(s.stderr)")
            #expect(s.stdoutText.contains("RACE=1"))
        } else {
            #expect(c.status == 1 && c.stderr.hasPrefix("Error: ") && c.stderr.split(separator: "\n").count == 1,
                    "config failed, but not cleanly: \(c.stderr)")
            #expect(try !Reliability.listedNames(root).contains("docker.io/library/base:cfg"))
        }
        #expect(Reliability.stagingFiles(root).isEmpty, "staging files left: \(Reliability.stagingFiles(root))")
        let problems = try Reliability.problems(root)
        #expect(problems.isEmpty, "\(problems)")
    }

    enum LoadRace: String, CaseIterable, CustomStringConvertible, Sendable {
        /// Two loads stopped with their blobs staged; prune starts; the
        /// loads are let go one after the other.
        case loadsFirst
        /// The same into a directory that holds no store yet.
        case loadsFirstIntoNoStore
        /// prune holds the ingest lock first; the loads start and wait.
        case pruneFirst
        var description: String { rawValue }
    }

    /// Two concurrent loads (images sharing a layer) and a prune.
    @Test(arguments: LoadRace.allCases)
    func twoLoadsAndAPrune(_ race: LoadRace) throws {
        let images = try Reliability.images()
        let tmp = try TempDir(prefix: "ocitool-race")
        let root = tmp.file("root"), s = tmp.path
        if race != .loadsFirstIntoNoStore {
            try Reliability.ocitoolOK(root, "load", ["-q", images.base])
            // Something for prune to reclaim, and a leftover of a killed load.
            try Reliability.ocitoolOK(root, "load", ["-q", Fixtures.testImagesDir + "/podman-oci.tar"])
            try Reliability.ocitoolOK(root, "rmi", ["localhost/ocitool-test/podman-oci:v1"])
            try FS.makeDirectories(root + "/ingest")
            try Self.touch(root + "/ingest/999-123")
        }
        var prune: ChildProcess?
        if race == .pruneFirst {
            prune = try ChildProcess(Reliability.argv(root, "prune"),
                                     environment: Self.hook("prune-locked:touch=\(s)/prune-locked,wait-for=\(s)/go-prune"))
            try #require(prune?.waitForFile(s + "/prune-locked") == true, "prune did not take the lock")
        }
        let a = try ChildProcess(Reliability.argv(root, "load", ["-q", images.app]),
                                 environment: Self.hook("lease-lock:touch=\(s)/a-leasing", "store-staged:touch=\(s)/a-staged,wait-for=\(s)/go-a"))
        let b = try ChildProcess(Reliability.argv(root, "load", ["-q", images.other]),
                                 environment: Self.hook("lease-lock:touch=\(s)/b-leasing", "store-staged:touch=\(s)/b-staged,wait-for=\(s)/go-b"))
        if race == .pruneFirst {
            // The loads wait for prune's exclusive lock: let prune finish first.
            try #require(a.waitForFile(s + "/a-leasing") && b.waitForFile(s + "/b-leasing"), "the loads did not start")
            try Self.touch(s + "/go-prune")
            let p = try #require(prune).wait()
            #expect(p.status == 0, "prune: \(p.stderr)")
            #expect(!Reliability.stagingFiles(root).contains("999-123"), "prune removes a killed load's staging file")
        }
        try a.awaitFile(s + "/a-staged")
        try b.awaitFile(s + "/b-staged")
        if race != .pruneFirst {
            prune = try ChildProcess(Reliability.argv(root, "prune"), environment: Self.hook("prune-lock:touch=\(s)/prune-locking"))
            // (Into a directory with no store, prune has nothing to do and ends at once.)
            _ = prune?.waitForFile(s + "/prune-locking")
        }
        try Self.touch(s + "/go-b")
        let rb = try b.wait()
        #expect(rb.status == 0, "load B: \(rb.stderr)")
        try Self.touch(s + "/go-a")
        let ra = try a.wait()
        #expect(ra.status == 0, "load A: \(ra.stderr)")
        let rp = try #require(prune).wait()
        #expect(rp.status == 0, "prune: \(rp.stderr)")

        let names = try Reliability.listedNames(root)
        #expect(names.contains("docker.io/library/app:1") && names.contains("docker.io/library/other:1"), "\(names)")
        #expect(!Reliability.stagingFiles(root).contains { $0 != "999-123" }, "the loads left staging files: \(Reliability.stagingFiles(root))")
        let problems = try Reliability.problems(root)
        #expect(problems.isEmpty, "\(problems)")
        let again = try Reliability.ocitoolOK(root, "prune")
        #expect(Reliability.stagingFiles(root).isEmpty)
        let referenced = Set(try ImageStore(root: root).referencedDigests().map(\.encoded))
        #expect(Reliability.blobNames(root) == referenced, "\(again.stdoutText)")
    }
}
