import OCICore
import OCIModel

/// Which platforms of multi-platform images to keep.
public enum PlatformChoice: Sendable, Equatable {
    /// Every platform present: an index stays an index.
    case all
    /// One platform: the given one, else (`nil`) this machine's, falling
    /// back to the only platform present in a sparse save.
    case one(Platform?)

    /// The platform `.one` asks for, resolved.
    public var wanted: Platform? {
        if case let .one(p) = self { return p ?? Platform.host }
        return nil
    }

    /// Was a platform asked for explicitly?
    public var isExplicit: Bool {
        if case .one(.some) = self { return true }
        return false
    }

    /// Applies the choice to `entries`: with `.all` they stay as they are;
    /// with `.one`, each index becomes its matching platform image (with the
    /// index's names), and with an explicit platform, plain images for
    /// another platform are left out (a warning each; an error if nothing is left).
    /// - Throws: `ImageError.platform` naming the platforms present.
    public func apply(to entries: [ImageEntry], source: String, warnings: inout [String]) throws -> [ImageEntry] {
        guard let wanted else { return entries }
        var out: [ImageEntry] = []
        var skipped: [String] = []
        for e in entries {
            switch e {
            case let .index(x):
                out.append(.image(try pick(from: x, wanted: wanted, source: source, warnings: &warnings)))
            case let .image(i):
                if isExplicit, let p = i.platform, !p.matches(wanted) {
                    skipped.append("\(i.displayName) is for platform \(p), not \(wanted)")
                    continue
                }
                out.append(e)
            }
        }
        if out.isEmpty && !skipped.isEmpty {
            throw ImageError.platform("\(source): \(skipped.joined(separator: "; "))")
        }
        warnings += skipped.map { "skipped \($0)" }
        return out
    }

    /// The child of `index` for `wanted`.
    public func pick(from index: ImageIndex, wanted: Platform, source: String, warnings: inout [String]) throws -> Image {
        let candidates = index.platformImages
        if let chosen = candidates.first(where: { ($0.platform ?? wanted).matches(wanted) }) {
            return chosen.named(index.names)
        }
        let absent = index.absent.filter { ($0.descriptor.platform.map { $0.matches(wanted) } ?? false) }
        if !isExplicit && candidates.count == 1, let only = candidates.first {
            warnings.append("\(index.displayName): platform \(wanted) is not in \(source) (a sparse save); using \(only.platform?.description ?? "the only image present"), the only platform present")
            return only.named(index.names)
        }
        let present = candidates.compactMap { $0.platform?.description }
        let listed = (present + index.absent.compactMap { $0.descriptor.platform?.description }).sorted()
        if let missing = absent.first {
            throw ImageError.platform("\(source): \(index.displayName): platform \(wanted): manifest \(missing.descriptor.digest) is not there (\(missing.reason)); platforms present: \(present.isEmpty ? "none" : present.joined(separator: ", "))")
        }
        throw ImageError.platform("\(source): \(index.displayName): no image for platform \(wanted) (available: \(listed.isEmpty ? "none" : listed.joined(separator: ", "))); choose one with --platform")
    }
}
