import Foundation
import Testing
import OCICore
import OCIModel
import OCIStore
import OCIRegistryTestSupport
import OCITestSupport

/// `ocitool sync`: many images in one run, each blob transferred once.
@Suite("CLI: sync")
struct SyncCommandTests {
    static let archives = ["podman-docker.tar", "podman-multi-docker.tar", "skopeo-docker.tar", "skopeo-oci-gzip.tar"]
        .map { Fixtures.testImagesDir + "/" + $0 }

    /// How many finished `phase` tasks each digest had, over every job of a run.
    static func taskCounts(_ r: Shell.Result, phase: String) -> [String: Int] {
        var counts: [String: Int] = [:]
        for e in CLI.events(r) where e["event"] as? String == "progress" && e["phase"] as? String == phase && e["finished"] as? Bool == true {
            if let id = e["id"] as? String { counts[id, default: 0] += 1 }
        }
        return counts
    }

    /// The table's rows (header dropped), split on runs of spaces.
    static func rows(_ r: Shell.Result) -> [[String]] {
        r.stdoutText.split(separator: "\n").dropFirst().map { line in
            line.components(separatedBy: "   ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
    }

    @Test func archivesToARegistryPrefixUploadEachBlobOnce() throws {
        let registry = try DistributionRegistry()
        defer { registry.stop() }
        let tmp = try TempDir(prefix: "ocitool-sync-archives")
        let r = try CLI.ok(["sync", "--progress", "json", "--images", "3", "--to", "docker://\(registry.host)/mirror"] + Self.archives, in: tmp)
        // Every image of every archive, under the prefix, by its name's repository path.
        let expected = ["ocitool-test/podman-docker:v1", "ocitool-test/multi-a:v1", "ocitool-test/multi-b:v1", "ocitool-test/skopeo-docker:v1",
                        "ocitool-test/skopeo-docker:alias", "ocitool-test/skopeo-oci-gzip:v1"]
        var blobs = Set<String>()
        let store = tmp.file("store")
        for archive in Self.archives { try CLI.ok(["load", "-q", "--root", store, archive], in: tmp) }
        for image in try ImageOps.images(in: ImageStore(root: store)) {
            blobs.formUnion(([image.config.digest] + image.layers.map(\.digest)).map(\.description))
        }
        let uploads = Self.taskCounts(r, phase: "push")
        #expect(Set(uploads.keys) == blobs, "every distinct blob uploaded")
        #expect(uploads.values.allSatisfy { $0 == 1 }, "none twice: \(uploads.filter { $0.value > 1 })")
        let done = CLI.events(r).filter { $0["event"] as? String == "done" }.compactMap { $0["destination"] as? String }
        #expect(Set(done) == Set(expected.map { "docker://\(registry.host)/mirror/\($0)" }), "\(done)")
        for name in expected {
            let local = try ImageOps.resolve("localhost/\(name)", in: ImageStore(root: store))
            #expect(try CLI.rawManifest("docker://\(registry.host)/mirror/\(name)") == local.manifest.bytes, "\(name)")
        }
        // Again: nothing to upload; the table says so.
        let again = try CLI.ok(["sync", "--to", "docker://\(registry.host)/mirror"] + Self.archives, in: tmp)
        let rows = Self.rows(again)
        #expect(rows.count == expected.count, "\(again.stdoutText)")
        #expect(rows.allSatisfy { $0.count == 7 && $0[3] == "0" && $0[6] == "ok" }, "\(again.stdoutText)")
        #expect(again.stdoutText.hasPrefix("SOURCE"), "\(again.stdoutText)")
    }

    @Test func everyTagOfARepositoryToTheStoreFetchesSharedLayersOnce() throws {
        let registry = try DistributionRegistry()
        defer { registry.stop() }
        let tmp = try TempDir(prefix: "ocitool-sync-tags")
        // Three tags sharing two base layers, each with one layer of its own.
        var all = Set<String>()
        for (i, tag) in ["a", "b", "c"].enumerated() {
            let layout = tmp.file("layout-\(tag)")
            let layers = try SyntheticImage.layout(layout, layerSeeds: [901, 902, 910 + UInt64(i)], size: 400_000)
            all.formUnion(layers.map(\.description))
            try CLI.ok(["copy", "oci:\(layout):t", "docker://\(registry.host)/shared/repo:\(tag)"], in: tmp)
        }
        let store = tmp.file("store")
        let r = try CLI.ok(["sync", "--root", store, "--progress", "json", "--images", "3",
                            "--from", "docker://\(registry.host)/shared/repo", "--to", "store:"], in: tmp)
        let fetches = Self.taskCounts(r, phase: "fetch")
        #expect(Set(fetches.keys) == all)
        #expect(fetches.values.allSatisfy { $0 == 1 }, "fetched more than once: \(fetches.filter { $0.value > 1 })")
        let images = try ImageOps.images(in: ImageStore(root: store))
        #expect(Set(images.flatMap(\.names).map(\.description)) == Set(["a", "b", "c"].map { "\(registry.host)/shared/repo:\($0)" }))
        #expect(try CLI.run(["fsck", "--root", store], in: tmp).status == 0)
        // A prefix in the store; the store's images back to another repository prefix of the registry, mounted.
        try CLI.ok(["sync", "--root", store, "--to", "store:localhost/mirror", "docker://\(registry.host)/shared/repo:a"], in: tmp)
        #expect(try ImageOps.resolve("localhost/mirror/shared/repo:a", in: ImageStore(root: store)).layers.count == 3)
        let back = try CLI.ok(["sync", "--root", store, "--progress", "json", "--from-store", "--to", "docker://\(registry.host)/back"], in: tmp)
        // Whichever of repo:a's two names is pushed first mounts its layers
        // (the store names one after the repository it was pulled from).
        let uploaded = Self.taskCounts(back, phase: "push").keys.filter { all.contains($0) }
        #expect(uploaded.isEmpty, "layers mounted or skipped, not uploaded: \(uploaded.sorted())")
        for tag in ["a", "b", "c"] {
            #expect(try ImageDigests.registry("docker://\(registry.host)/back/shared/repo:\(tag)")
                    == ImageDigests.registry("docker://\(registry.host)/shared/repo:\(tag)"))
        }
        #expect(try ImageDigests.registry("docker://\(registry.host)/back/mirror/shared/repo:a")
                == ImageDigests.registry("docker://\(registry.host)/shared/repo:a"))
    }

    /// One store image under two names, one of them where it was pulled
    /// from: pushing its names to another repository prefix mounts every
    /// blob, whichever name goes first. `localhost/…` sorts before
    /// `localhost:PORT/…`, so with one image at a time the name that points
    /// nowhere is pushed first (it used to upload what the other then mounted).
    @Test func aStoreImageNamedAfterARepositoryMountsFromItUnderEveryName() throws {
        let registry = try DistributionRegistry()
        defer { registry.stop() }
        let tmp = try TempDir(prefix: "ocitool-sync-hint")
        let host = "localhost:\(registry.port)"
        let store = tmp.file("store")
        try CLI.ok(["copy", Fixtures.testImagesDir + "/podman-docker.tar", "docker://\(host)/src/img:1"], in: tmp)
        try CLI.ok(["load", "--root", store, "-i", Fixtures.testImagesDir + "/podman-docker.tar"], in: tmp)
        try CLI.ok(["pull", "--root", store, "--tls-verify=false", "\(host)/src/img:1"], in: tmp)
        let r = try CLI.ok(["sync", "--root", store, "--tls-verify=false", "--images", "1", "--progress", "json",
                            "--from-store", "--to", "docker://\(host)/back"], in: tmp)
        let image = try ImageOps.resolve("\(host)/src/img:1", in: ImageStore(root: store))
        let blobs = Set((image.layers.map(\.digest) + [image.config.digest]).map(\.description))
        let uploaded = Self.taskCounts(r, phase: "push").keys.filter { blobs.contains($0) }
        #expect(uploaded.isEmpty, "uploaded instead of mounted: \(uploaded.sorted())")
        for name in ["back/src/img:1", "back/ocitool-test/podman-docker:v1"] {
            #expect(try ImageDigests.registry("docker://\(host)/\(name)") == ImageDigests.registry("docker://\(host)/src/img:1"))
        }
    }

    @Test func aListFileWithAFailingLineDoesTheRestAndExitsOne() throws {
        let registry = try DistributionRegistry()
        defer { registry.stop() }
        let tmp = try TempDir(prefix: "ocitool-sync-list")
        let h = registry.host
        try CLI.ok(["copy", Fixtures.testImagesDir + "/skopeo-oci-gzip.tar", "docker://\(h)/src/img:1"], in: tmp)
        let list = tmp.file("list.txt")
        try FS.writeAtomically(list, bytes: Array("""
            # SOURCE [DESTINATION]
            docker://\(h)/src/img:1 docker://\(h)/dst/renamed:9

            docker://\(h)/src/img:missing docker://\(h)/dst/missing
            \(Fixtures.testImagesDir)/podman-oci.tar
            /no/such/archive.tar
            """.utf8))
        let r = try CLI.run(["sync", "--list", list, "--to", "docker://\(h)/m"], in: tmp)
        #expect(r.status == 1, "\(r.stderr)")
        let rows = Self.rows(r)
        #expect(rows.count == 4, "\(r.stdoutText)")
        #expect(rows.first { $0.first == "docker://\(h)/src/img:1" }?.last == "ok", "\(r.stdoutText)")
        #expect(rows.first { $0.first == "docker://\(h)/src/img:missing" }?.last?.contains("MANIFEST_UNKNOWN") == true, "\(r.stdoutText)")
        #expect(rows.first { $0.first == "/no/such/archive.tar" }?.last?.hasPrefix("failed:") == true, "\(r.stdoutText)")
        #expect(try ImageDigests.registry("docker://\(h)/dst/renamed:9") == ImageDigests.registry("docker://\(h)/src/img:1"))
        #expect(try CLI.rawManifest("docker://\(h)/m/ocitool-test/podman-oci:v1").count > 0)
        // Usage mistakes are caught before anything runs.
        #expect(try CLI.run(["sync", "--to", "oci:/tmp/x", "docker://\(h)/src/img:1"], in: tmp).status == 64)
        #expect(try CLI.run(["sync", "docker://\(h)/src/img:1"], in: tmp).status == 64)
    }
}
