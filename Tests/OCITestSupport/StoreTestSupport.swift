import Foundation
import OCICore

/// The `ocitool` executable built next to the test bundle (or `$OCITOOL_BIN`).
public enum OCIToolBinary {
    public static var path: String {
        if let p = ProcessInfo.processInfo.environment["OCITOOL_BIN"], !p.isEmpty { return p }
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        // The bundle may be `X.xctest` (a directory on some platforms) or a file.
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("ocitool").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return Fixtures.repoRoot + "/.build/debug/ocitool"
    }

    /// Runs `ocitool args…` and returns its result.
    public static func run(_ args: [String], stdinFile: String? = nil, environment: [String: String] = [:]) throws -> Shell.Result {
        try Shell.run([path] + args, stdinFile: stdinFile, environment: environment)
    }
}

/// A byte-level picture of a directory tree (paths, types, sizes, SHA-256),
/// to assert that a failed operation left a store exactly as it was.
public struct TreeSnapshot: Equatable, CustomStringConvertible {
    public var entries: [String: String]

    public init(_ root: String) throws {
        entries = [:]
        guard FS.isDirectory(root) else { return }
        for rel in Fixtures.walkFiles(root, skipDirectory: { _ in false }) {
            let full = root + "/" + rel
            var st = stat()
            guard lstat(full, &st) == 0 else { continue }
            if (st.st_mode & S_IFMT) == S_IFREG {
                let sink = DigestingSink()
                try FileSource(path: full).copy(to: sink)
                entries[rel] = "f \(st.st_size) \(try sink.digest())"
            } else {
                entries[rel] = "other \(st.st_mode & S_IFMT)"
            }
        }
    }

    public var description: String {
        entries.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "\n")
    }
}

/// One row of TestImages/INDEX.tsv.
public struct TestImageInfo: Sendable, CustomStringConvertible {
    public var file: String
    public var format: String
    public var outerCompression: String
    public var tags: [String]
    public var features: [String]
    public var path: String { Fixtures.testImagesDir + "/" + file }
    public var description: String { file }

    /// All rows of TestImages/INDEX.tsv.
    public static var all: [TestImageInfo] {
        guard let text = try? String(contentsOfFile: Fixtures.testImagesDir + "/INDEX.tsv", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").dropFirst().compactMap { line in
            let c = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard c.count >= 6 else { return nil }
            return TestImageInfo(file: c[0], format: c[1], outerCompression: c[2],
                                 tags: c[3] == "-" ? [] : c[3].split(separator: ",").map(String.init),
                                 features: c[5].split(separator: ",").map(String.init))
        }
    }
}
