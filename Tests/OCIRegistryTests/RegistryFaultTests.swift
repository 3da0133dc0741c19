import Foundation
import Testing
import OCICore
import OCIModel
import OCIStore
import OCIRegistryTestSupport
import OCITestSupport

/// Faults during pull and push: a registry that dies mid-push, a corrupt
/// blob, an upload the registry refuses. Nothing partial is left behind
/// (no tag, no store change), and a re-run finishes the job.
@Suite("CLI: registry faults")
struct RegistryFaultTests {
    @Test func registryKilledMidPushThenARerunUploadsOnlyWhatIsMissing() throws {
        let registry = try DistributionRegistry()
        defer { registry.stop() }
        let tmp = try TempDir(prefix: "ocitool-crash")
        let layout = tmp.file("layout")
        let layers = try SyntheticImage.layout(layout, layers: 4, size: 12 << 20, seed: 21)
        let ref = "docker://\(registry.host)/crash/img:1"
        let args = ["copy", "--progress", "json", "--jobs", "1", "--retries", "0", "oci:\(layout):t", ref]

        // Run 1: the registry is killed once the second upload has started.
        var sawFirstBlob = false
        let first = try StreamingRun(args, in: tmp) { line in
            if line.contains("\"event\":\"blob\"") { sawFirstBlob = true }
            if sawFirstBlob && line.contains("\"phase\":\"push\"") && line.contains("\"done\":0") {
                registry.crash()
                return true
            }
            return false
        }
        try #require(first.stopped, "the registry was killed mid-push")
        #expect(first.status == 1, "the push fails: \(first.stderr.suffix(500))")
        let firstDone = Set(CLI.blobEvents(first.stderr))
        #expect(!firstDone.isEmpty)
        try registry.restart()
        // The tag is written last: none after a failed push.
        let tag = try CLI.run(["pull", "--root", tmp.file("probe"), String(ref.dropFirst("docker://".count))], in: tmp)
        #expect(tag.status == 1 && tag.stderr.contains("MANIFEST_UNKNOWN"), "\(tag.stderr)")

        // Run 2: only what run 1 did not finish is uploaded.
        let second = try CLI.ok(args, in: tmp)
        let uploaded = CLI.tasks(second, phase: "push")
        #expect(uploaded.isDisjoint(with: firstDone), "re-uploaded \(uploaded.intersection(firstDone))")
        #expect(!uploaded.isEmpty && uploaded.count < layers.count + 1)
        #expect(try ImageDigests.registry(ref).layers == layers.map(\.description))
        let x = try CLI.ok(["copy", ref, "oci-archive:\(tmp.file("back.tar"))"], in: tmp)
        #expect(x.status == 0)
    }

    @Test func corruptBlobFailsThePullNamingItAndLeavesTheStoreAsItWas() throws {
        let fake = try FakeRegistry()
        defer { fake.stop() }
        let tmp = try TempDir(prefix: "ocitool-corrupt")
        let layout = tmp.file("layout")
        let layers = try SyntheticImage.layout(layout, layers: 2, size: 200_000, seed: 33)
        try FakeImages.add(layout: layout, to: fake, repository: "bad/img", tag: "1")
        let bad = layers[1]
        fake.setHook { req, registry in
            guard req.method == "GET", req.path.hasSuffix("/blobs/\(bad)") else { return nil }
            var bytes = registry.blob(bad) ?? []
            bytes[bytes.count / 2] ^= 0xFF  // same size, other content
            return FakeRegistry.serveBytes(bytes, req: req, digest: nil, contentType: "application/octet-stream")
        }
        let store = tmp.file("store")
        try CLI.ok(["load", "-q", "--root", store, Fixtures.testImagesDir + "/podman-docker.tar"], in: tmp)
        let before = try TreeSnapshot(store)
        let r = try CLI.run(["pull", "--root", store, "--plain-http", "--retries", "0", "\(fake.host)/bad/img:1"], in: tmp)
        #expect(r.status == 1)
        #expect(r.stderr.contains(bad.description) && r.stderr.contains("digest mismatch"), "\(r.stderr)")
        #expect(r.stderr.contains("registry \(fake.host), repository bad/img"), "\(r.stderr)")
        #expect(try TreeSnapshot(store) == before)
        #expect((try? FS.listDirectory(store + "/ingest"))?.isEmpty ?? true, "nothing left in ingest/")
        // Served right, the same pull works.
        fake.setHook(nil)
        try CLI.ok(["pull", "--root", store, "--plain-http", "\(fake.host)/bad/img:1"], in: tmp)
    }

    @Test func refusedUploadLeavesNoTag() throws {
        let fake = try FakeRegistry()
        defer { fake.stop() }
        let tmp = try TempDir(prefix: "ocitool-refused")
        let layout = tmp.file("layout")
        let layers = try SyntheticImage.layout(layout, layers: 3, size: 50_000, seed: 44)
        let refused = layers[2].description
        fake.setHook { req, _ in
            guard req.method == "PUT", req.queryValue("digest") == refused else { return nil }
            return .error(403, code: "DENIED", message: "quota exceeded")
        }
        let r = try CLI.run(["copy", "--plain-http", "--retries", "0", "oci:\(layout):t", "docker://\(fake.host)/quota/img:1"], in: tmp)
        #expect(r.status == 1)
        #expect(r.stderr.contains("DENIED") && r.stderr.contains("quota exceeded") && r.stderr.contains(refused)
                && r.stderr.contains("repository quota/img"), "\(r.stderr)")
        #expect(!fake.requests.contains { $0.method == "PUT" && $0.path.contains("/manifests/") }, "no manifest, no tag")
    }
}

/// Runs `ocitool` with stderr read line by line; `onLine` may act (kill a
/// registry) and returns true once it did.
struct StreamingRun {
    var status: Int32
    var stderr: String
    var stopped: Bool

    init(_ args: [String], in tmp: TempDir, onLine: (String) -> Bool) throws {
        let home = tmp.file("home")
        try FS.makeDirectories(home)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: OCIToolBinary.path)
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        for (k, v) in CLI.environment(home: home) { env[k] = v }
        p.environment = env
        let pipe = Pipe()
        p.standardError = pipe
        p.standardOutput = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        try p.run()
        var text = "", pending = ""
        var acted = false
        while true {
            let data = pipe.fileHandleForReading.availableData
            if data.isEmpty { break }
            let chunk = String(decoding: data, as: UTF8.self)
            text += chunk
            pending += chunk
            while let nl = pending.firstIndex(of: "\n") {
                let line = String(pending[..<nl])
                pending = String(pending[pending.index(after: nl)...])
                if !acted { acted = onLine(line) }
            }
        }
        p.waitUntilExit()
        status = p.terminationStatus
        stderr = text
        stopped = acted
    }
}

/// Puts images in a `FakeRegistry`.
enum FakeImages {
    /// The image an OCI layout's index.json names, blobs and manifest, tagged `tag`.
    static func add(layout: String, to fake: FakeRegistry, repository: String, tag: String) throws {
        let index = try IndexManifest.parse(try FS.readFile(layout + "/index.json"), what: "index.json")
        let top = try #require(index.manifests.first)
        func blob(_ d: Digest) throws -> [UInt8] { try FS.readFile(layout + "/blobs/sha256/\(d.encoded)", limit: 1 << 30) }
        let manifestBytes = try blob(top.digest)
        let manifest = try Manifest.parse(manifestBytes, what: "manifest")
        for d in [manifest.config] + manifest.layers { fake.addBlob(try blob(d.digest), repository: repository) }
        fake.addManifest(manifestBytes, mediaType: top.mediaType, repository: repository, tag: tag)
    }
}
