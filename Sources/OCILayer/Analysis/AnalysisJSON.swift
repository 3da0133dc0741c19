import Foundation

/// The `ocitool analyze --format json` document (schema version 1): every
/// figure of the terminal report plus each layer's full change set. Keys
/// are stable; a key whose value does not apply is left out. Paths are
/// absolute (`/etc/passwd`), as `ocitool diff` prints them; layers are
/// numbered from 0 (the bottom).
public enum AnalysisJSON {
    public static let schemaVersion = 1

    struct Document: Encodable {
        var schemaVersion: Int
        var image: Image
        var layers: [Layer]
        var wasted: [Wasted]
    }

    struct Image: Encodable {
        var name: String
        var id: String?
        var layerCount: Int
        var sizeBytes: Int64
        var storedBytes: Int64
        var finalBytes: Int64
        var wastedBytes: Int64
        var wastedRatio: Double
        var finalPaths: Int
        var finalFiles: Int
        var entries: Int64
        var efficiency: Double
        var dive: Dive
    }

    struct Dive: Encodable {
        var efficiency: Double
        var wastedBytes: Int64
        var sizeBytes: Int64
        var userSizeBytes: Int64
        var userWastedRatio: Double?
        var inefficientFiles: [Inefficient]
    }

    struct Inefficient: Encodable {
        var path: String
        var references: Int
        var cumulativeBytes: Int64
    }

    struct Tally: Encodable {
        var count: Int
        var bytes: Int64
        var aspects: [String: Int]?
        var hiddenPaths: Int?
    }

    struct Layer: Encodable {
        var index: Int
        var digest: String
        var mediaType: String
        var storedBytes: Int64
        var diffID: String?
        var created: String?
        var createdBy: String?
        var author: String?
        var comment: String?
        var entries: Int
        var sizeBytes: Int64
        var wastedBytes: Int64
        var added: Tally
        var changed: Tally
        var unchanged: Tally
        var deleted: Tally
        var whiteouts: Int
        var opaqueDirectories: Int
        var deletions: [Marker]
        var files: [File]
    }

    struct Marker: Encodable {
        var kind: String
        var member: String
        var target: String?
        var hiddenPaths: Int
        var hiddenBytes: Int64
    }

    struct File: Encodable {
        var path: String
        var change: String
        var kind: String
        var size: Int64
        var bytes: Int64
        var aspects: [String]?
        var linkTarget: String?
        var previousLayer: Int?
        var hiddenBy: Int?
        var deletedBy: String?
        var marker: String?
    }

    struct Wasted: Encodable {
        var path: String
        var bytes: Int64
        var layer: Int
        var hiddenBy: Int
    }

    /// The document as pretty-printed JSON (sorted keys, no escaped slashes).
    public static func encode(_ a: ImageAnalysis) throws -> [UInt8] {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try enc.encode(document(a)))
    }

    static func document(_ a: ImageAnalysis) -> Document {
        let t = a.totals, d = a.dive
        let image = Image(name: a.name, id: a.imageID, layerCount: a.layers.count, sizeBytes: t.size, storedBytes: t.storedSize,
                          finalBytes: t.finalSize, wastedBytes: t.wastedBytes,
                          wastedRatio: t.size > 0 ? Double(t.wastedBytes) / Double(t.size) : 0,
                          finalPaths: t.finalPaths, finalFiles: t.finalFiles, entries: t.entries, efficiency: d.efficiency,
                          dive: Dive(efficiency: d.efficiency, wastedBytes: d.wastedBytes, sizeBytes: d.sizeBytes,
                                     userSizeBytes: d.userSizeBytes, userWastedRatio: d.userWastedRatio,
                                     inefficientFiles: d.inefficientFiles.map {
                                         Inefficient(path: $0.path, references: $0.references, cumulativeBytes: $0.cumulativeSize)
                                     }))
        let layers = a.layers.map { layer(a, $0) }
        let wasted = a.wasted.map { Wasted(path: a.paths.path($0.path), bytes: $0.size, layer: $0.layer, hiddenBy: $0.hiddenBy) }
        return Document(schemaVersion: schemaVersion, image: image, layers: layers, wasted: wasted)
    }

    private static func layer(_ a: ImageAnalysis, _ l: LayerReport) -> Layer {
        let s = l.summary
        func tally(_ t: LayerSummary.Tally) -> Tally { Tally(count: t.count, bytes: t.bytes) }
        var changed = tally(s.changed)
        changed.aspects = Dictionary(uniqueKeysWithValues: s.changedAspects.map { ($0.key.rawValue, $0.value) })
        var deleted = tally(s.deleted)
        deleted.hiddenPaths = s.hiddenPaths
        let markers = l.deletions.map {
            Marker(kind: $0.kind.rawValue, member: $0.member, target: $0.target.map { a.paths.path($0) },
                   hiddenPaths: $0.hiddenPaths, hiddenBytes: $0.hiddenBytes)
        }
        let files = l.files.map { f -> File in
            let shown = (f.version ?? f.previous).map { a.versions[$0] }
            var file = File(path: a.paths.path(f.path), change: f.change.rawValue, kind: shown?.kind.rawValue ?? "file",
                            size: shown?.size ?? 0, bytes: 0, linkTarget: shown?.linkTarget)
            if let p = f.previous { file.previousLayer = a.versions[p].layer }
            if f.change == .deleted {
                file.bytes = f.hiddenBytes
                let marker = f.deletion.map { l.deletions[$0] }
                file.deletedBy = marker?.kind.rawValue ?? "replaced"
                file.marker = marker?.member
            } else {
                file.bytes = shown?.dataSize ?? 0
                file.hiddenBy = shown?.hiddenBy
            }
            if f.change == .changed { file.aspects = f.aspects.map(\.rawValue) }
            return file
        }
        return Layer(index: l.index, digest: l.digest, mediaType: l.mediaType, storedBytes: l.storedSize, diffID: l.diffID,
                     created: l.history?.created, createdBy: l.history?.createdBy, author: l.history?.author,
                     comment: l.history?.comment, entries: l.entries, sizeBytes: l.size, wastedBytes: l.wastedBytes,
                     added: tally(s.added), changed: changed, unchanged: tally(s.unchanged), deleted: deleted,
                     whiteouts: s.whiteouts, opaqueDirectories: s.opaqueDirectories, deletions: markers, files: files)
    }
}
