import Foundation
import Testing
import OCICore
import OCITestSupport

/// Progress output: re-encoding shows `recode` tasks, plain mode speaks up
/// at least every 5 s for a stalled blob, a terminal without cursor control
/// gets lines instead of bars, and the writer of a pipe draws no bars.
@Suite("progress")
struct ProgressShapesTests {
    static let archive = Fixtures.testImagesDir + "/podman-docker.tar"

    @Test func saveCompressReportsRecodeTasks() throws {
        let s = try ShapesStore()
        let out = try TempDir(prefix: "ocitool-progress")
        let r = try s.run(["save", "--format", "oci", "--compress", "zstd", "--progress", "json", "-o", out.file("z.tar"), "app:1"])
        #expect(r.status == 0, "\(r.stderr)")
        let events = r.stderr.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let recode = events.filter { $0["event"] as? String == "progress" && $0["phase"] as? String == "recode" }
        let finished = Set(recode.filter { $0["finished"] as? Bool == true }.compactMap { $0["id"] as? String })
        #expect(finished.count == 3, "\(recode)")  // one per layer
        #expect(recode.filter { $0["finished"] as? Bool == true }.allSatisfy { ($0["done"] as? Int) == ($0["total"] as? Int) })
        let plain = try s.run(["save", "--format", "oci", "--compress", "gzip", "--progress", "plain", "-o", out.file("g.tar"), "app:1"])
        #expect(plain.stderr.split(separator: "\n").filter { $0.hasPrefix("recode ") }.count == 3, "\(plain.stderr)")
    }

    @Test func plainSpeaksUpWhileABlobStalls() throws {
        let tmp = try TempDir(prefix: "ocitool-progress")
        // The archive arrives on stdin with a 7 s pause inside the second layer.
        let script = "(head -c 30000 \"$1\"; sleep 7; tail -c +30001 \"$1\") | \"$2\" load --root \"$3\" --progress plain"
        let r = try Shell.run(["sh", "-c", script, "sh", Self.archive, OCIToolBinary.path, tmp.file("root")])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("read 88003542c67a") && $0.contains(" of 20kB (") && $0.hasSuffix("s)") }, "\(r.stderr)")
    }

    /// Runs `command` with stdout and stderr on a pseudo-terminal (script(1)) and returns what it showed.
    static func onTerminal(_ command: String, term: String) throws -> String {
        let r = try Shell.run(["script", "-qec", command, "/dev/null"], environment: ["TERM": term])
        return r.stdoutText
    }

    @Test func terminalsWithoutCursorControlGetLines() throws {
        guard Shell.has("script") else { return }
        let tmp = try TempDir(prefix: "ocitool-progress")
        let load = "'\(OCIToolBinary.path)' load --root '\(tmp.file("a"))' '\(Self.archive)'"
        let bars = try Self.onTerminal(load, term: "xterm")
        #expect(bars.contains("\u{1B}["), "bars expected on a capable terminal")
        let dumb = try Self.onTerminal(load.replacingOccurrences(of: "'\(tmp.file("a"))'", with: "'\(tmp.file("b"))'"), term: "dumb")
        #expect(!dumb.contains("\u{1B}"))
        #expect(dumb.contains("load \(Self.archive) -> "), "\(dumb)")
        #expect(dumb.contains("Loaded image: localhost/ocitool-test/podman-docker:v1"))
    }

    @Test func theWriterOfAPipeDrawsNoBars() throws {
        guard Shell.has("script") else { return }
        let s = try ShapesStore()
        let bin = OCIToolBinary.path
        let pipeline = "'\(bin)' save --root '\(s.root)' app:1 | '\(bin)' load --root '\(s.root)-copy' --progress plain"
        let shown = try Self.onTerminal(pipeline, term: "xterm")
        #expect(!shown.contains("\u{1B}["), "\(shown)")  // save (stdout a pipe) draws none; load was asked for lines
        #expect(shown.contains("load stdin -> "))
        #expect(shown.contains("Loaded image: app:1"))
        // Alone on the terminal, the same save would draw bars (checked by the test above for load).
    }
}
