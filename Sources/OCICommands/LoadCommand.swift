import ArgumentParser
import Foundation
import OCICore
import OCIModel
import OCIImage
import OCIStore
import OCIArchive
import OCITransport

struct LoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Load images from an archive (docker save, Docker 25+, OCI; plain, gzip, zstd, xz, bzip2), an OCI layout directory, or stdin.",
        discussion: """
        A copy into the store: `ocitool load F` is `ocitool copy F store:` keeping the images' names. \
        A multi-platform image is stored as an index with every platform present; --platform keeps one.

        Examples:
          ocitool load -i app.tar
          docker save busybox | ocitool load
          ocitool load --platform linux/arm64 multi.tar.zst
        """)

    @OptionGroup var storeOptions: StoreOptions

    @Option(name: [.short, .customLong("input")], help: "Read from this archive file or directory instead of stdin.", completion: .file())
    var input: String?

    @Argument(help: "Archive file, OCI layout directory, or a transport (docker-archive:F, oci-archive:F, oci:DIR); default: stdin.",
              completion: .file())
    var path: String?

    @OptionGroup var platformOption: KeepPlatformOption

    @OptionGroup var progressOptions: ProgressOptions

    func validate() throws {
        if input != nil && path != nil { throw ValidationError("give the archive either as an argument or with -i, not both") }
    }

    func run() throws {
        let given = input ?? path
        let renderer = progressOptions.makeRenderer()
        defer { renderer.close() }
        let progress = renderer.scope(job: given ?? "stdin")
        let report = try progressOptions.run(progress) { () -> ImageCopy.Report in
            let reference = try given.map { try TransportReference.source($0) } ?? .archive(path: nil, format: .auto, detail: nil)
            if case .store = reference { throw UsageError("\(given ?? ""): no such file or directory") }
            try Streams.checkInput(reference)
            let platform = try platformOption.parsed()
            let context = try storeOptions.context()
            var options = ImageCopy.Options()
            options.operation = "load"
            options.platforms = platform.map { .one($0) } ?? .all
            options.progress = progress
            let report = try ImageCopy.copy(from: try reference.openSource(context), to: try StoreDestination(store: context.store),
                                            options: options)
            progress.done(report.done(destination: context.store.root))
            return report
        }
        renderer.close()
        for entry in report.entries {
            if entry.names.isEmpty {
                Console.out("Loaded image ID: \(entry.id)")
            } else {
                for n in entry.names { Console.out("Loaded image: \(n.familiarString)") }
            }
        }
    }
}
