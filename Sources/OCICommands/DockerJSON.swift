import OCIFormat

/// JSON laid out the way the docker CLI prints it.
enum DockerJSON {
    /// Go's `json.Indent(dst, src, "", indent)` over compact JSON: a newline
    /// and the indent after `{`, `[` and `,`, `": "` after keys, and empty
    /// objects and arrays kept as `{}` and `[]`. String contents (and their
    /// escapes) are copied unchanged.
    static func indent(_ compact: String, indent unit: String = "    ") -> String {
        var out = ""
        out.reserveCapacity(compact.utf8.count * 2)
        var depth = 0
        var inString = false
        var escaped = false
        var pendingOpen = false  // just after `{` or `[`: the newline waits for a non-closing byte
        func newline() {
            out.append("\n")
            for _ in 0..<depth { out.append(unit) }
        }
        for c in compact.unicodeScalars {
            if inString {
                out.unicodeScalars.append(c)
                if escaped {
                    escaped = false
                } else if c == "\\" {
                    escaped = true
                } else if c == "\"" {
                    inString = false
                }
                continue
            }
            if c == " " || c == "\t" || c == "\n" || c == "\r" { continue }
            if pendingOpen {
                pendingOpen = false
                if c == "}" || c == "]" {
                    depth -= 1
                    out.unicodeScalars.append(c)
                    continue
                }
                newline()
            }
            switch c {
            case "\"":
                inString = true
                out.unicodeScalars.append(c)
            case "{", "[":
                out.unicodeScalars.append(c)
                depth += 1
                pendingOpen = true
            case ",":
                out.append(",")
                newline()
            case ":":
                out.append(": ")
            case "}", "]":
                depth -= 1
                newline()
                out.unicodeScalars.append(c)
            default:
                out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// docker's `inspect` output for `elements` (each a struct view whose
    /// `json` is the daemon's): indented with 4 spaces, or compact for
    /// `--format json`; `[]` when there are none.
    static func array(_ elements: [TemplateValue], compact: Bool) throws -> String {
        guard !elements.isEmpty else { return "[]" }
        // The daemon marshals with Go's defaults: `<`, `>`, `&` escaped.
        let body = try TemplateValue.array(elements).jsonString(escapeHTML: true)
        return compact ? body : indent(body)
    }
}
