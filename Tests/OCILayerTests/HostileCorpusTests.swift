import Foundation
import OCICore
import OCILayer
import OCITestSupport
import Testing

/// The Python-built hostile corpus (`HostileCorpus`) through the CLI (a
/// subprocess with a time limit: unpack and export) and the library
/// (`Unpacker`, `UnionExporter`): the outcome the case names, one clean
/// error line at most, and nothing outside the target (a canary directory
/// beside it is compared, times included).
@Suite("Hostile corpus (Python tarfile)", .serialized)
struct HostileCorpusTests {
    @Test func pythonIsThere() {
        #expect(Shell.has("python3"), "python3 builds the hostile corpus; install it (make deps)")
    }

    /// The target, a canary directory beside it, the layers and a layout.
    struct Area {
        let tmp: TempDir
        var target: String { tmp.file("root") }
        var layout: String { tmp.file("layout") }
        var layers: [String]
        static let names: Set<String> = ["root", "canary", "layout", "layers", "store", "x.tar", "lib.tar"]

        init(_ c: HostileCorpus.Case) throws {
            let tmp = try TempDir(prefix: "ocitool-hcorpus")
            self.tmp = tmp
            layers = try PyTar.writeLayers(c.layers, in: tmp.file("layers"), format: c.format)
            try Canary.plant(in: tmp)
            try ImageLayoutBuilder.write(layers: layers.map { try FS.readFile($0, limit: 1 << 30) }, to: tmp.file("layout"))
        }

        func snapshot() throws -> Canary.Snapshot { try Canary.snapshot(tmp, expected: Self.names) }

        /// GNU rm: the trees here can be deeper than a path-based removal reaches.
        func reset() throws {
            _ = try Shell.run(["rm", "-rf", target, tmp.file("x.tar")])
        }

        func cleanup() { _ = try? Shell.run(["rm", "-rf", tmp.path]) }
    }

    static func limits(_ c: HostileCorpus.Case) -> UnionLimits {
        var l = UnionLimits.defaults
        if let i = c.flags.firstIndex(of: "--max-bytes"), i + 1 < c.flags.count, c.flags[i + 1] == "1G" { l.maxBytes = 1 << 30 }
        if let d = c.limits?.depth { l.maxDepth = d }
        if let n = c.limits?.names { l.maxNamesPerDirectory = n }
        if let k = c.limits?.links { l.maxLinksPerFile = k }
        return l
    }

    /// Checks one run against the outcome for that verb.
    static func judge(_ c: HostileCorpus.Case, verb: String, error: String?) {
        let what = "\(c.name): \(verb)"
        if let error {
            #expect(!error.contains("\n") && error.utf8.count < 2000, "\(what): not one short line: \(error.prefix(600))")
            #expect(!error.contains("Fatal error"), "\(what): \(error.prefix(600))")
        }
        switch c.outcome {
        case .succeeds:
            #expect(error == nil, "\(what): \(error ?? "")")
        case let .fails(text):
            #expect(error?.contains(text) == true, "\(what): expected an error with \"\(text)\", got \(error ?? "success")")
        case let .unpackFails(text):
            if verb == "unpack" {
                #expect(error?.contains(text) == true, "\(what): expected an error with \"\(text)\", got \(error ?? "success")")
            } else {
                #expect(error == nil, "\(what): \(error ?? "")")
            }
        case .clean:
            break
        }
    }

    static func checkTree(_ c: HostileCorpus.Case, _ area: Area, verb: String) {
        for p in c.present { #expect(FS.exists(area.target + "/" + p), "\(c.name) (\(verb)): \(p.prefix(80)) is missing") }
        for p in c.absent { #expect(!FS.exists(area.target + "/" + p), "\(c.name) (\(verb)): \(p.prefix(80)) should be gone") }
    }

    @Test("CLI then library", arguments: HostileCorpus.cases)
    func corpus(_ c: HostileCorpus.Case) throws {
        let area = try Area(c)
        defer { area.cleanup() }
        let before = try area.snapshot()
        var survived = true
        if c.limits == nil {
            for verb in ["unpack", "export"] {
                try area.reset()
                let store = ["--root", area.tmp.file("store")]
                let args = verb == "unpack" ? ["unpack"] + store + c.flags + [area.layout, area.target]
                    : ["export"] + store + c.flags + [area.layout, "-o", area.tmp.file("x.tar")]
                let (ending, r) = try Crashers.runCLI(args, seconds: 60)
                guard case let .exited(status) = ending else {
                    Issue.record("\(c.name): ocitool \(verb): \(ending): \(r.stderr.prefix(600))")
                    survived = false
                    continue
                }
                let lines = Crashers.errorLines(r.stderr)
                if status != 0 { #expect(lines.count == 1, "\(c.name): ocitool \(verb): \(r.stderr.prefix(600))") }
                Self.judge(c, verb: verb, error: status == 0 ? nil : lines.joined(separator: "\n"))
                if verb == "unpack" && status == 0 { Self.checkTree(c, area, verb: "CLI") }
                #expect(try area.snapshot() == before, "\(c.name): ocitool \(verb) changed the canary beside the target, or wrote beside it")
            }
        }
        guard survived else { return }  // a crash in-process would end the whole test run
        let layers = LayerTests.sources(area.layers)
        let limits = Self.limits(c)
        try area.reset()
        var unpackError: String?
        do {
            try Unpacker.unpack(layers, into: area.target, options: UnpackOptions(limits: limits))
        } catch {
            unpackError = String(describing: error)
        }
        Self.judge(c, verb: "unpack", error: unpackError)
        if unpackError == nil {
            Self.checkTree(c, area, verb: "library")
            if c.name == "sparse-6GiB-stays-sparse" { try Self.checkSparse(area.target + "/s") }
        }
        #expect(try area.snapshot() == before, "\(c.name): the library unpack changed the canary beside the target")
        var exportError: String?
        do {
            try LayerTests.export(layers, to: area.tmp.file("lib.tar"), limits: limits)
        } catch {
            exportError = String(describing: error)
        }
        Self.judge(c, verb: "export", error: exportError)
        if exportError == nil, c.name == "sparse-6GiB-stays-sparse" {
            // The export keeps the holes as holes: a small tar.
            var st = stat()
            #expect(lstat(area.tmp.file("lib.tar"), &st) == 0 && st.st_size < 1 << 20, "the export of a sparse file wrote \(st.st_size) bytes")
        }
    }

    /// 6 GiB long, a few KiB on disk.
    static func checkSparse(_ path: String) throws {
        var st = stat()
        try #require(lstat(path, &st) == 0)
        #expect(st.st_size == 6 << 30)
        #expect(Int64(st.st_blocks) * 512 < 1 << 20, "the sparse file takes \(Int64(st.st_blocks) * 512) bytes on disk")
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        var tail = [UInt8](repeating: 0, count: 1024)
        let n = tail.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 1024, off_t(6 << 30) - 1024) }
        #expect(n == 1024 && tail.allSatisfy { $0 == UInt8(ascii: "x") }, "the last region's data is not in place")
    }
}
