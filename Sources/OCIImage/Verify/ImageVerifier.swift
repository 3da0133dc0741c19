import OCICore
import OCIModel

/// Checks an image against its blobs the way `crane validate` does: every
/// blob's digest and size, and every layer's diff_id (decompressing it),
/// reading each blob once from wherever the image's `BlobSource` has it.
public enum ImageVerifier {
    /// One problem found.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        /// What is wrong: `layer 2/3 sha256:…`, `config sha256:…`.
        public let what: String
        public let message: String
        public var description: String { "\(what): \(message)" }
    }

    /// Verifies `image`; returns every problem (empty: valid).
    /// - Parameter progress: advanced by the bytes read.
    public static func verify(_ image: Image, progress: ByteProgress? = nil) -> [Problem] {
        var problems: [Problem] = []
        let m = image.manifest
        if m.digest != image.descriptor.digest {
            problems.append(Problem(what: "manifest \(image.descriptor.digest)", message: "content is \(m.digest)"))
        }
        if image.config.digest != m.view.config.digest || image.config.size != m.view.config.size {
            problems.append(Problem(what: "config \(m.view.config.digest)", message: "content is \(image.config.digest) (\(image.config.size) bytes)"))
        }
        let diffIDs = image.diffIDs
        if diffIDs.count != image.layers.count {
            problems.append(Problem(what: "config \(image.id)", message: "lists \(diffIDs.count) diff_ids but the image has \(image.layers.count) layers"))
        }
        for (i, layer) in image.layers.enumerated() {
            let what = "layer \(i + 1)/\(image.layers.count) \(layer.digest)"
            guard image.blobs.contains(layer.digest) else {
                if !MediaType.isNondistributable(layer.mediaType) {
                    problems.append(Problem(what: what, message: "blob is missing from \(image.blobs.sourceName)"))
                }
                continue
            }
            let digester = LayerDigester(context: what)
            let hasher = DigestingSink(forwardingTo: digester)
            do {
                let n = try image.blobs.copy(layer.digest, into: hasher, progress: progress)
                try digester.finish()
                let actual = try hasher.digest()
                if n != layer.size {
                    problems.append(Problem(what: what, message: "size mismatch: manifest says \(layer.size) bytes, blob has \(n)"))
                }
                if actual != layer.digest {
                    problems.append(Problem(what: what, message: "digest mismatch: content is \(actual)"))
                }
                guard i < diffIDs.count, MediaType.isTarLayer(layer.mediaType) || layer.mediaType.isEmpty else { continue }
                let diffID = digester.compression == Compression.none ? actual : digester.uncompressedDigest
                if let diffID {
                    if diffID != diffIDs[i] {
                        problems.append(Problem(what: what, message: "diff_id mismatch: config says \(diffIDs[i]), content is \(diffID)"))
                    }
                } else {
                    problems.append(Problem(what: what, message: "cannot be decompressed: \(digester.decodeError ?? "unknown compression")"))
                }
            } catch {
                problems.append(Problem(what: what, message: "\(error)"))
            }
        }
        return problems
    }
}
