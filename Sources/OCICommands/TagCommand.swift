import ArgumentParser
import OCIStore

struct TagCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tag", abstract: "Create a tag TARGET that refers to SOURCE.")

    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "Source image reference or ID.") var source: String
    @Argument(help: "New name[:tag].") var target: String

    func run() throws {
        try storeOptions.store.tag(source, as: target)
    }
}

struct RmiCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rmi", abstract: "Remove image names (untag); blobs stay until prune.")

    @OptionGroup var storeOptions: StoreOptions
    @Flag(name: .shortAndLong, help: "Remove an image ID that has several names.") var force = false
    @Argument(help: "Image references or IDs.") var refs: [String]

    func run() throws {
        let store = storeOptions.store
        var failed = false
        for ref in refs {
            do {
                for r in try store.remove(ref, force: force) {
                    switch r {
                    case let .untagged(n): Console.out("Untagged: \(n)")
                    case let .deleted(id): Console.out("Deleted: \(id)")
                    }
                }
            } catch {
                Console.err("Error: \(error)")
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}

struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove blobs no image references, and stale staging files.")

    @OptionGroup var storeOptions: StoreOptions

    func run() throws {
        let report = try storeOptions.store.prune()
        for d in report.removedBlobs { Console.out("deleted: \(d)") }
        for p in report.removedLeftovers { Console.out("deleted leftover: \(p)") }
        Console.out("Total reclaimed space: \(HumanUnits.size(report.reclaimedBytes))")
    }
}
