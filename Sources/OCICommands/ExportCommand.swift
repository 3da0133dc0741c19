import ArgumentParser
import OCICore
import OCIStore
import OCILayer
#if canImport(Glibc)
import Glibc
#endif

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write an image's merged file system as one tar stream (no whiteouts; hard links kept or re-materialised).",
        discussion: "Streams: memory grows with the number of paths, not with file sizes. Writes to stdout unless -o is given.")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var union: UnionOptions

    @Argument(help: "Image reference, archive file, or OCI layout directory (ARCHIVE@N for one of several).") var image: String

    @Option(name: .shortAndLong, help: "Write the tar to this file instead of stdout.") var output: String?

    @Flag(name: .customLong("skip-unsafe"), help: "Warn about unsafe entries and leave them out, instead of stopping.")
    var skipUnsafe = false

    func run() throws {
        if output == nil && Console.stdoutIsTerminal {
            throw ValidationError("refusing to write a tar to a terminal; redirect stdout or use -o FILE")
        }
        let opened = try OpenedImage(image, store: storeOptions.store, platform: union.parsedPlatform())
        defer { opened.close() }
        let warn: (String) -> Void = { Console.err("warning: \($0)") }
        let report: UnionExporter.Report
        if let output {
            let tmp = output + ".ocitool-tmp-\(getpid())"
            do {
                let sink = try FileSink(creating: tmp, exclusive: true)
                report = try UnionExporter.export(opened.layers, to: sink, name: output, limits: union.limits,
                                                  skipUnsafe: skipUnsafe, warn: warn)
                try FS.rename(tmp, output)
            } catch {
                FS.removeFile(tmp)
                throw error
            }
        } else {
            report = try UnionExporter.export(opened.layers, to: FileSink(fd: 1, path: "stdout"), name: "stdout",
                                              limits: union.limits, skipUnsafe: skipUnsafe, warn: warn)
        }
        if report.skippedOther > 0 {
            warn("\(report.skippedOther) socket(s) or member(s) of unknown type left out")
        }
    }
}
