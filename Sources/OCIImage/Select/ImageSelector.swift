import OCICore
import OCIModel

/// Finds images by the references users type, the way the docker CLI does,
/// over any set of entries (the store's, an archive's):
///
/// - `name:tag` (`name` alone means `name:latest` for `resolve`) → that image;
/// - `name@sha256:…` → the entry with that manifest (or index) digest;
/// - an image ID or digest: `sha256:<hex>`, or a hex prefix of any length
///   that is not also a name → the one entry whose ID (config digest; index
///   digest) or manifest digest starts with it; several → "ambiguous".
///
/// `select` adds docker save's rules: a `name` without tag is every tagged
/// image of that repository, each with its tags there; an image named by
/// ID or digest is written without names; an image named twice is written
/// once with the names joined.
public enum ImageSelector {
    /// The one entry `ref` names.
    /// - Throws: `ImageError.notFound` or `.ambiguous`.
    public static func resolve(_ ref: String, in entries: [ImageEntry], source: String) throws -> ImageEntry {
        if let parsed = try? ImageReference(parsing: ref, defaultTag: true) {
            if let digest = parsed.digest {
                if let e = entries.first(where: { $0.digest == digest && $0.names.contains { $0.name == parsed.name } })
                    ?? entries.first(where: { $0.digest == digest }) {
                    return e
                }
            } else if let e = entries.first(where: { $0.names.contains(parsed) }) {
                return e
            }
        }
        if let e = try byID(ref, in: entries) { return e }
        throw ImageError.notFound(ref: ref, source: source)
    }

    /// Entries `refs` select, with the names docker save would give them.
    /// - Throws: `ImageError.notFound` or `.ambiguous`.
    public static func select(_ refs: [String], from entries: [ImageEntry], source: String) throws -> [ImageEntry] {
        var out: [ImageEntry] = []
        for ref in refs {
            for e in try match(ref, in: entries, source: source) {
                if let j = out.firstIndex(where: { $0.digest == e.digest }) {
                    out[j] = out[j].named(unique(out[j].names + e.names))
                } else {
                    out.append(e.named(unique(e.names)))
                }
            }
        }
        return out
    }

    static func match(_ ref: String, in entries: [ImageEntry], source: String) throws -> [ImageEntry] {
        if let parsed = try? ImageReference(parsing: ref, defaultTag: false) {
            if let digest = parsed.digest {
                if let e = entries.first(where: { $0.digest == digest }) { return [e.named([])] }
            } else if parsed.tag == nil {
                let inRepo = entries.compactMap { e -> ImageEntry? in
                    let names = e.names.filter { $0.name == parsed.name && $0.tag != nil }
                    return names.isEmpty ? nil : e.named(names)
                }
                if !inRepo.isEmpty { return inRepo }
            } else if let e = entries.first(where: { $0.names.contains(parsed) }) {
                return [e.named([parsed])]
            }
        }
        if let e = try byID(ref, in: entries) { return [e.named([])] }
        throw ImageError.notFound(ref: ref, source: source)
    }

    /// The entry whose ID or digest `ref` (`sha256:<hex…>` or a bare hex
    /// prefix) starts; nil when `ref` is not hex or nothing matches.
    static func byID(_ ref: String, in entries: [ImageEntry]) throws -> ImageEntry? {
        let hex = ref.hasPrefix("sha256:") ? String(ref.dropFirst(7)) : ref
        guard !hex.isEmpty, hex.utf8.count <= 64,
              hex.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else { return nil }
        let matches = entries.filter { $0.id.encoded.hasPrefix(hex) || $0.digest.encoded.hasPrefix(hex) }
        var ids: [Digest] = []
        for m in matches where !ids.contains(m.id) { ids.append(m.id) }
        if ids.count > 1 { throw ImageError.ambiguous(ref: ref, candidates: ids.map(\.shortID).sorted()) }
        if let m = matches.first { return m }
        // A platform image of a multi-platform image, by its own ID or manifest digest.
        let children = entries.flatMap { e -> [Image] in
            guard case let .index(x) = e else { return [] }
            return x.children.filter { $0.id.encoded.hasPrefix(hex) || $0.digest.encoded.hasPrefix(hex) }
        }
        var childIDs: [Digest] = []
        for c in children where !childIDs.contains(c.id) { childIDs.append(c.id) }
        if childIDs.count > 1 { throw ImageError.ambiguous(ref: ref, candidates: childIDs.map(\.shortID).sorted()) }
        return children.first.map { .image($0.named([])) }
    }

    private static func unique(_ names: [ImageReference]) -> [ImageReference] {
        names.reduce(into: []) { acc, n in if !acc.contains(n) { acc.append(n) } }
    }
}
