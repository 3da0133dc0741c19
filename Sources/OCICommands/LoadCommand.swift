import ArgumentParser
import Foundation
import OCICore
import OCIModel
import OCIStore
import OCIArchive

struct LoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Load images from an archive (docker save, Docker 25+, OCI; plain, gzip, zstd, xz, bzip2), an OCI layout directory, or stdin.")

    @OptionGroup var storeOptions: StoreOptions

    @Option(name: [.short, .customLong("input")], help: "Read from this archive file or directory instead of stdin.")
    var input: String?

    @Argument(help: "Archive file or OCI layout directory (default: stdin).")
    var path: String?

    @Option(help: "Platform to load from a multi-platform image, os/arch[/variant] (default: this machine's).")
    var platform: String?

    @OptionGroup var progressOptions: ProgressOptions

    func validate() throws {
        if input != nil && path != nil { throw ValidationError("give the archive either as an argument or with -i, not both") }
    }

    func run() throws {
        let source = input ?? path
        if source == nil && Console.stdinIsTerminal {
            throw ValidationError("requested load from stdin, but stdin is a terminal; give a file or pipe an archive in")
        }
        let wanted = try platform.map { try Platform(parsing: $0) }
        let store = storeOptions.store
        let renderer = progressOptions.makeRenderer()
        defer { renderer.close() }
        let progress = renderer.scope(job: source ?? "stdin")
        let result = try progressOptions.run(progress) { () -> ImageLoader.Result in
            let started = Date()
            let total = source.flatMap { FS.isDirectory($0) ? nil : try? FS.size($0) }
            progress.start(operation: "load", source: source ?? "stdin", destination: store.root, totalBytes: total)
            let bytesRead = ByteProgress(label: "input", total: total)
            let member = try ImageLoader.openSource(source, progress: bytesRead)
            let result = try ImageLoader.load(member, into: store, platform: wanted, progress: progress)
            for w in result.warnings { progress.warning(w) }
            let reports = result.images.map { $0.report() }
            reports.forEach(progress.image)
            progress.done(DoneReport(images: reports, bytesIn: bytesRead.done, bytesOut: result.newBytes,
                                     seconds: Date().timeIntervalSince(started), destination: store.root))
            return result
        }
        renderer.close()
        guard !progressOptions.quiet else { return }
        for image in result.images {
            if image.names.isEmpty {
                Console.out("Loaded image ID: \(image.id)")
            } else {
                for n in image.names { Console.out("Loaded image: \(n.familiarString)") }
            }
        }
    }
}
