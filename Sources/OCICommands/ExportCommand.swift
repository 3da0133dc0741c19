import ArgumentParser
import OCICore
import OCIStore
import OCILayer
import OCIImage
import OCITransport
#if canImport(Glibc)
import Glibc
#endif

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write an image's merged file system as one tar stream (no whiteouts; hard links kept or re-materialised).",
        discussion: """
        Streams: memory grows with the number of paths, not with file sizes. Writes to stdout unless -o is given.

        Examples:
          ocitool export app:1 | tar -t
          ocitool export -o rootfs.tar app.tar
        """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var registryFlags: RegistryFlags
    @OptionGroup var union: UnionOptions

    @Argument(help: "Image reference, archive file, or OCI layout directory (ARCHIVE@N for one of several).") var image: String

    @Option(name: .shortAndLong, help: "Write the tar to this file instead of stdout.") var output: String?

    @Flag(name: .customLong("skip-unsafe"), help: "Warn about unsafe entries and leave them out, instead of stopping.")
    var skipUnsafe = false

    func run() throws {
        let out: AtomicOutput
        if let output, output != "-" {
            out = try AtomicOutput(path: output)
        } else {
            if Console.stdoutIsTerminal { throw UsageError("refusing to write a tar to a terminal; redirect stdout or use -o FILE") }
            out = AtomicOutput.standardOutput()
        }
        defer { out.abandon() }
        let reader = try ImageReader(image, context: try storeOptions.context(registry: registryFlags))
        defer { reader.close() }
        let chosen = try reader.image(platform: try union.parsedPlatform())
        let warn: (String) -> Void = { Console.err("warning: \($0)") }
        // The writes (kernel copies into the page cache or a pipe) run on
        // another core while this thread inflates and reads the layers.
        let writer = AsyncSink(inner: out.sink, slots: 4, name: "write")
        defer { writer.abandon() }  // before out.abandon(): no write after the output is discarded
        let sink = BufferedSink(writer)
        let report = try UnionExporter.export(LayerSource.layers(of: chosen), to: sink, name: out.name,
                                              limits: union.limits, skipUnsafe: skipUnsafe, warn: warn)
        try out.commit()
        if report.skippedOther > 0 {
            warn("\(report.skippedOther) socket(s) or member(s) of unknown type left out")
        }
    }
}
