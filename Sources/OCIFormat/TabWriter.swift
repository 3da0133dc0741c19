/// Go's `text/tabwriter` (elastic tabstops): aligns tab-terminated cells.
///
/// The input is cells terminated by `\t` (or the "soft" `\v`) and lines ended
/// by `\n` (or `\f`, which also ends all columns). Tab-terminated cells in
/// adjacent lines form a column; each column block is as wide as its widest
/// cell plus `padding` (at least `minWidth`). The text after a line's last
/// tab is not part of any column and is never padded. As in Go, a column
/// block ends at the first line that has no cell in that column.
///
/// ``docker`` is the writer docker uses for every table
/// (`tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)`, with terminal cell widths).
public struct TabWriter: Sendable, Equatable {
    /// Formatting flags (Go's `tabwriter` flags that make sense without HTML/escapes).
    public struct Flags: OptionSet, Sendable, Equatable {
        /// The raw bits.
        public let rawValue: Int
        /// Flags from raw bits.
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// Right-align cell contents (ignored when padding with tabs).
        public static let alignRight = Flags(rawValue: 1 << 0)
        /// Give zero width to columns whose cells are all empty and `\v`-terminated.
        public static let discardEmptyColumns = Flags(rawValue: 1 << 1)
        /// Print `|` between columns, and `---` after a `\f` section.
        public static let debug = Flags(rawValue: 1 << 2)
    }

    /// How the width of a cell's text is measured.
    public enum CellWidth: Sendable, Equatable {
        /// One per Unicode scalar (Go's `text/tabwriter`).
        case runes
        /// Terminal columns: East Asian wide characters count 2, combining
        /// marks and zero-width characters 0 (docker's tabwriter uses go-runewidth).
        case terminal
    }

    /// Minimal cell width, padding included.
    public let minWidth: Int
    /// Width of a tab when padding with tabs.
    public let tabWidth: Int
    /// Padding added to each cell's width.
    public let padding: Int
    /// The padding character (`\t` pads with tabs).
    public let padChar: Character
    /// Formatting flags.
    public let flags: Flags
    /// Width measure for cell text.
    public let cellWidth: CellWidth

    /// A writer with Go's `tabwriter.NewWriter` parameters; each width is
    /// clamped to `0...65536`.
    public init(minWidth: Int, tabWidth: Int, padding: Int, padChar: Character, flags: Flags = [], cellWidth: CellWidth = .runes) {
        self.minWidth = min(max(0, minWidth), 1 << 16)
        self.tabWidth = min(max(0, tabWidth), 1 << 16)
        self.padding = min(max(0, padding), 1 << 16)
        self.padChar = padChar
        self.flags = padChar == "\t" ? flags.subtracting(.alignRight) : flags
        self.cellWidth = cellWidth
    }

    /// docker's table writer: minwidth 10, tabwidth 1, padding 3, spaces, no flags.
    public static let docker = TabWriter(minWidth: 10, tabWidth: 1, padding: 3, padChar: " ", cellWidth: .terminal)

    struct Cell {
        var start: Int
        var end: Int
        var width: Int
        var htab: Bool
    }

    /// Aligns `text` (everything written, then flushed).
    public func format(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 2)
        var lines: [[Cell]] = [[]]
        var cellStart = 0
        for (i, b) in bytes.enumerated() where b == 0x09 || b == 0x0B || b == 0x0A || b == 0x0C {
            lines[lines.count - 1].append(Cell(start: cellStart, end: i, width: width(of: bytes[cellStart..<i]), htab: b == 0x09))
            cellStart = i + 1
            if b == 0x0A || b == 0x0C { lines.append([]) }
            if b == 0x0C {
                write(lines, bytes, to: &out)
                lines = [[]]
                if flags.contains(.debug) { out.append(contentsOf: Array("---\n".utf8)) }
            }
        }
        if cellStart < bytes.count {
            lines[lines.count - 1].append(Cell(start: cellStart, end: bytes.count, width: width(of: bytes[cellStart...]), htab: false))
        }
        write(lines, bytes, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Column widths for one flushed section, then the padded text.
    private func write(_ lines: [[Cell]], _ bytes: [UInt8], to out: inout [UInt8]) {
        var widths = lines.map { Array(repeating: 0, count: max(0, $0.count - 1)) }
        let columns = widths.map(\.count).max() ?? 0
        for column in 0..<columns {
            var line = 0
            while line < lines.count {
                guard lines[line].count - 1 > column else {
                    line += 1
                    continue
                }
                var end = line
                var width = minWidth
                var discardable = true
                while end < lines.count, lines[end].count - 1 > column {
                    let cell = lines[end][column]
                    width = max(width, cell.width + padding)
                    if cell.width > 0 || cell.htab { discardable = false }
                    end += 1
                }
                if discardable, flags.contains(.discardEmptyColumns) { width = 0 }
                for l in line..<end { widths[l][column] = width }
                line = end
            }
        }
        let right = flags.contains(.alignRight)
        for (n, cells) in lines.enumerated() {
            for (j, cell) in cells.enumerated() {
                if j > 0, flags.contains(.debug) { out.append(UInt8(ascii: "|")) }
                let padded = j < widths[n].count
                let empty = cell.start == cell.end
                if padded, right, !empty { pad(cell.width, widths[n][j], to: &out) }
                out.append(contentsOf: bytes[cell.start..<cell.end])
                if padded, !right || empty { pad(cell.width, widths[n][j], to: &out) }
            }
            if n + 1 < lines.count { out.append(0x0A) }
        }
    }

    private func pad(_ textWidth: Int, _ cellWidth: Int, to out: inout [UInt8]) {
        if padChar == "\t" {
            guard tabWidth > 0 else { return }
            let rounded = (cellWidth + tabWidth - 1) / tabWidth * tabWidth
            let n = max(0, rounded - textWidth)
            out.append(contentsOf: repeatElement(0x09, count: (n + tabWidth - 1) / tabWidth))
        } else {
            let count = max(0, cellWidth - textWidth)
            if let ascii = padChar.asciiValue {
                out.append(contentsOf: repeatElement(ascii, count: count))
            } else {
                for _ in 0..<count { out.append(contentsOf: Array(String(padChar).utf8)) }
            }
        }
    }

    private func width(of text: ArraySlice<UInt8>) -> Int {
        if cellWidth == .runes || text.allSatisfy({ $0 < 0x80 }) {
            return text.reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
        }
        return String(decoding: text, as: UTF8.self).unicodeScalars.reduce(0) { $0 + TerminalWidth.of($1) }
    }
}
