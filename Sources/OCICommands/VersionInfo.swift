import ArgumentParser
import OCICore

/// ocitool's version and the C libraries it runs with.
enum VersionInfo {
    /// ocitool's own version.
    static let version = "0.14.0"

    /// What `ocitool --version` and `ocitool version` print: ocitool's
    /// version, then one line per library.
    static var text: String {
        var lines = ["ocitool \(version)"]
        for l in LibraryVersions.all { lines.append("  \(l.name) \(l.version)") }
        return lines.joined(separator: "\n")
    }
}

/// `ocitool version`: the same text as `--version`.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Show ocitool's version and the versions of the libraries it uses.",
        discussion: """
        libarchive, OpenSSL, zlib and zstd report their versions at run time; ISA-L's is the version of its \
        headers ocitool was built with.

        Examples:
          ocitool version
          ocitool --version
        """)

    func run() throws { Console.out(VersionInfo.text) }
}
