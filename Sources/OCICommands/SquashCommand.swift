import ArgumentParser
import Foundation
import OCICore
import OCIModel
import OCIStore
import OCIArchive
import OCILayer
#if canImport(Glibc)
import Glibc
#endif

struct SquashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "squash",
        abstract: "Make a new image whose single layer is the merged file system of IMAGE (config kept, history collapsed to one entry).",
        discussion: """
        Without -o the new image goes into the store (tagged NAME:TAG when given); with -o it is written as an \
        archive instead (the store is not touched) through a temporary file renamed at the end. The image ID is printed \
        (on stderr when the archive goes to stdout).
        """)

    enum LayerCompressionChoice: String, ExpressibleByArgument, CaseIterable {
        case gzip, zstd, none
        var value: LayerCompression { LayerCompression(rawValue: rawValue) ?? .gzip }
    }

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var union: UnionOptions

    @Argument(help: "Image reference, archive file, or OCI layout directory.") var image: String
    @Argument(help: "Name for the new image (name[:tag]); without it the image is untagged.") var name: String?

    @Option(name: .customLong("compress"), help: "Compression of the new layer: gzip, zstd or none.") var compression: LayerCompressionChoice = .gzip

    @Option(name: .shortAndLong, help: "Write the new image to this archive (- for stdout) instead of the store.")
    var output: String?

    @Option(help: "Archive format with -o: docker (Docker 25+ hybrid) or oci.")
    var format: ArchiveWriter.Flavour = .docker

    func run() throws {
        let target = try name.map { try ImageReference(parsing: $0) }
        if let target, target.digest != nil && target.tag == nil {
            throw ValidationError("the new name cannot be a digest reference")
        }
        let toStdout = output == "-"
        if toStdout && Console.stdoutIsTerminal {
            throw ValidationError("refusing to write an archive to a terminal; redirect stdout or use -o FILE")
        }
        let userStore = storeOptions.store
        let opened = try OpenedImage(image, store: userStore, platform: union.parsedPlatform())
        defer { opened.close() }

        // With -o the image is built in a scratch store that is deleted afterwards.
        var scratch: String?
        defer { if let scratch { FS.removeTree(scratch) } }
        let store: ImageStore
        if output != nil {
            let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
            let dir = "\(base)/ocitool-squash-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
            scratch = dir
            store = ImageStore(root: dir)
        } else {
            store = userStore
        }
        let result = try Squash.squash(opened.record, layers: opened.layers, into: store, names: target.map { [$0] } ?? [],
                                       compression: compression.value, limits: union.limits) { Console.err("warning: \($0)") }
        guard let output else {
            Console.out(result.id.description)
            return
        }
        let record = ImageRecord(stored: try store.resolve(result.id.description), store: store)
        let options = ArchiveWriter.Options(mtime: try ArchiveWriter.Options.sourceDateEpoch())
        if toStdout {
            try ArchiveWriter.write([record], flavour: format, to: FileSink(fd: 1, path: "stdout"), name: "stdout", options: options)
            Console.err(result.id.description)
            return
        }
        let tmp = "\(output).ocitool-tmp-\(getpid())"
        do {
            let sink = try FileSink(creating: tmp, exclusive: true)
            try ArchiveWriter.write([record], flavour: format, to: sink, name: output, options: options)
            try FS.rename(tmp, output)
        } catch {
            FS.removeFile(tmp)
            throw error
        }
        Console.out(result.id.description)
    }
}
