import Foundation
import OCICore
import OCIModel
import OCIStore
import OCIArchive
import OCILayer
import OCITestSupport
import Testing

/// `Commit` with `--rootfs`: docker's change rules, member order, the
/// opaque rule, hard links, determinism, and refusals. The layers are read
/// back by Python's tarfile, and applied by umoci to check that base + new
/// layer is the changed tree.
@Suite("commit --rootfs", .serialized)
struct CommitRootfsTests {
    @Test func unchangedTreeGivesAnEmptyLayer() throws {
        let fx = try CommitFixture()
        let (staged, listing) = try fx.commit()
        defer { staged.discard() }
        #expect(listing.members.isEmpty, "\(listing)")
        #expect(staged.layer.entries == 0)
        // An empty tar: the two end blocks; diff_id = its SHA-256.
        #expect(staged.layer.diffID == SHA256Hasher.digest([UInt8](repeating: 0, count: 1024)))
    }

    @Test func docker_rules_order_and_markers() throws {
        let fx = try CommitFixture()
        try fx.change(#"""
        d="$1"
        echo new > "$d/etc/new.txt"
        ln "$d/etc/new.txt" "$d/etc/new2.txt"
        printf 'HELLO\n' > "$d/etc/hello.txt"
        touch -d @1700000500 "$d/etc/keep.txt"
        chmod 0600 "$d/etc/conf.d/a.conf"
        chown 5:5 "$d/etc/conf.d/b.conf"
        python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.k", b"w")' "$d/data/x.txt"
        ln -sfn ../etc/keep.txt "$d/data/link"
        rm -rf "$d/gone"
        rm -rf "$d/replace"; mkdir "$d/replace"; echo n > "$d/replace/new"
        rm "$d/empty/e1" "$d/empty/e2"
        rm "$d/todir"; mkdir "$d/todir"; echo i > "$d/todir/inner"
        rm -rf "$d/tofile"; echo f > "$d/tofile"
        """#)
        let (staged, listing) = try fx.commit()
        defer { staged.discard() }
        let shown = listing.members.map { "\($0.type) \($0.path)" + ($0.type == "h" ? " -> \($0.link)" : "") }
        #expect(shown == [
            "f .wh.gone",
            "d data", "l data/link", "f data/x.txt",
            "d empty", "f empty/.wh.e1", "f empty/.wh.e2",
            "d etc", "d etc/conf.d", "f etc/conf.d/a.conf", "f etc/conf.d/b.conf",
            "f etc/hello.txt", "f etc/keep.txt", "f etc/new.txt", "h etc/new2.txt -> etc/new.txt",
            "d replace", "f replace/.wh..wh..opq", "f replace/new",
            "d todir", "f todir/inner",
            "f tofile",
        ], "\(listing)")
        let byPath = Dictionary(listing.members.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byPath["etc/conf.d/a.conf"]?.mode == 0o600)
        #expect(byPath["etc/conf.d/b.conf"]?.uid == 5 && byPath["etc/conf.d/b.conf"]?.gid == 5)
        #expect(byPath["data/x.txt"]?.xattrs["user.k"] == "77")
        #expect(byPath["data/link"]?.link == "../etc/keep.txt")
        #expect(byPath["etc/keep.txt"]?.mtime == 1_700_000_500)
        #expect(byPath[".wh.gone"]?.mode == 0 && byPath[".wh.gone"]?.size == 0)
        #expect(staged.layer.whiteouts == 4)

        // Base + new layer, applied by umoci, is the changed tree.
        let umoci = try LayerTests.umociRootfs(for: staged.record, in: fx.tmp)
        let diffs = try TreeListing(directory: umoci).differences(from: TreeListing(directory: fx.rootfs))
        #expect(diffs.isEmpty, "umoci(base + layer) vs rootfs:\n\(diffs.joined(separator: "\n"))")
    }

    @Test func symlinkModeAndDirectoryTimesAreNotChanges() throws {
        let fx = try CommitFixture()
        // The base symlink says 0755, the host's is 0777; directory mtimes move.
        try fx.change(#"touch "$1/etc" "$1/data"; touch -h -d @1700000000 "$1/data/link""#)
        let (staged, listing) = try fx.commit()
        defer { staged.discard() }
        #expect(listing.members.isEmpty, "\(listing)")
    }

    @Test func changedBaseHardLinksStayLinked() throws {
        let fx = try CommitFixture()
        try fx.change(#"echo more >> "$1/data/hl2.txt""#)
        let (staged, listing) = try fx.commit()
        defer { staged.discard() }
        let shown = listing.members.map { "\($0.type) \($0.path) \($0.link)" }
        #expect(shown == ["d data ", "f data/hl1.txt ", "h data/hl2.txt data/hl1.txt"], "\(listing)")
    }

    @Test func sourceDateEpochClampsTimesAndFixesTheBytes() throws {
        let fx = try CommitFixture()
        try fx.change(#"echo new > "$1/etc/new.txt"; rm "$1/etc/keep.txt"; touch -d @1600000000 "$1/etc/hello.txt""#)
        let epoch: Int64 = 1_650_000_000
        let options = Commit.Options(compression: .gzip, sourceDateEpoch: epoch)
        let metadata = Commit.Metadata(message: "m", created: "2022-04-15T05:20:00Z")
        let (first, listing) = try fx.commit(options: options, metadata: metadata)
        defer { first.discard() }
        let byPath = Dictionary(listing.members.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byPath["etc/new.txt"]?.mtime == Int(epoch))  // later: clamped
        #expect(byPath["etc/hello.txt"]?.mtime == 1_600_000_000)  // earlier: kept
        #expect(byPath["etc/.wh.keep.txt"]?.mtime == Int(epoch))
        // A second copy of the tree, changed again a moment later: same bytes.
        try CommitScenario.copyTree(fx.rootfs, to: fx.tmp.file("rootfs2"))
        let r = try Shell.run(["touch", fx.tmp.file("rootfs2/etc/new.txt")])
        #expect(r.status == 0)
        let (second, _) = try fx.commit(.rootfs(fx.tmp.file("rootfs2")), options: options, metadata: metadata)
        defer { second.discard() }
        #expect(second.layer.blob.digest == first.layer.blob.digest)
        #expect(second.record.descriptor.digest == first.record.descriptor.digest)
        #expect(second.record.id == first.record.id)
    }

    @Test func compressionFollowsTheBaseUnlessAsked() throws {
        let fx = try CommitFixture()
        try fx.change(#"echo new > "$1/etc/new.txt""#)
        // The fixture's layers are plain tars: the default is none.
        #expect(Commit.defaultCompression(for: fx.base.record) == LayerCompression.none)
        let (plain, _) = try fx.commit(options: Commit.Options())
        defer { plain.discard() }
        #expect(plain.layer.blob.digest == plain.layer.diffID)
        let (zstd, zl) = try fx.commit(options: Commit.Options(compression: .zstd))
        defer { zstd.discard() }
        #expect(zstd.layer.diffID == plain.layer.diffID)
        #expect(zstd.record.manifest.layers.last?.mediaType == MediaType.ociLayerZstd)
        #expect(zl.paths == ["etc", "etc/new.txt"])
        let gunzipped = try Shell.run(["zstd", "-dc", zstd.layer.blob.path])
        #expect(SHA256Hasher.digest(gunzipped.stdout) == plain.layer.diffID)
    }

    @Test func unrepresentableEntriesAreRefusedWithoutLeftovers() throws {
        let fx = try CommitFixture()
        try fx.change(#"python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$1/etc/agent.sock""#)
        #expect {
            _ = try fx.commit()
        } throws: { e in
            guard let e = e as? CommitError, case let .unrepresentable(_, entry, reason) = e else { return false }
            return entry == "etc/agent.sock" && reason.contains("socket")
        }
        #expect(fx.leftoverStagingFiles.isEmpty)

        let wh = try CommitFixture()
        try wh.change(#"touch "$1/etc/.wh.sneaky""#)
        #expect(throws: CommitError.self) { _ = try wh.commit() }
        #expect(wh.leftoverStagingFiles.isEmpty)

        let bad = try CommitFixture()
        try bad.change(#"python3 -c 'import os, sys; open(os.fsencode(sys.argv[1]) + b"/etc/bad-\xff", "w").close()' "$1""#)
        #expect {
            _ = try bad.commit()
        } throws: { e in "\(e)".contains("not valid UTF-8") }
        // TempDir's cleanup reads names as UTF-8: remove this one by its bytes.
        try bad.change(#"python3 -c 'import os, sys; os.remove(os.fsencode(sys.argv[1]) + b"/etc/bad-\xff")' "$1""#)
    }

    @Test func missingRootfsIsAClearError() throws {
        let fx = try CommitFixture()
        #expect {
            try Commit.checkSource(.rootfs(fx.tmp.file("nope")))
        } throws: { e in "\(e)" == "rootfs \(fx.tmp.file("nope")): No such file or directory" }
        #expect {
            _ = try fx.commit(.rootfs(fx.tmp.file("layout/oci-layout")))
        } throws: { e in "\(e)".hasSuffix("is not a directory") }
        #expect(fx.leftoverStagingFiles.isEmpty)
    }

    @Test func configGetsOnlyTheNewEntries() throws {
        let fx = try CommitFixture()
        try fx.change(#"echo new > "$1/etc/new.txt""#)
        let changes = try ["ENTRYPOINT /app", "ENV A=1", "EXPOSE 80", "LABEL x=y", "USER app", "WORKDIR sub",
                           "VOLUME /data", "STOPSIGNAL SIGINT", "ONBUILD RUN true"].map { try ConfigChange(parsing: $0) }
        let metadata = Commit.Metadata(changes: changes, message: "msg", author: "me", createdBy: "by", created: "2024-01-01T00:00:00Z")
        let (staged, _) = try fx.commit(metadata: metadata)
        defer { staged.discard() }
        let old = try #require(try JSONSerialization.jsonObject(with: Data(fx.base.record.configBytes)) as? [String: Any])
        let new = try #require(try JSONSerialization.jsonObject(with: Data(staged.record.configBytes)) as? [String: Any])
        #expect(Set(new.keys) == Set(old.keys).union(["author"]))
        #expect(new["created"] as? String == "2024-01-01T00:00:00Z" && new["author"] as? String == "me")
        #expect(new["architecture"] as? String == old["architecture"] as? String)
        let c = try #require(new["config"] as? [String: Any])
        #expect(c["Entrypoint"] as? [String] == ["/bin/sh", "-c", "/app"])
        #expect(c["Cmd"] is NSNull)  // docker: ENTRYPOINT without CMD resets it
        #expect(c["Env"] as? [String] == ["A=1"])
        #expect((c["ExposedPorts"] as? [String: Any])?.keys.sorted() == ["80/tcp"])
        #expect((c["Labels"] as? [String: String]) == ["x": "y"])
        #expect(c["User"] as? String == "app" && c["WorkingDir"] as? String == "/sub" && c["StopSignal"] as? String == "SIGINT")
        #expect((c["Volumes"] as? [String: Any])?.keys.sorted() == ["/data"] && c["OnBuild"] as? [String] == ["RUN true"])
        let history = try #require(new["history"] as? [[String: Any]])
        let oldHistory = try #require(old["history"] as? [[String: Any]])
        #expect(history.count == oldHistory.count + 1)
        #expect(history.last?["comment"] as? String == "msg" && history.last?["author"] as? String == "me")
        #expect(history.last?["created_by"] as? String == "by" && history.last?["empty_layer"] == nil)
        let ids = (new["rootfs"] as? [String: Any])?["diff_ids"] as? [String]
        let oldIDs = (old["rootfs"] as? [String: Any])?["diff_ids"] as? [String] ?? []
        #expect(ids == oldIDs + [staged.layer.diffID.description])
        // CMD given too: kept.
        let both = Commit.Metadata(changes: try ["ENTRYPOINT [\"/app\"]", "CMD [\"x\"]"].map { try ConfigChange(parsing: $0) })
        let (kept, _) = try fx.commit(metadata: both)
        defer { kept.discard() }
        let kc = (try JSONSerialization.jsonObject(with: Data(kept.record.configBytes)) as? [String: Any])?["config"] as? [String: Any]
        #expect(kc?["Cmd"] as? [String] == ["x"] && kc?["Entrypoint"] as? [String] == ["/app"])
    }
}
