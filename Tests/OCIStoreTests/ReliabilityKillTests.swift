import Foundation
import Testing
import OCICore
import OCIModel
import OCIStore
import OCITestSupport

/// An operation the kill tests interrupt, and how each run sets it up.
enum KilledOperation: String, CaseIterable, CustomStringConvertible, Sendable {
    case load, tag, rmi, prune, config, save
    var description: String { rawValue }
}

/// A named point where a process is killed (`OCITOOL_TEST_HOOK=POINT:kill`).
struct KillPoint: CustomStringConvertible, Sendable {
    var operation: KilledOperation
    var point: String
    /// The operation runs on a directory that holds no store yet.
    var emptyRoot = false
    var description: String { "\(operation) killed at \(point)\(emptyRoot ? " (no store yet)" : "")" }
}

/// The stores, archives and reference outputs one kill test works from.
final class KillBench {
    let tmp: TempDir
    let images: Reliability.Images
    /// app:1, app:extra (the same image), base:1.
    let template: String
    /// The same with base:1 removed, so prune has blobs to reclaim.
    let pruneTemplate: String
    /// `save -o` of app:1 from the template (saves are reproducible).
    let savedDigest: Digest
    let templateSnapshot: TreeSnapshot

    init() throws {
        tmp = try TempDir(prefix: "ocitool-kill")
        images = try Reliability.images()
        template = tmp.file("template")
        try Reliability.ocitoolOK(template, "load", ["-q", images.app])
        try Reliability.ocitoolOK(template, "load", ["-q", images.base])
        try Reliability.ocitoolOK(template, "tag", ["app:1", "app:extra"])
        pruneTemplate = tmp.file("prune-template")
        try Reliability.copyTree(template, to: pruneTemplate)
        try Reliability.ocitoolOK(pruneTemplate, "rmi", ["base:1"])
        let out = tmp.file("reference.tar")
        try Reliability.ocitoolOK(template, "save", ["-o", out, "app:1"])
        savedDigest = try PeerTools.sha256sum(path: out)
        templateSnapshot = try TreeSnapshot(template)
    }

    /// A fresh store (or an absent root) and a work directory for run `label`.
    func prepare(_ op: KilledOperation, label: String, emptyRoot: Bool) throws -> (root: String, work: String) {
        let work = tmp.file(label)
        try FS.makeDirectories(work)
        let root = work + "/root"
        if !emptyRoot { try Reliability.copyTree(op == .prune ? pruneTemplate : template, to: root) }
        return (root, work)
    }

    /// The operation's arguments (after `ocitool VERB --root ROOT`).
    func arguments(_ op: KilledOperation, work: String, emptyRoot: Bool) -> [String] {
        switch op {
        case .load: return [emptyRoot ? images.app : images.other]
        case .tag: return ["app:1", "app:new"]
        case .rmi: return ["base:1"]
        case .prune: return []
        case .config: return ["-c", "ENV KILLED=1", "app:1", "app:cfg"]
        case .save: return ["-o", work + "/out.tar", "app:1"]
        }
    }

    /// The name the operation makes (checked with skopeo after the rerun).
    func made(_ op: KilledOperation, emptyRoot: Bool) -> String? {
        switch op {
        case .load: return emptyRoot ? "docker.io/library/app:1" : "docker.io/library/other:1"
        case .tag: return "docker.io/library/app:new"
        case .config: return "docker.io/library/app:cfg"
        case .rmi, .prune, .save: return nil
        }
    }

    /// Everything a killed run must leave true, then a rerun, then prune.
    /// Returns the problems found (empty: all good). `leftTemp` tells
    /// whether an `index.json.tmp-*` was there before the next writer.
    func check(_ op: KilledOperation, root: String, work: String, emptyRoot: Bool) throws -> (problems: [String], leftTemp: Bool) {
        var problems = try Reliability.problems(root)
        let leftTemp = !Reliability.interruptedWrites(root).isEmpty
        let out = work + "/out.tar"
        if op == .save {
            if FS.exists(out), let d = try? PeerTools.sha256sum(path: out), d != savedDigest {
                problems.append("a partial or wrong file at the -o path (\(try FS.size(out)) bytes)")
            }
            if try TreeSnapshot(root) != templateSnapshot { problems.append("save changed the store") }
        }
        // The rerun completes the operation.
        let stillNamed = op == .rmi ? try Reliability.listedNames(root).contains("docker.io/library/base:1") : true
        let rerun = try Reliability.ocitool(root, op.rawValue, arguments(op, work: work, emptyRoot: emptyRoot))
        if stillNamed && rerun.status != 0 { problems.append("rerun failed: status \(rerun.status): \(rerun.stderr)") }
        if !stillNamed && !(rerun.status == 1 && rerun.stderr.contains("No such image: base:1")) {
            problems.append("rmi of a name already removed: status \(rerun.status): \(rerun.stderr)")
        }
        if op != .save, !Reliability.interruptedWrites(root).isEmpty {
            problems.append("the next writer left \(Reliability.interruptedWrites(root))")
        }
        if let name = made(op, emptyRoot: emptyRoot) {
            let r = try Shell.run(["skopeo", "--insecure-policy", "inspect", "oci:\(root):\(name)"])
            if r.status != 0 { problems.append("after the rerun skopeo cannot read \(name): \(r.stderr.prefix(300))") }
        }
        if op == .rmi, try Reliability.listedNames(root).contains("docker.io/library/base:1") {
            problems.append("base:1 still listed after the rerun")
        }
        if op == .save, (try? PeerTools.sha256sum(path: out)) != savedDigest { problems.append("rerun of save did not write the archive") }
        // prune clears what a killed run staged; a prune run leaves only referenced blobs.
        let prune = try Reliability.ocitool(root, "prune")
        if prune.status != 0 { problems.append("prune: status \(prune.status): \(prune.stderr)") }
        if !Reliability.stagingFiles(root).isEmpty { problems.append("prune left staging files \(Reliability.stagingFiles(root))") }
        if !Reliability.interruptedWrites(root).isEmpty { problems.append("prune left \(Reliability.interruptedWrites(root))") }
        let referenced = Set(try ImageStore(root: root).referencedDigests().map(\.encoded))
        if Reliability.blobNames(root) != referenced {
            problems.append("after prune the blobs are not exactly those referenced: extra \(Reliability.blobNames(root).subtracting(referenced).count), missing \(referenced.subtracting(Reliability.blobNames(root)).count)")
        }
        return (problems, leftTemp)
    }
}

@Suite("Reliability: SIGKILL of load, tag, rmi, prune, config and save -o leaves a consistent store")
struct ReliabilityKillTests {
    /// Pauses that widen the windows where a kill matters most (index
    /// write, blobs staged but not published, the -o rename), so random
    /// delays land in them often.
    static let widen = "index-locked:sleep-ms=15;before-index-rename:sleep-ms=40;store-staged:sleep-ms=40;"
        + "prune-removed:sleep-ms=10;output-before-rename:sleep-ms=40"
    static let runs = 20

    /// Each operation is killed after a delay drawn from a seeded RNG,
    /// spread over the operation's duration (measured on an uninterrupted
    /// run with the same pauses), `runs` times.
    @Test(arguments: KilledOperation.allCases)
    func killedAtRandomMoments(_ op: KilledOperation) throws {
        let bench = try KillBench()
        var rng = SeededGenerator(seed: 0x5EED_0000 + UInt64(KilledOperation.allCases.firstIndex(of: op) ?? 0))
        let env = ["OCITOOL_TEST_HOOK": Self.widen]

        // The uninterrupted run: it works, and how long it takes.
        let (root0, work0) = try bench.prepare(op, label: "baseline", emptyRoot: op == .load)
        let started = Date()
        let baseline = try Reliability.ocitool(root0, op.rawValue, bench.arguments(op, work: work0, emptyRoot: op == .load),
                                               environment: env)
        let duration = max(Date().timeIntervalSince(started), 0.02)
        try #require(baseline.status == 0, "\(op) without a kill: \(baseline.stderr)")

        var killed = 0, leftTemp = 0
        for run in 0..<Self.runs {
            let emptyRoot = op == .load && Bool.random(using: &rng)
            let delay = UInt32(Double.random(in: 0...(duration * 1.1), using: &rng) * 1_000_000)
            let (root, work) = try bench.prepare(op, label: "run-\(run)", emptyRoot: emptyRoot)
            // TMPDIR: what a killed save leaves (its spool) stays in the run's directory.
            let child = try ChildProcess(Reliability.argv(root, op.rawValue, bench.arguments(op, work: work, emptyRoot: emptyRoot)),
                                         environment: env.merging(["TMPDIR": work]) { $1 })
            usleep(delay)
            let result = try child.kill()
            if result.status == 128 + SIGKILL { killed += 1 } else {
                #expect(result.status == 0, "run \(run) (delay \(delay) µs) ended by itself with \(result.status): \(result.stderr)")
            }
            let (problems, temp) = try bench.check(op, root: root, work: work, emptyRoot: emptyRoot)
            if temp { leftTemp += 1 }
            #expect(problems.isEmpty, "\(op) run \(run), killed after \(delay) µs\(emptyRoot ? " (no store yet)" : ""): \(problems.joined(separator: "; "))")
            FS.removeTree(work)
        }
        print("kill test \(op): \(killed) of \(Self.runs) runs killed before they ended, \(leftTemp) left an index.json.tmp-* for the next writer (baseline \(Int(duration * 1000)) ms)")
    }

    static let points: [KillPoint] = [
        KillPoint(operation: .load, point: "store-staged"),
        KillPoint(operation: .load, point: "index-locked"),
        KillPoint(operation: .load, point: "before-index-rename"),
        KillPoint(operation: .load, point: "index-renamed"),
        KillPoint(operation: .load, point: "store-staged", emptyRoot: true),
        KillPoint(operation: .load, point: "before-index-rename", emptyRoot: true),
        KillPoint(operation: .tag, point: "tag-resolved"),
        KillPoint(operation: .tag, point: "before-index-rename"),
        KillPoint(operation: .rmi, point: "index-locked"),
        KillPoint(operation: .rmi, point: "before-index-rename"),
        KillPoint(operation: .prune, point: "prune-locked"),
        KillPoint(operation: .prune, point: "prune-removed#2"),
        KillPoint(operation: .config, point: "store-staged"),
        KillPoint(operation: .config, point: "before-index-rename"),
        KillPoint(operation: .save, point: "output-before-rename"),
    ]

    /// A kill at exactly the points that matter: what the killed process
    /// left is there (a temp index, staged blobs, a temp -o file), and the
    /// next commands clean it up.
    @Test(arguments: points)
    func killedAtANamedPoint(_ p: KillPoint) throws {
        let bench = try KillBench()
        let (root, work) = try bench.prepare(p.operation, label: "point", emptyRoot: p.emptyRoot)
        let r = try ChildProcess(Reliability.argv(root, p.operation.rawValue, bench.arguments(p.operation, work: work, emptyRoot: p.emptyRoot)),
                                 environment: ["OCITOOL_TEST_HOOK": "\(p.point):kill", "TMPDIR": work]).wait()
        try #require(r.status == 128 + SIGKILL, "the hook point \(p.point) was not reached: status \(r.status): \(r.stderr)")
        if p.point == "before-index-rename" {
            #expect(Reliability.interruptedWrites(root).count == 1, "a writer killed before the rename leaves its temp index")
        }
        if p.point == "store-staged" {
            #expect(!Reliability.stagingFiles(root).isEmpty, "a writer killed before publishing leaves its staging files")
        }
        if p.operation == .save {
            #expect(!FS.exists(work + "/out.tar"), "nothing at the -o path before the rename")
            #expect(try FS.listDirectory(work).contains { $0.hasPrefix(".out.tar.ocitool-tmp-") }, "the temp file is where it should be")
        }
        let (problems, _) = try bench.check(p.operation, root: root, work: work, emptyRoot: p.emptyRoot)
        #expect(problems.isEmpty, "\(p): \(problems.joined(separator: "; "))")
    }
}
