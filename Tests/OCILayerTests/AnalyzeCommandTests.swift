import Foundation
import OCICore
import OCIStore
import OCILayer
import OCITestSupport
import Testing

/// `ocitool analyze` through the built binary: the JSON document against
/// `ocitool diff` and `ImageDiff`, the CI gates' exit codes and messages,
/// the tree, and the HTML report rendered by headless Chromium.
@Suite("Analyze: command", .serialized)
struct AnalyzeCommandTests {
    static let umoci = Fixtures.testImagesDir + "/umoci-whiteout-oci.tar"

    func run(_ args: [String]) throws -> Shell.Result { try OCIToolBinary.run(args) }

    /// The known-changes image as OCI layouts: the whole image and each cut after layer N.
    static func knownChangesLayouts(_ tmp: TempDir) throws -> (full: String, cuts: [String], layers: [String]) {
        try FS.makeDirectories(tmp.file("layers"))
        let layers = try AnalysisImages.knownChanges(in: tmp.file("layers"))
        let bytes = try layers.map { try FS.readFile($0) }
        var cuts: [String] = []
        for n in 1...layers.count {
            let dir = tmp.file("cut\(n)")
            try ImageLayoutBuilder.write(layers: Array(bytes.prefix(n)), to: dir)
            cuts.append(dir)
        }
        return (cuts[cuts.count - 1], cuts, layers)
    }

    static func json(_ r: Shell.Result) throws -> [String: Any] {
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout))
        return try #require(obj as? [String: Any])
    }

    @Test func jsonFileListsEqualDiffBetweenConsecutiveLayers() throws {
        let tmp = try TempDir(prefix: "ocitool-analyze-cli")
        let (full, cuts, _) = try Self.knownChangesLayouts(tmp)
        let r = try run(["analyze", "--format", "json", full])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try Self.json(r)
        #expect(doc["schemaVersion"] as? Int == 1)
        let image = try #require(doc["image"] as? [String: Any])
        #expect(image["wastedBytes"] as? Int == 1207 && image["sizeBytes"] as? Int == 1228 && image["finalBytes"] as? Int == 21)
        #expect(abs((image["efficiency"] as? Double ?? 0) - 329.0 / 1378.0) < 1e-12)
        let layers = try #require(doc["layers"] as? [[String: Any]])
        #expect(layers.count == 3)
        for (n, layer) in layers.enumerated() {
            let files = try #require(layer["files"] as? [[String: Any]])
            let ours = files.compactMap { f -> String? in
                guard let change = f["change"] as? String, let path = f["path"] as? String, change != "unchanged" else { return nil }
                return ["added": "A", "changed": "C", "deleted": "D"][change].map { "\($0) \(path)" }
            }
            if n == 0 {
                // ocitool diff needs two images: layer 0 against the empty stack, through the library.
                let sources = [LayerSource(path: tmp.file("layers/l0.tar"), name: "l0")]
                #expect(ours == (try ImageDiff.diff(.layers([]), .layers(sources))).map(\.description))
                continue
            }
            let d = try run(["diff", cuts[n - 1], cuts[n]])
            #expect(d.status == 0, "\(d.stderr)")
            let theirs = d.stdoutText.split(separator: "\n").map(String.init)
            #expect(ours == theirs, "layer \(n)")
            #expect(!theirs.isEmpty)
        }
        let l1 = layers[1]
        let conf = try #require((l1["files"] as? [[String: Any]])?.first { $0["path"] as? String == "/etc/conf" })
        #expect(conf["change"] as? String == "changed" && conf["aspects"] as? [String] == ["content"] && conf["hiddenBy"] as? Int == 2)
        let mode = try #require((l1["files"] as? [[String: Any]])?.first { $0["path"] as? String == "/etc/mode.sh" })
        #expect(mode["aspects"] as? [String] == ["mode"] && mode["hiddenBy"] == nil)
        let cache = try #require((l1["files"] as? [[String: Any]])?.first { $0["path"] as? String == "/cache" })
        #expect(cache["change"] as? String == "deleted" && cache["deletedBy"] as? String == "whiteout" && cache["bytes"] as? Int == 150)
        let wasted = try #require(doc["wasted"] as? [[String: Any]])
        #expect(wasted.first?["path"] as? String == "/data/big.bin" && wasted.first?["hiddenBy"] as? Int == 2)
    }

    @Test func jsonOfTestImagesEqualsImageDiff() throws {
        let tmp = try TempDir(prefix: "ocitool-analyze-cli")
        for name in ["umoci-whiteout-oci.tar", "handmade-opaque-oci.tar", "podman-docker.tar"] {
            let path = Fixtures.testImagesDir + "/" + name
            let r = try run(["analyze", "--format", "json", path])
            #expect(r.status == 0, "\(name): \(r.stderr)")
            let layers = try #require(try Self.json(r)["layers"] as? [[String: Any]])
            let image = try OpenedImage(path, store: ImageStore(root: tmp.file("store")))
            defer { image.close() }
            #expect(layers.count == image.layers.count)
            for (n, layer) in layers.enumerated() {
                let files = try #require(layer["files"] as? [[String: Any]])
                let ours = files.compactMap { f -> String? in
                    guard let c = f["change"] as? String, c != "unchanged", let p = f["path"] as? String else { return nil }
                    return "\(c == "added" ? "A" : c == "changed" ? "C" : "D") \(p)"
                }
                let diff = try ImageDiff.diff(.layers(Array(image.layers.prefix(n))), .layers(Array(image.layers.prefix(n + 1))))
                #expect(ours == diff.map(\.description), "\(name) layer \(n)")
            }
        }
    }

    @Test func gates() throws {
        let tmp = try TempDir(prefix: "ocitool-analyze-cli")
        let (full, _, _) = try Self.knownChangesLayouts(tmp)
        // dive's figures for this image: efficiency 329/1378 ≈ 0.2388, 1064 wasted bytes, 1064/33 ≈ 32.24 of the user layers.
        let pass = try run(["analyze", "--fail-on", "lowest-efficiency=0.2,highest-wasted-bytes=1064,highest-user-wasted-percent=33", full])
        #expect(pass.status == 0, "\(pass.stderr)")
        #expect(!pass.stderr.contains("gate"))
        let one = try run(["analyze", "--format", "json", "--fail-on", "lowest-efficiency=0.9", full])
        #expect(one.status == 1)
        #expect(one.stderr.split(separator: "\n") == ["gate lowest-efficiency failed: efficiency 0.2388 is below 0.9"])
        #expect((try? Self.json(one)) != nil, "the report is still written")
        let all = try run(["analyze", "--fail-on", "lowest-efficiency=0.9,highest-wasted-bytes=1063,highest-user-wasted-percent=0.1", full])
        #expect(all.status == 1)
        #expect(all.stderr.split(separator: "\n") == [
            "gate lowest-efficiency failed: efficiency 0.2388 is below 0.9",
            "gate highest-wasted-bytes failed: 1064 wasted bytes (as dive counts) exceed 1063",
            "gate highest-user-wasted-percent failed: wasted / user-layer bytes = 32.2424 exceeds 0.1",
        ])
        let units = try run(["analyze", "--fail-on", "highest-wasted-bytes=1kB", full])
        #expect(units.status == 1 && units.stderr.contains("exceed 1000"))
        let kib = try run(["analyze", "--fail-on", "highest-wasted-bytes=1.1KiB,lowest-efficiency=disabled", full])
        #expect(kib.status == 0, "\(kib.stderr)")
        for bad in ["nope=1", "lowest-efficiency", "lowest-efficiency=abc", "lowest-efficiency=2", "highest-wasted-bytes=20XB"] {
            let r = try run(["analyze", "--fail-on", bad, full])
            #expect(r.status == 64, "\(bad): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("--fail-on"), "\(bad): \(r.stderr)")
        }
    }

    @Test func textReportAndTree() throws {
        let r = try run(["analyze", Self.umoci])
        #expect(r.status == 0, "\(r.stderr)")
        let text = r.stdoutText
        #expect(text.contains("whiteout .wh.gone hid /gone: 3 path(s), 2B"))
        #expect(text.contains("Wasted:       14B (20.6 %)"))
        #expect(text.contains("Efficiency:   86.1 %"))
        #expect(text.contains("created by: umoci repack  (comment: layer 2: deletions)"))
        let t = try run(["analyze", "--tree", "--layer", "1", Self.umoci])
        #expect(t.status == 0, "\(t.stderr)")
        let rows = t.stdoutText.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(rows.contains("D 0 2B ├── gone/") && rows.contains("A 1 4B ├── new.txt") && rows.contains("0 20B │ └── tool"))
        #expect(try run(["analyze", "--tree", "--layer", "3", Self.umoci]).status == 64)
        #expect(try run(["analyze", "--layer", "1", Self.umoci]).status == 64)
        // stdin works like a file.
        let s = try OCIToolBinary.run(["analyze", "--format", "json", "-"], stdinFile: Self.umoci)
        let layerCount = (try Self.json(s)["layers"] as? [Any])?.count
        #expect(s.status == 0 && layerCount == 3, "\(s.stderr)")
    }

    // MARK: HTML

    /// Headless Chromium on `html`: the DOM after the page's scripts ran, a
    /// screenshot, and what Chromium logged. No network is reachable.
    static func chromium(_ html: String, screenshot: String, in tmp: TempDir) throws -> (dom: String, log: String) {
        let common = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                      "--disable-extensions", "--disable-background-networking", "--disable-sync",
                      "--host-resolver-rules=MAP * ~NOTFOUND", "--user-data-dir=" + tmp.file("chromium-profile"),
                      "--enable-logging=stderr", "--v=0", "--virtual-time-budget=30000", "--window-size=1280,1800"]
        let dom = try Shell.run(["timeout", "180"] + common + ["--dump-dom", "file://" + html])
        guard dom.status == 0 else { throw DiveOracle.OracleError(description: "chromium --dump-dom failed (\(dom.status)): \(dom.stderr)") }
        let shot = try Shell.run(["timeout", "180"] + common + ["--screenshot=" + screenshot, "file://" + html])
        guard shot.status == 0 else { throw DiveOracle.OracleError(description: "chromium --screenshot failed (\(shot.status)): \(shot.stderr)") }
        return (dom.stdoutText, dom.stderr + shot.stderr)
    }

    static func consoleErrors(_ log: String) -> [String] {
        log.split(separator: "\n").map(String.init).filter { line in
            line.contains("Uncaught") || (line.contains("CONSOLE") && (line.contains("ERROR") || line.contains("rror")))
                || line.contains("net::ERR_")
        }
    }

    static func count(_ needle: String, in s: String) -> Int { s.components(separatedBy: needle).count - 1 }

    @Test func htmlRendersInChromium() throws {
        try #require(Shell.has("chromium"), "chromium is not installed: `make deps` installs it (Debian package chromium)")
        let tmp = try TempDir(prefix: "ocitool-analyze-html")
        let html = tmp.file("report.html")
        let r = try run(["analyze", "--html", html, Self.umoci])
        #expect(r.status == 0, "\(r.stderr)")
        let page = String(decoding: try FS.readFile(html), as: UTF8.self)
        // Self-contained: nothing to fetch (the one URL is the SVG namespace name, never loaded).
        #expect(!page.contains("<link") && !page.contains(" src=") && !page.contains("url(") && !page.contains("@import"))
        #expect(page.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").range(of: "http") == nil)
        #expect(!FS.listDirectoryOrEmpty(tmp.path).contains { $0.contains(".tmp-") })
        let (dom, log) = try Self.chromium(html, screenshot: tmp.file("report.png"), in: tmp)
        #expect(dom.contains("data-status=\"ok\""), "page status: \(dom.prefix(300))")
        #expect(Self.consoleErrors(log).isEmpty, "\(Self.consoleErrors(log))")
        #expect(Self.count("class=\"layer-bar", in: dom) == 3)
        #expect(dom.contains("rendered 3 layer bar(s), 14 path(s)"))
        #expect(try FS.size(tmp.file("report.png")) > 10_000)
        if let keep = ProcessInfo.processInfo.environment["OCITOOL_ANALYZE_SCREENSHOT"], !keep.isEmpty {
            try FS.writeAtomically(keep, bytes: try FS.readFile(tmp.file("report.png")))
        }
    }

    @Test func htmlOfAHundredThousandFiles() throws {
        try #require(Shell.has("chromium"), "chromium is not installed: `make deps` installs it (Debian package chromium)")
        let tmp = try TempDir(prefix: "ocitool-analyze-html")
        try FS.makeDirectories(tmp.file("layers"))
        let layers = try AnalysisImages.manyFiles(100_000, in: tmp.file("layers"))
        try ImageLayoutBuilder.write(layers: layers.map { try FS.readFile($0, limit: 256 << 20) }, to: tmp.file("image"))
        for l in layers { FS.removeFile(l) }
        let html = tmp.file("big.html")
        let r = try run(["analyze", "--format", "json", "--html", html, tmp.file("image")])
        #expect(r.status == 0, "\(r.stderr)")
        let image = try #require(try Self.json(r)["image"] as? [String: Any])
        #expect(image["finalPaths"] as? Int == 100_000 - 250 + 402 - 1)
        let size = try FS.size(html)
        #expect(size < 12 << 20, "page of \(size) bytes")
        let (dom, log) = try Self.chromium(html, screenshot: tmp.file("big.png"), in: tmp)
        #expect(dom.contains("data-status=\"ok\""), "page status: \(dom.prefix(300))")
        #expect(Self.consoleErrors(log).isEmpty, "\(Self.consoleErrors(log))")
        #expect(Self.count("class=\"layer-bar", in: dom) == 3)
        // The treemap merges what is too small to see: a bounded number of boxes.
        let boxes = dom.range(of: "data-boxes=\"").map { dom[$0.upperBound...].prefix { $0.isNumber } }.flatMap { Int($0) }
        #expect((boxes ?? 0) > 100 && (boxes ?? Int.max) <= 6000, "boxes: \(String(describing: boxes))")
    }
}

extension FS {
    static func listDirectoryOrEmpty(_ path: String) -> [String] { (try? listDirectory(path)) ?? [] }
}
