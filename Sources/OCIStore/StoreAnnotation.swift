import OCICore
import OCIModel

/// The annotations ocitool puts on `index.json` entries, beside
/// `io.containerd.image.name` and `org.opencontainers.image.ref.name`.
public enum StoreAnnotation {
    /// On an entry whose descriptor is an OCI-typed companion of a Docker
    /// v2 manifest or manifest list: the original's digest. The original
    /// blob is kept; ocitool reads and writes it, peers read the companion.
    public static let originalDigest = "io.ocitool.original.digest"
    /// The original's media type (with `originalDigest`).
    public static let originalMediaType = "io.ocitool.original.mediaType"
    /// On a per-platform entry of a multi-platform image (`NAME@linux-amd64`,
    /// for umoci): the full name of the image it belongs to. ocitool does not
    /// list these entries as images.
    public static let aliasOf = "io.ocitool.alias.name"

    /// The ref.name of the per-platform entry of `name` for `platform`:
    /// `docker.io/library/busybox:latest@linux-arm64-v8`.
    public static func alias(_ name: ImageReference, _ platform: Platform) -> String {
        let p = [platform.os, platform.architecture, platform.variant].compactMap { $0 }.joined(separator: "-")
        return "\(name.description)@\(p)"
    }

    /// Annotations that name an entry (removed when an entry is re-pointed).
    static let naming: Set<String> = [AnnotationKey.containerdName, AnnotationKey.refName, aliasOf]
}

extension Descriptor {
    /// The digest of what ocitool reads at this entry: the original of a
    /// companion, else the descriptor's own.
    var storedTarget: (digest: Digest, mediaType: String) {
        if let raw = annotations?[StoreAnnotation.originalDigest], let d = try? Digest(parsing: raw) {
            return (d, annotations?[StoreAnnotation.originalMediaType] ?? mediaType)
        }
        return (digest, mediaType)
    }

    /// The name this entry gives (containerd's annotation, else a ref.name
    /// that is a full reference); nil for untagged entries and aliases.
    var storedName: ImageReference? {
        guard annotations?[StoreAnnotation.aliasOf] == nil else { return nil }
        if let full = annotations?[AnnotationKey.containerdName] { return try? ImageReference(parsing: full, defaultTag: false) }
        if let ref = annotations?[AnnotationKey.refName], ref.contains("/") || ref.contains(":") {
            return try? ImageReference(parsing: ref, defaultTag: false)
        }
        return nil
    }

    var isAlias: Bool { annotations?[StoreAnnotation.aliasOf] != nil }

    /// The descriptor without naming annotations.
    var unnamed: Descriptor {
        var d = self
        let rest = (annotations ?? [:]).filter { !StoreAnnotation.naming.contains($0.key) }
        d.annotations = rest.isEmpty ? nil : rest
        return d
    }
}
