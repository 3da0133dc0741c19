
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

    /// The embedded data: `names`/`parents` (the path table), `final`
    /// (the final tree as parallel arrays p path, k kind letter, s bytes, l
    /// layer), `layers` (figures and the change list as parallel arrays p
    /// path, c change letter, k kind, s size, l hiding layer or -1), and
    /// `wasted` ([path, bytes, layer, hidden by]).
    static func data(_ a: ImageAnalysis) -> [UInt8] {
        var j = PageJSON()
        let t = a.totals
        j.raw("{")
        j.key("name"); j.string(a.name)
        j.key("id"); if let id = a.imageID { j.string(id) } else { j.raw("null") }
        j.key("totals"); j.raw("{")
        j.key("size"); j.number(t.size)
        j.key("stored"); j.number(t.storedSize)
        j.key("final"); j.number(t.finalSize)
        j.key("wasted"); j.number(t.wastedBytes)
        j.key("paths"); j.number(t.finalPaths)
        j.key("files"); j.number(t.finalFiles)
        j.key("efficiency"); j.number(a.dive.efficiency)
        j.key("diveWasted"); j.number(a.dive.wastedBytes)
        j.key("userRatio"); j.number(a.dive.userWastedRatio)
        j.raw("}")
        j.key("layers"); j.raw("[")
        for (i, l) in a.layers.enumerated() {
            if i > 0 { j.raw(",") }
            let s = l.summary
            j.raw("{")
            j.key("i"); j.number(l.index)
            j.key("digest"); j.string(l.digest)
            j.key("stored"); j.number(l.storedSize)
            j.key("size"); j.number(l.size)
            j.key("wasted"); j.number(l.wastedBytes)
            j.key("entries"); j.number(l.entries)
            j.key("by"); j.string(l.history?.createdBy ?? "")
            j.key("comment"); j.string(l.history?.comment ?? "")
            j.key("added"); j.numbers([Int64(s.added.count), s.added.bytes])
            j.key("changed"); j.numbers([Int64(s.changed.count), s.changed.bytes])
            j.key("unchanged"); j.numbers([Int64(s.unchanged.count), s.unchanged.bytes])
            j.key("deleted"); j.numbers([Int64(s.deleted.count), s.deleted.bytes])
            j.key("hidden"); j.number(s.hiddenPaths)
            var p: [Int32] = [], c = "", k = "", sizes: [Int64] = [], hid: [Int] = []
            for f in l.files {
                guard let v = (f.version ?? f.previous).map({ a.versions[$0] }) else { continue }
                p.append(f.path)
                c += f.change.letter
                k.append(kindLetter(v.kind))
                sizes.append(f.change == .deleted ? f.hiddenBytes : v.size)
                // For what the layer wrote: the layer that hid it (-1: still in the final image).
                hid.append(f.change == .deleted ? -1 : (v.hiddenBy ?? -1))
            }
            j.key("files"); j.raw("{")
            j.key("p"); j.numbers(p)
            j.key("c"); j.string(c)
            j.key("k"); j.string(k)
            j.key("s"); j.numbers(sizes)
            j.key("l"); j.numbers(hid)
            j.raw("}}")
        }
        j.raw("]")
        j.key("names"); j.strings(a.paths.names)
        j.key("parents"); j.numbers(a.paths.parents)
        var p: [Int32] = [], k = "", sizes: [Int64] = [], layers: [Int] = []
        for v in a.finalTree {
            let pv = a.versions[v]
            p.append(pv.path)
            k.append(kindLetter(pv.kind))
            sizes.append(pv.finalBytes)
            layers.append(pv.layer)
        }
        j.key("final"); j.raw("{")
        j.key("p"); j.numbers(p)
        j.key("k"); j.string(k)
        j.key("s"); j.numbers(sizes)
        j.key("l"); j.numbers(layers)
        j.raw("}")
        j.key("wasted"); j.raw("[")
        for (i, w) in a.wasted.prefix(wastedShown).enumerated() {
            if i > 0 { j.raw(",") }
            j.numbers([Int64(w.path), w.size, Int64(w.layer), Int64(w.hiddenBy)])
        }
        j.raw("]}")
        return j.bytes
    }

    /// The page.
    public static func render(_ a: ImageAnalysis) -> [UInt8] {
        let title = escape("ocitool analyze: \(a.name)")
        var page = Array(pageHead.replacingOccurrences(of: "@TITLE@", with: title).utf8)
        page += Array("<script type=\"application/json\" id=\"analysis-data\">".utf8)
        page += data(a)
        page += Array(("</script>\n<script>\n" + pageScript + "\n</script>\n</body>\n</html>\n").utf8)
        return page
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
