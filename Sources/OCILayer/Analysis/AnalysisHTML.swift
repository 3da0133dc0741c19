import Foundation
import OCICore

/// `ocitool analyze --html FILE`: one self-contained page (inline CSS, JS
/// and SVG; no network, fonts or images) with the layer stack as stacked
/// bars (kept and wasted bytes per layer), a squarified treemap of the final
/// file system coloured by the layer that owns each path (laid out in the
/// page, small items merged so ~100k files stay fast), and a searchable
/// change list per layer.
///
/// The data is embedded compactly: one path table (names and parent
/// indices) that every list refers to by number, and per-layer lists as
/// parallel arrays, instead of repeated full paths.
public enum AnalysisHTML {
    /// How many wasted paths the page lists.
    public static let wastedShown = 500

    struct Data: Encodable {
        var name: String
        var id: String?
        var totals: Totals
        var layers: [Layer]
        var names: [String]
        var parents: [Int32]
        var final: Files
        var wasted: [[Int64]]
    }

    struct Totals: Encodable {
        var size: Int64, stored: Int64, final: Int64, wasted: Int64, paths: Int, files: Int
        var efficiency: Double, diveWasted: Int64, userRatio: Double?
    }

    struct Layer: Encodable {
        var i: Int
        var digest: String
        var stored: Int64, size: Int64, wasted: Int64, entries: Int
        var by: String, comment: String
        var added: [Int64], changed: [Int64], unchanged: [Int64], deleted: [Int64]
        var hidden: Int
        var files: Files
    }

    /// Parallel arrays: path index, change letter, kind letter, size, layer.
    struct Files: Encodable {
        var p: [Int32] = []
        var c = ""
        var k = ""
        var s: [Int64] = []
        var l: [Int] = []
    }

    static func kindLetter(_ k: PathVersion.Kind) -> Character {
        switch k {
        case .file: return "f"
        case .directory: return "d"
        case .symlink: return "l"
        case .hardlink: return "h"
        case .fifo: return "p"
        case .characterDevice: return "c"
        case .blockDevice: return "b"
        }
    }

    static func data(_ a: ImageAnalysis) -> Data {
        let t = a.totals
        let layers = a.layers.map { l -> Layer in
            var f = Files()
            for c in l.files {
                guard let v = (c.version ?? c.previous).map({ a.versions[$0] }) else { continue }
                f.p.append(c.path)
                f.c.append(Character(c.change.letter))
                f.k.append(kindLetter(v.kind))
                f.s.append(c.change == .deleted ? c.hiddenBytes : v.size)
                // For what the layer wrote: the layer that hid it (-1: still in the final image).
                f.l.append(c.change == .deleted ? -1 : (v.hiddenBy ?? -1))
            }
            let s = l.summary
            return Layer(i: l.index, digest: l.digest, stored: l.storedSize, size: l.size, wasted: l.wastedBytes,
                         entries: l.entries, by: l.history?.createdBy ?? "", comment: l.history?.comment ?? "",
                         added: [Int64(s.added.count), s.added.bytes], changed: [Int64(s.changed.count), s.changed.bytes],
                         unchanged: [Int64(s.unchanged.count), s.unchanged.bytes],
                         deleted: [Int64(s.deleted.count), s.deleted.bytes], hidden: s.hiddenPaths, files: f)
        }
        var final = Files()
        for v in a.finalTree {
            let pv = a.versions[v]
            final.p.append(pv.path)
            final.k.append(kindLetter(pv.kind))
            final.s.append(pv.finalBytes)
            final.l.append(pv.layer)
        }
        let wasted = a.wasted.prefix(wastedShown).map { [Int64($0.path), $0.size, Int64($0.layer), Int64($0.hiddenBy)] }
        return Data(name: a.name, id: a.imageID,
                    totals: Totals(size: t.size, stored: t.storedSize, final: t.finalSize, wasted: t.wastedBytes,
                                   paths: t.finalPaths, files: t.finalFiles, efficiency: a.dive.efficiency,
                                   diveWasted: a.dive.wastedBytes, userRatio: a.dive.userWastedRatio),
                    layers: layers, names: a.paths.names, parents: a.paths.parents, final: final, wasted: Array(wasted))
    }

    /// The page.
    public static func render(_ a: ImageAnalysis) throws -> [UInt8] {
        let enc = JSONEncoder()
        enc.outputFormatting = [.withoutEscapingSlashes]
        var json = String(decoding: try enc.encode(data(a)), as: UTF8.self)
        // Inside <script>, no "<" may appear: "</script>" or "<!--" in a file name would end or bend the block.
        json = json.replacingOccurrences(of: "<", with: "\\u003c")
            .replacingOccurrences(of: "\u{2028}", with: "\\u2028").replacingOccurrences(of: "\u{2029}", with: "\\u2029")
        let title = escape("ocitool analyze: \(a.name)")
        var page = pageHead.replacingOccurrences(of: "@TITLE@", with: title)
        page += "<script type=\"application/json\" id=\"analysis-data\">" + json + "</script>\n"
        page += "<script>\n" + pageScript + "\n</script>\n</body>\n</html>\n"
        return Array(page.utf8)
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(ch)
            }
        }
        return out
    }
}
