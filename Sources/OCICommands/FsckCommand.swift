import ArgumentParser
import OCICore
import OCIStore

struct FsckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fsck",
        abstract: "Check the store: every blob's digest, every entry's manifests, configs and layers; --repair drops what is broken.",
        discussion: """
        Prints each problem (a corrupt blob, an entry naming a missing or corrupt blob) and exits 1 if there is any. \
        With --repair (it waits for running operations), removes corrupt blobs, drops the entries that can no longer \
        be read, and removes stale staging files, in one transaction.

        Examples:
          ocitool fsck
          ocitool --root /srv/images fsck --repair
        """)

    @OptionGroup var storeOptions: StoreOptions
    @Flag(help: "Remove corrupt blobs, dangling entries and stale staging files.") var repair = false

    func run() throws {
        let report = try storeOptions.store.check(repair: repair)
        for d in report.corruptBlobs { Console.out("corrupt blob: \(d)") }
        for (entry, problem) in report.danglingEntries { Console.out("dangling entry: \(entry): \(problem)") }
        if report.staleStagingFiles > 0 { Console.out("stale staging files: \(report.staleStagingFiles)") }
        if report.repaired { Console.out("repaired: removed \(report.corruptBlobs.count) blob(s), \(report.danglingEntries.count) entr\(report.danglingEntries.count == 1 ? "y" : "ies")") }
        Console.out("checked \(report.blobsChecked) blob(s): \(report.isClean ? "clean" : "problems found")")
        if !report.isClean && !report.repaired { throw ExitCode.failure }
    }
}
