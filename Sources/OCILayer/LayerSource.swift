import OCICore
import OCIModel
import OCIImage
#if canImport(Glibc)
import Glibc
#endif

/// One layer blob to read: a tar file, plain or compressed (gzip, zstd,
/// xz, bzip2: detected from the bytes), and the name errors give it.
public struct LayerSource: Sendable, Equatable {
    /// Path of the blob on disk.
    public var path: String
    /// Names the layer in errors, e.g. `layer 2/3 sha256:…`.
    public var name: String

    public init(path: String, name: String) {
        self.path = path
        self.name = name
    }

    /// The layers of `image`, bottom first (its blobs must be on this machine).
    /// - Throws: `LayerError.unsupportedLayer` when a layer's media type is
    ///   not a (possibly compressed) tar; `ImageError.blobMissing`.
    public static func layers(of image: Image) throws -> [LayerSource] {
        let descriptors = image.layers
        for (i, d) in descriptors.enumerated() where !d.mediaType.isEmpty && !MediaType.isTarLayer(d.mediaType) {
            throw LayerError.unsupportedLayer(layer: "layer \(i + 1)/\(descriptors.count) \(d.digest)", mediaType: d.mediaType)
        }
        return try descriptors.enumerated().map { i, d in
            guard let p = image.blobs.path(of: d.digest) else { throw ImageError.blobMissing(d.digest, source: image.blobs.sourceName) }
            return LayerSource(path: p, name: "layer \(i + 1)/\(descriptors.count) \(d.digest)")
        }
    }

    /// Opens the blob as a tar stream (an empty blob is an empty layer).
    /// Sparse members are returned whatever their logical size: every verb
    /// of the union view checks a member's announced size against the
    /// budget (`UnionLimits.maxBytes`, `--max-bytes`) before reading it, and
    /// counts holes as they are expanded.
    /// - Parameter inflateAhead: inflate gzip on another thread (for the
    ///   passes that write: unpack, export's data pass).
    func open(limits: UnionLimits = .defaults, inflateAhead: Bool = false) throws -> TarReader {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw LayerError.io(layer: name, entry: "-", operation: "open \(path)", errno: errno) }
        return try TarReader(fd: fd, name: name, ownsDescriptor: true, allowEmpty: true, limits: TarReader.Limits(sparse: .expand(maxLogicalSize: .max)), inflateAhead: inflateAhead)
    }
}
