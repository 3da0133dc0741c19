import Foundation
import Testing
import OCICore
import OCITestSupport

// The read verbs on every source (issue #10): `inspect`, `history`,
// `manifest`, `config`, `digest`, `validate`, `ls`, `cat` on an archive, an
// OCI layout directory and stdin answer what they answer on the stored
// image (after `load`): byte-identical manifest/config/cat, equal digests,
// inspect documents and listings. The oracles: skopeo (config bytes,
// manifest bytes of OCI inputs, diff_ids), umoci's unpacked trees in
// TestImages/expected (paths, modes, owners, sizes, SHA-256 of every file),
// and GNU tar extracting each file from the layer that wrote it.

/// A TestImages archive (with `@N` for one image of several) and its expected listing.
struct ReadCase: Sendable, CustomStringConvertible {
    var archive: String
    var pick: Int?
    var listing: String
    /// Every form (archive, layout, stdin) and `cat` of every file; the others: the store against the
    /// peers and the archive form, `cat` of two files (they share their layers with a full one).
    var full: Bool
    var description: String { archive + (pick.map { "@\($0)" } ?? "") }
    var path: String { Fixtures.testImagesDir + "/" + archive }
    var isDocker: Bool { TestImageInfo.all.first { $0.file == archive }?.format == "docker" }

    /// Every TestImages archive (the multi-image one through its second image).
    static let all: [ReadCase] = ExpectedRootfs.pairs.compactMap { pair in
        let parts = pair.archive.split(separator: "@").map(String.init)
        let pick = parts.count > 1 ? Int(parts[1]) : nil
        if pair.archive.hasPrefix("podman-multi-docker.tar"), pick != 1 { return nil }
        let full = ["podman-docker.tar.gz", "podman-oci.tar.zst", "podman-multi-docker.tar", "umoci-whiteout-oci.tar",
                    "handmade-opaque-oci.tar"].contains(parts[0])
        return ReadCase(archive: parts[0], pick: pick, listing: pair.listing, full: full)
    }
}

/// Everything the read verbs answer about one source.
struct ReadAnswers: Equatable {
    var manifest: [UInt8]
    var config: [UInt8]
    var digest: String
    var inspect: [String: AnyHashableJSON]
    var history: String
    var historyTable: String
    var validate: Int32
    var lsRecursive: String
    var lsLong: String
    var lsDirectory: String
    var lsDirectoryColon: String
    var cat: [String: [UInt8]]
}

/// A JSON value compared structurally (inspect documents).
struct AnyHashableJSON: Equatable {
    let value: NSObject
    init(_ v: Any?) { value = (v as? NSObject) ?? NSNull() }
    static func == (a: Self, b: Self) -> Bool { a.value.isEqual(b.value) }
}

@Suite("read verbs: the same answers from an archive, a layout, stdin and the store")
struct ReadVerbTests {
    /// Reads every answer for `source` (a store reference, archive, `oci:DIR`, or `-` with `stdinFile`).
    static func answers(_ cli: OCIToolCLI, _ source: String, stdinFile: String?, directory: String, files: [String],
                        keys: [String]) throws -> ReadAnswers {
        func ok(_ verb: String, _ args: [String]) throws -> Shell.Result {
            try cli.ok(verb, args, stdinFile: stdinFile)
        }
        let inspected = try #require(try JSONSerialization.jsonObject(with: Data(ok("inspect", [source]).stdout)) as? [[String: Any]])
        try #require(inspected.count == 1, "inspect \(source): \(inspected.count) documents")
        var inspect: [String: AnyHashableJSON] = [:]
        for k in keys { inspect[k] = AnyHashableJSON(inspected[0][k]) }
        // The store lists an image's names sorted (as docker's reference store does), an archive in its own
        // order (manifest.json's RepoTags): compared as sets. The difference is reported, not asserted.
        if keys.contains("RepoTags"), let tags = inspected[0]["RepoTags"] as? [String] { inspect["RepoTags"] = AnyHashableJSON(tags.sorted()) }
        let colonForm = source == "-" ? "-" : source + ":/" + directory
        var cat: [String: [UInt8]] = [:]
        for f in files { cat[f] = try ok("cat", [source, "/" + f]).stdout }
        let validate = try cli.run("validate", [source], stdinFile: stdinFile)
        return ReadAnswers(
            manifest: try ok("manifest", [source]).stdout,
            config: try ok("config", [source]).stdout,
            digest: try ok("digest", [source]).stdoutText,
            inspect: inspect,
            history: try ok("history", ["--no-trunc", "--format", "json", source]).stdoutText,
            historyTable: try ok("history", [source]).stdoutText,
            validate: validate.status == 0 && validate.stdoutText.hasPrefix("PASS: ") ? 0 : max(validate.status, 1),
            lsRecursive: try ok("ls", ["-R", source]).stdoutText,
            lsLong: try ok("ls", ["-l", "-R", source, "/"]).stdoutText,
            lsDirectory: try ok("ls", [source, "/" + directory]).stdoutText,
            // IMG:/PATH does not apply to stdin (`-`); there the two-argument form stands in.
            lsDirectoryColon: source == "-" ? try ok("ls", [source, "/" + directory]).stdoutText : try ok("ls", [colonForm]).stdoutText,
            cat: cat)
    }

    @Test(arguments: ReadCase.all)
    func sameAnswersEverywhere(_ c: ReadCase) throws {
        try Required.tools("skopeo", "tar", "gzip", "zstd")
        let expected = try ExpectedRootfs(listing: c.listing)
        let tmp = try TempDir(prefix: "ocitool-read")
        let cli = OCIToolCLI(root: tmp.file("store"), tmpdir: tmp.file("tmp"))
        let pick = c.pick.map { "@\($0)" } ?? ""

        // The peer's view of the input (skopeo 1.9.3 cannot read a gzip-compressed docker archive: give it the tar).
        var peerInput = c.path
        if c.path.hasSuffix(".gz") {
            peerInput = tmp.file("input.tar")
            let r = try Shell.run(["sh", "-c", "gzip -dc < \"$1\" > \"$2\"", "sh", c.path, peerInput])
            try #require(r.status == 0, "\(r.stderr)")
        }
        let peer = try PeerView.skopeo((c.isDocker ? "docker-archive:" : "oci-archive:") + peerInput + (c.pick.map { ":@\($0)" } ?? ""))

        try cli.ok("load", [c.path])
        let stored = peer.configDigest.description  // the image ID names it in the store
        // A layout directory: an OCI archive extracted by GNU tar (an OCI archive is a layout, tarred);
        // ocitool's copy of a docker save (skopeo would write its own manifest and rewrite the config,
        // so the answers would differ by design).
        let layout = tmp.file("layout")
        if !c.full {
        } else if c.isDocker {
            try cli.ok("copy", [c.path + pick, "oci:\(layout):v1"])
        } else {
            try PeerRunner.untar(c.path, into: layout)
        }

        let allRegular = expected.entries.filter { $0.type == "f" }.map(\.path)
        try #require(!allRegular.isEmpty, "\(c.listing) lists no files")
        let regular = c.full ? allRegular : [allRegular.first!, allRegular.last!]
        let directory = try #require(expected.entries.first { $0.type == "d" }?.path)
        let allKeys = ["Id", "RepoTags", "RootFS", "Config", "Architecture", "Os", "Created", "Author", "Comment"]
        let store = try Self.answers(cli, stored, stdinFile: nil, directory: directory, files: regular, keys: allKeys)

        // The store's answers against the peers.
        #expect(store.config == peer.config, "config bytes differ from skopeo's")
        if !c.isDocker {
            #expect(store.manifest == peer.manifest, "manifest bytes differ from skopeo's")
        }
        #expect(store.digest == SHA256Hasher.digest(store.manifest).description + "\n")
        #expect(store.inspect["Id"] == AnyHashableJSON(peer.configDigest.description))
        #expect(store.inspect["RootFS"] == AnyHashableJSON(["Type": "layers", "Layers": peer.diffIDs] as [String: Any]))
        #expect(store.validate == 0)
        let historyCount = ((try JSONSerialization.jsonObject(with: Data(peer.config)) as? [String: Any])?["history"] as? [Any])?.count ?? 0
        #expect(store.history.split(separator: "\n").count == historyCount, "history: one line per config history entry")
        try Self.expectListing(store, expected, c)

        // Every file through `cat` against umoci's tree; those a layer holds as a regular
        // member against GNU tar extracting it from that layer's blob.
        for f in regular {
            let bytes = try #require(store.cat[f])
            #expect(SHA256Hasher.digest(bytes).encoded == expected.entry(f)?.sha256, "cat /\(f): not umoci's content")
        }
        let tarChecked = try Self.expectCatEqualsGNUTar(store, cli: cli, c)
        #expect(tarChecked > 0, "no file could be checked against GNU tar")
        // Symlinks are followed inside the image.
        for link in expected.entries where link.type == "l" {
            guard let target = expected.resolve(link.path), target.type == "f" else { continue }
            let bytes = try cli.ok("cat", [stored, "/" + link.path]).stdout
            #expect(SHA256Hasher.digest(bytes).encoded == target.sha256, "cat /\(link.path) does not follow the link to /\(target.path)")
        }

        // The same answers from every other source; RepoTags only where the source carries the names.
        var sources: [(String, String?, [String])] = [(c.path + pick, nil, allKeys)]
        if c.full {
            sources += [("oci:\(layout)", nil, allKeys.filter { $0 != "RepoTags" }),
                        (c.pick.map { "docker-archive:-:@\($0)" } ?? "-", c.path, allKeys)]
        }
        for (source, stdin, keys) in sources {
            var want = store
            want.inspect = want.inspect.filter { keys.contains($0.key) }
            let got = try Self.answers(cli, source, stdinFile: stdin, directory: directory, files: [regular.first!, regular.last!], keys: keys)
            want.cat = want.cat.filter { got.cat[$0.key] != nil }
            #expect(got.manifest == want.manifest, "\(source): manifest")
            #expect(got.config == want.config, "\(source): config")
            #expect(got.digest == want.digest, "\(source): digest")
            #expect(got.inspect == want.inspect, "\(source): inspect \(got.inspect.filter { want.inspect[$0.key] != $0.value }.keys.sorted())")
            #expect(got.history == want.history && got.historyTable == want.historyTable, "\(source): history")
            #expect(got.validate == 0, "\(source): validate")
            #expect(got.lsRecursive == want.lsRecursive && got.lsLong == want.lsLong, "\(source): ls")
            #expect(got.lsDirectory == want.lsDirectory && got.lsDirectoryColon == want.lsDirectoryColon, "\(source): ls DIR")
            #expect(got.cat == want.cat, "\(source): cat")
        }
        #expect(cli.leftovers().isEmpty, "read spools left in TMPDIR: \(cli.leftovers())")
    }

    /// `ls -R` lists umoci's paths; `ls -l` shows umoci's modes, owners and
    /// sizes; `ls DIR` and `ls IMG:/DIR` list the directory's children.
    static func expectListing(_ a: ReadAnswers, _ expected: ExpectedRootfs, _ c: ReadCase) throws {
        let want = expected.entries.map { "/" + $0.path + ($0.type == "d" ? "/" : "") }.sorted()
        #expect(a.lsRecursive.split(separator: "\n").map(String.init).sorted() == want, "\(c): ls -R vs umoci")
        var long: [String: String] = [:]
        for line in a.lsLong.split(separator: "\n") {
            // MODE UID/GID SIZE DATE TIME L N PATH[ -> TARGET]
            let f = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard f.count >= 8, let slash = f.firstIndex(where: { $0.hasPrefix("/") }) else { continue }
            var path = f[slash...].joined(separator: " ")
            if let arrow = path.range(of: " -> ") { path = String(path[..<arrow.lowerBound]) }
            long[String(path.dropFirst())] = "\(f[0]) \(f[1].replacingOccurrences(of: "/", with: ":")) \(f[2])"
        }
        for e in expected.entries {
            let size = e.type == "f" ? "\(e.size ?? -1)" : nil
            let got = long[e.path]
            let want = "\(ExpectedRootfs.modeString(e)) \(e.owner)"
            #expect(got?.hasPrefix(want + " ") == true, "\(c): ls -l /\(e.path): \(got ?? "missing"), umoci: \(want)")
            if let size { #expect(got?.hasSuffix(" " + size) == true, "\(c): ls -l /\(e.path) size: \(got ?? ""), umoci \(size)") }
        }
        let dir = try #require(expected.entries.first { $0.type == "d" }?.path)
        let children = want.filter { p in
            let rel = p.dropFirst(dir.count + 2)
            return p.hasPrefix("/" + dir + "/") && !rel.isEmpty && !rel.dropLast().contains("/")
        }
        #expect(a.lsDirectory.split(separator: "\n").map(String.init).sorted() == children, "\(c): ls /\(dir)")
        #expect(a.lsDirectoryColon == a.lsDirectory, "\(c): ls IMG:/\(dir)")
    }

    /// For files whose writing layer (`ls -l`'s L column) holds a regular
    /// member, `cat` gives what GNU tar extracts from that layer blob. Returns how many were checked.
    static func expectCatEqualsGNUTar(_ a: ReadAnswers, cli: OCIToolCLI, _ c: ReadCase) throws -> Int {
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(a.manifest)) as? [String: Any])
        let layers = (manifest["layers"] as? [[String: Any]] ?? []).compactMap { $0["digest"] as? String }
        var layerOf: [String: Int] = [:]
        for line in a.lsLong.split(separator: "\n") where line.hasPrefix("-") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard let l = f.firstIndex(of: "L").flatMap({ f.index(after: $0) < f.count ? Int(f[f.index(after: $0)]) : nil })
                ?? f.first(where: { $0.hasPrefix("L") && Int($0.dropFirst()) != nil }).flatMap({ Int($0.dropFirst()) }),
                  let slash = f.firstIndex(where: { $0.hasPrefix("/") }) else { continue }
            layerOf[String(f[slash...].joined(separator: " ").dropFirst())] = l - 1
        }
        var checked = 0
        for (index, paths) in Dictionary(grouping: layerOf.keys.sorted(), by: { layerOf[$0]! }) where index >= 0 && index < layers.count {
            let blob = cli.root + "/blobs/" + layers[index].replacingOccurrences(of: ":", with: "/")
            let verbose = try PeerTools.listVerbose("tar", archive: blob)
            let names = try PeerTools.listNames("tar", archive: blob)
            // The member of each path, if the layer holds it as a regular file (not a hard link).
            var members: [String: String] = [:]
            for path in paths where a.cat[path] != nil {
                guard let i = names.lastIndex(where: { TarNames.normalize($0) == path }), i < verbose.count, verbose[i].hasPrefix("-") else { continue }
                members[path] = names[i]
            }
            guard !members.isEmpty else { continue }
            let digests = try PeerTools.gnuTarMemberDigests(archive: blob, members: Array(Set(members.values)).sorted())
            for (path, member) in members.sorted(by: { $0.key < $1.key }) {
                guard let bytes = a.cat[path], let last = (digests[member] ?? digests[TarNames.normalize(member)])?.last else { continue }
                #expect(SHA256Hasher.digest(bytes) == last, "\(c): cat /\(path) differs from GNU tar's extraction from layer \(index + 1)")
                checked += 1
            }
        }
        return checked
    }

    /// validate passes on every TestImages archive (one PASS line per image).
    @Test(arguments: TestImageInfo.all.map(\.file))
    func validatePasses(_ file: String) throws {
        let tmp = try TempDir(prefix: "ocitool-validate")
        let cli = OCIToolCLI(root: tmp.file("store"), tmpdir: tmp.file("tmp"))
        let info = try #require(TestImageInfo.all.first { $0.file == file })
        let r = try cli.run("validate", [info.path])
        #expect(r.status == 0, "\(file): \(r.stderr)")
        // INDEX.tsv's layers column has one count per image.
        let row = try String(contentsOfFile: Fixtures.testImagesDir + "/INDEX.tsv", encoding: .utf8)
            .split(separator: "\n").first { $0.hasPrefix(file + "\t") }
        let images = try #require(row?.split(separator: "\t", omittingEmptySubsequences: false)[4]).split(separator: ",").count
        let lines = r.stdoutText.split(separator: "\n")
        #expect(lines.count == images && lines.allSatisfy { $0.hasPrefix("PASS: ") }, "\(file): \(r.stdoutText)")
    }

    static let negatives: [String] = Fixtures.corpusIndex.entries.filter(\.isNegative).map(\.path)

    @Test func negativeFixturesAreListed() throws {
        _ = try Required.corpus("INDEX.md")
        #expect(Self.negatives.count >= 30, "INDEX.md marks \(Self.negatives.count) fixtures NEGATIVE")
    }

    /// validate fails on every NEGATIVE corpus fixture (status 1), with one
    /// line naming a member an independent check finds broken (or, for
    /// what is not an image at all, the archive).
    @Test(arguments: negatives)
    func validateFailsNamingTheMember(_ fixture: String) throws {
        try Required.tools("tar", "gzip", "zstd")
        let full = try Required.corpus(fixture)
        let tmp = try TempDir(prefix: "ocitool-negative")
        let cli = OCIToolCLI(root: tmp.file("store"), tmpdir: tmp.file("tmp"))
        let finding = try BrokenMembers.find(full, scratch: tmp.path)
        #expect(finding.notAnImage || !finding.members.isEmpty, "\(fixture): the independent check finds nothing wrong")
        let r = try cli.run("validate", [full])
        #expect(r.status == 1, "\(fixture): status \(r.status)")
        #expect(!r.stdoutText.contains("PASS"), "\(fixture): \(r.stdoutText)")
        let message = r.stderr + r.stdoutText
        let lines = message.split(separator: "\n")
        #expect(lines.count == 1 || lines.first?.hasPrefix("FAIL") == true, "\(fixture): one line: \(message)")
        #expect(message.contains(full), "\(fixture): the message names the archive: \(message)")
        if !finding.notAnImage {
            #expect(finding.members.contains { message.contains($0) }, "\(fixture): \(message) names none of \(finding)")
        }
        #expect(cli.leftovers().isEmpty, "\(fixture): read spool left")
        #expect(!FS.exists(cli.root), "\(fixture): validate created a store")
    }

    /// A stored blob that rots is found by validate (the store is not
    /// re-verified on read): FAIL naming the layer, status 1.
    @Test func validateFindsACorruptStoredLayer() throws {
        let tmp = try TempDir(prefix: "ocitool-validate-store")
        let cli = OCIToolCLI(root: tmp.file("store"), tmpdir: tmp.file("tmp"))
        let input = try Required.testImage("podman-oci.tar")
        try cli.ok("load", [input])
        let manifest = try JSONSerialization.jsonObject(with: Data(cli.ok("manifest", ["localhost/ocitool-test/podman-oci:v1"]).stdout)) as? [String: Any]
        let layer = try #require((manifest?["layers"] as? [[String: Any]])?[1]["digest"] as? String)
        let blob = cli.root + "/blobs/" + layer.replacingOccurrences(of: ":", with: "/")
        var bytes = try FS.readFile(blob)
        bytes[bytes.count / 2] ^= 0xff
        FS.removeFile(blob)
        try FS.writeAtomically(blob, bytes: bytes)
        let r = try cli.run("validate", ["localhost/ocitool-test/podman-oci:v1"])
        #expect(r.status == 1, "\(r.stdoutText) \(r.stderr)")
        #expect(r.stdoutText.hasPrefix("FAIL: localhost/ocitool-test/podman-oci:v1"), "\(r.stdoutText)")
        #expect(r.stdoutText.contains(String(layer.dropFirst(7).prefix(12))), "the layer is named: \(r.stdoutText)")
    }
}
