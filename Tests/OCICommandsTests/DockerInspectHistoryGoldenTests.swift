import Foundation
import Testing
import OCICore
import OCITestSupport

/// `inspect`, `history`, `prune` and `rmi` against docker's output shapes
/// (cli/command/inspect/inspector.go, formatter/history.go, image/prune.go;
/// moby's `image.InspectResponse` for keys and their order).
@Suite("docker shapes: inspect, history, prune, rmi")
struct DockerInspectHistoryGoldenTests {
    /// docker 28's InspectResponse keys in order (omitempty ones absent when empty), then ocitool's.
    static let inspectKeys = ["Id", "RepoTags", "RepoDigests", "Parent", "Comment", "Created", "DockerVersion", "Author", "Config",
                              "Architecture", "Os", "Size", "GraphDriver", "RootFS", "Metadata", "Descriptor", "OCITool"]

    /// Python re-indents the document the way Go's json.Indent(…, "", "    ") does for these
    /// values (no floats, no HTML characters): `"key": value`, `[]`, `{}`; key order kept.
    static func pythonIndent(_ text: String) throws -> String {
        try goIndent(Array(text.utf8))
    }

    /// Python's indented dump, with `<`, `>`, `&` escaped as Go's json.Marshal escapes them.
    static func goIndent(_ bytes: [UInt8], path: String = "") throws -> String {
        let program = "import json,sys; d=json.load(sys.stdin); d=eval('d'+sys.argv[1]); "
            + "print(json.dumps(d, indent=4, ensure_ascii=False).replace('<','\\\\u003c').replace('>','\\\\u003e').replace('&','\\\\u0026'))"
        return try Shell.run(["python3", "-c", program, path], stdin: bytes).stdoutText
    }

    /// Top-level keys in document order (Python keeps the order of the text).
    static func keys(_ text: String) throws -> [String] {
        let r = try Shell.run(["python3", "-c", "import json,sys; [print(k) for k in json.load(sys.stdin)[0]]"], stdin: Array(text.utf8))
        return r.stdoutText.split(separator: "\n").map(String.init)
    }

    @Test func inspectDefaultAndJSON() throws {
        let s = try ShapesStore()
        let r = try s.run(["inspect", "app:1"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdoutText == (try Self.pythonIndent(r.stdoutText)))
        #expect(r.stdoutText.hasPrefix("[\n    {\n        \"Id\": \"\(s.app)\",\n        \"RepoTags\": [\n            \"app:1\",\n            \"app:latest\"\n        ],\n"))
        #expect(try Self.keys(r.stdoutText) == Self.inspectKeys)
        let doc = try #require((try JSONSerialization.jsonObject(with: Data(r.stdout)) as? [[String: Any]])?.first)
        let digest = try s.run(["digest", "app:1"]).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(doc["RepoDigests"] as? [String] == ["app@\(digest)"])
        #expect(doc["Size"] as? Int == Int(ShapesStore.layerBytes))
        let baseConfig = try #require(try JSONSerialization.jsonObject(with: Data(try s.run(["config", "app:1"]).stdout)) as? [String: Any])
        #expect(doc["Parent"] as? String == "" && doc["Comment"] as? String == (baseConfig["comment"] as? String ?? ""))
        let created = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(s.now - 3 * 86400 - 60)))
        #expect(doc["Created"] as? String == created)
        let config = try #require(doc["Config"] as? [String: Any])
        #expect(config["Cmd"] as? [String] == ["/bin/sh"])
        #expect((config["Labels"] as? [String: String])?["stage"] == "build")
        #expect(config["Hostname"] == nil && config["User"] == nil)  // docker 28: DockerOCIImageConfig, omitempty
        #expect((doc["Metadata"] as? [String: String]) == ["LastTagTime": "0001-01-01T00:00:00Z"])
        #expect(r.stdoutText.contains("\"GraphDriver\": {\n            \"Data\": null,\n            \"Name\": \"\"\n        },"))
        // RootFS.Layers are the config's diff_ids.
        let raw = try #require(try JSONSerialization.jsonObject(with: Data(try s.run(["config", "app:1"]).stdout)) as? [String: Any])
        #expect((doc["RootFS"] as? [String: Any])?["Layers"] as? [String] == (raw["rootfs"] as? [String: Any])?["diff_ids"] as? [String])

        // json: the same document on one line.
        let compact = try s.run(["inspect", "--format", "json", "app:1"])
        #expect(compact.stdoutText.split(separator: "\n").count == 1)
        #expect(try Self.goIndent(compact.stdout) == r.stdoutText)

        // An untagged image: empty arrays print as [].
        let dangling = try s.run(["inspect", s.dangling.description])
        #expect(dangling.stdoutText.contains("\"RepoTags\": [],\n        \"RepoDigests\": [],\n"))
        // Several images: one array; a missing one: its error, exit 1, the others still printed.
        let two = try s.run(["image", "inspect", "app:1", "nosuch:1", "tmp:1"])
        #expect(two.status == 1)
        #expect(two.stderr == "Error: No such image: nosuch:1\n")
        #expect((try JSONSerialization.jsonObject(with: Data(two.stdout)) as? [Any])?.count == 2)
        let none = try s.run(["inspect", "nosuch:1"])
        #expect(none.status == 1 && none.stdoutText == "[]\n")
    }

    @Test func inspectTemplates() throws {
        let s = try ShapesStore()
        func f(_ template: String, _ ref: String = "app:1") throws -> Shell.Result { try s.run(["inspect", "-f", template, ref]) }
        #expect(try f("{{.ID}}").stdoutText == "\(s.app)\n")
        #expect(try f("{{.Id}}").stdoutText == "\(s.app)\n")  // the raw JSON key, through docker's fallback
        #expect(try f("{{index .RepoTags 0}}").stdoutText == "app:1\n")
        #expect(try f("{{join .RepoTags \",\"}}").stdoutText == "app:1,app:latest\n")
        #expect(try f("{{.Config.User}}|{{.Variant}}|{{.Os}}").stdoutText == "||linux\n")  // typed: "" for unset fields
        let raw = try #require(try JSONSerialization.jsonObject(with: Data(try s.run(["config", "app:1"]).stdout)) as? [String: Any])
        let diffIDs = try #require((raw["rootfs"] as? [String: Any])?["diff_ids"] as? [String])
        #expect(try f("{{range .RootFS.Layers}}{{println .}}{{end}}").stdoutText == diffIDs.map { $0 + "\n" }.joined() + "\n")
        #expect(try f("{{len .RootFS.Layers}} {{.Size}}").stdoutText == "\(diffIDs.count) \(ShapesStore.layerBytes)\n")
        // {{json .Config}}: the Config object as docker's json function writes it (compact, no HTML escaping).
        let configJSON = try f("{{json .Config}}").stdoutText
        let full = try s.run(["inspect", "app:1"]).stdout
        let python = try Shell.run(["python3", "-c", "import json,sys; print(json.dumps(json.load(sys.stdin)[0]['Config'], separators=(',',':'), ensure_ascii=False))"], stdin: full)
        #expect(configJSON == python.stdoutText)
        let labels = try Shell.run(["python3", "-c", "import json,sys; print(json.dumps(json.load(sys.stdin)[0]['Config']['Labels'], separators=(',',':'), sort_keys=True, ensure_ascii=False))"], stdin: full)
        #expect(try f("{{json .Config.Labels}}").stdoutText == labels.stdoutText)
        #expect(labels.stdoutText.contains(#""stage":"build""#))
        #expect(try f("{{.Config.Labels.stage}} {{upper .Os}} {{split .Architecture \"6\"}}").stdoutText.hasPrefix("build LINUX ["))
        // Two images, one line each.
        #expect(try s.run(["inspect", "-f", "{{.Os}}", "app:1", "tmp:1"]).stdoutText == "linux\nlinux\n")

        let missing = try f("{{.Nope}}")
        #expect(missing.status == 1)
        #expect(missing.stderr == #"Error: template parsing error: template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope""# + "\n")
        #expect(missing.stdoutText == "\n")
        let bad = try f("{{.ID")
        #expect(bad.status == 64 && bad.stderr.hasPrefix("Error: template parsing error: template: :1: "))
    }

    @Test func historyShapes() throws {
        let s = try ShapesStore()
        let raw = try #require(try JSONSerialization.jsonObject(with: Data(try s.run(["config", "app:1"]).stdout)) as? [String: Any])
        let history = try #require(raw["history"] as? [[String: Any]]).reversed().map { $0 }
        // -H=false: RFC 3339 times and byte sizes; every cell is known, so the whole table is.
        let layerSizes: [Int64] = [20480, 19968, 1024]
        var sizes: [Int64] = []
        var next = 0
        for h in history.reversed() {
            if h["empty_layer"] as? Bool == true { sizes.append(0) } else { sizes.append(layerSizes[next]); next += 1 }
        }
        sizes.reverse()
        func at(_ h: [String: Any]) -> String {
            guard let c = h["created"] as? String, let d = ISO8601DateFormatter().date(from: c.replacingOccurrences(of: #"\.\d+"#, with: "", options: .regularExpression)) else {
                return "1970-01-01T00:00:00Z"
            }
            return ISO8601DateFormatter().string(from: d)
        }
        func by(_ h: [String: Any], trunc: Bool) -> String {
            let text = (h["created_by"] as? String ?? "").replacingOccurrences(of: "\t", with: " ")
            return trunc && text.count > 45 ? String(text.prefix(44)) + "…" : text
        }
        let rows: [[String]] = history.enumerated().map { i, h in
            [i == 0 ? short(s.app) : "<missing>", at(h), by(h, trunc: true), String(sizes[i]), h["comment"] as? String ?? ""]
        }
        let header = ["IMAGE", "CREATED AT", "CREATED BY", "SIZE", "COMMENT"]
        var widths = header.map { max(10, $0.count + 3) }
        for r in rows { for (i, c) in r.enumerated() where i < 4 { widths[i] = max(widths[i], c.count + 3) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in i < 4 ? cell(c, widths[i]) : c }.joined()
        }
        let plain = try s.run(["history", "-H=false", "app:1"])
        #expect(plain.status == 0, "\(plain.stderr)")
        // Go's tabwriter pads every tab-terminated cell, so an empty COMMENT leaves the SIZE padding.
        #expect(lines(plain) == [line(header)] + rows.map(line))
        #expect(try s.run(["history", "--human=false", "app:1"]).stdoutText == plain.stdoutText)
        #expect(try s.run(["image", "history", "--no-human", "app:1"]).stdoutText == plain.stdoutText)

        // Human (default): the same cells with docker's relative times and sizes.
        let human = lines(try s.run(["history", "app:1"]))
        #expect(human.first?.hasPrefix(cell("IMAGE", 15) + "CREATED") == true)
        let top = human[1].components(separatedBy: "   ").filter { !$0.isEmpty }.map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(top.prefix(2) == [short(s.app), "3 days ago"])
        #expect(human.dropFirst().contains { $0.contains("20.5kB") })

        // --no-trunc: full ID and CREATED BY; -q: IDs only, <missing> too.
        let noTrunc = try s.run(["history", "--no-trunc", "--format", "{{.ID}}|{{.CreatedBy}}", "app:1"])
        #expect(lines(noTrunc) == history.enumerated().map { i, h in (i == 0 ? s.app.description : "<missing>") + "|" + by(h, trunc: false) })
        #expect(lines(try s.run(["history", "-q", "app:1"])) == [short(s.app)] + Array(repeating: "<missing>", count: history.count - 1))
        let json = lines(try s.run(["history", "--format", "json", "-H=false", "app:1"]))
        #expect(json.count == history.count)
        #expect(json.first?.hasPrefix(#"{"Comment":"#) == true && json.first?.contains(#""CreatedSince":"\#(rows[0][1])""#) == true)
        #expect(json.first?.hasSuffix(#""ID":"\#(short(s.app))","Size":"0"}"#) == true)
        let bad = try s.run(["history", "--format", "{{.Nope}}", "app:1"])
        #expect(bad.status == 64 && bad.stderr.contains("in type *formatter.historyContext"))
    }

    @Test func pruneAndRmiMessages() throws {
        let s = try ShapesStore()
        let blobsBefore = Set(try FS.listDirectory(s.root + "/blobs/sha256"))
        var sizes: [String: Int64] = [:]
        for b in blobsBefore { sizes[b] = try FS.size(s.root + "/blobs/sha256/" + b) }
        let prune = try s.run(["prune"])
        #expect(prune.status == 0, "\(prune.stderr)")
        let out = lines(prune)
        let removed = blobsBefore.subtracting(try FS.listDirectory(s.root + "/blobs/sha256"))
        #expect(!removed.isEmpty)
        let reclaimed = removed.reduce(Int64(0)) { $0 + (sizes[$1] ?? 0) }
        #expect(out.first == "Deleted Images:")
        #expect(out.dropFirst().first == "deleted: \(s.dangling)")
        #expect(Set(out.dropFirst(2).prefix(removed.count)) == Set(removed.map { "deleted: sha256:\($0)" }))
        #expect(out.suffix(2) == ["", "Total reclaimed space: \(String(format: "%.4g", Double(reclaimed)))B"]
                || out.suffix(2) == ["", "Total reclaimed space: \(String(format: "%.4g", Double(reclaimed) / 1000))kB"])
        #expect(lines(try s.run(["images", "-q", "--filter", "dangling=true"])).isEmpty)
        // Nothing left to prune: docker prints only the total.
        #expect(try s.run(["image", "prune", "-f"]).stdoutText == "Total reclaimed space: 0B\n")

        // rmi: docker's Untagged:/Deleted: lines.
        #expect(try s.run(["rmi", "app:latest"]).stdoutText == "Untagged: app:latest\n")
        #expect(try s.run(["image", "rm", "app:1"]).stdoutText == "Untagged: app:1\nDeleted: \(s.app)\n")
        let missing = try s.run(["rmi", "app:1"])
        #expect(missing.status == 1 && missing.stderr == "Error: No such image: app:1\n")

        // prune -a: needs -f without a terminal (tests have no terminal on stdin).
        let refused = try s.run(["prune", "-a"])
        #expect(refused.status == 64)
        #expect(refused.stderr.hasPrefix("Error: prune -a removes every image; stdin is not a terminal"))
        #expect(lines(try s.run(["images", "-q"])) == [short(s.tmp1)])
        let all = try s.run(["image", "prune", "-a", "-f"])
        let allLines = lines(all)
        #expect(allLines.prefix(3) == ["Deleted Images:", "untagged: tmp:1", "deleted: \(s.tmp1)"])
        #expect(allLines.last?.hasPrefix("Total reclaimed space: ") == true)
        #expect(try FS.listDirectory(s.root + "/blobs/sha256").isEmpty)
    }

    @Test func rmiPlatform() throws {
        let s = try ShapesStore()
        let other = try s.run(["rmi", "--platform", "linux/arm64", "app:1"])
        #expect(other.status == 1)  // per-image failures exit 1, as docker rmi
        #expect(other.stderr == "Error: app:1 is for platform linux/amd64, not linux/arm64\n")
        #expect(lines(try s.run(["images", "-q", "app:1"])) == [short(s.app)])
        #expect(try s.run(["rmi", "--platform", "linux/amd64", "app:1"]).stdoutText == "Untagged: app:1\n")
        #expect(try s.run(["history", "--platform", "linux/arm64", "app:latest"]).status == 1)
        #expect(try s.run(["inspect", "--platform", "linux/amd64", "-f", "{{.Architecture}}", "app:latest"]).stdoutText == "amd64\n")
    }

    @Test func pruneFilters() throws {
        let s = try ShapesStore()
        // until: only images created before it; label: by config label.
        let r = try s.run(["prune", "-a", "-f", "--filter", "until=60h", "--filter", "label=stage=build"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(lines(r).prefix(4) == ["Deleted Images:", "untagged: app:1", "untagged: app:latest", "deleted: \(s.app)"])
        #expect(lines(try s.run(["images", "--format", "{{.Repository}}:{{.Tag}}"])) == ["tmp:1", "<none>:<none>"])
        let notLabel = try s.run(["prune", "-a", "-f", "--filter", "label!=stage=tmp2"])
        #expect(lines(notLabel).prefix(2) == ["Deleted Images:", "deleted: \(s.dangling)"])
        #expect(try s.run(["prune", "--filter", "dangling=true"]).status == 64)
        #expect(try s.run(["prune", "--filter", "until=soon"]).status == 64)
    }
}
