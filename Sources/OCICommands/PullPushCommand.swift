import ArgumentParser
import Foundation
import OCICore
import OCIModel
import OCIImage
import OCIStore
import OCITransport
import OCIRegistry

struct PullCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Pull an image from a registry into the store (docker pull; a copy from docker://REF to the store).",
        discussion: """
        REF is normalised like docker (busybox → docker.io/library/busybox:latest) and names the stored image. \
        Manifests and blobs are checked against their digests and sizes, layers against their diff_ids; blobs the \
        store has are not fetched; the store changes in one step at the end, so a failed pull leaves it as it was. \
        A multi-platform image is stored whole (every platform), unless --platform picks one.

        Examples:
          ocitool pull busybox
          ocitool pull --platform linux/arm64 registry.example.com/team/app:1
          ocitool pull --plain-http localhost:5000/app:1
        """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var registryFlags: RegistryFlags
    @OptionGroup var platformOption: KeepPlatformOption
    @Flag(help: "Keep only this machine's platform of a multi-platform image (default: every platform).") var hostPlatform = false
    @Option(help: "Blobs fetched at once.") var jobs: Int = 4
    @OptionGroup var progressOptions: ProgressOptions
    @Argument(help: "Image reference: [HOST[:PORT]/]REPO[:TAG|@DIGEST] (docker:// optional).") var reference: String

    func validate() throws {
        guard (1...64).contains(jobs) else { throw ValidationError("--jobs must be 1-64") }
        if platformOption.platform != nil && hostPlatform { throw ValidationError("give --platform or --host-platform, not both") }
    }

    func run() throws {
        let renderer = progressOptions.makeRenderer()
        defer { renderer.close() }
        let progress = renderer.scope(job: reference)
        let report = try progressOptions.run(progress) { () -> ImageCopy.Report in
            let ref = try Self.parse(reference)
            let context = try storeOptions.context(registry: registryFlags)
            var options = ImageCopy.Options()
            options.operation = "pull"
            options.jobs = jobs
            options.progress = progress
            let platform = try platformOption.parsed()
            options.platforms = platform.map { .one($0) } ?? (hostPlatform ? .one(nil) : .all)
            let names = ref.tag != nil ? [ref] : []
            let report = try ImageCopy.copy(from: try RegistrySource(ref, options: context.registry),
                                            to: try StoreDestination(store: context.store, names: names), options: options)
            progress.done(report.done(destination: context.store.root))
            return report
        }
        renderer.close()
        for entry in report.entries {
            Console.out(entry.names.first.map { "\($0.familiarString): pulled \(entry.digest)" } ?? "pulled \(entry.digest) (image ID \(entry.id))")
        }
    }

    static func parse(_ s: String) throws -> ImageReference {
        let bare = s.hasPrefix("docker://") ? String(s.dropFirst("docker://".count)) : s
        do { return try ImageReference(parsing: bare) } catch { throw UsageError("\(error)") }
    }
}

struct PushCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Push an image from the store to a registry (docker push; a copy from the store to docker://DEST).",
        discussion: """
        DEST defaults to IMAGE's own name. Blobs the registry has are skipped (HEAD), blobs another repository of \
        the same registry has are mounted, others uploaded (monolithic, or chunked above 64 MiB), several at once; \
        platform manifests go before the index and the tag goes last, so a failed push leaves no tag on a partial \
        image. A multi-platform image is pushed whole.

        Examples:
          ocitool push app:1 localhost:5000/app:1
          ocitool push --creds alice:secret app:1 registry.example.com/team/app:1
        """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var registryFlags: RegistryFlags
    @OptionGroup var platformOption: KeepPlatformOption
    @Option(help: "Blobs uploaded at once.") var jobs: Int = 4
    @OptionGroup var progressOptions: ProgressOptions
    @Argument(help: "Image in the store (name[:tag], ID).") var image: String
    @Argument(help: "Destination [HOST[:PORT]/]REPO[:TAG] (default: IMAGE's name).") var destination: String?

    func validate() throws {
        guard (1...64).contains(jobs) else { throw ValidationError("--jobs must be 1-64") }
    }

    func run() throws {
        let renderer = progressOptions.makeRenderer()
        defer { renderer.close() }
        let progress = renderer.scope(job: image)
        try progressOptions.run(progress) {
            let context = try storeOptions.context(registry: registryFlags)
            let target: ImageReference
            if let destination {
                target = try PullCommand.parse(destination)
            } else {
                guard let named = try? ImageReference(parsing: image), named.tag != nil || named.digest != nil,
                      !image.hasPrefix("sha256:") else {
                    throw UsageError("\(image) is not a name; give a destination (ocitool push IMAGE HOST/REPO:TAG)")
                }
                target = named
            }
            var options = ImageCopy.Options()
            options.operation = "push"
            options.jobs = jobs
            options.progress = progress
            options.platforms = try platformOption.parsed().map { .one($0) } ?? .all
            let to = try RegistryDestination(target, options: context.registry)
            to.jobs = jobs
            // Pulled from another repository of the same registry: mount from there (docker push does too).
            if let entry = try? context.store.resolve(image) { to.mountFrom = RegistryDestination.mountCandidates(entry.names, for: target) }
            let report = try ImageCopy.copy(from: StoreSource(store: context.store, selection: .resolve([image])), to: to, options: options)
            progress.done(report.done(destination: to.description))
            renderer.close()
            if let top = report.entries.first {
                Console.out("\(target.familiarString): digest: \(top.digest) size: \(top.descriptor.size)")
            }
        }
    }
}
