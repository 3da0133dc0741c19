import Foundation
import Testing
import OCICore
import OCIModel
import OCIStore
import OCIArchive
import OCITestSupport

/// `ocitool save` through the binary: outputs, refusals, --from, --compress.
@Suite("CLI: save")
struct SaveCommandTests {
    let dockerFixture = Fixtures.testImagesDir + "/podman-docker.tar"
    let zstdFixture = Fixtures.testImagesDir + "/skopeo-oci-zstd.tar"
    let dockerTag = "localhost/ocitool-test/podman-docker:v1"
    let zstdTag = "localhost/ocitool-test/skopeo-oci-zstd:v1"

    func ocitool(_ args: [String], stdinFile: String? = nil, environment: [String: String] = [:]) throws -> Shell.Result {
        try OCIToolBinary.run(args, stdinFile: stdinFile, environment: environment)
    }

    func loadedRoot(_ tmp: TempDir, _ archives: [String]) throws -> String {
        let root = tmp.file("root")
        for a in archives {
            let r = try ocitool(["load", "-q", "--root", root, a])
            try #require(r.status == 0, "\(r.stderr)")
        }
        return root
    }

    @Test("stdout and -o give the same bytes; messages never reach stdout")
    func stdoutEqualsFile() throws {
        let tmp = try TempDir(prefix: "ocitool-save-cli")
        let root = try loadedRoot(tmp, [dockerFixture])
        let file = tmp.file("out.tar")
        let a = try ocitool(["save", "--root", root, "-o", file, dockerTag])
        #expect(a.status == 0 && a.stdout.isEmpty && a.stderr.isEmpty, "\(a.stderr)")
        let b = try ocitool(["save", "--root", root, dockerTag])
        #expect(b.status == 0 && b.stderr.isEmpty, "\(b.stderr)")
        #expect(SHA256Hasher.digest(b.stdout) == (try PeerTools.sha256sum(path: file)))
        #expect(try FS.listDirectory(tmp.path) == ["out.tar", "root"], "no temp file left")
    }

    @Test("refuses to write an archive to a terminal")
    func refusesTerminal() throws {
        let tmp = try TempDir(prefix: "ocitool-save-tty")
        let root = try loadedRoot(tmp, [dockerFixture])
        // script(1) gives the command a pseudo-terminal as stdout.
        let cmd = "'\(OCIToolBinary.path)' save --root '\(root)' \(dockerTag)"
        let r = try Shell.run(["script", "-q", "-e", "-c", cmd, "/dev/null"])
        #expect(r.status != 0)
        #expect(r.stdoutText.contains("refusing to write an archive to a terminal"), "\(r.stdoutText)")
        #expect(r.stdout.count < 400, "no archive bytes on the terminal")
    }

    @Test("zstd layers in --format docker: one clear line, no output file; --compress gzip or --format oci work")
    func zstdRefusedForDocker() throws {
        let tmp = try TempDir(prefix: "ocitool-save-zstd")
        let root = try loadedRoot(tmp, [zstdFixture])
        let out = tmp.file("z.tar")
        let r = try ocitool(["save", "--root", root, "-o", out, zstdTag])
        #expect(r.status != 0)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(r.stderr)")
        #expect(r.stderr.contains("zstd") && r.stderr.contains("--format oci") && r.stderr.contains("--compress gzip"), "\(r.stderr)")
        #expect(!FS.exists(out))
        #expect(try FS.listDirectory(tmp.path) == ["root"], "no temp file left")
        // Same on stdout: nothing written before the refusal.
        let s = try ocitool(["save", "--root", root, zstdTag])
        #expect(s.status != 0 && s.stdout.isEmpty)

        let gz = try ocitool(["save", "--root", root, "--compress", "gzip", "-o", out, zstdTag])
        #expect(gz.status == 0, "\(gz.stderr)")
        let (_, back) = try SaveTests.loadFresh(out, in: tmp, root: "back")
        let original = try SaveTests.records(ImageStore(root: root))[0]
        #expect(back.images.map(\.id) == [original.id])
        #expect(back.images[0].config.diffIDs == original.config.diffIDs)
        let ingest = FS.exists(root + "/ingest") ? try FS.listDirectory(root + "/ingest") : []
        #expect(ingest.isEmpty, "staging cleaned")
        let oci = try ocitool(["save", "--root", root, "--format", "oci", "-o", tmp.file("z-oci.tar"), zstdTag])
        #expect(oci.status == 0, "\(oci.stderr)")
    }

    @Test("--from: straight from an archive or stdin, without a store; --tmpdir holds the spool and is cleaned")
    func fromArchive() throws {
        let tmp = try TempDir(prefix: "ocitool-save-from")
        let spool = tmp.file("spool")
        try FS.makeDirectories(spool)
        let out = tmp.file("from.tar")
        let r = try ocitool(["save", "--from", Fixtures.testImagesDir + "/podman-oci.tar", "--format", "oci", "--tmpdir", spool, "-o", out])
        #expect(r.status == 0, "\(r.stderr)")
        // The OCI manifest passes through unchanged.
        let original = try PeerRunner.skopeoRawManifest("oci-archive:\(Fixtures.testImagesDir)/podman-oci.tar")
        #expect(try PeerRunner.skopeoRawManifest("oci-archive:\(out)") == original)
        #expect(try FS.listDirectory(spool).isEmpty)

        // A pipeline: stdin in, stdout out, re-encoding on the way.
        let piped = try ocitool(["save", "--from", "-", "--compress", "zstd", "--format", "oci", "--tmpdir", spool],
                                stdinFile: Fixtures.testImagesDir + "/podman-multi-docker.tar")
        #expect(piped.status == 0, "\(piped.stderr)")
        let pipedFile = tmp.file("piped.tar")
        try FS.writeAtomically(pipedFile, bytes: piped.stdout)
        let (_, back) = try SaveTests.loadFresh(pipedFile, in: tmp, root: "back")
        let (_, direct) = try SaveTests.loadFresh(Fixtures.testImagesDir + "/podman-multi-docker.tar", in: tmp, root: "direct")
        #expect(Set(back.images.map(\.id)) == Set(direct.images.map(\.id)))
        #expect(Set(back.images.flatMap(\.names)) == Set(direct.images.flatMap(\.names)))
        #expect(try FS.listDirectory(spool).isEmpty)

        // One image of several, by name.
        let one = try ocitool(["save", "--from", Fixtures.testImagesDir + "/podman-multi-docker.tar", "--tmpdir", spool,
                               "-o", tmp.file("one.tar"), "localhost/ocitool-test/multi-b:v1"])
        #expect(one.status == 0, "\(one.stderr)")
        let entries = try #require(try SaveTests.json(tmp.file("one.tar"), "manifest.json") as? [[String: Any]])
        #expect(entries.map { $0["RepoTags"] as? [String] } == [["localhost/ocitool-test/multi-b:v1"]])
        let missing = try ocitool(["save", "--from", dockerFixture, "--tmpdir", spool, "-o", tmp.file("x.tar"), "nosuch:v1"])
        #expect(missing.status != 0 && missing.stderr.contains("No such image in \(dockerFixture): nosuch:v1"), "\(missing.stderr)")
        #expect(try FS.listDirectory(spool).isEmpty)
    }

    @Test("usage errors: no image, unknown image, wrong platform, bad SOURCE_DATE_EPOCH")
    func usageErrors() throws {
        let tmp = try TempDir(prefix: "ocitool-save-usage")
        let root = try loadedRoot(tmp, [dockerFixture])
        let out = tmp.file("o.tar")
        let none = try ocitool(["save", "--root", root, "-o", out])
        #expect(none.status != 0 && none.stderr.contains("name at least one image"), "\(none.stderr)")
        let unknown = try ocitool(["save", "--root", root, "-o", out, "nosuch:v1"])
        #expect(unknown.status != 0 && unknown.stderr.contains("No such image in the store: nosuch:v1"), "\(unknown.stderr)")
        let platform = try ocitool(["save", "--root", root, "--platform", "linux/s390x", "-o", out, dockerTag])
        #expect(platform.status != 0 && platform.stderr.contains("not linux/s390x"), "\(platform.stderr)")
        let epoch = try ocitool(["save", "--root", root, "-o", out, dockerTag], environment: ["SOURCE_DATE_EPOCH": "yesterday"])
        #expect(epoch.status != 0 && epoch.stderr.contains("SOURCE_DATE_EPOCH"), "\(epoch.stderr)")
        let zstd = try ocitool(["save", "--root", root, "--compress", "zstd", "-o", out, dockerTag])
        #expect(zstd.status != 0 && zstd.stderr.contains("--compress zstd needs --format oci"), "\(zstd.stderr)")
        #expect(!FS.exists(out))
        for r in [none, unknown, platform, epoch, zstd] {
            #expect(r.stderr.split(separator: "\n").count <= 3 && r.stdout.isEmpty, "\(r.stderr)")
        }
    }
}
