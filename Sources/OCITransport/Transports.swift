import OCICore
import OCIModel
import OCIImage
import OCIStore
import OCIArchive
import OCIRegistry

/// What opening a transport needs besides its reference.
public struct TransportContext: Sendable {
    /// The local store (`store:` and bare references).
    public var store: ImageStore
    /// The archive flavour for destinations that do not name one (a bare
    /// path or `-`); `docker-archive:` and `oci-archive:` name their own.
    public var archiveFormat: ArchiveWriter.Flavour
    /// Compression of a whole archive written (`convert --output-compression`).
    public var outerCompression: Compression
    /// Member mtime of archives written (`SOURCE_DATE_EPOCH`).
    public var mtime: Int64
    /// Encoder threads (0: one per core).
    public var threads: Int
    /// How to reach registries (`docker://`): credentials, TLS.
    public var registry: RegistryOptions

    public init(store: ImageStore, archiveFormat: ArchiveWriter.Flavour = .docker, outerCompression: Compression = .none,
                mtime: Int64 = 0, threads: Int = 0, registry: RegistryOptions = RegistryOptions()) {
        self.store = store
        self.registry = registry
        self.archiveFormat = archiveFormat
        self.outerCompression = outerCompression
        self.mtime = mtime
        self.threads = threads
    }
}

extension TransportReference {
    /// Opens the reference as a source.
    public func openSource(_ context: TransportContext) throws -> ImageSource {
        switch self {
        case let .store(reference):
            guard let reference else { throw TransportError.invalid("store:", "name an image (store:NAME)") }
            return StoreSource(store: context.store, selection: .resolve([reference]))
        case let .archive(path, _, detail):
            if let path, !FS.exists(path) { throw TransportError.invalid(path, "no such file or directory") }
            return ArchiveSource(path.map { .path($0) } ?? .stdin, pick: Self.pick(detail))
        case let .layout(directory, reference):
            guard FS.isDirectory(directory) else { throw TransportError.invalid(directory, "no such directory") }
            return ArchiveSource(.path(directory), pick: Self.pick(reference))
        case let .registry(reference):
            return try RegistrySource(reference, options: context.registry)
        }
    }

    /// Opens the reference as a destination.
    public func openDestination(_ context: TransportContext) throws -> ImageDestination {
        switch self {
        case let .store(reference):
            let names = try reference.map { [try ImageReference(parsing: $0)] }
            if let n = names?.first, n.digest != nil {
                throw TransportError.invalid(reference ?? "", "a destination name cannot be a digest reference")
            }
            return try StoreDestination(store: context.store, names: names)
        case let .archive(path, format, detail):
            let flavour: ArchiveWriter.Flavour = format == .docker ? .docker : format == .oci ? .oci : context.archiveFormat
            var names: [ImageReference]?
            var refName: String?
            if let detail {
                if detail.hasPrefix("@") { throw TransportError.invalid(description, "@N selects a source image; a destination takes NAME:TAG") }
                if flavour == .oci && !detail.contains("/") && !detail.contains(":") {
                    refName = detail
                } else {
                    let n = try ImageReference(parsing: detail)
                    guard n.digest == nil else { throw TransportError.invalid(detail, "a destination name cannot be a digest reference") }
                    names = [n]
                }
            }
            let d = ArchiveDestination(path.map { .path($0) } ?? .stdout, flavour: flavour, names: names,
                                       outerCompression: context.outerCompression, mtime: context.mtime, threads: context.threads)
            d.refName = refName
            return d
        case let .layout(directory, reference):
            return LayoutDestination(directory: directory, reference: reference)
        case let .registry(reference):
            return try RegistryDestination(reference, options: context.registry)
        }
    }

    static func pick(_ detail: String?) -> ArchiveSource.Pick {
        guard let detail else { return .all }
        if detail.hasPrefix("@"), let n = Int(detail.dropFirst()), n >= 0 { return .position(n) }
        return .reference(detail)
    }

    /// Is this the standard input or output?
    public var isStandardStream: Bool {
        if case .archive(nil, _, _) = self { return true }
        return false
    }
}
