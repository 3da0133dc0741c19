import Foundation
import Testing
import OCICore
import OCITestSupport

/// The generated completion scripts, exercised the way a shell uses them:
/// bash sources the script and its completion function is called with
/// COMP_WORDS set, as if TAB had been pressed.
@Suite("completion scripts")
struct CompletionTests {
    /// Runs bash with the generated script sourced, completing `words`
    /// (the last one is the word under the cursor), in `directory`; returns COMPREPLY.
    static func complete(_ words: [String], in directory: String, environment: [String: String] = [:]) throws -> [String] {
        let tmp = try TempDir(prefix: "ocitool-complete")
        let script = tmp.file("ocitool.bash")
        let gen = try OCIToolBinary.run(["--generate-completion-script", "bash"])
        guard gen.status == 0 else { throw ShapesStore.ShapesError.failed(gen.stderr) }
        try FS.writeAtomically(script, bytes: gen.stdout)
        let quoted = words.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let program = """
        shopt -s extglob
        source "$1"
        cd "$2"
        COMP_WORDS=(\(quoted))
        COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
        COMP_LINE="${COMP_WORDS[*]}"
        COMP_POINT=${#COMP_LINE}
        _ocitool "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
        printf '%s\\n' "${COMPREPLY[@]}"
        """
        let bin = PathString(OCIToolBinary.path).deletingLastComponent
        var env = environment
        env["PATH"] = bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let r = try Shell.run(["bash", "-c", program, "bash", script, directory], environment: env)
        guard r.status == 0 else { throw ShapesStore.ShapesError.failed(r.stderr) }
        return r.stdoutText.split(separator: "\n").map(String.init)
    }

    @Test func bashCompletesImageNamesFromTheStore() throws {
        let s = try ShapesStore()
        let dir = try TempDir(prefix: "ocitool-complete-cwd")
        #expect(try Self.complete(["ocitool", "inspect", "--root", s.root, "ap"], in: dir.path) == ["app:1", "app:latest"])
        #expect(try Self.complete(["ocitool", "rmi", "--root", s.root, "t"], in: dir.path) == ["tmp:1"])
        // The store of $OCITOOL_ROOT when no --root is on the line.
        #expect(try Self.complete(["ocitool", "history", "app:l"], in: dir.path, environment: ["OCITOOL_ROOT": s.root]) == ["app:latest"])
        #expect(try Self.complete(["ocitool", "image", "ls", "--root", s.root, ""], in: dir.path).contains("tmp:1"))
        // No store: nothing, and no error.
        #expect(try Self.complete(["ocitool", "tag", "--root", dir.file("none"), ""], in: dir.path).isEmpty)
    }

    @Test func bashCompletesFilePaths() throws {
        let dir = try TempDir(prefix: "ocitool-complete-files")
        try FS.writeAtomically(dir.file("app.tar"), bytes: [0])
        try FS.writeAtomically(dir.file("other.txt"), bytes: [0])
        try FS.makeDirectories(dir.file("layout"))
        #expect(try Self.complete(["ocitool", "load", "ap"], in: dir.path) == ["app.tar"])
        #expect(try Self.complete(["ocitool", "load", "-i", "la"], in: dir.path) == ["layout"])
        #expect(try Self.complete(["ocitool", "save", "-o", "o"], in: dir.path) == ["other.txt"])
        #expect(try Self.complete(["ocitool", "members", ""], in: dir.path).sorted() == ["app.tar", "layout", "other.txt"])
        // Verbs that take a store reference or an archive offer both.
        let s = try ShapesStore()
        let both = try Self.complete(["ocitool", "inspect", "--root", s.root, ""], in: dir.path)
        #expect(both.contains("app:1") && both.contains("app.tar") && both.contains("layout/"))
    }

    @Test func bashCompletesVerbsAndFlags() throws {
        let dir = try TempDir(prefix: "ocitool-complete-verbs")
        #expect(try Self.complete(["ocitool", "ima"], in: dir.path).sorted() == ["image", "images"])
        #expect(try Self.complete(["ocitool", "image", "p"], in: dir.path) == ["prune"])
        #expect(try Self.complete(["ocitool", "images", "--dig"], in: dir.path) == ["--digests"])
    }

    @Test(arguments: ["zsh", "fish"])
    func otherShellsCallBackIntoOcitool(shell: String) throws {
        let r = try OCIToolBinary.run(["--generate-completion-script", shell])
        #expect(r.status == 0)
        let text = r.stdoutText
        // Image names come from ocitool itself; archives complete as files.
        #expect(text.contains("---completion"))
        #expect(text.contains("inspect") && text.contains("images"))
        #expect(shell == "zsh" ? text.contains("_files") : text.contains("__fish_complete_path") || text.contains("-F"))
        if Shell.has(shell) {
            let check = try Shell.run(shell == "zsh" ? ["zsh", "-n", "-c", text] : ["fish", "--no-execute", "-c", text])
            #expect(check.status == 0, "\(check.stderr)")
        }
    }
}
