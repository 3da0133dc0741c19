import Foundation
import OCICore
import OCITestSupport
import Testing

/// `ocitool commit --rootfs` judged against `podman commit`:
/// the same changes made in a podman container and in a copy of its root
/// file system must give layers with the same paths, types, modes, owners,
/// link targets, contents and hidden lower paths, and images whose
/// podman-mounted trees are the same.
@Suite("commit vs podman commit", .serialized, .enabled(if: Shell.has("podman") && geteuid() == 0))
struct CommitPeerTests {
    static let message = "add app, drop long"
    static let author = "Tester <tester@example.invalid>"

    /// What podman made and where the pristine base tree is.
    struct Oracle {
        let podman: PeerRunner.Podman
        let image: String
        /// The base's root file system before the changes.
        let base: String
        /// podman's committed image, saved as a docker archive.
        let archive: String
    }

    /// Loads `fixture` into a private podman, copies a container's root
    /// file system to `tmp/base` and `tmp/rootfs`, applies the scenario to
    /// the container and to `tmp/rootfs`, commits the container and saves it.
    static func podmanCommit(_ fixture: String, tmp: TempDir) throws -> Oracle {
        let podman = try PeerRunner.Podman()
        let image = try #require(try podman.load(fixture).first)
        try podman.run(["create", "--name", "changed", image, "/bin/true"])
        let mount = try podman.run(["mount", "changed"])
        try CommitScenario.copyTree(mount, to: tmp.file("base"))
        try CommitScenario.copyTree(mount, to: tmp.file("rootfs"))
        try CommitScenario.apply(to: mount)
        try CommitScenario.apply(to: tmp.file("rootfs"))
        try podman.run(["commit", "-q", "-f", "docker", "-m", message, "-a", author, "changed", "localhost/peer:1"])
        try podman.run(["save", "-q", "--format", "docker-archive", "-o", tmp.file("peer.tar"), "localhost/peer:1"])
        return Oracle(podman: podman, image: image, base: tmp.file("base"), archive: tmp.file("peer.tar"))
    }

    /// The tree podman mounts for `image`.
    static func mountedTree(_ podman: PeerRunner.Podman, image: String, container: String) throws -> TreeListing {
        try podman.run(["create", "--name", container, image, "/bin/true"])
        return try TreeListing(directory: try podman.run(["mount", container]))
    }

    @Test("rootfs layer equals podman's", arguments: ["podman-docker.tar", "podman-oci.tar"])
    func rootfsLayerMatchesPodman(fixture: String) throws {
        let tmp = try TempDir(prefix: "ocitool-commit-peer")
        let oracle = try Self.podmanCommit(Fixtures.testImagesDir + "/" + fixture, tmp: tmp)
        defer { oracle.podman.cleanup() }

        let r = try OCIToolBinary.run(["commit", "--rootfs", tmp.file("rootfs"), "-m", Self.message, "-a", Self.author,
                                       Fixtures.testImagesDir + "/" + fixture, "localhost/ours:1", "-o", tmp.file("ours.tar")])
        #expect(r.status == 0, "\(r.stderr)")

        let theirs = try ArchiveLayers.layers(of: oracle.archive, extractInto: tmp.file("peer-x"))
        let ours = try ArchiveLayers.layers(of: tmp.file("ours.tar"), extractInto: tmp.file("ours-x"))
        #expect(ours.layers.count == theirs.layers.count)
        let theirLayer = try LayerListing(tar: try #require(theirs.layers.last))
        let ourLayer = try LayerListing(tar: try #require(ours.layers.last))
        let diffs = try ourLayer.differences(from: theirLayer, lowerRoot: oracle.base)
        #expect(diffs.isEmpty, "ours vs podman:\n\(diffs.joined(separator: "\n"))\n--- ours\n\(ourLayer)\n--- podman\n\(theirLayer)")

        // The differences we choose: one opaque marker for the re-created
        // directory (podman: one whiteout per old child); markers first.
        #expect(ourLayer.markers.contains("café/.wh..wh..opq"))
        #expect(theirLayer.markers.contains { $0.hasPrefix("café/.wh.") })
        #expect(ourLayer.markers.contains("data/.wh.long") && ourLayer.markers.contains("etc/.wh.private.key"))
        #expect(!ourLayer.paths.contains { $0.hasPrefix("bin/") } && !ourLayer.markers.contains { $0.hasPrefix("bin/") })

        // Config: one more diff_id, one more history entry with our text.
        let diffIDs = (ours.config["rootfs"] as? [String: Any])?["diff_ids"] as? [String] ?? []
        let history = ours.config["history"] as? [[String: Any]] ?? []
        #expect(diffIDs.count == history.filter { $0["empty_layer"] as? Bool != true }.count)
        #expect(history.last?["comment"] as? String == Self.message)
        #expect(history.last?["author"] as? String == Self.author)
        #expect(history.last?["created_by"] as? String == "ocitool commit")
        #expect(ours.config["author"] as? String == Self.author)
        let diffID = try PeerTools.sha256sum(path: try #require(ours.layers.last)).description
        if fixture.contains("docker") { #expect(diffIDs.last == diffID) }  // uncompressed: blob = tar

        // podman loads our archive and mounts the same tree as its own commit.
        let loaded = try oracle.podman.load(tmp.file("ours.tar"))
        #expect(!loaded.isEmpty)
        let ourTree = try Self.mountedTree(oracle.podman, image: try #require(loaded.first), container: "ours")
        let peerTree = try Self.mountedTree(oracle.podman, image: "localhost/peer:1", container: "peer")
        let treeDiffs = ourTree.differences(from: peerTree)
        #expect(treeDiffs.isEmpty, "podman mount of ours vs podman's commit:\n\(treeDiffs.joined(separator: "\n"))")
    }
}
