import Foundation
import OCICore
import OCIModel
import OCIImage

/// The uncompressed size of a layer: the length of its decompressed tar
/// stream. docker's SIZE columns and `inspect .Size` add these up.
public enum LayerSize {
    /// Decompresses the blob of `layer` held in `source` (gzip, zstd or
    /// plain, told from its first bytes) and counts the bytes.
    /// - Returns: nil when `source` holds the blob only as a remote stream.
    /// - Throws: decoder errors for a corrupt blob; `ImageError.blobMissing`.
    public static func measure(_ layer: Digest, in source: any BlobSource) throws -> Int64? {
        guard let path = source.path(of: layer) else {
            if source.contains(layer) { return nil }
            throw ImageError.blobMissing(layer, source: source.sourceName)
        }
        let file = try FileSource(path: path)
        let compression = Compression.detect(try file.readPrefix(6))
        let counter = CountingSink()
        let decoder = try compression.decoder(into: counter, context: "layer \(layer)")
        let reread = try FileSource(path: path)
        _ = try reread.copy(to: decoder)
        try decoder.finish()
        return counter.count
    }
}

extension ImageStore {
    /// The cache of uncompressed layer sizes: `{"sizes":{"sha256:…":N}}`.
    /// Layers are content-addressed, so an entry never goes stale.
    var layerSizeCachePath: String { root + "/.ocitool-layer-sizes.json" }

    private struct SizeCache: Codable {
        var sizes: [String: Int64]
    }

    /// The uncompressed size of each of `layers` (blob digests of this
    /// store). Sizes are read from `ROOT/.ocitool-layer-sizes.json`; a layer
    /// not there yet is decompressed once and counted, and the new sizes are
    /// merged into the cache under the index lock (best effort: a store that
    /// cannot be written still gets its sizes, computed each time).
    /// - Throws: decoder errors for a corrupt layer; `ImageError.blobMissing`.
    public func uncompressedSizes(of layers: [Digest]) throws -> [Digest: Int64] {
        var known = readSizeCache()
        var added: [String: Int64] = [:]
        var out: [Digest: Int64] = [:]
        for layer in layers where out[layer] == nil {
            if let n = known[layer.description] {
                out[layer] = n
            } else if let n = try LayerSize.measure(layer, in: blobs) {
                out[layer] = n
                added[layer.description] = n
                known[layer.description] = n
            }
        }
        if !added.isEmpty { writeSizeCache(adding: added) }
        return out
    }

    private func readSizeCache() -> [String: Int64] {
        guard let bytes = try? FS.readFile(layerSizeCachePath, limit: DocumentLimit.bytes),
              let cache = try? JSONDecoder().decode(SizeCache.self, from: Data(bytes)) else { return [:] }
        return cache.sizes
    }

    /// Merges `added` into the cache file (re-read under the index lock, so
    /// two writers do not lose each other's entries).
    private func writeSizeCache(adding added: [String: Int64]) {
        guard exists, let lock = try? FileLock(path: indexLockPath, exclusive: true) else { return }
        defer { lock.unlock() }
        var sizes = readSizeCache()
        sizes.merge(added) { _, new in new }
        guard let bytes = try? CanonicalJSON.encode(SizeCache(sizes: sizes)) else { return }
        try? FS.writeAtomically(layerSizeCachePath, bytes: bytes)
    }
}
