import Foundation
import OCICore
import OCITestSupport
import Testing

/// The four verbs through the built `ocitool` binary.
@Suite("unpack / export / squash / diff commands", .serialized)
struct CommandLineTests {
    static let podman = Fixtures.testImagesDir + "/podman-docker.tar"

    func run(_ args: [String]) throws -> Shell.Result { try OCIToolBinary.run(args) }

    @Test func unpackThenDiffIsEmpty() throws {
        let tmp = try TempDir(prefix: "ocitool-cli")
        let r = try run(["unpack", Self.podman, tmp.file("root")])
        #expect(r.status == 0, "\(r.stderr)")
        let d = try run(["diff", Self.podman, tmp.file("root")])
        #expect(d.status == 0 && d.stdoutText.isEmpty, "\(d.stdoutText) \(d.stderr)")
        let again = try run(["unpack", Self.podman, tmp.file("root")])
        #expect(again.status != 0 && again.stderr.contains("not empty"))
        #expect(try run(["unpack", "--force", Self.podman, tmp.file("root")]).status == 0)
    }

    @Test func exportToFileAndStdoutAreTheSameBytes() throws {
        let tmp = try TempDir(prefix: "ocitool-cli")
        let r = try run(["export", Self.podman, "-o", tmp.file("a.tar")])
        #expect(r.status == 0, "\(r.stderr)")
        let s = try run(["export", Self.podman])
        #expect(s.status == 0)
        #expect(s.stdout == (try FS.readFile(tmp.file("a.tar"))))
        let names = try PeerTools.listNames("tar", archive: tmp.file("a.tar")).map { TarEntry.normalize($0) }
        #expect(names.contains("data/a-hardlink.txt") && names.contains("etc/conf.d/b.conf") && !names.contains { $0.contains(".wh.") })
        #expect(!FS.exists(tmp.file("a.tar") + ".ocitool-tmp"))
    }

    @Test func squashStoresATaggedImage() throws {
        let tmp = try TempDir(prefix: "ocitool-cli")
        let root = tmp.file("store")
        let r = try run(["squash", "--root", root, Self.podman, "example/flat:1"])
        #expect(r.status == 0, "\(r.stderr)")
        let id = r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.hasPrefix("sha256:"))
        let images = try run(["images", "--root", root, "--no-trunc"])
        #expect(images.stdoutText.contains("example/flat") && images.stdoutText.contains(id))
        let d = try run(["diff", "--root", root, Self.podman, "example/flat:1"])
        #expect(d.status == 0 && d.stdoutText.isEmpty, "\(d.stdoutText)")
    }

    @Test func diffJSON() throws {
        let tmp = try TempDir(prefix: "ocitool-cli")
        let multi = Fixtures.testImagesDir + "/podman-multi-docker.tar"
        let r = try run(["diff", "--format", "json", multi + "@0", multi + "@1"])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try JSONSerialization.jsonObject(with: Data(r.stdout)) as? [String: [String]]
        #expect(doc?["added"]?.contains("/other.txt") == true)
        #expect(doc?["deleted"]?.contains("/bin/tool") == true)
        _ = tmp
    }

    @Test func multiImageArchiveNeedsAnIndex() throws {
        let tmp = try TempDir(prefix: "ocitool-cli")
        let multi = Fixtures.testImagesDir + "/podman-multi-docker.tar"
        let r = try run(["unpack", multi, tmp.file("root")])
        #expect(r.status != 0 && r.stderr.contains("@N") && r.stderr.contains("multi-b"))
        #expect(try run(["unpack", multi + "@1", tmp.file("root")]).status == 0)
        #expect(FS.exists(tmp.file("root/other.txt")))
    }

    @Test func limitsAreFlags() throws {
        let tmp = try TempDir(prefix: "ocitool-cli")
        let r = try run(["unpack", "--max-bytes", "64", Self.podman, tmp.file("a")])
        #expect(r.status != 0 && r.stderr.contains("--max-bytes"), "\(r.stderr)")
        let e = try run(["export", "--max-entries", "5", Self.podman, "-o", tmp.file("x.tar")])
        #expect(e.status != 0 && e.stderr.contains("--max-entries"), "\(e.stderr)")
        #expect(!FS.exists(tmp.file("x.tar")))
        #expect(try run(["unpack", "--max-bytes", "1M", "--max-entries", "100", Self.podman, tmp.file("b")]).status == 0)
    }

    @Test func rootlessSkipsDevicesAndOwnersWithOneWarningEach() throws {
        let tmp = try TempDir(prefix: "ocitool-cli")
        let layer = try TarFixtures.tarBytes([
            .init(TarEntry(path: "dev/", kind: .directory, mode: 0o755)),
            .init(TarEntry(path: "dev/null", kind: .characterDevice, mode: 0o666, deviceMajor: 1, deviceMinor: 3)),
            .init(TarEntry(path: "dev/zero", kind: .characterDevice, mode: 0o666, deviceMajor: 1, deviceMinor: 5)),
            .init(TarEntry(path: "home/", kind: .directory, mode: 0o755, uid: 1000, gid: 1000)),
            .init(TarEntry(path: "home/file", kind: .regular, mode: 0o644, uid: 1000, gid: 1000, size: 1), data: [0x41]),
        ])
        try ImageLayoutBuilder.write(layers: [layer], to: tmp.file("layout"))
        let r = try run(["unpack", "--rootless", tmp.file("layout"), tmp.file("root")])
        #expect(r.status == 0, "\(r.stderr)")
        let warnings = r.stderr.split(separator: "\n").filter { $0.hasPrefix("warning:") }
        #expect(warnings.count == 2, "\(r.stderr)")
        #expect(r.stderr.contains("2 device node(s) not created"))
        #expect(r.stderr.contains("ownership of 2 entries not applied"))
        #expect(!FS.exists(tmp.file("root/dev/null")))
        var st = stat()
        stat(tmp.file("root/home/file"), &st)
        #expect(st.st_uid == geteuid())
        if geteuid() == 0 {
            let owned = try run(["unpack", tmp.file("layout"), tmp.file("root2")])
            #expect(owned.status == 0 && owned.stderr.isEmpty, "\(owned.stderr)")
            stat(tmp.file("root2/home/file"), &st)
            #expect(st.st_uid == 1000)
            #expect(FS.exists(tmp.file("root2/dev/null")))
            let noOwner = try run(["unpack", "--no-same-owner", tmp.file("layout"), tmp.file("root3")])
            #expect(noOwner.status == 0 && noOwner.stderr.isEmpty, "\(noOwner.stderr)")
            stat(tmp.file("root3/home/file"), &st)
            #expect(st.st_uid == 0)
        }
    }

    /// As an unprivileged user (`setpriv` to nobody): read-only directories
    /// in lower layers still take whiteouts and new files, because directory
    /// modes are applied last; devices and owners are skipped with warnings.
    @Test(.enabled(if: geteuid() == 0 && Shell.has("setpriv")))
    func unprivilegedUnpack() throws {
        let tmp = try TempDir(prefix: "ocitool-cli-nobody")
        chmod(tmp.path, 0o777)
        let l1 = try TarFixtures.tarBytes([
            .init(TarEntry(path: "ro/", kind: .directory, mode: 0o555)),
            .init(TarEntry(path: "ro/a", kind: .regular, mode: 0o444, size: 1), data: [0x61]),
            .init(TarEntry(path: "ro/sub/", kind: .directory, mode: 0o500)),
            .init(TarEntry(path: "ro/sub/b", kind: .regular, mode: 0o000, size: 1), data: [0x62]),
            .init(TarEntry(path: "dev/null", kind: .characterDevice, mode: 0o666, deviceMajor: 1, deviceMinor: 3)),
        ])
        let l2 = try TarFixtures.tarBytes([
            .init(TarEntry(path: "ro/.wh.a", kind: .regular)),
            .init(TarEntry(path: "ro/new", kind: .regular, mode: 0o644, size: 1), data: [0x6e]),
            .init(TarEntry(path: "ro/sub/.wh..wh..opq", kind: .regular)),
        ])
        try ImageLayoutBuilder.write(layers: [l1, l2], to: tmp.file("layout"))
        _ = try Shell.run(["chmod", "-R", "a+rX", tmp.file("layout")])
        let r = try Shell.run(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
                               OCIToolBinary.path, "unpack", tmp.file("layout"), tmp.file("root")],
                              environment: ["TMPDIR": tmp.path, "HOME": tmp.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("1 device node(s) not created"))
        let listing = try TreeListing(directory: tmp.file("root"))
        #expect(listing.paths == ["dev", "ro", "ro/new", "ro/sub"], "\(listing)")
        #expect(listing.entries["ro"]?.hasPrefix("d 0555 65534:65534") == true, "\(listing)")
        #expect(listing.entries["ro/sub"]?.hasPrefix("d 0500") == true, "\(listing)")
    }
}
