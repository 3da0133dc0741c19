import Foundation
import OCICore
import OCIStore
import OCILayer
import OCITestSupport
import Testing

/// Every input of `../shared/crashers/` whose README command is a union
/// verb (unpack, export, squash), replayed through the CLI (a subprocess
/// with a 10 s limit) and then the library: each run ends with success or
/// one clean error line, never a signal or a hang, and nothing is written
/// outside the target (a canary directory beside it stays as it was).
/// `U49.tar` must unpack, to the tree `umoci raw unpack` makes;
/// `U31.tar` must stop at `--max-bytes 1G` (its sparse file claims 6 GiB).
@Suite("Crashers from ../shared/crashers", .serialized)
struct CrasherTests {
    static let cases = Crashers.unionCases

    /// The folder and the files the union view must survive are there:
    /// without them the parameterised tests below would run nothing.
    @Test func crashersArePresent() throws {
        #expect(FS.isDirectory(Crashers.dir), "\(Crashers.dir) is missing: the crasher regression tests cannot run")
        let names = Set(Self.cases.map(\.file))
        for needed in ["U31.tar", "U49.tar", "hostile-U45.tar", "hostile-U48.tar"] {
            #expect(names.contains(needed), "\(needed) is not in \(Crashers.dir) (or its README lists no union verb for it)")
        }
        #expect(names.contains { $0.hasPrefix("fuzz-crash-unpack-") }, "no fuzz-crash-unpack-* file in \(Crashers.dir)")
    }

    /// A scratch area: the target, a canary directory beside it, a store.
    struct Area {
        let tmp: TempDir
        var target: String { tmp.file("root") }
        var store: String { tmp.file("store") }
        static let names: Set<String> = ["root", "canary", "store", "x.tar", "e.tar"]

        init() throws {
            tmp = try TempDir(prefix: "ocitool-crasher")
            try Canary.plant(in: tmp)
        }

        func snapshot() throws -> Canary.Snapshot { try Canary.snapshot(tmp, expected: Self.names) }

        /// `command` from the README with F, DIR and x.tar filled in, and
        /// the store kept in the scratch area.
        func arguments(_ command: [String], file: String) -> [String] {
            var args = command.map { word -> String in
                switch word {
                case "F": return Crashers.dir + "/" + file
                case "DIR": return target
                case "x.tar": return tmp.file("x.tar")
                default: return word
                }
            }
            args.insert(contentsOf: ["--root", store], at: 1)
            return args
        }
    }

    /// One clean line: `Error: …`, no backtrace.
    static func checkCleanFailure(_ stderr: String, _ what: String) {
        let lines = Crashers.errorLines(stderr)
        #expect(lines.count == 1, "\(what): expected one error line, got:\n\(stderr.prefix(600))")
        #expect(lines.first?.hasPrefix("Error: ") == true, "\(what): \(lines.first ?? "")")
        #expect(!stderr.contains("Fatal error") && !stderr.contains("Backtrace"), "\(what): \(stderr.prefix(600))")
        #expect((lines.first?.utf8.count ?? 0) < 2000, "\(what): the error line is \(lines.first?.utf8.count ?? 0) bytes long")
    }

    @Test("the CLI ends cleanly", arguments: cases.map(\.file))
    func cli(_ file: String) throws {
        let commands = try #require(Self.cases.first { $0.file == file }).commands
        for command in commands {
            let area = try Area()
            let before = try area.snapshot()
            let args = area.arguments(command, file: file)
            let what = "\(file): ocitool \(command.joined(separator: " "))"
            let (ending, r) = try Crashers.runCLI(args)
            guard case let .exited(status) = ending else {
                Issue.record("\(what): \(ending)\n\(r.stderr.prefix(600))")
                continue
            }
            if status != 0 { Self.checkCleanFailure(r.stderr, what) }
            #expect(try area.snapshot() == before, "\(what): the canary beside the target changed")
            switch (file, command.first) {
            case ("U31.tar", "unpack"):
                #expect(status != 0 && r.stderr.contains("--max-bytes"), "\(what): a 6 GiB sparse file must not pass --max-bytes 1G: \(r.stderr)")
            case ("U49.tar", "unpack"):
                #expect(status == 0, "\(what): \(r.stderr)")
                if status == 0 { try Self.matchesUmoci(file, area.target, area.tmp) }
            default:
                break
            }
        }
    }

    /// The library on the same inputs, once the CLI has shown it survives
    /// them (a trap in-process would take the whole test run down).
    @Test("the library ends cleanly", arguments: cases.map(\.file))
    func library(_ file: String) throws {
        let commands = try #require(Self.cases.first { $0.file == file }).commands
        for command in commands {
            let probe = try Area()
            let (ending, r) = try Crashers.runCLI(probe.arguments(command, file: file))
            guard case .exited = ending else {
                Issue.record("\(file): not replayed in-process: ocitool \(command.first ?? "") ended by \(ending): \(r.stderr.prefix(500))")
                return
            }
        }
        let maxBytes = commands.compactMap { c in c.firstIndex(of: "--max-bytes").map { c[$0 + 1] } }.first
        let limits = UnionLimits(maxBytes: maxBytes.flatMap(Self.bytes) ?? UnionLimits.defaults.maxBytes,
                                 maxEntries: UnionLimits.defaults.maxEntries)
        let area = try Area()
        let store = ImageStore(root: area.store)
        let opened: OpenedImage
        do {
            opened = try OpenedImage(Crashers.dir + "/" + file, store: store)
        } catch {
            Self.checkOneLine(error, "\(file): open")
            return
        }
        defer { opened.close() }
        let before = try area.snapshot()
        var unpackError: Error?
        do {
            try Unpacker.unpack(opened.layers, into: area.target, options: UnpackOptions(limits: limits))
        } catch {
            unpackError = error
            Self.checkOneLine(error, "\(file): unpack")
        }
        #expect(try area.snapshot() == before, "\(file): the canary beside the target changed")
        do {
            try UnionExporter.export(opened.layers, to: try FileSink(creating: area.tmp.file("e.tar")), limits: limits)
        } catch {
            Self.checkOneLine(error, "\(file): export")
        }
        do {
            _ = try ImageOps.squash(opened.record, into: store, limits: limits)
        } catch {
            Self.checkOneLine(error, "\(file): squash")
        }
        switch file {
        case "U31.tar":
            guard case let .limitExceeded(_, entry, _, _, flag)? = unpackError as? LayerError else {
                Issue.record("U31.tar: expected the --max-bytes limit, got \(String(describing: unpackError))")
                return
            }
            #expect(flag == "--max-bytes" && entry == "sparse")
        case "U49.tar":
            #expect(unpackError == nil)
            #expect(FS.exists(area.target + "/a/b/c/d/e/f/g/h/i/j/k/l/file"))
        default:
            break
        }
    }

    static func checkOneLine(_ error: Error, _ what: String) {
        let text = String(describing: error)
        #expect(!text.contains("\n"), "\(what): error spans lines: \(text.prefix(2000))")
        #expect(text.utf8.count < 2000, "\(what): error is \(text.utf8.count) bytes long")
    }

    /// `2G` → bytes.
    static func bytes(_ s: String) -> Int64? {
        let shifts: [Character: Int64] = ["K": 10, "M": 20, "G": 30, "T": 40]
        guard let last = s.last else { return nil }
        if let shift = shifts[last], let n = Int64(s.dropLast()) { return n << shift }
        return Int64(s)
    }

    /// `umoci raw unpack` of the layout inside the archive gives the same tree.
    static func matchesUmoci(_ file: String, _ ours: String, _ tmp: TempDir) throws {
        #expect(Shell.has("umoci"), "umoci is needed to judge \(file) (make deps installs it)")
        let layout = tmp.file("layout")
        try FS.makeDirectories(layout)
        let x = try Shell.run(["tar", "-xf", Crashers.dir + "/" + file, "-C", layout])
        try #require(x.status == 0, "tar -xf \(file): \(x.stderr)")
        let index = try JSONSerialization.jsonObject(with: Data(try FS.readFile(layout + "/index.json"))) as? [String: Any]
        let manifests = index?["manifests"] as? [[String: Any]] ?? []
        let tag = (manifests.first?["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"] ?? "latest"
        let theirs = try UnionOracles.umociUnpack(layout: layout, tag: tag, bundle: tmp.file("bundle"))
        let want = try TreeListing(directory: theirs, options: LayerTests.full)
        let got = try TreeListing(directory: ours, options: LayerTests.full)
        #expect(got == want, "\(file): ours differs from umoci's:\n\(want.differences(from: got).joined(separator: "\n"))")
    }
}
