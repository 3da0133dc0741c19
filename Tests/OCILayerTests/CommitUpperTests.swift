import Foundation
import OCICore
import OCIModel
import OCIStore
import OCILayer
import OCITestSupport
import Testing

/// `Commit` with `--upper`: overlayfs whiteouts (0/0 character devices,
/// opaque xattrs, fuse-overlayfs marker files) become OCI markers, overlay
/// xattrs are dropped, features a layer cannot hold are refused; and the
/// upper directory of a real overlay mount gives the merged view.
@Suite("commit --upper", .serialized, .enabled(if: geteuid() == 0))
struct CommitUpperTests {
    static func sh(_ script: String, _ dir: String) throws {
        let r = try Shell.run(["sh", "-c", "set -eu\n" + script, "sh", dir])
        guard r.status == 0 else { throw CoreError.malformed(context: "script", message: r.stderr) }
    }

    @Test func handMadeUpperDirectory() throws {
        let fx = try CommitFixture()
        let upper = fx.tmp.file("upper")
        try FS.makeDirectories(upper)
        try Self.sh(#"""
        u="$1"
        setx() { python3 -c 'import os, sys; os.setxattr(sys.argv[1], sys.argv[2], sys.argv[3].encode(), follow_symlinks=False)' "$@"; }
        mkdir "$u/etc" "$u/replace" "$u/empty" "$u/fuse"
        setx "$u/etc" trusted.overlay.impure y
        setx "$u/etc" trusted.overlay.origin abc
        echo changed > "$u/etc/hello.txt"
        setx "$u/etc/hello.txt" user.k v
        mknod "$u/etc/keep.txt" c 0 0
        mknod "$u/gone" c 0 0
        setx "$u/replace" trusted.overlay.opaque y
        echo n > "$u/replace/new"
        setx "$u/empty" user.overlay.opaque y
        touch "$u/fuse/.wh.x" "$u/fuse/.wh..wh..opq"
        echo y > "$u/fuse/y"
        mknod "$u/fuse/dev" c 1 3
        """#, upper)
        let (staged, listing) = try fx.commit(.upper(upper))
        defer { staged.discard() }
        #expect(listing.members.map { "\($0.type) \($0.path)" } == [
            "f .wh.gone",
            "d empty", "f empty/.wh..wh..opq",
            "d etc", "f etc/.wh.keep.txt", "f etc/hello.txt",
            "d fuse", "f fuse/.wh..wh..opq", "f fuse/.wh.x", "c fuse/dev", "f fuse/y",
            "d replace", "f replace/.wh..wh..opq", "f replace/new",
        ], "\(listing)")
        #expect(!listing.members.contains { $0.xattrs.keys.contains { $0.contains("overlay.") } })
        #expect(listing.members.first { $0.path == "etc/hello.txt" }?.xattrs == ["user.k": "76"])
        #expect(staged.layer.whiteouts == 6)

        // Base + layer through umoci: what the overlay would show.
        let umoci = try LayerTests.umociRootfs(for: staged.record, in: fx.tmp)
        #expect(!FS.exists(umoci + "/gone") && !FS.exists(umoci + "/etc/keep.txt") && FS.exists(umoci + "/etc/conf.d/a.conf"))
        #expect(try FS.listDirectory(umoci + "/replace") == ["new"])
        #expect(try FS.listDirectory(umoci + "/empty").isEmpty)
    }

    @Test(arguments: ["redirect", "metacopy"])
    func featuresALayerCannotHoldAreRefused(feature: String) throws {
        let fx = try CommitFixture()
        let upper = fx.tmp.file("upper")
        try FS.makeDirectories(upper + "/etc")
        try Self.sh(#"python3 -c 'import os, sys; os.setxattr(sys.argv[1], sys.argv[2], b"/x")' "$1/etc" "trusted.overlay.\#(feature)""#, upper)
        #expect {
            _ = try fx.commit(.upper(upper))
        } throws: { e in
            guard let e = e as? CommitError, case let .overlayFeature(_, entry, reason) = e else { return false }
            return entry == "etc" && reason.contains(feature == "redirect" ? "redirect_dir" : "metacopy")
        }
        #expect(fx.leftoverStagingFiles.isEmpty)
    }

    @Test func realOverlayMountGivesTheMergedView() throws {
        let fx = try CommitFixture()
        for d in ["upper", "work", "merged"] { try FS.makeDirectories(fx.tmp.file(d)) }
        let mount = try Shell.run(["mount", "-t", "overlay", "overlay", "-o",
                                   "lowerdir=\(fx.lower),upperdir=\(fx.tmp.file("upper")),workdir=\(fx.tmp.file("work"))", fx.tmp.file("merged")])
        try #require(mount.status == 0, "overlay mount failed: \(mount.stderr)")
        var mounted = true
        defer { if mounted { _ = try? Shell.run(["umount", fx.tmp.file("merged")]) } }
        try Self.sh(#"""
        d="$1"
        echo new > "$d/etc/new.txt"
        ln "$d/etc/new.txt" "$d/etc/new2.txt"
        printf 'HELLO\n' > "$d/etc/hello.txt"
        chmod 0600 "$d/etc/conf.d/a.conf"
        chown 5:5 "$d/etc/conf.d/b.conf"
        python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.k", b"w")' "$d/data/x.txt"
        ln -sfn ../etc/keep.txt "$d/data/link"
        rm -rf "$d/gone"
        rm -rf "$d/replace"; mkdir "$d/replace"; echo n > "$d/replace/new"
        rm "$d/empty/e1" "$d/empty/e2"
        rm "$d/todir"; mkdir "$d/todir"; echo i > "$d/todir/inner"
        rm -rf "$d/tofile"; echo f > "$d/tofile"
        """#, fx.tmp.file("merged"))
        let merged = try TreeListing(directory: fx.tmp.file("merged"))
        #expect(try Shell.run(["umount", fx.tmp.file("merged")]).status == 0)
        mounted = false

        let (staged, listing) = try fx.commit(.upper(fx.tmp.file("upper")))
        defer { staged.discard() }
        #expect(listing.markers.contains("replace/.wh..wh..opq") && listing.markers.contains(".wh.gone"), "\(listing)")
        let umoci = try LayerTests.umociRootfs(for: staged.record, in: fx.tmp)
        let diffs = try TreeListing(directory: umoci).differences(from: merged)
        #expect(diffs.isEmpty, "umoci(base + upper layer) vs overlay merged:\n\(diffs.joined(separator: "\n"))\n\(listing)")
    }
}
