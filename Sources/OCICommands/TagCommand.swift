import ArgumentParser
import OCIModel
import OCIImage
import OCIStore

struct TagCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tag",
        abstract: "Create a tag TARGET that refers to SOURCE (docker tag).",
        discussion: """
        SOURCE is a name, name@digest, image ID or an unambiguous ID prefix; TARGET a name[:tag] (not a digest \
        reference). A name that pointed at another image moves; that image stays as an untagged (dangling) entry \
        if nothing else names it, until `prune` removes it.

        Examples:
          ocitool tag localhost/ocitool-test/podman-docker:v1 myapp:1.0
          ocitool tag 0a71 registry.example.com/team/app:latest
        """)

    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "Source image reference or ID.", completion: .custom(CompletionSupport.imageNames)) var source: String
    @Argument(help: "New name[:tag].") var target: String

    func run() throws {
        try storeOptions.store.tag(source, as: target)
    }
}

struct RmiCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rmi",
        abstract: "Remove image names (untag) and images (docker rmi); blobs stay until prune.",
        discussion: """
        A name removes that name, and the image with its last name; an ID (or unambiguous prefix) removes the image \
        if it has at most one name, or with -f all its names. Prints Untagged: and Deleted: lines as docker does. \
        --platform checks that the image is for that platform (removing one platform of a multi-platform image is \
        refused: it would change the image's digest).

        Examples:
          ocitool rmi myapp:1.0
          ocitool rmi -f 0a71740239f9
          ocitool image rm $(ocitool images -q --filter dangling=true)
        """)

    @OptionGroup var storeOptions: StoreOptions
    @Flag(name: .shortAndLong, help: "Remove an image ID that has several names.") var force = false
    @Flag(name: .customLong("no-prune"), help: "Accepted for docker (there are no untagged parents to keep).") var noPrune = false
    @OptionGroup var platformOption: PlatformOption
    @Argument(help: "Image references or IDs.", completion: .custom(CompletionSupport.imageNames)) var refs: [String]

    func run() throws {
        let store = storeOptions.store
        let platform = try platformOption.parsed()
        var failed = false
        for ref in refs {
            do {
                if let platform { try Self.check(ref, platform: platform, in: store) }
                for r in try store.remove(ref, force: force) {
                    switch r {
                    case let .untagged(n): Console.out("Untagged: \(n)")
                    case let .deleted(id): Console.out("Deleted: \(id)")
                    }
                }
            } catch {
                Console.err("Error: \(OCIToolMain.oneLine(error))")
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }

    /// `--platform`: the image must be for that platform.
    static func check(_ ref: String, platform: Platform, in store: ImageStore) throws {
        switch try store.resolve(ref) {
        case let .image(i):
            if let p = i.platform, !p.matches(platform) {
                throw UsageError("\(ref) is for platform \(p), not \(platform)")
            }
        case let .index(x):
            let present = x.platformImages.compactMap { $0.platform?.description }.sorted()
            throw UsageError("\(ref) is a multi-platform image (\(present.joined(separator: ", "))); removing one platform is not supported: remove the whole image without --platform")
        }
    }
}
