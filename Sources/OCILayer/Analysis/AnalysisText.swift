import Foundation

/// The terminal report of `ocitool analyze`: one section per layer (its
/// history line, sizes, a table of what it added, changed, rewrote and
/// deleted, and what each of its whiteouts hid), the image totals, and the
/// largest wasted paths.
public enum AnalysisText {
    /// The whole report; `top` bounds the lists of wasted paths and of each
    /// layer's deletions.
    public static func report(_ a: ImageAnalysis, top: Int = 10) -> String {
        var out: [String] = []
        let idText = a.imageID.map { "  " + short($0) } ?? ""
        out.append("Image \(a.name)\(idText)  \(a.layers.count) layer(s)")
        for l in a.layers {
            out.append("")
            out.append(layerSection(a, l, top: top))
        }
        out.append("")
        out.append(totals(a))
        out.append("")
        out.append(wastedList(a, top: top))
        return out.joined(separator: "\n")
    }

    static func layerSection(_ a: ImageAnalysis, _ l: LayerReport, top: Int) -> String {
        var lines: [String] = []
        lines.append("Layer \(l.index)  \(short(l.digest))  stored \(size(l.storedSize))  size \(size(l.size))  "
                     + "wasted \(size(l.wastedBytes))  \(l.entries) member(s)")
        if let h = l.history {
            var text = "  created by: " + oneLine(h.createdBy ?? "")
            if let c = h.comment, !c.isEmpty { text += "  (comment: \(oneLine(c)))" }
            lines.append(text)
        } else {
            lines.append("  created by: (no history entry)")
        }
        let s = l.summary
        let aspects = s.changedAspects.sorted { $0.key < $1.key }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", ")
        var rows: [[String]] = [
            ["added", "\(s.added.count)", size(s.added.bytes), ""],
            ["changed", "\(s.changed.count)", size(s.changed.bytes), aspects],
            ["unchanged", "\(s.unchanged.count)", size(s.unchanged.bytes), s.unchanged.count > 0 ? "rewritten with the same content and attributes" : ""],
        ]
        var del = "\(s.hiddenPaths) path(s) hidden"
        if s.whiteouts > 0 { del += ", \(s.whiteouts) whiteout(s)" }
        if s.opaqueDirectories > 0 { del += ", \(s.opaqueDirectories) opaque dir(s)" }
        rows.append(["deleted", "\(s.deleted.count)", size(s.deleted.bytes), del])
        lines.append(indent(table(["CHANGE", "PATHS", "BYTES", "DETAIL"], rows), by: 2))
        let markers = l.deletions.enumerated().sorted {
            $0.element.hiddenBytes != $1.element.hiddenBytes ? $0.element.hiddenBytes > $1.element.hiddenBytes : $0.offset < $1.offset
        }
        for (_, d) in markers.prefix(top) {
            let target = d.target.map { a.paths.path($0) } ?? "(nothing below)"
            lines.append("  \(d.kind.rawValue) \(oneLine(d.member)) hid \(target): \(d.hiddenPaths) path(s), \(size(d.hiddenBytes))")
        }
        if markers.count > top { lines.append("  … \(markers.count - top) more marker(s)") }
        return lines.joined(separator: "\n")
    }

    static func totals(_ a: ImageAnalysis) -> String {
        let t = a.totals, d = a.dive
        let ratio = t.size > 0 ? Double(t.wastedBytes) / Double(t.size) : 0
        let user = d.userWastedRatio.map { percent($0) } ?? "n/a"
        return [
            "Total size:   \(size(t.size)) of file data in \(a.layers.count) layer(s), stored as \(size(t.storedSize))",
            "Final image:  \(size(t.finalSize)) in \(t.finalPaths) path(s) (\(t.finalFiles) file(s))",
            "Wasted:       \(size(t.wastedBytes)) (\(percent(ratio))) written by a layer and replaced or deleted above it",
            "Efficiency:   \(percent(d.efficiency)) (dive's score; dive counts \(size(d.wastedBytes)) wasted, \(user) of the user layers)",
        ].joined(separator: "\n")
    }

    static func wastedList(_ a: ImageAnalysis, top: Int) -> String {
        guard !a.wasted.isEmpty else { return "No wasted bytes: every file a layer wrote is in the final image." }
        let rows = a.wasted.prefix(top).map { w in
            [size(w.size), "\(w.layer)", "\(w.hiddenBy)", oneLine(a.paths.path(w.path))]
        }
        var text = "Largest wasted paths\n" + table(["BYTES", "WRITTEN BY", "HIDDEN BY", "PATH"], Array(rows))
        if a.wasted.count > top { text += "\n… \(a.wasted.count - top) more" }
        return text
    }

    /// Sizes the way the docker CLI prints them (decimal units, 3 significant digits).
    public static func size(_ bytes: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"]
        var v = Double(bytes)
        var i = 0
        while v >= 1000 && i < units.count - 1 {
            v /= 1000
            i += 1
        }
        return String(format: "%.3g", v) + units[i]
    }

    static func percent(_ r: Double) -> String { String(format: "%.1f %%", r * 100) }

    static func short(_ digest: String) -> String {
        guard let colon = digest.firstIndex(of: ":") else { return digest.isEmpty ? "-" : digest }
        return String(digest[digest.index(after: colon)...].prefix(12))
    }

    /// Control characters shown escaped, so a hostile name cannot steer the terminal.
    static func oneLine(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            if u.value < 0x20 || u.value == 0x7f || (0x80..<0xa0).contains(u.value) {
                out += u == "\n" ? "\\n" : u == "\t" ? "\\t" : "\\u{\(String(u.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(u)
            }
        }
        return out
    }

    static func indent(_ s: String, by n: Int) -> String {
        let pad = String(repeating: " ", count: n)
        return s.split(separator: "\n", omittingEmptySubsequences: false).map { pad + $0 }.joined(separator: "\n")
    }

    /// Columns padded with 3 spaces, like docker's tables.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            var s = ""
            for (i, c) in cells.enumerated() {
                s += c
                if i < cells.count - 1 { s += String(repeating: " ", count: widths[i] - c.count + 3) }
            }
            while s.hasSuffix(" ") { s.removeLast() }
            return s
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}
