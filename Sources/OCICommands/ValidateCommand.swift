import ArgumentParser
import Foundation
import OCICore
import OCIModel
import OCIImage
import OCITransport

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check every digest, size and diff_id of a source's images, like crane validate.",
        discussion: """
        Reads each blob once: manifests, configs and layers must match their descriptors, and every layer must \
        decompress to its config's diff_id. Prints one line per image (PASS or FAIL with each problem) and exits 1 if \
        any failed. An archive read from a file or stdin is verified as it is read: a broken one fails with the \
        member named.

        Examples:
          ocitool validate app.tar
          ocitool validate docker://localhost:5000/app:1
        """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var registryFlags: RegistryFlags
    @Flag(help: "Only the exit status and errors; no PASS lines.") var quiet = false
    @Argument(help: "Image: store reference, archive, layout directory, transport, or - (stdin).") var source: String

    func run() throws {
        let reader = try ImageReader(source, context: try storeOptions.context(registry: registryFlags))
        defer { reader.close() }
        var failed = false
        for entry in reader.entries {
            var problems: [String] = []
            for image in entry.images {
                problems += ImageVerifier.verify(image).map(\.description)
            }
            if case let .index(x) = entry {
                let d = x.document
                if d.digest != x.digest { problems.append("index \(x.digest): content is \(d.digest)") }
            }
            let name = entry.names.first?.familiarString ?? entry.digest.description
            if problems.isEmpty {
                if !quiet { Console.out("PASS: \(name) (\(entry.images.count) image\(entry.images.count == 1 ? "" : "s"), \(entry.images.reduce(0) { $0 + $1.layers.count }) layers)") }
            } else {
                failed = true
                Console.out("FAIL: \(name)")
                for p in problems { Console.out("  \(p)") }
            }
        }
        if failed { throw ExitCode.failure }
    }
}
