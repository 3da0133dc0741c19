import OCICore
import OCIModel

/// What a source holds and a destination takes: a single image, or a
/// multi-platform image (an index with its platform images).
public enum ImageEntry: Sendable {
    case image(Image)
    case index(ImageIndex)

    /// Names of the image or index.
    public var names: [ImageReference] {
        switch self {
        case let .image(i): return i.names
        case let .index(x): return x.names
        }
    }

    /// The top descriptor (manifest or index).
    public var descriptor: Descriptor {
        switch self {
        case let .image(i): return i.descriptor
        case let .index(x): return x.descriptor
        }
    }

    /// The manifest or index digest.
    public var digest: Digest { descriptor.digest }

    /// The ID docker shows: the config digest of an image, the digest of an index.
    public var id: Digest {
        switch self {
        case let .image(i): return i.id
        case let .index(x): return x.digest
        }
    }

    /// How messages name it.
    public var displayName: String {
        switch self {
        case let .image(i): return i.displayName
        case let .index(x): return x.displayName
        }
    }

    /// Every image: the image, or the index's children.
    public var images: [Image] {
        switch self {
        case let .image(i): return [i]
        case let .index(x): return x.children
        }
    }

    /// The same entry under other names.
    public func named(_ names: [ImageReference]) -> ImageEntry {
        switch self {
        case let .image(i): return .image(i.named(names))
        case let .index(x): return .index(x.named(names))
        }
    }

    /// Reports of every image (children of an index carry its names).
    public var reports: [ImageReport] {
        switch self {
        case let .image(i): return [i.report()]
        case let .index(x): return x.children.map { $0.report(names: x.names) }
        }
    }
}

extension Array where Element == ImageEntry {
    /// Joins entries with the same digest (their names merged, in order);
    /// a name given to two different entries stays with the first.
    public func merged() -> [ImageEntry] {
        var out: [ImageEntry] = []
        var claimed = Set<ImageReference>()
        for e in self {
            let names = e.names.filter { claimed.insert($0).inserted }
            if let j = out.firstIndex(where: { $0.digest == e.digest }) {
                out[j] = out[j].named(out[j].names + names)
            } else {
                out.append(e.named(names))
            }
        }
        return out
    }
}
