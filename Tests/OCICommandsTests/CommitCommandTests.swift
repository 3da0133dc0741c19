import Foundation
import Testing
import OCICore
import OCITestSupport

/// `ocitool commit` through the binary: store and archive outputs,
/// history and config, reproducible bytes, and bad input that must leave
/// neither an output file nor a changed store.
@Suite("CLI: commit", .serialized, .enabled(if: geteuid() == 0))
struct CommitCommandTests {
    static let docker = Fixtures.testImagesDir + "/podman-docker.tar"
    static let oci = Fixtures.testImagesDir + "/podman-oci.tar"
    static let ref = "localhost/ocitool-test/podman-docker:v1"

    /// A store with podman-docker.tar loaded and a changed copy of its root file system.
    static func prepare(_ tmp: TempDir) throws -> (root: String, rootfs: String) {
        let root = tmp.file("store")
        let load = try OCIToolBinary.run(["load", "-q", "--root", root, docker])
        #expect(load.status == 0, "\(load.stderr)")
        let unpack = try OCIToolBinary.run(["unpack", docker, tmp.file("rootfs")])
        #expect(unpack.status == 0, "\(unpack.stderr)")
        try CommitScenario.apply(to: tmp.file("rootfs"))
        return (root, tmp.file("rootfs"))
    }

    static func config(_ transport: String) throws -> [String: Any] {
        let r = try Shell.run(["skopeo", "inspect", "--config", "--raw", transport])
        guard r.status == 0 else { throw CoreError.malformed(context: transport, message: r.stderr) }
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout)) as? [String: Any])
    }

    @Test func commitIntoTheStoreShowsInHistory() throws {
        let tmp = try TempDir(prefix: "ocitool-commit-cli")
        let (root, rootfs) = try Self.prepare(tmp)
        let r = try OCIToolBinary.run(["commit", "--root", root, "--rootfs", rootfs, "-m", "add app", "-a", "Jane <jane@example.invalid>",
                                       "-c", #"CMD ["/opt/app/run"]"#, "-c", "ENV MODE=prod", Self.ref, "app:2"])
        #expect(r.status == 0, "\(r.stderr)")
        let id = r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.hasPrefix("sha256:"))
        #expect(r.stderr.isEmpty, "\(r.stderr)")

        let h = try OCIToolBinary.run(["history", "--root", root, "--format", "json", "--no-trunc", "app:2"])
        #expect(h.status == 0, "\(h.stderr)")
        let rows = h.stdoutText.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let base = try OCIToolBinary.run(["history", "--root", root, "--format", "json", "--no-trunc", Self.ref])
        let baseRows = base.stdoutText.split(separator: "\n").map(String.init)
        #expect(rows.count == baseRows.count + 1)
        #expect(rows.first?["Comment"] as? String == "add app")
        #expect(rows.first?["CreatedBy"] as? String == "ocitool commit")
        #expect(rows.first?["ID"] as? String == id)
        // Below the new entry: the base history as it was (IDs aside).
        let below = h.stdoutText.split(separator: "\n").dropFirst().map { line -> String in
            String(line).replacingOccurrences(of: #""ID":"[^"]*""#, with: "", options: .regularExpression)
        }
        let baseBelow = baseRows.map { $0.replacingOccurrences(of: #""ID":"[^"]*""#, with: "", options: .regularExpression) }
        #expect(below == baseBelow)

        // skopeo reads the new image from the store: our config, our layer.
        let cfg = try Self.config("oci:\(root):docker.io/library/app:2")
        let baseCfg = try Self.config("docker-archive:\(Self.docker)")
        #expect(cfg["author"] as? String == "Jane <jane@example.invalid>")
        let history = cfg["history"] as? [[String: Any]] ?? []
        let ids = (cfg["rootfs"] as? [String: Any])?["diff_ids"] as? [String] ?? []
        #expect(ids.count == history.filter { $0["empty_layer"] as? Bool != true }.count)
        #expect(history.last?["author"] as? String == "Jane <jane@example.invalid>")
        let c = cfg["config"] as? [String: Any]
        #expect(c?["Cmd"] as? [String] == ["/opt/app/run"])
        #expect((c?["Env"] as? [String])?.last == "MODE=prod")
        // Every field the commit does not own is kept.
        func canonical(_ v: Any?) throws -> String {
            guard let v else { return "missing" }
            let data = try JSONSerialization.data(withJSONObject: v, options: [.sortedKeys, .fragmentsAllowed])
            return String(decoding: data, as: UTF8.self)
        }
        for key in baseCfg.keys where !["created", "author", "history", "rootfs", "config"].contains(key) {
            #expect(try canonical(cfg[key]) == canonical(baseCfg[key]), "\(key)")
        }
        var baseConfig = baseCfg["config"] as? [String: Any] ?? [:]
        baseConfig["Cmd"] = ["/opt/app/run"]
        baseConfig["Env"] = (baseConfig["Env"] as? [String] ?? []) + ["MODE=prod"]
        #expect(try canonical(c) == canonical(baseConfig))
        #expect(Array(ids.dropLast()) == ((baseCfg["rootfs"] as? [String: Any])?["diff_ids"] as? [String] ?? []))

        // The committed image unpacks to the changed tree.
        let u = try OCIToolBinary.run(["unpack", "--root", root, "app:2", tmp.file("check")])
        #expect(u.status == 0, "\(u.stderr)")
        let diffs = try TreeListing(directory: tmp.file("check")).differences(from: TreeListing(directory: rootfs))
        #expect(diffs.isEmpty, "\(diffs.joined(separator: "\n"))")
    }

    @Test func sameInputsAndSourceDateEpochGiveTheSameBytes() throws {
        let tmp = try TempDir(prefix: "ocitool-commit-cli")
        let (_, rootfs) = try Self.prepare(tmp)
        let env = ["SOURCE_DATE_EPOCH": "1704067200"]
        var digests: [Digest] = []
        for (i, base) in [Self.oci, Self.oci].enumerated() {
            let r = try OCIToolBinary.run(["commit", "--rootfs", rootfs, "-m", "m", base, "app:1", "-o", tmp.file("out\(i).tar")], environment: env)
            #expect(r.status == 0, "\(r.stderr)")
            digests.append(try PeerTools.sha256sum(path: tmp.file("out\(i).tar")))
            _ = try Shell.run(["touch", rootfs + "/etc/new.txt"])  // a newer mtime is clamped
        }
        let piped = try OCIToolBinary.run(["commit", "--rootfs", rootfs, "-m", "m", Self.oci, "app:1", "-o", "-"], environment: env)
        #expect(piped.status == 0)
        #expect(SHA256Hasher.digest(piped.stdout) == digests[0])
        #expect(digests[0] == digests[1])
        // An OCI base gives an OCI archive with a gzip layer, created = SOURCE_DATE_EPOCH.
        let names = try PeerTools.listNames("tar", archive: tmp.file("out0.tar"))
        #expect(names.contains("index.json") && !names.contains("manifest.json"))
        let cfg = try Self.config("oci-archive:\(tmp.file("out0.tar"))")
        #expect(cfg["created"] as? String == "2024-01-01T00:00:00Z")
        #expect((cfg["history"] as? [[String: Any]])?.last?["created"] as? String == "2024-01-01T00:00:00Z")
        let raw = try PeerRunner.skopeoRawManifest("oci-archive:\(tmp.file("out0.tar"))")
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(raw)) as? [String: Any])
        #expect(((manifest["layers"] as? [[String: Any]])?.last?["mediaType"] as? String) == "application/vnd.oci.image.layer.v1.tar+gzip")
    }

    @Test func archiveBaseIntoTheStoreAndAnArchive() throws {
        let tmp = try TempDir(prefix: "ocitool-commit-cli")
        let (root, rootfs) = try Self.prepare(tmp)
        let r = try OCIToolBinary.run(["commit", "--root", root, "--rootfs", rootfs, "--store", "-o", tmp.file("out.tar"),
                                       Self.oci, "example.com/app:3"])
        #expect(r.status == 0, "\(r.stderr)")
        let id = r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let images = try OCIToolBinary.run(["images", "--root", root, "--no-trunc"])
        #expect(images.stdoutText.contains("example.com/app") && images.stdoutText.contains(id))
        #expect(try PeerRunner.skopeoConfigDigest("oci:\(root):example.com/app:3").description == id)
        #expect(try PeerRunner.skopeoConfigDigest("oci-archive:\(tmp.file("out.tar"))").description == id)
        // Archive only (-o without --store): the store is not touched.
        let before = try TreeSnapshot(root)
        let o = try OCIToolBinary.run(["commit", "--root", root, "--rootfs", rootfs, "-o", tmp.file("only.tar"), Self.ref, "x:1"])
        #expect(o.status == 0, "\(o.stderr)")
        #expect(try TreeSnapshot(root) == before)
        let names = try PeerTools.listNames("tar", archive: tmp.file("only.tar"))
        #expect(names.contains("manifest.json"))  // a store base gives save's default: the docker hybrid
        let manifest = try Shell.run(["tar", "-xOf", tmp.file("only.tar"), "manifest.json"])
        #expect(manifest.stdoutText.contains(#""RepoTags":["x:1"]"#), "\(manifest.stdoutText)")
        #expect(try PeerRunner.skopeoConfigDigest("docker-archive:\(tmp.file("only.tar"))").description
                 == o.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test func badInputLeavesNoOutputAndAnUnchangedStore() throws {
        let tmp = try TempDir(prefix: "ocitool-commit-cli")
        let (root, rootfs) = try Self.prepare(tmp)
        let before = try TreeSnapshot(root)
        let out = tmp.file("out/new.tar")
        try FS.makeDirectories(tmp.file("out"))

        func refused(_ args: [String], _ expected: String) throws {
            let r = try OCIToolBinary.run(args)
            #expect(r.status != 0, "\(args) succeeded")
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1 && r.stderr.contains(expected), "\(args): \(r.stderr)")
            #expect(try FS.listDirectory(tmp.file("out")).isEmpty, "\(args) left output")
            #expect(try TreeSnapshot(root) == before, "\(args) changed the store")
        }

        try refused(["commit", "--root", root, "--rootfs", tmp.file("missing"), Self.ref, "-o", out], "No such file or directory")
        try refused(["commit", "--root", root, "--rootfs", tmp.file("missing"), Self.ref, "y:1"], "No such file or directory")
        try refused(["commit", "--root", root, "--upper", Self.docker, Self.ref, "y:1"], "is not a directory")

        let sock = try Shell.run(["python3", "-c", "import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])", rootfs + "/etc/agent.sock"])
        #expect(sock.status == 0)
        try refused(["commit", "--root", root, "--rootfs", rootfs, Self.ref, "-o", out], "etc/agent.sock: cannot be stored in a layer: it is a socket")
        try refused(["commit", "--root", root, "--rootfs", rootfs, Self.ref, "y:1"], "it is a socket")
        #expect(try FS.listDirectory(root + "/ingest").isEmpty)
        FS.removeFile(rootfs + "/etc/agent.sock")

        // A base archive whose layer does not match its diff_id.
        var bytes = try FS.readFile(Self.docker)
        let needle = Array("not a real shell".utf8)
        let at = try #require((0..<(bytes.count - needle.count)).first { bytes[$0..<($0 + needle.count)].elementsEqual(needle) })
        bytes[at] ^= 0x20
        try FS.writeAtomically(tmp.file("corrupt.tar"), bytes: bytes)
        try refused(["commit", "--root", root, "--rootfs", rootfs, tmp.file("corrupt.tar"), "-o", out], "diff")
        try refused(["commit", "--root", root, "--rootfs", rootfs, tmp.file("corrupt.tar"), "y:1"], "diff")
        try refused(["commit", "--root", root, "--rootfs", rootfs, "-c", "RUN true", Self.ref, "y:1"], "unknown instruction")
    }
}
