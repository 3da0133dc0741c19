import OCICore
import OCIModel
import OCIImage
import OCIArchive

/// Where images are read from or written to, addressed like skopeo's
/// transports (and documented in README):
///
/// | form | as a source | as a destination |
/// |---|---|---|
/// | `docker-archive:PATH[:NAME:TAG\|:@N]` | a docker save archive (any kind ocitool reads); one image by RepoTag or position | a Docker 25+ hybrid archive, the image named NAME:TAG |
/// | `oci-archive:PATH[:REF]` | an OCI layout archive; the image whose `ref.name` is REF | an OCI layout archive |
/// | `oci:DIR[:REF]` | an OCI layout directory | an OCI layout directory (entry REF added or replaced) |
/// | `store:REF` or a bare reference | the local store | the local store, named REF |
/// | `-` | standard input | standard output |
/// | a bare path | a file or directory that exists: read as an archive or layout | a file (`.tar`, `.tar.gz`, …, or a path with `/`): an archive in `--format` |
/// | `docker://HOST/REPO[:TAG\|@DIGEST]` | a registry (the registry transport) | a registry |
public enum TransportReference: Sendable, Equatable {
    /// The local store. As a source: the image a reference names. As a
    /// destination: images named `reference` (nil: keep their names).
    case store(reference: String?)
    /// An archive file (or stdin / stdout when `path` is nil).
    case archive(path: String?, format: ArchiveFormat, detail: String?)
    /// An OCI image-layout directory.
    case layout(directory: String, reference: String?)
    /// A registry repository (`docker://HOST/REPO[:TAG|@DIGEST]`), normalised like docker.
    case registry(ImageReference)

    /// Which kind of archive a reference names.
    public enum ArchiveFormat: String, Sendable, Equatable {
        /// `docker-archive:` — a docker save archive (written as the Docker 25+ hybrid).
        case docker
        /// `oci-archive:` — an OCI image-layout archive.
        case oci
        /// A bare path: whatever the input is; written in the verb's `--format`.
        case auto
    }

    static let prefixes = ["docker-archive:", "oci-archive:", "oci:", "store:", "docker://"]

    /// Parses `s` as a source.
    /// - Throws: `TransportError.invalid` with the accepted forms.
    public static func source(_ s: String) throws -> TransportReference {
        if let t = try prefixed(s) { return t }
        if s == "-" { return .archive(path: nil, format: .auto, detail: nil) }
        if FS.exists(s) {
            return FS.isDirectory(s) ? .layout(directory: s, reference: nil) : .archive(path: s, format: .auto, detail: nil)
        }
        if let at = s.lastIndex(of: "@"), let n = Int(s[s.index(after: at)...]), n >= 0, FS.exists(String(s[..<at])) {
            let path = String(s[..<at])
            return FS.isDirectory(path) ? .layout(directory: path, reference: "@\(n)") : .archive(path: path, format: .auto, detail: "@\(n)")
        }
        if looksLikePath(s) {
            throw TransportError.invalid(s, "no such file or directory")
        }
        return .store(reference: s)
    }

    /// Parses `s` as a destination.
    public static func destination(_ s: String) throws -> TransportReference {
        if let t = try prefixed(s) { return t }
        if s == "-" { return .archive(path: nil, format: .auto, detail: nil) }
        if FS.isDirectory(s) {
            throw TransportError.invalid(s, "is a directory; write an OCI layout into it with oci:\(s), or name an archive file")
        }
        if looksLikePath(s) || FS.exists(s) { return .archive(path: s, format: .auto, detail: nil) }
        return .store(reference: s)
    }

    /// Paths users type for archives: with a `/`, starting with `.`, or with an archive suffix.
    static func looksLikePath(_ s: String) -> Bool {
        let lower = s.lowercased()
        return s.hasPrefix("/") || s.hasPrefix("./") || s.hasPrefix("../")
            || [".tar", ".tar.gz", ".tgz", ".tar.zst", ".tar.zstd", ".tar.xz", ".txz", ".tar.bz2"].contains { lower.hasSuffix($0) }
    }

    private static func prefixed(_ s: String) throws -> TransportReference? {
        func split(_ rest: Substring) -> (String, String?) {
            guard let colon = rest.firstIndex(of: ":") else { return (String(rest), nil) }
            let detail = String(rest[rest.index(after: colon)...])
            return (String(rest[..<colon]), detail.isEmpty ? nil : detail)
        }
        if s.hasPrefix("docker-archive:") {
            let (path, detail) = split(s.dropFirst("docker-archive:".count))
            guard !path.isEmpty else { throw TransportError.invalid(s, "docker-archive: needs a path (docker-archive:PATH[:NAME:TAG|:@N])") }
            return .archive(path: path == "-" ? nil : path, format: .docker, detail: detail)
        }
        if s.hasPrefix("oci-archive:") {
            let (path, detail) = split(s.dropFirst("oci-archive:".count))
            guard !path.isEmpty else { throw TransportError.invalid(s, "oci-archive: needs a path (oci-archive:PATH[:REF])") }
            return .archive(path: path == "-" ? nil : path, format: .oci, detail: detail)
        }
        if s.hasPrefix("oci:") {
            let (dir, ref) = split(s.dropFirst("oci:".count))
            guard !dir.isEmpty else { throw TransportError.invalid(s, "oci: needs a directory (oci:DIR[:REF])") }
            return .layout(directory: dir, reference: ref)
        }
        if s.hasPrefix("store:") {
            let ref = String(s.dropFirst("store:".count))
            return .store(reference: ref.isEmpty ? nil : ref)
        }
        if s.hasPrefix("docker://") {
            let rest = String(s.dropFirst("docker://".count))
            do {
                return .registry(try ImageReference(parsing: rest))
            } catch {
                throw TransportError.invalid(s, "\(error)")
            }
        }
        return nil
    }

    /// How messages name it.
    public var description: String {
        switch self {
        case let .store(ref): return ref.map { "store:\($0)" } ?? "the store"
        case let .archive(path, format, detail):
            let p = path ?? "-"
            let base = format == .auto ? p : "\(format == .docker ? "docker-archive" : "oci-archive"):\(p)"
            return base + (detail.map { ":\($0)" } ?? "")
        case let .layout(dir, ref): return "oci:\(dir)" + (ref.map { ":\($0)" } ?? "")
        case let .registry(ref): return "docker://\(ref.description)"
        }
    }
}

/// Errors in addressing images.
public enum TransportError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `reference` cannot be used: `reason`.
    case invalid(String, String)

    public var description: String {
        switch self {
        case let .invalid(ref, reason): return "\(ref): \(reason)"
        }
    }
}
