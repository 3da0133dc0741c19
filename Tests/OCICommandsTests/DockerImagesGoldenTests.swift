import Foundation
import Testing
import OCICore
import OCITestSupport

/// `images` against docker's formatter (cli/command/formatter/image.go):
/// default table `{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince}}…\t{{.Size}}`
/// written by a tabwriter with minwidth 10 and padding 3, one row per name,
/// newest first; `-q` is `{{.ID}}` per row; `--digests` adds DIGEST after
/// TAG; `json` is the row object's methods as sorted keys, HTML-escaped.
@Suite("docker shapes: images")
struct DockerImagesGoldenTests {
    @Test func defaultTableQuietAndDigests() throws {
        let s = try ShapesStore()
        let size = kB(ShapesStore.layerBytes)  // 41.5kB: uncompressed layers, not the stored 43.5kB
        #expect(size == "41.5kB")
        let table = try s.run(["images"])
        #expect(table.status == 0, "\(table.stderr)")
        func row(_ repo: String, _ tag: String, _ id: Digest, _ since: String) -> String {
            cell(repo, 13) + cell(tag, 10) + cell(short(id), 15) + cell(since, 15) + size
        }
        let expected = [
            cell("REPOSITORY", 13) + cell("TAG", 10) + cell("IMAGE ID", 15) + cell("CREATED", 15) + "SIZE",
            row("tmp", "1", s.tmp1, "24 hours ago"),
            row("<none>", "<none>", s.dangling, "2 days ago"),
            row("app", "1", s.app, "3 days ago"),
            row("app", "latest", s.app, "3 days ago"),
        ]
        #expect(lines(table) == expected)
        // `table` alone and an empty --format are the default.
        #expect(try s.run(["images", "--format", "table"]).stdoutText == table.stdoutText)

        // -q: {{.ID}} per row, duplicates kept, as docker prints them.
        #expect(lines(try s.run(["images", "-q"])) == [short(s.tmp1), short(s.dangling), short(s.app), short(s.app)])
        #expect(lines(try s.run(["images", "-q", "--no-trunc"])) == [s.tmp1, s.dangling, s.app, s.app].map(\.description))

        // --digests: DIGEST after TAG; a dangling image shows <none>.
        let digest = try s.run(["digest", "app:1"]).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let tmpDigest = try s.run(["digest", "tmp:1"]).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(digest.hasPrefix("sha256:") && digest.count == 71)
        let withDigests = try s.run(["images", "--digests"])
        func drow(_ repo: String, _ tag: String, _ d: String, _ id: Digest, _ since: String) -> String {
            cell(repo, 13) + cell(tag, 10) + cell(d, 74) + cell(short(id), 15) + cell(since, 15) + size
        }
        #expect(lines(withDigests) == [
            cell("REPOSITORY", 13) + cell("TAG", 10) + cell("DIGEST", 74) + cell("IMAGE ID", 15) + cell("CREATED", 15) + "SIZE",
            drow("tmp", "1", tmpDigest, s.tmp1, "24 hours ago"),
            drow("<none>", "<none>", "<none>", s.dangling, "2 days ago"),
            drow("app", "1", digest, s.app, "3 days ago"),
            drow("app", "latest", digest, s.app, "3 days ago"),
        ])
        // A table format with --digests gets the DIGEST column appended.
        let custom = try s.run(["images", "--digests", "--format", "table {{.Repository}}\\t{{.Tag}}", "app"])
        #expect(lines(custom) == [
            cell("REPOSITORY", 13) + cell("TAG", 10) + "DIGEST",
            cell("app", 13) + cell("1", 10) + digest,
            cell("app", 13) + cell("latest", 10) + digest,
        ])
    }

    @Test func jsonFormat() throws {
        let s = try ShapesStore()
        let r = try s.run(["images", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = lines(r)
        #expect(rows.count == 4)
        // docker's MarshalJSON escapes <, >, & (json.Marshal's default).
        #expect(rows[1].contains(#""Repository":"\u003cnone\u003e""#))
        #expect(rows[0].contains(#""Digest":"\u003cnone\u003e""#))
        let created = Date(timeIntervalSince1970: TimeInterval(s.now - 86400 - 60))
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        let object = try #require(try JSONSerialization.jsonObject(with: Data(rows[0].utf8)) as? [String: String])
        #expect(object == [
            "Containers": "N/A", "CreatedAt": f.string(from: created) + " +0000 UTC", "CreatedSince": "24 hours ago",
            "Digest": "<none>", "ID": short(s.tmp1), "Repository": "tmp", "SharedSize": "N/A",
            "Size": "41.5kB", "Tag": "1", "UniqueSize": "N/A", "VirtualSize": "41.47kB",
        ])
        // Keys in sorted order, as docker marshals the row (a map).
        #expect(rows[0].hasPrefix(#"{"Containers":"N/A","CreatedAt":""#))
        #expect(rows[0].hasSuffix(#""Tag":"1","UniqueSize":"N/A","VirtualSize":"41.47kB"}"#))
        // {{json .}} is the same as json.
        #expect(try s.run(["images", "--format", "{{json .}}"]).stdoutText == r.stdoutText)
    }

    @Test func templates() throws {
        let s = try ShapesStore()
        #expect(lines(try s.run(["images", "--format", "{{.Repository}}:{{.Tag}}"])) == ["tmp:1", "<none>:<none>", "app:1", "app:latest"])
        #expect(lines(try s.run(["images", "--format", "table {{.ID}}\\t{{.Size}}", "app:1"])) == [
            cell("IMAGE ID", 15) + "SIZE", cell(short(s.app), 15) + "41.5kB",
        ])
        // docker's json function does not escape HTML.
        #expect(lines(try s.run(["images", "--format", "{{json .Repository}} {{json .Tag}}", "--filter", "dangling=true"])) == [#""<none>" "<none>""#])
        #expect(lines(try s.run(["images", "--format", "{{upper .Tag}}|{{len .Repository}}|{{truncate .Repository 2}}|{{pad .Tag 1 2}}|", "app"]))
            == ["1|3|ap| 1  |", "LATEST|3|ap| latest  |"])
        #expect(lines(try s.run(["images", "--format", "{{join (split .Digest \":\") \"/\"}} {{title .Repository}} {{lower .CreatedSince}} {{.StoredSize}}", "app:1", "--digests"])).first?
            .hasSuffix(" App 3 days ago 43.5kB") == true)
        #expect(lines(try s.run(["images", "--format", "{{.Containers}} {{.SharedSize}} {{.UniqueSize}} {{.VirtualSize}}", "tmp"])) == ["N/A N/A N/A 41.47kB"])
        // A table of a field without a header.
        #expect(lines(try s.run(["images", "--format", "table {{.Tag}}\\t{{.CreatedAt}}", "tmp"])).first == cell("TAG", 10) + "CREATED AT")
    }

    @Test func badTemplatesAreUsageErrors() throws {
        let s = try ShapesStore()
        let unknown = try s.run(["images", "--format", "{{.Nope}}"])
        #expect(unknown.status == 64)
        #expect(unknown.stderr == #"Error: template parsing error: template: :1:2: executing "" at <.Nope>: can't evaluate field Nope in type *formatter.imageContext"# + "\n")
        #expect(unknown.stdoutText.isEmpty)
        let unclosed = try s.run(["images", "--format", "{{.ID"])
        #expect(unclosed.status == 64)
        #expect(unclosed.stderr.hasPrefix("Error: template parsing error: template: :1: "))
        #expect(unclosed.stderr.split(separator: "\n").count == 1)
        let function = try s.run(["images", "--format", "{{nosuch .ID}}"])
        #expect(function.status == 64)
        #expect(function.stderr.contains(#"function "nosuch" not defined"#))
    }

    @Test func filtersAndArguments() throws {
        let s = try ShapesStore()
        func names(_ args: [String]) throws -> [String] {
            let r = try s.run(["images", "--format", "{{.Repository}}:{{.Tag}}"] + args)
            #expect(r.status == 0, "\(args): \(r.stderr)")
            return lines(r)
        }
        #expect(try names(["--filter", "dangling=true"]) == ["<none>:<none>"])
        #expect(try names(["--filter", "dangling=false"]) == ["tmp:1", "app:1", "app:latest"])
        #expect(try names(["app"]) == ["app:1", "app:latest"])
        #expect(try names(["app:latest"]) == ["app:latest"])
        #expect(try names(["--filter", "reference=a*:l*"]) == ["app:latest"])
        #expect(try names(["--filter", "reference=app", "--filter", "reference=tmp"]) == ["tmp:1", "app:1", "app:latest"])
        #expect(try names(["--filter", "reference=docker.io/*"]) == [])  // docker matches the familiar name
        #expect(try names(["--filter", "since=app:1"]) == ["tmp:1", "<none>:<none>"])
        #expect(try names(["--filter", "before=tmp:1"]) == ["<none>:<none>", "app:1", "app:latest"])
        #expect(try names(["--filter", "before=\(short(s.dangling))"]) == ["app:1", "app:latest"])
        #expect(try names(["--filter", "label=stage=tmp2"]) == ["tmp:1"])
        #expect(try names(["--filter", "label=stage"]) == ["tmp:1", "<none>:<none>", "app:1", "app:latest"])
        #expect(try names(["--filter", "label=stage=build", "--filter", "label=nope"]) == [])
        #expect(try names(["--filter", "until=36h"]) == ["<none>:<none>", "app:1", "app:latest"])
        #expect(try names(["-a", "--filter", "dangling=false", "tmp"]) == ["tmp:1"])
        for bad in ["foo=bar", "dangling=maybe", "nofilter", "before=nosuch:1", "until=yesterday"] {
            let r = try s.run(["images", "--filter", bad])
            #expect(r.status == 64, "\(bad)")
            #expect(r.stderr.hasPrefix("Error: ") && r.stderr.split(separator: "\n").count == 1, "\(bad): \(r.stderr)")
        }
        #expect(try s.run(["images", "--filter", "foo=bar"]).stderr == "Error: invalid filter 'foo'\n")
    }

    @Test func sizeIsUncompressedAndStoredSizeIsKept() throws {
        let tmp = try TempDir(prefix: "ocitool-size")
        let archive = Fixtures.testImagesDir + "/skopeo-oci-gzip.tar"
        let root = tmp.file("root")
        let load = try OCIToolBinary.run(["load", "--root", root, archive])
        #expect(load.status == 0, "\(load.stderr)")
        // The oracle: every gzip layer blob decompressed by gzip(1), counted by wc(1).
        let manifestPath = try Shell.run(["sh", "-c", "tar -xOf \"$1\" index.json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"manifests\"][0][\"digest\"].split(\":\")[1])'", "sh", archive])
        let manifest = try Shell.run(["tar", "-xOf", archive, "blobs/sha256/" + manifestPath.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)])
        let layers = try #require((try JSONSerialization.jsonObject(with: Data(manifest.stdout)) as? [String: Any])?["layers"] as? [[String: Any]])
        var uncompressed: Int64 = 0
        var stored: Int64 = 0
        for l in layers {
            let hex = try #require((l["digest"] as? String)?.dropFirst(7))
            let n = try Shell.run(["sh", "-c", "tar -xOf \"$1\" \"blobs/sha256/$2\" | gzip -dc | wc -c", "sh", archive, String(hex)])
            uncompressed += Int64(n.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
            stored += (l["size"] as? Int).map(Int64.init) ?? 0
        }
        #expect(uncompressed > stored)
        let r = try OCIToolBinary.run(["images", "--root", root, "--format", "{{.Size}} {{.StoredSize}}"])
        let expectedSize = String(format: "%.3g", Double(uncompressed) / 1000) + "kB"
        #expect(r.stdoutText.hasPrefix(expectedSize + " "), "\(r.stdoutText) vs \(uncompressed)")
        let inspect = try OCIToolBinary.run(["inspect", "--root", root, "-f", "{{.Size}} {{.OCITool.StoredSize}}", "localhost/ocitool-test/skopeo-oci-gzip:v1"])
        let both = inspect.stdoutText.split(separator: " ").map { Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        #expect(both.first == uncompressed, "\(inspect.stdoutText) \(inspect.stderr)")
        // The sizes are cached in the store, and used again.
        #expect(FS.exists(root + "/.ocitool-layer-sizes.json"))
        #expect(try OCIToolBinary.run(["images", "--root", root, "--format", "{{.Size}} {{.StoredSize}}"]).stdoutText == r.stdoutText)
    }

    @Test func unreadableStoreIsAnError() throws {
        let tmp = try TempDir(prefix: "ocitool-bad-store")
        let root = tmp.file("root")
        try FS.makeDirectories(root)
        try FS.writeAtomically(root + "/index.json", bytes: Array(#"{"schemaVersion":2,"manifests":[{"#.utf8))
        for args in [["images"], ["images", "-q"], ["image", "ls", "--format", "json"]] {
            let r = try OCIToolBinary.run(args + ["--root", root])
            #expect(r.status == 1, "\(args)")
            #expect(r.stdoutText.isEmpty)
            #expect(r.stderr.contains("index.json") && r.stderr.contains("line 1, column"), "\(r.stderr)")
        }
    }
}
