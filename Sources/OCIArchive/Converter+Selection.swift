import OCICore
import OCIModel
import OCIStore

extension Converter {
    /// The images a conversion writes: plain images, and (with
    /// `--all-platforms`) multi-platform images whose children are not
    /// listed on their own.
    struct Selection {
        private(set) var records: [ImageRecord]
        private(set) var indexes: [PlatformIndexRecord]

        /// - Parameter platform: an explicit `--platform`: plain images for
        ///   another platform are left out (an error if none is left).
        init(loaded: [LoadedImage], indexes recognised: [RecognisedIndex], scan: ScannedArchive, store: ImageStore,
             platform: Platform?, warnings: inout [String]) throws {
            var byDigest: [Digest: ImageRecord] = [:]
            var order: [Digest] = []
            for image in loaded where byDigest[image.descriptor.digest] == nil {
                byDigest[image.descriptor.digest] = ImageRecord(loaded: image, scan: scan, store: store)
                order.append(image.descriptor.digest)
            }
            var children = Set<Digest>()
            var indexes: [PlatformIndexRecord] = []
            for index in recognised {
                if let j = indexes.firstIndex(where: { $0.descriptor.digest == index.descriptor.digest }) {
                    for n in index.names where !indexes[j].names.contains(n) { indexes[j].names.append(n) }
                    continue
                }
                var kids: [ImageRecord] = []
                var entries: [Descriptor] = []
                var names = index.names
                for entry in index.children where !entries.contains(where: { $0.digest == entry.digest }) {
                    guard var child = byDigest[entry.digest] else { continue }
                    // Names found for a child (docker manifest.json tags) belong to the index.
                    for n in child.names where !names.contains(n) { names.append(n) }
                    child.names = []
                    kids.append(child)
                    entries.append(entry)
                    children.insert(entry.digest)
                }
                guard !kids.isEmpty else { continue }
                indexes.append(PlatformIndexRecord(descriptor: index.descriptor, indexBytes: index.bytes, names: names,
                                                   children: kids, entries: entries, pruned: index.pruned))
            }
            var records = order.filter { !children.contains($0) }.compactMap { byDigest[$0] }
            if let platform {
                let matching = records.filter { ($0.descriptor.platform ?? $0.config.platform).matches(platform) }
                if matching.isEmpty && indexes.isEmpty { try ImageSelector.check(records, platform: platform) }
                for r in records where !matching.contains(where: { $0.descriptor.digest == r.descriptor.digest }) {
                    warnings.append("skipped \(r.displayName): platform \(r.descriptor.platform ?? r.config.platform), not \(platform)")
                }
                records = matching
            }
            self.records = records
            self.indexes = indexes
        }

        /// Digests of the layer blobs whose files are under `spool`.
        func spooledBlobs(under spool: String) -> Set<Digest> {
            var out = Set<Digest>()
            for r in records + indexes.flatMap(\.children) {
                for l in r.manifest.layers where r.blobPaths[l.digest]?.hasPrefix(spool + "/") == true { out.insert(l.digest) }
            }
            return out
        }

        /// Applies `f` to every image (plain ones and every child).
        mutating func transform(_ f: (ImageRecord) throws -> ImageRecord) throws {
            records = try records.map(f)
            for i in indexes.indices {
                indexes[i].children = try indexes[i].children.map(f)
            }
        }
    }
}
