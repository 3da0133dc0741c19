import Foundation
import Testing
import OCICore
import OCIModel
import OCIImage
import OCIStore
import OCITestSupport

@Suite("Reliability: fsck reports damage, fsck --repair removes it")
struct ReliabilityFsckTests {
    enum Damage: String, CaseIterable, CustomStringConvertible, Sendable {
        /// A byte of other:1's own layer flipped.
        case corruptLayer
        /// other:1's own layer deleted.
        case missingLayer
        /// A byte of base:1's config flipped.
        case corruptConfig
        /// The manifest other:1's entry names deleted.
        case missingManifest
        /// An entry ghost:1 naming a manifest that was never stored.
        case danglingEntry
        var description: String { rawValue }
    }

    /// A store holding app:1, base:1 and other:1 (sharing a layer).
    final class Setup {
        let tmp: TempDir
        let root: String
        init() throws {
            tmp = try TempDir(prefix: "ocitool-fsck")
            root = tmp.file("root")
            let images = try Reliability.images()
            for a in [images.app, images.base, images.other] { try Reliability.ocitoolOK(root, "load", ["-q", a]) }
        }

        func image(_ ref: String) throws -> Image { try ImageOps.resolve(ref, in: ImageStore(root: root)) }
        func blob(_ d: Digest) -> String { root + "/blobs/sha256/" + d.encoded }

        func flipByte(_ d: Digest) throws {
            var bytes = try FS.readFile(blob(d), limit: 1 << 30)
            bytes[bytes.count / 2] ^= 0x20
            FS.removeFile(blob(d))
            try FS.writeAtomically(blob(d), bytes: bytes)
        }
    }

    @Test(arguments: Damage.allCases)
    func reportedThenRepaired(_ damage: Damage) throws {
        let s = try Setup()
        let other = try s.image("other:1"), app = try s.image("app:1"), base = try s.image("base:1")
        let ownLayer = try #require(other.layers.map(\.digest).first { d in !app.layers.contains { $0.digest == d } })
        let entryDigest = try #require(try IndexManifest.parse(FS.readFile(s.root + "/index.json"), what: "index")
            .manifests.first { $0.annotations?[AnnotationKey.refName] == "docker.io/library/other:1" }?.digest)
        let ghost = SHA256Hasher.digest(Array("never stored".utf8))
        let broken: String
        var expected: [String]
        switch damage {
        case .corruptLayer:
            try s.flipByte(ownLayer)
            broken = "docker.io/library/other:1"
            expected = ["corrupt blob: \(ownLayer)", "dangling entry: \(broken): layer \(ownLayer) is corrupt"]
        case .missingLayer:
            FS.removeFile(s.blob(ownLayer))
            broken = "docker.io/library/other:1"
            expected = ["dangling entry: \(broken): layer \(ownLayer) is missing"]
        case .corruptConfig:
            let config = base.manifest.view.config.digest
            try s.flipByte(config)
            broken = "docker.io/library/base:1"
            expected = ["corrupt blob: \(config)", "dangling entry: \(broken): config \(config) is corrupt"]
        case .missingManifest:
            FS.removeFile(s.blob(entryDigest))
            broken = "docker.io/library/other:1"
            expected = ["dangling entry: \(broken): manifest \(entryDigest) is missing"]
        case .danglingEntry:
            broken = "docker.io/library/ghost:1"
            var object = try #require(try JSONSerialization.jsonObject(with: Data(FS.readFile(s.root + "/index.json"))) as? [String: Any])
            var manifests = object["manifests"] as? [[String: Any]] ?? []
            manifests.append(["mediaType": MediaType.ociManifest, "digest": ghost.description, "size": 321,
                              "annotations": [AnnotationKey.refName: broken, AnnotationKey.containerdName: broken]])
            object["manifests"] = manifests
            try FS.writeAtomically(s.root + "/index.json", bytes: Array(try JSONSerialization.data(withJSONObject: object)))
            expected = ["dangling entry: \(broken): manifest \(ghost) is missing"]
        }

        let fsck = try Reliability.ocitool(s.root, "fsck")
        #expect(fsck.status == 1, "fsck must fail on damage: \(fsck.stdoutText) \(fsck.stderr)")
        let lines = fsck.stdoutText.split(separator: "\n").map(String.init)
        for e in expected { #expect(lines.contains(e), "fsck should say \"\(e)\"; it said:\n\(fsck.stdoutText)") }
        #expect(lines.last?.hasSuffix("problems found") == true, "\(fsck.stdoutText)")
        #expect(lines.filter { $0.hasPrefix("dangling entry:") }.count == 1, "only \(broken) is damaged:\n\(fsck.stdoutText)")

        let repair = try Reliability.ocitool(s.root, "fsck", ["--repair"])
        #expect(repair.status == 0, "\(repair.stdoutText) \(repair.stderr)")
        #expect(repair.stdoutText.contains("repaired: removed"), "\(repair.stdoutText)")
        let after = try Reliability.ocitool(s.root, "fsck")
        #expect(after.status == 0 && after.stdoutText.contains(": clean"), "\(after.stdoutText)")
        if damage == .corruptLayer || damage == .corruptConfig {
            #expect(!Reliability.blobNames(s.root).contains(expected[0].split(separator: ":").last.map(String.init) ?? ""),
                    "the corrupt blob is removed")
        }
        let all = ["docker.io/library/app:1", "docker.io/library/base:1", "docker.io/library/other:1"]
        #expect(Set(try Reliability.listedNames(s.root)) == Set(all.filter { $0 != broken }))
        let problems = try Reliability.problems(s.root)
        #expect(problems.isEmpty, "\(problems)")
    }

    enum BadIndex: String, CaseIterable, CustomStringConvertible, Sendable {
        case truncated, empty, notJSON, noManifests
        var description: String { rawValue }
    }

    /// An unreadable index.json is an error that says so, for every verb:
    /// never an empty listing, and no writer (tag, load, prune, fsck
    /// --repair) replaces it or deletes blobs as unreferenced.
    @Test(arguments: BadIndex.allCases)
    func unreadableIndexIsAnError(_ bad: BadIndex) throws {
        let s = try Setup()
        let good = try FS.readFile(s.root + "/index.json")
        let bytes: [UInt8]
        switch bad {
        case .truncated: bytes = Array(good.prefix(good.count / 2))
        case .empty: bytes = []
        case .notJSON: bytes = Array("not json at all\n".utf8)
        case .noManifests: bytes = Array(#"{"schemaVersion":2}"#.utf8)
        }
        try FS.writeAtomically(s.root + "/index.json", bytes: bytes)
        let before = try TreeSnapshot(s.root)
        let images = try Reliability.images()
        for (verb, args) in [("fsck", []), ("images", []), ("inspect", ["app:1"]), ("fsck", ["--repair"]),
                             ("tag", ["app:1", "app:2"]), ("rmi", ["app:1"]), ("prune", []), ("load", [images.other]),
                             ("save", ["-o", s.tmp.file("out.tar"), "app:1"])] as [(String, [String])] {
            let r = try Reliability.ocitool(s.root, verb, args)
            let what = "\(verb) \(args.joined(separator: " "))"
            #expect(r.status == 1, "\(what) on an unreadable index.json: status \(r.status): \(r.stdoutText) \(r.stderr)")
            let line = r.stderr.split(separator: "\n").first.map(String.init) ?? ""
            #expect(line.hasPrefix("Error: store \(s.root)") && line.contains("index.json") && line.contains("cannot be read"),
                    "\(what): the error should say the store's index.json cannot be read: \(r.stderr)")
            #expect(!r.stdoutText.contains("REPOSITORY") && !r.stdoutText.contains("clean"), "\(what) printed as if all was well: \(r.stdoutText)")
            #expect(try TreeSnapshot(s.root) == before, "\(what) changed a store it cannot read")
        }
        #expect(!FS.exists(s.tmp.file("out.tar")))
    }
}
