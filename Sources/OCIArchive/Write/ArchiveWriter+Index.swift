import OCICore
import OCIModel
import OCIImage

/// Multi-platform images in a written archive. Each `ImageIndex` becomes:
///
/// - one index blob listing exactly the children written (its original
///   bytes when nothing changed; else rewritten, see `ImageIndex.rendered`),
///   so the index never names a platform whose blobs are not in the archive;
/// - one `index.json` entry per name, pointing at that index;
/// - the children's manifests, configs and layers as blobs;
/// - for the docker flavour, one `manifest.json` entry per child, the index's
///   tags on the first child only (classic `docker load` cannot tell
///   platforms apart, so it gets one tagged image and untagged others).
extension ArchivePlan {
    /// The images `manifest.json` and `repositories` describe: the plain
    /// images, then each index's children (the first one with the index's names).
    var dockerImages: [Image] {
        images + indexes.flatMap { index in
            index.children.filter { !$0.isAttestation }.enumerated().map { i, child in child.named(i == 0 ? index.names : []) }
        }
    }

    /// Reports of every image written, plain images first.
    var writtenReports: [ImageReport] {
        images.map { $0.report() } + indexes.flatMap { index in index.children.map { $0.report(names: index.names) } }
    }
}
