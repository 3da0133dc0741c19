import Foundation
import OCICore
import OCIModel
import OCIImage
import OCIStore
import OCIArchive
import OCIRegistry

extension ImageSync {
    /// A source read once, and where each of its images goes.
    struct Unit: @unchecked Sendable {
        enum Kind {
            /// One tag or digest of a registry repository.
            case registry(ImageReference)
            /// An archive or layout: every image in it.
            case archive(TransportReference)
            /// Images of the store, already read.
            case entries([ImageEntry])
        }
        var label: String
        var kind: Kind
        /// Explicit destination (a list line's), else the target's mapping of each image's names.
        var destination: TransportReference?
    }

    /// Syncs `items` (and the store's named images with `options.fromStore`)
    /// to their destinations or `target`. Never throws for one image: each
    /// failure is a result with `error`.
    /// - Throws: only for a bad item (unparsable reference) or an unreadable store, before anything is copied.
    public static func run(_ items: [Item], to target: Target?, source: TransportContext, destination: TransportContext,
                           options: Options) throws -> [Result] {
        var storeSource: StoreSource?
        defer { storeSource?.close() }
        var units: [Unit] = []
        var results: [Int: [Result]] = [:]
        func fail(_ label: String, _ dest: String, _ error: Error, at i: Int) {
            options.progress?(label).error(oneLine(error))
            results[i, default: []].append(Result(source: label, destination: dest, images: 0, blobs: 0, bytes: 0, fetched: 0, seconds: 0,
                                                  error: oneLine(error)))
            units.append(Unit(label: label, kind: .entries([]), destination: nil))
        }
        func storeEntries() throws -> [ImageEntry] {
            if storeSource == nil { storeSource = StoreSource(store: source.store, selection: .all) }
            return try storeSource?.read(ReadContext(staging: source.store.blobs)).entries ?? []
        }
        func plan(_ item: Item) throws {
            let dest = try item.destination.map { try TransportReference.destination($0) }
            let tagless = item.destination.map(isTagless) ?? false
            if dest == nil && target == nil { throw TransportError.invalid(item.source, "no destination: give --to or a DESTINATION on its line") }
            if item.source.hasPrefix("docker://") {
                let bare = String(item.source.dropFirst("docker://".count))
                let ref: ImageReference
                do { ref = try ImageReference(parsing: bare, defaultTag: false) } catch { throw TransportError.invalid(item.source, "\(error)") }
                if ref.tag != nil || ref.digest != nil {
                    units.append(Unit(label: item.source, kind: .registry(ref), destination: dest.map { tagless ? tagged($0, like: ref) : $0 }))
                    return
                }
                do {
                    let client = try RegistryClient(registry: ref.domain, options: source.registry)
                    defer { client.shutdown() }
                    // Referrers tag-schema indexes (`sha256-<hex>`) are not images: referrers follow their subjects.
                    for tag in try client.tags(repository: ref.path).sorted() where !isReferrersTag(tag) {
                        let r = ref.withTag(tag)
                        units.append(Unit(label: "docker://\(r)", kind: .registry(r), destination: dest.map { tagless ? tagged($0, like: r) : $0 }))
                    }
                } catch {
                    fail(item.source, dest?.description ?? "-", error, at: units.count)
                }
                return
            }
            let ref = try TransportReference.source(item.source)
            switch ref {
            case let .store(name?):
                do {
                    let entry = try ImageSelector.resolve(name, in: try storeEntries(), source: "the store")
                    let named = (try? ImageReference(parsing: name)).map { entry.named([$0]) } ?? entry
                    units.append(Unit(label: item.source, kind: .entries([named]), destination: dest))
                } catch {
                    fail(item.source, dest?.description ?? "-", error, at: units.count)
                }
            case .registry, .store(nil):
                throw TransportError.invalid(item.source, "name an image (store:NAME) or use --from-store")
            default:
                units.append(Unit(label: item.source, kind: .archive(ref), destination: dest))
            }
        }
        for item in items {
            do {
                try plan(item)
            } catch {
                fail(item.source, item.destination ?? "-", error, at: units.count)
            }
        }
        if options.fromStore {
            for entry in try storeEntries() {
                for name in entry.names {
                    units.append(Unit(label: "store:\(name.familiarString)", kind: .entries([entry.named([name])]), destination: nil))
                }
            }
        }

        // Every unit on the pool, sharing one ledger.
        let workDir = "\(options.copy.tmpdir ?? ImageCopy.defaultTmpdir)/ocitool-sync-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        try FS.makeDirectories(workDir + "/kept", mode: 0o700)
        let token = Cleanup.register(workDir)
        defer {
            FS.removeTree(workDir)
            Cleanup.unregister(token)
        }
        let ledger = TransferLedger(directory: workDir + "/kept")
        // Store images named after a registry repository (pulled from it): their
        // layers can be mounted from there, whichever of their names is pushed first.
        for unit in units {
            guard case let .entries(entries) = unit.kind else { continue }
            for entry in entries {
                let layers = entry.images.flatMap { $0.layers.map(\.digest) + [$0.config.digest] }
                for name in entry.names { ledger.hint(layers, registry: name.domain, repository: name.path) }
            }
        }
        let pool = WorkerPool(threads: max(1, min(options.images, units.count)), name: "sync", stackSize: 4 << 20)
        defer { pool.close(cancelQueued: true) }
        let shared = UncheckedBox((target, source, destination, options, ledger, workDir))
        let pending = units.enumerated().map { i, unit in
            results[i] == nil ? pool.submit { () -> [Result] in
                let (target, source, destination, options, ledger, workDir) = shared.value
                return runUnit(unit, number: i, target: target, source: source, destination: destination, options: options,
                               ledger: ledger, spool: "\(workDir)/unit-\(i)")
            } : nil
        }
        var out: [Result] = []
        for (i, p) in pending.enumerated() {
            if let done = results[i] { out += done; continue }
            do { out += try p?.wait() ?? [] } catch {
                out.append(Result(source: units[i].label, destination: "-", images: 0, blobs: 0, bytes: 0, fetched: 0, seconds: 0, error: oneLine(error)))
            }
        }
        return out
    }

    /// `sha256-<64 hex>`: a tag of the referrers tag schema.
    static func isReferrersTag(_ tag: String) -> Bool {
        guard tag.hasPrefix("sha256-"), tag.count == 71 else { return false }
        return tag.dropFirst(7).allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }

    /// Is `s` a `docker://` repository without a tag or digest?
    static func isTagless(_ s: String) -> Bool {
        guard s.hasPrefix("docker://"), let r = try? ImageReference(parsing: String(s.dropFirst("docker://".count)), defaultTag: false) else { return false }
        return r.tag == nil && r.digest == nil
    }

    /// A tagless destination repository takes the source's tag (or digest).
    static func tagged(_ destination: TransportReference, like source: ImageReference) -> TransportReference {
        guard case let .registry(d) = destination else { return destination }
        return .registry(ImageReference(domain: d.domain, path: d.path, tag: source.tag ?? (source.digest == nil ? ImageReference.defaultTag : nil),
                                        digest: source.tag == nil ? source.digest : nil))
    }

    static func oneLine(_ error: Error) -> String {
        "\(error)".split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
