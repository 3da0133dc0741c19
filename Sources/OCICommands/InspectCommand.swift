import ArgumentParser
import Foundation
import OCICore
import OCIModel
import OCIImage
import OCIStore
import OCITransport
import OCIFormat

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show image details as a JSON array, like docker image inspect; any source (store, archive, layout, stdin).",
        discussion: """
        The JSON is docker's (API 1.50): its keys in its order, indented with 4 spaces, `<`, `>`, `&` escaped as \
        \\u003c…, Size the uncompressed size; ocitool adds Descriptor (the stored index or manifest) and OCITool \
        (manifest digest and media type, StoredSize, config and layer descriptors with their uncompressed sizes). \
        -f json prints it on one line; any other -f is a Go template run against docker's typed fields first \
        ({{.ID}}, {{.Config.User}} are "" when unset), then against the raw JSON (missing keys are errors), as docker \
        does. A multi-platform image shows this machine's platform unless --platform names another.

        Examples:
          ocitool inspect busybox
          ocitool inspect -f '{{json .Config}}' app:1
          ocitool inspect --format '{{index .RepoTags 0}} {{.Size}}' app:1 other:2
          ocitool inspect -f '{{range .RootFS.Layers}}{{println .}}{{end}}' --platform linux/arm64 multi.tar
        """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var registryFlags: RegistryFlags
    @OptionGroup var platformOption: PlatformOption
    @Option(name: .shortAndLong, help: ArgumentHelp("Output: json (one line), or a Go template.", valueName: "string"))
    var format: String?
    @Argument(help: "Images: store references (name[:tag], name@digest, ID prefix), archives, layout directories, transports, or - (stdin).",
              completion: .custom(CompletionSupport.imagesAndFiles))
    var refs: [String]

    func run() throws {
        let template: Template?
        if let format, !format.isEmpty, format != "json" {
            do { template = try Template(format) } catch let e as TemplateError {
                throw UsageError("template parsing error: \(e)")
            }
        } else {
            template = nil
        }
        let context = try storeOptions.context(registry: registryFlags)
        let platform = try platformOption.parsed()
        var elements: [TemplateValue] = []
        var text = ""
        var failures: [String] = []
        for ref in refs {
            do {
                let reader = try ImageReader(ref, context: context)
                defer { reader.close() }
                let image = try reader.image(platform: platform, localLayers: false)
                let document = InspectDocument(image: image, entry: reader.entries.first,
                                               layerSizes: try LayerSizes.of(image, store: context.store))
                let value = try document.value
                guard let template else {
                    elements.append(value)
                    continue
                }
                let raw = try TemplateValue(json: Data(try value.jsonString(escapeHTML: true).utf8))
                do {
                    text += try DockerInspect.render(template, typed: value, raw: raw) + "\n"
                } catch let e as TemplateError {
                    failures.append("template parsing error: \(e)")
                }
            } catch {
                failures.append(OCIToolMain.oneLine(error))
            }
        }
        if template == nil {
            Console.out(try DockerJSON.array(elements, compact: format == "json"))
        } else {
            Console.outRaw(Array((text.isEmpty ? "\n" : text).utf8))
        }
        if !failures.isEmpty {
            for f in failures { Console.err("Error: \(f)") }
            throw ExitCode(1)
        }
    }
}
