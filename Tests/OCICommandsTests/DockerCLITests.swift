import Foundation
import Testing
import OCICore
import OCITestSupport

/// docker's command shapes: `image` group, aliases, a global `--root`
/// before the verb, `--version`, "did you mean", ID prefixes, Go-style
/// boolean flags, and a script written for docker run against ocitool.
@Suite("docker shapes: command line")
struct DockerCLITests {
    @Test func versionNamesTheLibraries() throws {
        let r = try OCIToolBinary.run(["--version"])
        #expect(r.status == 0)
        let out = lines(r)
        #expect(out.first?.hasPrefix("ocitool ") == true)
        #expect(try OCIToolBinary.run(["version"]).stdoutText == r.stdoutText)
        func version(of library: String) -> String? {
            out.first { $0.hasPrefix("  \(library) ") }.map { String($0.dropFirst(library.count + 3)) }
        }
        // The peers' own reports are the oracle.
        if Shell.has("bsdtar") {
            let bsdtar = try Shell.run(["bsdtar", "--version"]).stdoutText  // "bsdtar 3.6.2 - libarchive 3.6.2 zlib/…"
            let lib = try #require(version(of: "libarchive"))
            #expect(bsdtar.contains("libarchive \(lib)"), "\(bsdtar) vs \(lib)")
        }
        let openssl = try Shell.run(["openssl", "version"]).stdoutText  // "OpenSSL 3.0.17 1 Jul 2025 (Library: …)"
        let ssl = try #require(version(of: "OpenSSL"))
        #expect(openssl.hasPrefix("OpenSSL \(ssl.split(separator: " ").first ?? "")"), "\(openssl) vs \(ssl)")
        if Shell.has("zstd") {
            let zstd = try Shell.run(["zstd", "--version"]).stdoutText
            #expect(zstd.contains("v\(try #require(version(of: "zstd")))"), "\(zstd)")
        }
        let zlib = try #require(version(of: "zlib"))
        #expect(zlib.split(separator: ".").count >= 3 && zlib.first?.isNumber == true)
        let isal = try #require(version(of: "ISA-L"))
        let header = try String(contentsOfFile: "/usr/include/isa-l.h", encoding: .utf8)
        let major = header.components(separatedBy: "ISAL_MAJOR_VERSION ").dropFirst().first?.prefix { $0.isNumber } ?? ""
        #expect(isal.hasPrefix("\(major)."))
    }

    @Test func didYouMean() throws {
        let typo = try OCIToolBinary.run(["imgaes"])
        #expect(typo.status == 64)
        #expect(typo.stderr == "Error: unknown command \"imgaes\" for \"ocitool\"; did you mean \"images\"?\n")
        let sub = try OCIToolBinary.run(["image", "lss"])
        #expect(sub.status == 64)
        #expect(sub.stderr == "Error: unknown command \"lss\" for \"ocitool image\"; did you mean one of: ls, list?\n")
        let far = try OCIToolBinary.run(["frobnicate"])
        #expect(far.status == 64 && far.stderr.contains("run 'ocitool --help'"))
        let several = try OCIToolBinary.run(["pus"])  // push, pull
        #expect(several.status == 64 && several.stderr.contains("did you mean one of: "))
    }

    @Test func globalRootAndImageGroup() throws {
        let s = try ShapesStore()
        let expected = try s.run(["images", "--root", s.root]).stdoutText
        #expect(expected.contains("app"))
        #expect(try OCIToolBinary.run(["--root", s.root, "images"]).stdoutText == expected)
        #expect(try OCIToolBinary.run(["--root=\(s.root)", "image", "ls"]).stdoutText == expected)
        #expect(try OCIToolBinary.run(["--root", s.root, "image", "list"]).stdoutText == expected)
        #expect(try OCIToolBinary.run(["--root", s.root, "image", "inspect", "-f", "{{.ID}}", "app:1"]).stdoutText == "\(s.app)\n")
        #expect(try OCIToolBinary.run(["--root", s.root, "image", "history", "-q", "app:1"]).stdoutText.hasPrefix(short(s.app)))
        #expect(try OCIToolBinary.run(["--root", s.root, "image", "tag", "app:1", "copy:1"]).status == 0)
        #expect(try OCIToolBinary.run(["--root", s.root, "image", "remove", "copy:1"]).stdoutText == "Untagged: copy:1\n")
        let tmp = try TempDir(prefix: "ocitool-group")
        let archive = tmp.file("app.tar")
        #expect(try OCIToolBinary.run(["--root", s.root, "image", "save", "-o", archive, "app:1"]).status == 0)
        let other = tmp.file("other")
        #expect(try OCIToolBinary.run(["--root", other, "image", "load", "-i", archive]).stdoutText == "Loaded image: app:1\n")
        // A verb's own --root wins over the environment; a missing value is a usage error.
        #expect(try OCIToolBinary.run(["--root"]).status == 64)
        // Go-style booleans.
        #expect(try s.run(["images", "-q=true", "--no-trunc=true", "app:1"]).stdoutText == "\(s.app)\n")
        #expect(try s.run(["images", "-q=false", "--format", "{{.Tag}}", "app:1"]).stdoutText == "1\n")
        // help lists the group; every verb's help ends with examples.
        let help = try OCIToolBinary.run(["image", "--help"]).stdoutText
        #expect(help.contains("ls") && help.contains("prune") && help.contains("Examples:"))
    }

    @Test(arguments: ["images", "inspect", "history", "tag", "rmi", "prune", "load", "save", "config", "commit", "convert", "copy",
                      "unpack", "export", "squash", "diff", "analyze", "members", "manifest", "digest", "validate", "ls", "cat",
                      "fsck", "login", "logout", "pull", "push", "version"])
    func helpEndsWithExamples(verb: String) throws {
        let r = try OCIToolBinary.run([verb, "--help"])
        #expect(r.status == 0)
        let text = r.stdoutText
        let examples = try #require(text.range(of: "Examples:"), "\(verb) --help has no examples")
        let after = text[examples.upperBound...].split(separator: "\n").prefix { $0.hasPrefix("  ") }
        #expect(after.count >= 2 && after.count <= 4, "\(verb): \(after)")
        #expect(after.allSatisfy { $0.trimmingCharacters(in: .whitespaces).hasPrefix("ocitool ") || $0.contains("| ocitool") || $0.contains("ocitool ") })
    }

    @Test func manPageHasExamplesAndEnvironment() throws {
        let r = try OCIToolBinary.run(["help-man"])
        #expect(r.status == 0)
        let page = r.stdoutText
        #expect(page.hasPrefix(".TH OCITOOL 1 "))
        for section in [".SH NAME", ".SH SYNOPSIS", ".SH COMMANDS", ".SH EXAMPLES", ".SH ENVIRONMENT", ".SH EXIT STATUS"] {
            #expect(page.contains("\n\(section)\n"), "\(section)")
        }
        for variable in ["OCITOOL_ROOT", "SOURCE_DATE_EPOCH", "TMPDIR", "NO_COLOR", "REGISTRY_AUTH_FILE"] {
            #expect(page.contains(".B \(variable)\n"), "\(variable)")
        }
        #expect(page.contains(".SS images\n") && page.contains(".SS image\n") && !page.contains(".SS help-man"))
        // groff reads it without a warning.
        if Shell.has("groff") {
            let tmp = try TempDir(prefix: "ocitool-man")
            try FS.writeAtomically(tmp.file("ocitool.1"), bytes: r.stdout)
            let render = try Shell.run(["groff", "-man", "-Tutf8", "-ww", "-z", tmp.file("ocitool.1")])
            #expect(render.status == 0 && render.stderr.isEmpty, "\(render.stderr)")
        }
    }

    @Test func idPrefixesAndAmbiguity() throws {
        let tmp = try TempDir(prefix: "ocitool-prefix")
        let root = tmp.file("root")
        func run(_ args: [String], epoch: Int = 1_700_000_000) throws -> Shell.Result {
            try OCIToolBinary.run(args, environment: ["OCITOOL_ROOT": root, "SOURCE_DATE_EPOCH": String(epoch)])
        }
        #expect(try run(["load", "-q", Fixtures.testImagesDir + "/podman-docker.tar"]).status == 0)
        // Make images until two IDs share a first hex digit (at most 17 by pigeonhole).
        var ids: [Digest] = []
        var shared: String?
        for i in 0..<17 where shared == nil {
            #expect(try run(["config", "--label", "n=\(i)", "localhost/ocitool-test/podman-docker:v1", "img:\(i)"]).status == 0)
            let id = SHA256Hasher.digest(try run(["config", "img:\(i)"]).stdout)
            for other in ids where other.encoded.first == id.encoded.first {
                shared = String(id.encoded.prefix(zip(id.encoded, other.encoded).prefix { $0 == $1 }.count))
            }
            ids.append(id)
        }
        let prefix = try #require(shared)
        let ambiguous = try run(["inspect", prefix])
        #expect(ambiguous.status == 1)
        #expect(ambiguous.stderr.contains("\(prefix) is ambiguous: matches "), "\(ambiguous.stderr)")
        let rmi = try run(["rmi", prefix])
        #expect(rmi.status == 1 && rmi.stderr.contains("is ambiguous"))
        // Any unambiguous prefix works, down to one character where nothing else starts so.
        var everything = ids.map(\.encoded)
        for i in 0..<ids.count { everything.append(try run(["digest", "img:\(i)"]).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst(7).description) }
        everything.append(SHA256Hasher.digest(try run(["config", "localhost/ocitool-test/podman-docker:v1"]).stdout).encoded)
        for id in ids {
            let n = (1...64).first { n in everything.filter { $0.hasPrefix(id.encoded.prefix(n)) }.count == 1 } ?? 64
            let r = try run(["inspect", "-f", "{{.ID}}", String(id.encoded.prefix(n))])
            #expect(r.stdoutText == "\(id)\n", "prefix \(id.encoded.prefix(n)): \(r.stderr)")
        }
    }

    @Test func configChangeUnterminatedJSONIsAnError() throws {
        let tmp = try TempDir(prefix: "ocitool-change")
        let root = tmp.file("root")
        #expect(try OCIToolBinary.run(["load", "-q", "--root", root, Fixtures.testImagesDir + "/podman-docker.tar"]).status == 0)
        let base = "localhost/ocitool-test/podman-docker:v1"
        let bad = try OCIToolBinary.run(["config", "--root", root, "-c", #"CMD ["unterminated"#, base])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("unterminated string") && bad.stderr.contains("JSON (exec) form"), "\(bad.stderr)")
        // docker's shell form for text that does not start like JSON stays.
        let shell = try OCIToolBinary.run(["config", "--root", root, "-c", "CMD [ -f /x ] && run", base, "sh:1"])
        #expect(shell.status == 0, "\(shell.stderr)")
        let cmd = try OCIToolBinary.run(["inspect", "--root", root, "-f", "{{json .Config.Cmd}}", "sh:1"]).stdoutText
        #expect(cmd == #"["/bin/sh","-c","[ -f /x ] \u0026\u0026 run"]"# + "\n" || cmd == #"["/bin/sh","-c","[ -f /x ] && run"]"# + "\n")
    }

    /// A script written against `docker image ls/inspect/history/prune`, run
    /// unchanged with a `docker` on PATH that is ocitool.
    @Test func dockerScriptRunsUnchanged() throws {
        let s = try ShapesStore()
        let bin = try TempDir(prefix: "ocitool-docker-bin")
        #expect(symlink(OCIToolBinary.path, bin.file("docker")) == 0)
        let script = Fixtures.repoRoot + "/Tests/docker-compat/docker-images.sh"
        let path = bin.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let r = try Shell.run(["bash", script, "app:1"], environment: ["PATH": path, "OCITOOL_ROOT": s.root, "TZ": "UTC"])
        #expect(r.status == 0, "\(r.stderr)\n\(r.stdoutText)")
        #expect(r.stdoutText.hasSuffix("all docker image checks passed\n"), "\(r.stdoutText)")
        // The dangling image is gone, the named ones stay.
        #expect(lines(try s.run(["images", "--format", "{{.Repository}}:{{.Tag}}"])) == ["tmp:1", "app:1", "app:latest"])
    }
}
