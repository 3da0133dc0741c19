import OCICore
import OCIModel
import OCIStore

/// Chooses the images a `save` writes, and which of their names go with
/// them, the way `docker save` does:
///
/// - `name:tag` → that image, with that one name;
/// - `name` (no tag) → every image with a tag in that repository, each
///   with its tags in it;
/// - an image ID (`sha256:…`, or a hex prefix of at least 12 characters)
///   or `name@sha256:…` (manifest digest) → that image without names;
/// - an image named twice is written once, with the names joined.
public enum ImageSelector {
    /// Every image of the store as a record.
    public static func records(in store: ImageStore) throws -> [ImageRecord] {
        try store.images().map { ImageRecord(stored: $0, store: store) }
    }

    /// Selects `refs` from `records` (images of `source`, which names the
    /// store or an archive in errors).
    /// - Throws: `ArchiveWriteError.notFound` or `.ambiguous`.
    public static func select(_ refs: [String], from records: [ImageRecord], source: String) throws -> [ImageRecord] {
        var out: [ImageRecord] = []
        for ref in refs {
            for var r in try match(ref, in: records, source: source) {
                if let j = out.firstIndex(where: { $0.descriptor.digest == r.descriptor.digest }) {
                    for n in r.names where !out[j].names.contains(n) { out[j].names.append(n) }
                } else {
                    r.names = r.names.reduce(into: []) { acc, n in if !acc.contains(n) { acc.append(n) } }
                    out.append(r)
                }
            }
        }
        return out
    }

    /// Checks that every record is for `platform`.
    /// - Throws: `ArchiveWriteError.platformMismatch`.
    public static func check(_ records: [ImageRecord], platform: Platform) throws {
        for r in records {
            let has = r.descriptor.platform ?? r.config.platform
            guard has.matches(platform) else {
                throw ArchiveWriteError.platformMismatch(image: r.displayName, has: has.description, wanted: platform.description)
            }
        }
    }

    static func match(_ ref: String, in records: [ImageRecord], source: String) throws -> [ImageRecord] {
        let hex = ref.hasPrefix("sha256:") ? String(ref.dropFirst(7)) : ref
        let isHex = !hex.isEmpty && hex.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
        if isHex && (hex.count >= 12 || ref.hasPrefix("sha256:")) {
            let byManifest = records.filter { $0.descriptor.digest.encoded.hasPrefix(hex) }
            let byID = records.filter { $0.id.encoded.hasPrefix(hex) }
            let ids = Set((byManifest + byID).map(\.id))
            if ids.count > 1 { throw ArchiveWriteError.ambiguous(ref: ref, ids: ids.map(\.shortID).sorted()) }
            if let r = byManifest.first ?? byID.first { return [unnamed(r)] }
        }
        guard let parsed = try? ImageReference(parsing: ref, defaultTag: false) else {
            throw ArchiveWriteError.notFound(ref: ref, source: source)
        }
        if let digest = parsed.digest {
            guard let r = records.first(where: { $0.descriptor.digest == digest }) else {
                throw ArchiveWriteError.notFound(ref: ref, source: source)
            }
            return [unnamed(r)]
        }
        if parsed.tag == nil {
            let inRepo = records.compactMap { r -> ImageRecord? in
                let names = r.names.filter { $0.name == parsed.name && $0.tag != nil }
                guard !names.isEmpty else { return nil }
                var r = r
                r.names = names
                return r
            }
            guard !inRepo.isEmpty else { throw ArchiveWriteError.notFound(ref: ref, source: source) }
            return inRepo
        }
        guard var r = records.first(where: { $0.names.contains(parsed) }) else {
            throw ArchiveWriteError.notFound(ref: ref, source: source)
        }
        r.names = [parsed]
        return [r]
    }

    private static func unnamed(_ r: ImageRecord) -> ImageRecord {
        var r = r
        r.names = []
        return r
    }
}
