import ArgumentParser
import OCICore
import OCIArchive

struct MembersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "members",
        abstract: "List the members of an archive with type, size and SHA-256 (streamed; any compression).",
        discussion: """
        Examples:
          ocitool members TestImages/podman-oci.tar
          docker save app | ocitool members -
        """)

    @Argument(help: "Archive file, OCI layout directory, or - for stdin.", completion: .file()) var path: String = "-"

    func run() throws {
        let source = try ArchiveMembers.open(path)
        var rows: [[String]] = []
        while let e = try source.next() {
            var digest = "-"
            var size = "-"
            if e.kind == .regular {
                let sink = DigestingSink()
                let n = try source.readData(into: sink)
                digest = try sink.digest().description
                size = String(n)
            }
            rows.append([e.kind.rawValue, size, digest, e.path + (e.linkTarget.map { " -> \($0)" } ?? "")])
        }
        Console.out(Console.table(["TYPE", "SIZE", "SHA256", "PATH"], rows))
    }
}
