import ArgumentParser
import OCICore
import OCIStore
import OCILayer
import OCIImage
import OCITransport

struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Show an image's layer stack: what each layer adds, changes and deletes, wasted bytes, efficiency.",
        discussion: """
        SOURCE is a store reference, an archive file or OCI layout directory (ARCHIVE@N for one of several), or - for \
        stdin. Each layer is read once; memory grows with the number of paths, not with file sizes. Efficiency and the \
        --fail-on gates use dive's definitions. Exit 1 when a gate fails (one line per failed gate on stderr).

        Examples:
          ocitool analyze app:1
          ocitool analyze --html report.html TestImages/umoci-whiteout-oci.tar
          ocitool analyze --format json app:1 | jq .efficiency
        """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var registryFlags: RegistryFlags
    @OptionGroup var union: UnionOptions

    @Argument(help: "Image reference, archive file, OCI layout directory (ARCHIVE@N), or - for stdin.") var source: String

    @Option(help: "Output: text (tables) or json (every figure and each layer's file list).") var format: Format = .text

    @Flag(help: "Show the merged file tree with the layer of each path and what the (last) layer changed.")
    var tree = false

    @Option(help: "With --tree: show the tree as of layer N (0 = bottom).") var layer: Int?

    @Option(help: "How many wasted paths and markers per layer the text report lists.") var top: Int = 10

    @Option(name: .customLong("fail-on"),
            help: "CI gates, e.g. lowest-efficiency=0.9,highest-wasted-bytes=20MB,highest-user-wasted-percent=0.1.")
    var failOn: String?

    @Option(help: "Also write a self-contained HTML report to this file.") var html: String?

    @Flag(name: .customLong("skip-unsafe"), help: "Warn about unsafe entries and leave them out, instead of stopping.")
    var skipUnsafe = false

    func validate() throws {
        if let failOn {
            do { _ = try AnalysisGates(parsing: failOn) } catch let e as AnalysisGates.SpecError {
                throw ValidationError("--fail-on: \(e.description)")
            }
        }
        if layer != nil && !tree { throw ValidationError("--layer needs --tree") }
        if let layer, layer < 0 { throw ValidationError("--layer must be 0 or more") }
        if tree && (format == .json || html != nil || failOn != nil) {
            throw ValidationError("--tree shows a tree only; run --format json, --html and --fail-on without it")
        }
        if top < 0 { throw ValidationError("--top must be 0 or more") }
    }

    func run() throws {
        let gates = try failOn.map { try AnalysisGates(parsing: $0) }
        let reader = try ImageReader(source, context: try storeOptions.context(registry: registryFlags))
        defer { reader.close() }
        let image = try reader.image(platform: try union.parsedPlatform())
        let name = image.names.first?.familiarString ?? source
        var input = AnalysisInput(record: image, layers: try LayerSource.layers(of: image), name: name)
        let warn: (String) -> Void = { Console.err("warning: \($0)") }
        if tree {
            let n = layer ?? input.layers.count - 1
            guard n < input.layers.count else {
                throw ValidationError("--layer \(n): the image has \(input.layers.count) layer(s), 0 to \(input.layers.count - 1)")
            }
            input = input.prefix(through: n)
            let analysis = try LayerStackAnalyzer.analyze(input, limits: union.limits, skipUnsafe: skipUnsafe, warn: warn)
            Console.out(AnalysisText.tree(analysis))
            return
        }
        let analysis = try LayerStackAnalyzer.analyze(input, limits: union.limits, skipUnsafe: skipUnsafe, warn: warn)
        if let html {
            let out = try AtomicOutput(path: html)
            try out.sink.write(contentsOf: AnalysisHTML.render(analysis))
            try out.commit()
        }
        switch format {
        case .text: Console.out(AnalysisText.report(analysis, top: top))
        case .json: Console.out(String(decoding: try AnalysisJSON.encode(analysis), as: UTF8.self))
        }
        let failures = gates?.failures(analysis) ?? []
        for f in failures { Console.err(f) }
        if !failures.isEmpty { throw ExitCode(1) }
    }
}
