import ArgumentParser
import Foundation
import OCICore
import OCIStore

/// Shell completion candidates computed by ocitool itself (ArgumentParser's
/// `.custom` completions: the generated bash, zsh and fish scripts call
/// `ocitool ---completion … -- WORDS` when TAB is pressed).
enum CompletionSupport {
    /// Image names in the store the command line uses (`--root DIR` among
    /// the words, else `$OCITOOL_ROOT` and the default), that start with
    /// the word being completed. A store that cannot be read gives none.
    @Sendable static func imageNames(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
        let store = ImageStore(root: StoreLocation.resolve(root(in: words)))
        guard store.exists, let entries = try? store.entries() else { return [] }
        var out: [String] = []
        for e in entries {
            for n in e.names {
                let s = n.familiarString
                if s.hasPrefix(prefix) && !out.contains(s) { out.append(s) }
            }
        }
        return out.sorted()
    }

    /// Image names, then files and directories that start with the word
    /// (for verbs that read a store reference or an archive).
    @Sendable static func imagesAndFiles(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
        imageNames(words, index, prefix) + files(prefix)
    }

    /// Paths starting with `prefix` (directories with a trailing `/`).
    static func files(_ prefix: String) -> [String] {
        let slash = prefix.lastIndex(of: "/")
        let dir = slash.map { String(prefix[...$0]) } ?? ""
        let stem = slash.map { String(prefix[prefix.index(after: $0)...]) } ?? prefix
        guard let names = try? FS.listDirectory(dir.isEmpty ? "." : dir) else { return [] }
        return names.filter { $0.hasPrefix(stem) && (stem.hasPrefix(".") || !$0.hasPrefix(".")) }.sorted().map { name in
            let path = dir + name
            return FS.isDirectory(path) ? path + "/" : path
        }
    }

    /// The value of `--root` among command-line words.
    static func root(in words: [String]) -> String? {
        var found: String?
        var i = 0
        while i < words.count {
            let w = words[i]
            if w == "--root", i + 1 < words.count {
                found = unquoted(words[i + 1])
                i += 1
            } else if w.hasPrefix("--root=") {
                found = unquoted(String(w.dropFirst("--root=".count)))
            }
            i += 1
        }
        return found
    }

    /// Shell words arrive verbatim: drop one level of simple quotes.
    static func unquoted(_ word: String) -> String {
        if word.count >= 2, let f = word.first, f == "'" || f == "\"", word.last == f {
            return String(word.dropFirst().dropLast())
        }
        return word
    }
}
