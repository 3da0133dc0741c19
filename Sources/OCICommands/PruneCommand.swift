import ArgumentParser
import Foundation
import OCICore
import OCIImage
import OCIStore
import OCIFormat

struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Remove dangling images, then blobs no image references and stale staging files (docker image prune).",
        discussion: """
        Without -a, removes the untagged (dangling) entries; with -a every image (there are no containers to keep \
        any in use), after asking "Are you sure you want to continue? [y/N]" on a terminal unless -f; without a \
        terminal -a needs -f. --filter until=TIMESTAMP (or a duration: 24h) keeps images created at or after it; \
        label=KEY[=VALUE] and label!=KEY[=VALUE] choose by config label. Then blobs no entry references and staging \
        files of operations no longer running are removed (prune waits for running loads). Lists what it removed, \
        as docker does, and the space reclaimed.

        Examples:
          ocitool prune
          ocitool image prune -a -f --filter until=720h
          ocitool image prune -f --filter label=stage=build
        """)

    @OptionGroup var storeOptions: StoreOptions
    @Flag(name: .shortAndLong, help: "Remove all images, not just dangling ones.") var all = false
    @Flag(name: .shortAndLong, help: "Do not prompt for confirmation.") var force = false
    @Option(name: .customLong("filter"), help: ArgumentHelp("Filter values (until=TIMESTAMP, label=KEY[=VALUE], label!=KEY[=VALUE]).", valueName: "filter"))
    var filters: [String] = []

    func run() throws {
        let filter = try ImageFilters(filters, accepted: ["until", "label", "label!"])
        let until = try filter.until()
        if all && !force {
            guard Console.stdinIsTerminal else {
                throw UsageError("prune -a removes every image; stdin is not a terminal to confirm it: add -f")
            }
            Console.errNoNewline("WARNING! This will remove all images.\nAre you sure you want to continue? [y/N] ")
            let answer = readLine()?.trimmingCharacters(in: .whitespaces) ?? ""
            guard answer.lowercased() == "y" else { throw PruneCancelled() }
        }
        let report = try storeOptions.store.pruneImages { entry in
            if !all && !entry.names.isEmpty { return false }
            let image = ImageListing.representative(entry)
            if let until, !(HumanUnits.createdDate(image?.config.view.created) < until) { return false }
            return filter.matchesLabels(ImageListing.labels(image))
        }
        Console.outRaw(Array(Self.text(report).utf8))
    }

    /// docker's output: `Deleted Images:` with one line per removal and a
    /// blank line, then the total (go-units `HumanSize`).
    static func text(_ report: ImageStore.ImagePruneReport) -> String {
        var lines: [String] = report.items.map { item in
            switch item {
            case let .untagged(name): return "untagged: \(name)"
            case let .deleted(id): return "deleted: \(id)"
            }
        }
        lines += report.blobs.removedBlobs.map { "deleted: \($0)" }
        lines += (report.leftovers + report.blobs.removedLeftovers).map { "deleted leftover: \($0)" }
        var out = lines.isEmpty ? "" : "Deleted Images:\n" + lines.joined(separator: "\n") + "\n\n"
        out += "Total reclaimed space: \(DockerUnits.humanSize(Double(report.blobs.reclaimedBytes), precision: 4))\n"
        return out
    }
}

/// The answer to the confirmation was not yes.
struct PruneCancelled: Error, CustomStringConvertible {
    var description: String { "image prune has been cancelled" }
}
