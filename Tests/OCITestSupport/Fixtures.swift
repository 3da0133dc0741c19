import Foundation
import OCICore

/// Where test fixtures live, found from this source file's path so tests
/// work from any working directory.
///
/// - `TestImages/` in the repository: archives the project produces for tests.
/// - `../shared/corpus/`: real archives and layouts written by other tools,
///   described by `INDEX.md` (read-only; never write into it).
public enum Fixtures {
    /// The repository root (the folder holding `Package.swift`).
    public static let repoRoot: String = {
        var url = URL(fileURLWithPath: #filePath)  // <repo>/Tests/OCITestSupport/Fixtures.swift
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// `<repo>/TestImages`.
    public static let testImagesDir: String = repoRoot + "/TestImages"

    /// `<repo>/../shared/corpus`.
    public static let corpusDir: String = URL(fileURLWithPath: repoRoot + "/../shared/corpus").standardizedFileURL.path

    /// File name endings that mark an archive (tar, possibly compressed).
    public static let archiveSuffixes = [".tar", ".tar.gz", ".tgz", ".tar.zst", ".tar.zstd", ".tar.xz", ".txz", ".tar.bz2", ".tbz2"]

    /// Does `name` end like an archive?
    public static func looksLikeArchive(_ name: String) -> Bool {
        let lower = name.lowercased()
        return archiveSuffixes.contains { lower.hasSuffix($0) }
    }

    /// Archive files under `TestImages/` (recursively), relative to it, sorted.
    /// Empty when the folder is missing or has no archives yet.
    public static var testImageArchives: [String] {
        walkFiles(testImagesDir, skipDirectory: { _ in false }).filter(looksLikeArchive)
    }

    /// The parsed `INDEX.md` of the corpus (empty when the corpus is absent).
    public static let corpusIndex: CorpusIndex = {
        guard let text = try? String(contentsOfFile: corpusDir + "/INDEX.md", encoding: .utf8) else {
            return CorpusIndex(entries: [])
        }
        return CorpusIndex(markdown: text)
    }()

    /// Tar *files* in the corpus (recursively), relative to `corpusDir`, sorted.
    ///
    /// Skips directories that are fixtures themselves (OCI layouts, `dir:`
    /// copies) or look like layouts, and files `INDEX.md` says are not tars.
    /// A file counts if its name ends like an archive or `INDEX.md` lists it.
    public static var corpusTarFiles: [String] {
        let index = corpusIndex
        let files = walkFiles(corpusDir) { rel in
            if index.entry(for: rel) != nil { return true }  // a fixture directory
            let full = corpusDir + "/" + rel
            return FS.exists(full + "/oci-layout") || FS.exists(full + "/index.json") || FS.exists(full + "/blobs")
        }
        return files.filter { rel in
            if let e = index.entry(for: rel) { return !e.declaresNotTar }
            return looksLikeArchive(rel)
        }
    }

    /// Relative paths of regular files under `root`, sorted; hidden names
    /// are skipped, and so are directories for which `skipDirectory` (given
    /// the relative path) says yes.
    public static func walkFiles(_ root: String, skipDirectory: (String) -> Bool) -> [String] {
        var out: [String] = []
        func walk(_ rel: String) {
            let full = rel.isEmpty ? root : root + "/" + rel
            guard let names = try? FS.listDirectory(full) else { return }
            for name in names where !name.hasPrefix(".") {
                let child = rel.isEmpty ? name : rel + "/" + name
                var st = stat()
                guard lstat(root + "/" + child, &st) == 0 else { continue }
                switch st.st_mode & S_IFMT {
                case S_IFDIR: if !skipDirectory(child) { walk(child) }
                case S_IFREG: out.append(child)
                default: continue
                }
            }
        }
        walk("")
        return out.sorted()
    }
}
