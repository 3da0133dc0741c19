import Foundation
import OCICore
import OCILayer
import OCITestSupport
import Testing

/// Deep trees through the unpack's cursor (a bounded set of open
/// descriptors that moves up through `..` and down by names).
@Suite("Deep trees", .serialized)
struct DeepTreeTests {
    static let depth = 40

    /// Directories without search permission, deeper than the cursor keeps
    /// open: setting the final modes (children first) has to climb back
    /// past directories whose `..` an unprivileged process may no longer
    /// look up, so it comes down again from an open level instead.
    @Test func unprivilegedUnpackOfADeepTreeOfClosedDirectories() throws {
        let tmp = try TempDir(prefix: "ocitool-deep")
        let members = (1...Self.depth).map { PyTar.Member(String(repeating: "d/", count: $0), .dir, mode: 0o600) }
            + [PyTar.Member.file(String(repeating: "d/", count: 20) + "f", "x")]
        let layers = try PyTar.writeLayers([members], in: tmp.file("layers"))
        try ImageLayoutBuilder.write(layers: layers.map { try FS.readFile($0) }, to: tmp.file("layout"))
        _ = try Shell.run(["chmod", "-R", "a+rX", tmp.path])
        let work = tmp.file("w")  // writable by the unprivileged user: target, TMPDIR, HOME
        try FS.makeDirectories(work)
        _ = try Shell.run(["chmod", "1777", work])
        let root = work + "/root"
        var args = [OCIToolBinary.path, "unpack", tmp.file("layout"), root]
        if geteuid() == 0 {
            #expect(Shell.has("setpriv"), "setpriv (util-linux) runs the unpack unprivileged")
            args = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"] + args
        }
        let r = try Shell.run(args, environment: ["TMPDIR": work, "HOME": work])
        #expect(r.status == 0, "\(r.stderr)")
        for level in [1, 10, 25, Self.depth] {
            var st = stat()
            let path = root + "/" + String(repeating: "d/", count: level)
            #expect(lstat(path, &st) == 0 && st.st_mode & 0o7777 == 0o600, "level \(level): mode \(String(st.st_mode & 0o7777, radix: 8))")
        }
        #expect(FS.exists(root + "/" + String(repeating: "d/", count: 20) + "f"))
    }

    /// The same tree as root through the library, then whited out in an
    /// upper layer: removal walks it with a bounded number of descriptors.
    @Test func deepTreeWhitedOut() throws {
        let tmp = try TempDir(prefix: "ocitool-deep")
        defer { _ = try? Shell.run(["rm", "-rf", tmp.path]) }
        let deep = String(repeating: "d/", count: 3000)
        let layers = try PyTar.writeLayers([[.file(deep + "f"), .file(String(repeating: "d/", count: 1500) + "g")],
                                            [.file(".wh.d", ""), .file("kept")]], in: tmp.file("layers"))
        let report = try Unpacker.unpack(LayerTests.sources(layers), into: tmp.file("root"))
        #expect(report.layers == 2)
        #expect(try FS.listDirectory(tmp.file("root")) == ["kept"])
    }
}
