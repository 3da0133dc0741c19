import OCICore
import OCIModel

/// Multi-platform images in a written archive. Each `PlatformIndexRecord`
/// becomes:
///
/// - one index blob listing exactly the children written (its original
///   bytes when nothing changed; else rewritten, see
///   `PlatformIndexRecord.rendered`), so the index never names a platform
///   whose blobs are not in the archive;
/// - one `index.json` entry per name, pointing at that index;
/// - the children's manifests, configs and layers as blobs;
/// - for the docker flavour, one `manifest.json` entry per child, the index's
///   tags on the first child only (classic `docker load` cannot tell
///   platforms apart, so it gets one tagged image and untagged others).
struct PlannedIndex {
    let descriptor: Descriptor
    let bytes: [UInt8]
    let names: [ImageReference]
    let children: [ImageRecord]

    init(_ record: PlatformIndexRecord, flavour: ArchiveWriter.Flavour) throws {
        guard !record.children.isEmpty, record.children.count == record.entries.count else {
            throw ArchiveWriteError.invalid(image: record.displayName, message: "image index without platform images")
        }
        var children = try record.children.map { flavour == .oci ? try ManifestRewrite.convertedToOCI($0) : $0 }
        for i in children.indices {
            if children[i].descriptor.platform == nil { children[i].descriptor.platform = record.entries[i].platform }
        }
        let (descriptor, bytes) = try record.rendered(children: children)
        self.descriptor = descriptor
        self.bytes = bytes
        self.names = record.names
        self.children = children
    }
}

extension ArchivePlan {
    /// The images `manifest.json` and `repositories` describe: the plain
    /// images, then each index's children (the first one with the index's names).
    var dockerImages: [ImageRecord] {
        images + indexes.flatMap { index in
            index.children.enumerated().map { i, child in
                var c = child
                c.names = i == 0 ? index.names : []
                return c
            }
        }
    }

    /// Reports of every image written, plain images first.
    var writtenReports: [ImageReport] {
        images.map { $0.report() } + indexes.flatMap { index in index.children.map { $0.report(names: index.names) } }
    }
}

extension ImageRecord {
    /// This image as progress events describe it.
    public func report(names: [ImageReference]? = nil) -> ImageReport {
        let platform = descriptor.platform ?? ArchivePlan.platform(of: config)
        return ImageReport(names: (names ?? self.names).map(\.familiarString), manifestDigest: descriptor.digest, configDigest: id,
                           mediaType: descriptor.mediaType.isEmpty ? (manifest.mediaType ?? MediaType.ociManifest) : descriptor.mediaType,
                           platform: platform?.description, layers: manifest.layers.map(\.digest), diffIDs: config.diffIDs)
    }
}
