import Foundation
import Testing
import OCICore
import OCITestSupport

@Suite("CLI: config")
struct ConfigCommandTests {
    @Test func configOnlyChangeMakesANewImage() throws {
        let tmp = try TempDir(prefix: "ocitool-cfg")
        let root = tmp.file("root")
        #expect(try OCIToolBinary.run(["load", "-q", "--root", root, Fixtures.testImagesDir + "/podman-docker.tar"]).status == 0)
        let env = ["SOURCE_DATE_EPOCH": "1704067200"]
        let r = try OCIToolBinary.run(["config", "--root", root, "-c", #"CMD ["/bin/app", "--serve"]"#, "-c", "EXPOSE 8080",
                                       "--label", "org.opencontainers.image.version=1.2", "-m", "set cmd", "-a", "Tester",
                                       "localhost/ocitool-test/podman-docker:v1", "app:1"], environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        let id = r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.hasPrefix("sha256:"))
        // Peers read it from the store: skopeo sees the new config.
        let cfg = try Shell.run(["skopeo", "inspect", "--config", "--raw", "oci:\(root):docker.io/library/app:1"])
        #expect(cfg.status == 0, "\(cfg.stderr)")
        #expect(SHA256Hasher.digest(cfg.stdout).description == id)
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(cfg.stdout)) as? [String: Any])
        let c = try #require(obj["config"] as? [String: Any])
        #expect(c["Cmd"] as? [String] == ["/bin/app", "--serve"])
        #expect((c["ExposedPorts"] as? [String: Any])?["8080/tcp"] != nil)
        #expect((c["Labels"] as? [String: String])?["org.opencontainers.image.version"] == "1.2")
        #expect(obj["created"] as? String == "2024-01-01T00:00:00Z")
        let history = try #require(obj["history"] as? [[String: Any]])
        #expect(history.last?["empty_layer"] as? Bool == true)
        #expect(history.last?["comment"] as? String == "set cmd")
        #expect(history.last?["author"] as? String == "Tester")
        // Layers are unchanged.
        let rootfs = try #require(obj["rootfs"] as? [String: Any])
        let inspect = try OCIToolBinary.run(["inspect", "--root", root, "localhost/ocitool-test/podman-docker:v1"])
        let base = try #require((try JSONSerialization.jsonObject(with: Data(inspect.stdout)) as? [[String: Any]])?.first)
        #expect(rootfs["diff_ids"] as? [String] == (base["RootFS"] as? [String: Any])?["Layers"] as? [String])
        // Same inputs + SOURCE_DATE_EPOCH: same image ID.
        let again = try OCIToolBinary.run(["config", "--root", root, "-c", #"CMD ["/bin/app", "--serve"]"#, "-c", "EXPOSE 8080",
                                           "--label", "org.opencontainers.image.version=1.2", "-m", "set cmd", "-a", "Tester",
                                           "localhost/ocitool-test/podman-docker:v1", "app:2"], environment: env)
        #expect(again.stdoutText == r.stdoutText)
    }

    @Test func badChangeFailsWithoutTouchingTheStore() throws {
        let tmp = try TempDir(prefix: "ocitool-cfg")
        let root = tmp.file("root")
        #expect(try OCIToolBinary.run(["load", "-q", "--root", root, Fixtures.testImagesDir + "/podman-docker.tar"]).status == 0)
        let before = try TreeSnapshot(root)
        let r = try OCIToolBinary.run(["config", "--root", root, "-c", "RUN rm -rf /", "localhost/ocitool-test/podman-docker:v1"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("unknown instruction"))
        #expect(try TreeSnapshot(root) == before)
    }
}
