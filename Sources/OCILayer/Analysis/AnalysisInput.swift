import OCIModel
import OCIImage

/// What `LayerStackAnalyzer` needs to know about an image: its layer blobs
/// (bottom first) with their manifest facts, and the config's history.
/// Independent of where the image came from, so any image source can feed it.
public struct AnalysisInput: Sendable {
    /// One layer blob and its descriptor facts.
    public struct Layer: Sendable, Equatable {
        public var source: LayerSource
        public var digest: String
        public var mediaType: String
        /// Size of the blob as stored.
        public var storedSize: Int64
        public var diffID: String?

        public init(source: LayerSource, digest: String, mediaType: String, storedSize: Int64, diffID: String?) {
            self.source = source
            self.digest = digest
            self.mediaType = mediaType
            self.storedSize = storedSize
            self.diffID = diffID
        }
    }

    public var name: String
    public var imageID: String?
    public var layers: [Layer]
    /// The config's history, empty-layer entries included.
    public var history: [ImageConfig.History]

    public init(name: String, imageID: String?, layers: [Layer], history: [ImageConfig.History]) {
        self.name = name
        self.imageID = imageID
        self.layers = layers
        self.history = history
    }

    /// From an image record and its layer sources (`LayerSource.layers(of:)`).
    public init(record: Image, layers sources: [LayerSource], name: String) {
        let descriptors = record.manifest.layers
        let diffIDs = record.config.diffIDs
        var layers: [Layer] = []
        for (i, source) in sources.enumerated() {
            let d = i < descriptors.count ? descriptors[i] : nil
            layers.append(Layer(source: source, digest: d?.digest.description ?? "", mediaType: d?.mediaType ?? "",
                                storedSize: d?.size ?? 0, diffID: i < diffIDs.count ? diffIDs[i].description : nil))
        }
        self.init(name: name, imageID: record.id.description, layers: layers, history: record.config.history ?? [])
    }

    /// The history entry of each layer: entries marked `empty_layer` belong
    /// to no layer; the others are given to the layers in order (as
    /// `ocitool history` and `docker history` pair them).
    public var layerHistory: [ImageConfig.History?] {
        var out: [ImageConfig.History?] = []
        var entries = history.filter { $0.emptyLayer != true }.makeIterator()
        for _ in layers { out.append(entries.next()) }
        return out
    }

    /// The input cut after layer `n` (0-based): the image as of that layer.
    public func prefix(through n: Int) -> AnalysisInput {
        var cut = self
        cut.layers = Array(layers.prefix(max(0, n + 1)))
        return cut
    }
}
