import Foundation
import OCICore
import OCIModel
import OCIImage
import OCIStore
import OCIArchive
import OCIRegistry

extension ImageSync {
    /// Reads one source and copies each of its images to its destinations.
    static func runUnit(_ unit: Unit, number: Int, target: Target?, source: TransportContext, destination: TransportContext,
                        options: Options, ledger: TransferLedger, spool: String) -> [Result] {
        let started = Date()
        let progress = options.progress?(unit.label)
        func failure(_ dest: String, _ error: Error, since: Date) -> Result {
            progress?.error(oneLine(error))
            return Result(source: unit.label, destination: dest, images: 0, blobs: 0, bytes: 0, fetched: 0,
                          seconds: Date().timeIntervalSince(since), error: oneLine(error))
        }
        var toStore = false
        if case .store? = unit.destination { toStore = true }
        if unit.destination == nil, case .store? = target { toStore = true }

        // 1. The source, read once (an archive is staged where its images go).
        var opened: ImageSource?
        var lease: StoreLease?
        defer {
            opened?.close()
            lease?.release()
            FS.removeTree(spool)
        }
        let entries: [ImageEntry]
        var names: [ImageReference]?
        do {
            switch unit.kind {
            case let .registry(ref):
                let s = try RegistrySource(ref, options: source.registry)
                opened = s
                entries = try s.read(ReadContext(staging: BlobStore(root: spool, durable: false, label: "the spool"), progress: progress)).entries
                names = [ref]
            case let .archive(ref):
                let s = try ref.openSource(source)
                opened = s
                let staging: BlobStore
                if toStore {
                    lease = try destination.store.lease()
                    staging = destination.store.blobs
                } else {
                    try FS.makeDirectories(spool, mode: 0o700)
                    staging = BlobStore(root: spool, durable: false, label: "the spool")
                }
                entries = try s.read(ReadContext(staging: staging, existing: toStore ? destination.store.blobs : nil, progress: progress)).entries
            case let .entries(e):
                entries = e
            }
        } catch {
            return [failure(unit.destination?.description ?? "-", error, since: started)]
        }

        // 2. Each image to each of its destinations.
        var out: [Result] = []
        for entry in entries {
            var dests: [TransportReference] = []
            if let d = unit.destination {
                guard entries.count == 1 else {
                    out.append(failure(d.description, ImageError.invalid(unit.label, "\(entries.count) images cannot all go to \(d.description); name one per line"), since: started))
                    break
                }
                dests = [d]
            } else if let target {
                let ns = names ?? entry.names
                guard !ns.isEmpty else {
                    out.append(failure("-", ImageError.invalid(unit.label, "image \(entry.displayName) has no name; give its destination on a --list line"), since: started))
                    continue
                }
                var seen = Set<String>()
                dests = ns.map { target.destination(for: $0) }.filter { seen.insert($0.description).inserted }
            }
            for d in dests {
                let began = Date()
                do {
                    out.append(try copy(entry, unit: unit, registrySource: opened as? RegistrySource, to: d, context: destination,
                                        options: options, ledger: ledger, progress: progress, started: began))
                } catch {
                    out.append(failure(d.description, error, since: began))
                }
            }
        }
        return out
    }

    /// One image to one destination.
    private static func copy(_ entry: ImageEntry, unit: Unit, registrySource: RegistrySource?, to d: TransportReference,
                             context: TransportContext, options: Options, ledger: TransferLedger, progress: ProgressScope?,
                             started: Date) throws -> Result {
        let dst = try d.openDestination(context)
        if let r = dst as? RegistryDestination {
            r.jobs = options.copy.jobs
            r.ledger = ledger
            if case let .registry(from) = unit.kind, from.domain == r.reference.domain, from.path != r.reference.path { r.mountFrom = [from.path] }
            // An image named after a repository of the same registry (pulled from it) can mount from there.
            r.mountFrom += RegistryDestination.mountCandidates(entry.names, for: r.reference).filter { !r.mountFrom.contains($0) }
            if options.referrers, let registrySource { r.referrers = registrySource }
        }
        var o = options.copy
        o.ledger = ledger
        o.progress = progress
        o.operation = "sync"
        let report = try ImageCopy.copy(from: EntriesSource([entry], description: unit.label), to: dst, options: o)
        progress?.done(DoneReport(images: report.images, bytesIn: report.bytesIn, bytesOut: report.bytesOut, seconds: report.seconds,
                                  destination: d.description))
        return Result(source: unit.label, destination: d.description, images: report.images.count, blobs: report.blobsOut,
                      bytes: report.bytesOut, fetched: report.fetchedBlobs, seconds: Date().timeIntervalSince(started), error: nil)
    }
}
