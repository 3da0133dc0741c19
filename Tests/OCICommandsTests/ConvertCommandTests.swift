import Foundation
import Testing
import OCICore
import OCITestSupport

/// `ocitool convert` through the binary: streams, batches, progress events,
/// refusals. Round trips over every TestImages archive are in
/// OCIArchiveTests/ConvertRoundTripTests.
@Suite("CLI: convert")
struct ConvertCommandTests {
    static let images = Fixtures.testImagesDir

    static func run(_ args: [String], stdinFile: String? = nil) throws -> Shell.Result {
        try OCIToolBinary.run(["convert"] + args, stdinFile: stdinFile)
    }

    static func sha(_ path: String) throws -> Digest {
        let sink = DigestingSink()
        try FileSource(path: path).copy(to: sink)
        return try sink.digest()
    }

    /// Each stderr line as a JSON object.
    static func events(_ stderr: String) throws -> [[String: Any]] {
        try stderr.split(separator: "\n").map { line in
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8))
            guard let d = o as? [String: Any] else { throw ArchiveOracle.Failure(description: "not an object: \(line)") }
            return d
        }
    }

    // MARK: streams

    @Test("stdin → stdout gives the same bytes as file → file", arguments: TestImageInfo.all.map(\.file), ["keep", "gzip", "zstd", "none"])
    func stdinStdoutMatchesFiles(file: String, compress: String) throws {
        let tmp = try TempDir(prefix: "ocitool-convert-stream")
        let input = Self.images + "/" + file
        let out = tmp.file("out.tar")
        let args = ["--format", "oci", "--compress", compress, "-q"]
        let a = try Self.run([input, "-o", out] + args)
        try #require(a.status == 0, "\(a.stderr)")
        let b = try Self.run(args + ["-"], stdinFile: input)
        try #require(b.status == 0, "\(b.stderr)")
        #expect(b.stderr.isEmpty)
        #expect(SHA256Hasher.digest(b.stdout) == (try Self.sha(out)))
        // And from a directory (the extracted archive) to the same bytes again.
        if !file.hasSuffix(".gz") && !file.hasSuffix(".zst") && file.contains("oci") {
            try PeerRunner.untar(input, into: tmp.file("layout"))
            let c = try Self.run([tmp.file("layout"), "-o", tmp.file("from-dir.tar")] + args)
            try #require(c.status == 0, "\(c.stderr)")
            #expect(try Self.sha(tmp.file("from-dir.tar")) == (try Self.sha(out)))
        }
    }

    @Test("--output-compression: a gzip or zstd stream that load and GNU tar read")
    func outputCompression() throws {
        let tmp = try TempDir(prefix: "ocitool-convert-outcomp")
        for (kind, flag) in [("gzip", "z"), ("zstd", "-zstd")] {
            let out = tmp.file("out.\(kind)")
            let r = try Self.run([Self.images + "/podman-docker.tar", "--format", "docker", "--output-compression", kind, "-o", out])
            try #require(r.status == 0, "\(r.stderr)")
            #expect(try ArchiveOracle.compression(ofFile: out) == kind)
            let list = try Shell.run(flag == "z" ? ["tar", "-tzf", out] : ["tar", "--zstd", "-tf", out])
            #expect(list.status == 0 && list.stdoutText.contains("manifest.json"), "\(list.stderr)")
            let load = try OCIToolBinary.run(["load", "-q", "--root", tmp.file("root-\(kind)"), out])
            #expect(load.status == 0, "\(load.stderr)")
        }
    }

    // MARK: batch

    @Test("batch: one corrupt input fails alone, leaves no file, exit status 1")
    func batchWithCorruptInput() throws {
        let tmp = try TempDir(prefix: "ocitool-convert-batch")
        let corrupt = tmp.file("corrupt.tar")
        let good = try FS.readFile(Self.images + "/podman-docker.tar")
        // The first half of a valid archive: a truncated layer member.
        try FS.writeAtomically(corrupt, bytes: Array(good.prefix(good.count / 2)))
        let inputs = [Self.images + "/podman-docker.tar", corrupt, Self.images + "/podman-oci.tar.zst", Self.images + "/skopeo-oci-gzip.tar"]
        let outDir = tmp.file("out")
        let r = try Self.run(["--output-dir", outDir, "--jobs", "2", "--format", "oci", "--compress", "zstd"] + inputs)
        #expect(r.status == 1, "\(r.stderr)")
        let names = try FS.listDirectory(outDir)
        #expect(names == ["podman-docker.tar", "podman-oci.tar", "skopeo-oci-gzip.tar"], "\(names)")
        for name in names {
            let x = try ArchiveOracle.extract(outDir + "/" + name, into: tmp.file("x-\(name)"))
            #expect(try ArchiveOracle.verifyLayers(x).isEmpty)
            #expect(x.images.count == 1)
            try PeerRunner.skopeo(["inspect", "oci-archive:\(outDir)/\(name)"])
        }
        // The table: one row per input, in order, the corrupt one failed.
        let rows = r.stdoutText.split(separator: "\n").map(String.init)
        #expect(rows.count == inputs.count + 1, "\(r.stdoutText)")
        #expect(rows.first?.hasPrefix("INPUT") == true)
        #expect(rows.first?.contains("BYTES IN") == true && rows.first?.contains("BYTES OUT") == true && rows.first?.contains("LAYERS") == true)
        for (row, input) in zip(rows.dropFirst(), inputs) {
            #expect(row.hasPrefix(input))
            #expect(row.hasSuffix("ok") == (input != corrupt), "\(row)")
        }
        #expect(r.stderr.contains("corrupt.tar") && r.stderr.contains("error"), "\(r.stderr)")
    }

    @Test("batch: --progress json events of every job, and -q prints only failures")
    func batchJSONAndQuiet() throws {
        let tmp = try TempDir(prefix: "ocitool-convert-batch-json")
        let inputs = [Self.images + "/podman-docker.tar", Self.images + "/umoci-whiteout-oci.tar"]
        let r = try Self.run(["--output-dir", tmp.file("out"), "--format", "docker", "--progress", "json"] + inputs)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.isEmpty)
        let events = try Self.events(r.stderr)
        for input in inputs {
            let done = events.filter { $0["event"] as? String == "done" && $0["job"] as? String == input }
            #expect(done.count == 1, "\(input)")
        }
        let q = try Self.run(["--output-dir", tmp.file("out2"), "--format", "docker", "-q"] + inputs)
        #expect(q.status == 0 && q.stdout.isEmpty && q.stderr.isEmpty, "\(q.stderr)")
        // Same inputs, same outputs, whatever the batch settings.
        for name in ["podman-docker.tar", "umoci-whiteout-oci.tar"] {
            #expect(try Self.sha(tmp.file("out/\(name)")) == (try Self.sha(tmp.file("out2/\(name)"))))
        }
    }

    @Test("batch refuses two inputs with the same output name before converting anything")
    func batchNameClash() throws {
        let tmp = try TempDir(prefix: "ocitool-convert-clash")
        let r = try Self.run(["--output-dir", tmp.file("out"), "--format", "oci",
                              Self.images + "/podman-docker.tar", Self.images + "/podman-docker.tar.gz"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("would both be written"), "\(r.stderr)")
        #expect(try FS.listDirectory(tmp.file("out")).isEmpty)
    }

    // MARK: progress

    @Test("--progress json: one JSON object per line; the last carries the digests inspect reports")
    func ndjsonMatchesInspect() throws {
        let tmp = try TempDir(prefix: "ocitool-convert-json")
        let out = tmp.file("out.tar")
        let r = try Self.run([Self.images + "/podman-oci.tar", "--format", "docker", "--compress", "none", "--progress", "json", "-o", out])
        try #require(r.status == 0, "\(r.stderr)")
        let events = try Self.events(r.stderr)
        let kinds = events.compactMap { $0["event"] as? String }
        #expect(kinds.first == "start")
        #expect(kinds.last == "done")
        #expect(kinds.contains("progress") && kinds.contains("blob") && kinds.contains("image"))
        #expect(events.allSatisfy { $0["job"] as? String == Self.images + "/podman-oci.tar" && $0["time"] is Double })
        for blob in events where blob["event"] as? String == "blob" {
            let digest = try #require(blob["digest"] as? String)
            #expect(digest.hasPrefix("sha256:") && blob["size"] is Int)
        }
        let done = try #require(events.last)
        let image = try #require((done["images"] as? [[String: Any]])?.first)

        let root = tmp.file("root")
        let load = try OCIToolBinary.run(["load", "-q", "--root", root, out])
        try #require(load.status == 0, "\(load.stderr)")
        let inspect = try OCIToolBinary.run(["inspect", "--root", root, "localhost/ocitool-test/podman-oci:v1"])
        try #require(inspect.status == 0, "\(inspect.stderr)")
        let doc = try #require((try JSONSerialization.jsonObject(with: Data(inspect.stdout)) as? [[String: Any]])?.first)
        #expect(image["Id"] as? String == doc["Id"] as? String)
        #expect(image["digest"] as? String == (doc["Descriptor"] as? [String: Any])?["digest"] as? String)
        #expect(image["diffIDs"] as? [String] == (doc["RootFS"] as? [String: Any])?["Layers"] as? [String])
        #expect(image["RepoTags"] as? [String] == doc["RepoTags"] as? [String])
        let layers = ((doc["OCITool"] as? [String: Any])?["Layers"] as? [[String: Any]])?.compactMap { $0["digest"] as? String }
        #expect(image["layers"] as? [String] == layers)
    }

    @Test("load and save speak the same events")
    func loadAndSaveEvents() throws {
        let tmp = try TempDir(prefix: "ocitool-convert-events")
        let root = tmp.file("root")
        let load = try OCIToolBinary.run(["load", "--root", root, "--progress", "json", Self.images + "/podman-docker.tar"])
        try #require(load.status == 0, "\(load.stderr)")
        #expect(load.stdoutText == "Loaded image: localhost/ocitool-test/podman-docker:v1\n")
        let le = try Self.events(load.stderr)
        #expect(le.first?["event"] as? String == "start" && le.last?["event"] as? String == "done")
        let loadedID = ((le.last?["images"] as? [[String: Any]])?.first?["Id"] as? String)

        let save = try OCIToolBinary.run(["save", "--root", root, "--progress", "json", "-o", tmp.file("s.tar"), "localhost/ocitool-test/podman-docker:v1"])
        try #require(save.status == 0, "\(save.stderr)")
        let se = try Self.events(save.stderr)
        #expect(se.first?["event"] as? String == "start" && se.last?["event"] as? String == "done")
        #expect(((se.last?["images"] as? [[String: Any]])?.first?["Id"] as? String) == loadedID)
        #expect(se.contains { $0["event"] as? String == "blob" })

        // A failure in json mode is an error event and nothing else.
        let bad = try OCIToolBinary.run(["save", "--root", root, "--progress", "json", "-o", tmp.file("x.tar"), "nosuch:v1"])
        #expect(bad.status == 1)
        let be = try Self.events(bad.stderr)
        #expect(be.last?["event"] as? String == "error")
        #expect((be.last?["message"] as? String)?.contains("nosuch:v1") == true)
        let badLoad = try OCIToolBinary.run(["load", "--root", root, "--progress", "json", tmp.file("missing.tar")])
        #expect(badLoad.status == 1)
        #expect(try Self.events(badLoad.stderr).last?["event"] as? String == "error")
    }

    @Test("plain and tty renderers print what happened; -q nothing")
    func renderers() throws {
        let tmp = try TempDir(prefix: "ocitool-convert-render")
        let input = Self.images + "/podman-docker.tar"
        let plain = try Self.run([input, "--format", "oci", "--compress", "gzip", "--progress", "plain", "-o", tmp.file("a.tar")])
        #expect(plain.status == 0)
        #expect(plain.stderr.contains("convert \(input) -> \(tmp.file("a.tar"))"), "\(plain.stderr)")
        #expect(plain.stderr.contains("wrote sha256:") && plain.stderr.contains("done: 1 image"), "\(plain.stderr)")
        let tty = try Self.run([input, "--format", "oci", "--progress", "tty", "-o", tmp.file("b.tar")])
        #expect(tty.status == 0)
        #expect(tty.stderr.contains("1 image") && tty.stderr.contains("out"), "\(tty.stderr)")
        let auto = try Self.run([input, "--format", "oci", "-o", tmp.file("c.tar")])
        #expect(auto.status == 0 && auto.stderr.isEmpty, "not a terminal: nothing but warnings")
        let quiet = try Self.run([input, "--format", "oci", "-q", "-o", tmp.file("d.tar")])
        #expect(quiet.status == 0 && quiet.stderr.isEmpty)
    }

    // MARK: refusals and failures

    @Test("bad input: one line, exit status 1, no output file, spool removed")
    func corruptInput() throws {
        let tmp = try TempDir(prefix: "ocitool-convert-bad")
        let spool = tmp.file("spool")
        try FS.makeDirectories(spool)
        let good = try FS.readFile(Self.images + "/podman-oci.tar")
        let cases: [(String, [UInt8])] = [
            ("truncated.tar", Array(good.prefix(good.count - 3000))),
            ("garbage.tar", TestData.pseudoRandom(count: 20000)),
        ]
        for (name, bytes) in cases {
            let input = tmp.file(name)
            try FS.writeAtomically(input, bytes: bytes)
            let out = tmp.file("out-" + name)
            for compress in ["keep", "gzip"] {
                let r = try Self.run([input, "--format", "oci", "--compress", compress, "--tmpdir", spool, "-o", out])
                #expect(r.status == 1, "\(name)")
                #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains(name), "\(r.stderr)")
                #expect(!FS.exists(out))
                #expect(try FS.listDirectory(tmp.path).allSatisfy { !$0.contains("ocitool-tmp") })
                #expect(try FS.listDirectory(spool).isEmpty, "spool cleaned")
            }
        }
    }

    @Test("refusals before any work")
    func refusals() throws {
        let input = Self.images + "/podman-docker.tar"
        let zstd = try Self.run([input, "--format", "docker", "--compress", "zstd", "-o", "/dev/null"])
        #expect(zstd.status != 0 && zstd.stderr.contains("--compress zstd needs --format oci"))
        let both = try Self.run([input, "--format", "oci", "--platform", "linux/amd64", "--all-platforms", "-o", "/dev/null"])
        #expect(both.status != 0 && both.stderr.contains("not both"))
        let many = try Self.run([input, input, "--format", "oci"])
        #expect(many.status != 0 && many.stderr.contains("--output-dir"))
        let level = try Self.run([input, "--format", "oci", "--compress", "gzip", "--level", "12", "-o", "/dev/null"])
        #expect(level.status != 0 && level.stderr.contains("1-9"))
        let noFormat = try Self.run([input, "-o", "/dev/null"])
        #expect(noFormat.status != 0 && noFormat.stderr.contains("--format"))
        // keep on zstd layers into a docker archive: refused, nothing written.
        let tmp = try TempDir(prefix: "ocitool-convert-refuse")
        let r = try Self.run([Self.images + "/skopeo-oci-zstd.tar", "--format", "docker", "-o", tmp.file("o.tar")])
        #expect(r.status == 1 && r.stderr.contains("--compress gzip"), "\(r.stderr)")
        #expect(!FS.exists(tmp.file("o.tar")))
    }
}
