import Foundation
import Testing
import OCICore
import OCITestSupport

/// End-to-end tests of the store verbs through the `ocitool` binary.
@Suite("CLI: load, images, inspect, history, tag, rmi, prune")
struct StoreCommandsTests {
    let docker = Fixtures.testImagesDir + "/podman-docker.tar"
    let oci = Fixtures.testImagesDir + "/umoci-whiteout-oci.tar"
    let tag = "localhost/ocitool-test/podman-docker:v1"

    func ocitool(_ root: String, _ args: String...) throws -> Shell.Result {
        let name = args[0]
        return try OCIToolBinary.run([name, "--root", root] + args.dropFirst())
    }

    func json(_ r: Shell.Result) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(r.stdout))
    }

    @Test func loadImagesInspectHistory() throws {
        let tmp = try TempDir(prefix: "ocitool-cli")
        let root = tmp.file("root")
        let load = try ocitool(root, "load", docker)
        #expect(load.status == 0, "\(load.stderr)")
        #expect(load.stdoutText == "Loaded image: \(tag)\n")
        let load2 = try OCIToolBinary.run(["load", "--root", root], stdinFile: oci)
        #expect(load2.stdoutText.hasPrefix("Loaded image ID: sha256:"))
        let ociID = String(load2.stdoutText.dropFirst("Loaded image ID: ".count)).trimmingCharacters(in: .whitespacesAndNewlines)

        // Image ID = sha256 of the config bytes skopeo reads from the archive.
        let cfg = try Shell.run(["skopeo", "inspect", "--config", "--raw", "docker-archive:\(docker)"])
        let id = SHA256Hasher.digest(cfg.stdout)

        let images = try ocitool(root, "images")
        let lines = images.stdoutText.split(separator: "\n")
        #expect(lines.first?.hasPrefix("REPOSITORY") == true)
        #expect(lines.first?.contains("IMAGE ID") == true)
        #expect(lines.contains { $0.hasPrefix("localhost/ocitool-test/podman-docker") && $0.contains(" v1 ") && $0.contains(id.shortID) })
        #expect(lines.contains { $0.hasPrefix("<none>") && $0.contains(String(ociID.dropFirst(7).prefix(12))) })

        let quiet = try ocitool(root, "images", "-q")
        #expect(Set(quiet.stdoutText.split(separator: "\n").map(String.init)) == [id.shortID, String(ociID.dropFirst(7).prefix(12))])

        let jsonLines = try ocitool(root, "images", "--format", "json").stdoutText.split(separator: "\n")
        #expect(jsonLines.count == 2)
        for l in jsonLines {
            let o = try #require(try JSONSerialization.jsonObject(with: Data(l.utf8)) as? [String: Any])
            #expect(o["Repository"] != nil && o["Tag"] != nil && o["ID"] != nil && o["Digest"] != nil)
        }

        let inspect = try ocitool(root, "inspect", tag)
        #expect(inspect.status == 0)
        let arr = try #require(try json(inspect) as? [[String: Any]])
        #expect(arr.count == 1)
        let doc = arr[0]
        #expect(doc["Id"] as? String == id.description)
        #expect(doc["RepoTags"] as? [String] == [tag])
        let skCfg = try #require(try JSONSerialization.jsonObject(with: Data(cfg.stdout)) as? [String: Any])
        let diffIDs = (skCfg["rootfs"] as? [String: Any])?["diff_ids"] as? [String]
        #expect((doc["RootFS"] as? [String: Any])?["Layers"] as? [String] == diffIDs)
        #expect((doc["OCITool"] as? [String: Any])?["ManifestDigest"] as? String != nil)
        #expect((doc["RepoDigests"] as? [String])?.first?.hasPrefix("localhost/ocitool-test/podman-docker@sha256:") == true)

        // By ID prefix, by full ID, by repo digest.
        #expect(try ocitool(root, "inspect", id.shortID).status == 0)
        #expect(try ocitool(root, "inspect", id.description).status == 0)
        let repoDigest = try #require((doc["RepoDigests"] as? [String])?.first)
        #expect(try ocitool(root, "inspect", repoDigest).status == 0)

        let history = try ocitool(root, "history", tag)
        let hl = history.stdoutText.split(separator: "\n")
        let historyCount = (skCfg["history"] as? [Any])?.count ?? 0
        #expect(hl.count == historyCount + 1)
        #expect(hl.first?.hasPrefix("IMAGE") == true)
        #expect(hl.dropFirst().first?.hasPrefix(id.shortID) == true)
        #expect(hl.dropFirst(2).allSatisfy { $0.hasPrefix("<missing>") })
        let hj = try ocitool(root, "history", "--format", "json", "--no-trunc", tag).stdoutText.split(separator: "\n")
        #expect(hj.count == historyCount)
    }

    @Test func tagRmiPrune() throws {
        let tmp = try TempDir(prefix: "ocitool-cli")
        let root = tmp.file("root")
        #expect(try ocitool(root, "load", "-q", docker).status == 0)
        #expect(try ocitool(root, "tag", tag, "myapp:1.0").status == 0)
        #expect(try ocitool(root, "tag", "myapp:1.0", "busybox").status == 0)
        let names = try ocitool(root, "images").stdoutText
        #expect(names.contains("myapp ") && names.contains("busybox "))
        // skopeo finds the tag in the store (ref.name = tag).
        #expect(try Shell.run(["skopeo", "inspect", "oci:\(root):docker.io/library/myapp:1.0"]).status == 0)

        // An ID with several names needs -f, like docker (-q prints it once per name, as docker does).
        let id = String(try ocitool(root, "images", "-q").stdoutText.split(separator: "\n").first ?? "")
        let refused = try ocitool(root, "rmi", id)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("must be forced"))

        let untag = try ocitool(root, "rmi", "myapp:1.0")
        #expect(untag.stdoutText == "Untagged: myapp:1.0\n")
        // Blobs stay until prune; nothing is unreferenced yet.
        let prune1 = try ocitool(root, "prune")
        #expect(prune1.stdoutText.contains("Total reclaimed space: 0B"))

        let all = try ocitool(root, "rmi", "-f", id)
        #expect(all.stdoutText.contains("Deleted: sha256:"))
        let prune2 = try ocitool(root, "prune")
        #expect(prune2.stdoutText.split(separator: "\n").filter { $0.hasPrefix("deleted: sha256:") }.count >= 4)
        #expect(try FS.listDirectory(root + "/blobs/sha256").isEmpty)
        #expect(try ocitool(root, "images", "-q").stdoutText.isEmpty)
    }

    @Test func errorsAreOneLineAndNonZero() throws {
        let tmp = try TempDir(prefix: "ocitool-cli")
        let root = tmp.file("root")
        let missing = try ocitool(root, "inspect", "nosuch:tag")
        #expect(missing.status != 0)
        #expect(missing.stdoutText == "[]\n")
        #expect(missing.stderr.contains("No such image: nosuch:tag"))
        let bad = try ocitool(root, "load", tmp.file("does-not-exist.tar"))
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("does-not-exist.tar"))
        #expect(bad.stderr.split(separator: "\n").count == 1, "\(bad.stderr)")
        let badRef = try ocitool(root, "tag", "x", "Bad/Name")
        #expect(badRef.status != 0)
    }
}
