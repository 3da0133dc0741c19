import Foundation
import OCICore
import OCIModel
import OCIImage
import OCIStore
import OCIArchive
import OCIRegistry

/// Many images in one run (`sync`): archives, the store or registry
/// repositories (every tag) to a registry or the store, `images` at a time.
///
/// Each source is read once; each image is then one `ImageCopy.copy` to its
/// destination, sharing a `TransferLedger`, so a blob common to several
/// images is fetched once and pushed once per registry (mounted into the
/// other repositories). A failed image is reported and the others go on.
public enum ImageSync {
    /// Where images go when an item does not say (`--to`).
    public enum Target: Sendable, Equatable {
        /// `docker://HOST[/PREFIX]`: an image `H/P:T` goes to `HOST/PREFIX/P:T`.
        case registry(domain: String, prefix: String)
        /// `store:[PREFIX]`: the image keeps its name, or goes to `PREFIX/P:T`.
        case store(prefix: ImageReference?)

        /// Parses `docker://HOST[/PREFIX]` or `store:[HOST/PREFIX]`.
        /// - Throws: `TransportError.invalid` for anything else.
        public static func parse(_ s: String) throws -> Target {
            if s.hasPrefix("docker://") {
                let rest = String(s.dropFirst("docker://".count)).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
                guard !rest.isEmpty, !rest.contains("@") else { throw TransportError.invalid(s, "name a registry: docker://HOST[/PREFIX]") }
                guard let slash = rest.firstIndex(of: "/") else {
                    _ = try prefixReference(rest + "/x", s)
                    return .registry(domain: rest, prefix: "")
                }
                let r = try prefixReference(rest, s)
                guard r.domain == String(rest[..<slash]) else { throw TransportError.invalid(s, "name a registry: docker://HOST[/PREFIX]") }
                return .registry(domain: r.domain, prefix: r.path)
            }
            if s == "store:" { return .store(prefix: nil) }
            if s.hasPrefix("store:") {
                return .store(prefix: try prefixReference(String(s.dropFirst("store:".count)), s))
            }
            throw TransportError.invalid(s, "sync writes to docker://HOST[/PREFIX] or store:[PREFIX]")
        }

        private static func prefixReference(_ s: String, _ whole: String) throws -> ImageReference {
            do {
                let r = try ImageReference(parsing: s, defaultTag: false)
                guard r.tag == nil, r.digest == nil else { throw TransportError.invalid(whole, "a prefix has no tag or digest") }
                return r
            } catch let e as TransportError { throw e } catch {
                throw TransportError.invalid(whole, "\(error)")
            }
        }

        /// Where the image named `name` goes: the repository path (without
        /// the registry host) under the prefix, with the same tag or digest.
        public func destination(for name: ImageReference) -> TransportReference {
            func under(_ domain: String, _ prefix: String) -> ImageReference {
                ImageReference(domain: domain, path: prefix.isEmpty ? name.path : prefix + "/" + name.path, tag: name.tag, digest: name.tag == nil ? name.digest : nil)
            }
            switch self {
            case let .registry(domain, prefix): return .registry(under(domain, prefix))
            case let .store(prefix):
                let n = prefix.map { under($0.domain, $0.path) } ?? name
                return .store(reference: n.description)
            }
        }
    }

    /// One source and, optionally, its destination (a `--list` line).
    public struct Item: Sendable, Equatable {
        /// `docker://HOST/REPO[:TAG|@DIGEST]` (no tag: every tag), an archive
        /// or layout (every image), `store:NAME`.
        public var source: String
        /// A full destination reference; nil: the target's mapping.
        public var destination: String?

        public init(source: String, destination: String? = nil) {
            self.source = source
            self.destination = destination
        }

        /// Parses a list file: one `SOURCE [DESTINATION]` per line; blank
        /// lines and lines starting with `#` are skipped.
        /// - Throws: `TransportError.invalid` naming the line.
        public static func parseList(_ text: String, name: String) throws -> [Item] {
            var items: [Item] = []
            for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = raw.trimmingCharacters(in: .whitespaces)
                if line.isEmpty || line.hasPrefix("#") { continue }
                let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                guard fields.count <= 2 else { throw TransportError.invalid("\(name):\(n + 1)", "expected SOURCE [DESTINATION], got \(fields.count) fields") }
                items.append(Item(source: fields[0], destination: fields.count == 2 ? fields[1] : nil))
            }
            return items
        }
    }

    /// How to sync.
    public struct Options: @unchecked Sendable {
        /// Per-image copy options (platforms, blob jobs, tmpdir); progress and ledger are set per image.
        public var copy = ImageCopy.Options()
        /// Images copied at once.
        public var images = 2
        /// Copy referrers between registries.
        public var referrers = true
        /// Every named image of the store is a source too (`--from-store`).
        public var fromStore = false
        /// The progress scope of one job (a source).
        public var progress: (@Sendable (String) -> ProgressScope)?

        public init() {}
    }

    /// One image synced (or one source that failed before its images were known).
    public struct Result: Sendable {
        public var source: String
        public var destination: String
        /// Images written (platform images of an index counted).
        public var images: Int
        /// New blobs at the destination (uploads, blobs added to the store) and their bytes.
        public var blobs: Int
        public var bytes: Int64
        /// Blobs fetched from a registry source.
        public var fetched: Int
        public var seconds: Double
        /// nil: done.
        public var error: String?
    }
}
