import Testing
import OCIFormat

/// Expected layouts are worked out by hand from Go's documented
/// text/tabwriter algorithm: a column block is a run of adjacent lines that
/// have a tab-terminated cell in that column; its width is the widest cell
/// plus padding, at least minwidth; a line's last cell is never padded.
private func spaces(_ n: Int) -> String { String(repeating: " ", count: n) }

@Test func dockerSettingsPadToMinWidthTenPlusThree() {
    let text = "REPOSITORY\tTAG\tIMAGE ID\nbusybox\tlatest\t0a71740239f9\nlocalhost/ocitool-test/podman-docker\tv1\tabc\n"
    // Column 0: the 36-character name + 3 = 39; column 1: "latest" + 3 = 9, raised to the minimum 10.
    let expected = "REPOSITORY" + spaces(29) + "TAG" + spaces(7) + "IMAGE ID\n"
        + "busybox" + spaces(32) + "latest" + spaces(4) + "0a71740239f9\n"
        + "localhost/ocitool-test/podman-docker" + spaces(3) + "v1" + spaces(8) + "abc\n"
    #expect(TabWriter.docker.format(text) == expected)
}

@Test(arguments: [
    // A line without tabs ends every column block.
    ("a\tb\tc\nxx\naaa\tb\n", "a.b.c\nxx\naaa.b\n"),
    // Column 1 is two blocks (line 1 has no cell there); column 0 spans all lines.
    ("x\ty\tz\nxxxx\tyy\nx\tyyyyy\tz\n", "x----y-z\nxxxx-yy\nx----yyyyy-z\n"),
    // Trailing text without newline is a last cell, never padded.
    ("a\tb", "a.b"),
    ("a\tb\t", "a.b"),
    ("a\tb\t\n", "a.b.\n"),
    ("\t\n", ".\n"),
    ("\t", ""),
    ("", ""),
    ("plain\ntext", "plain\ntext"),
    ("\n\n", "\n\n"),
    // A formfeed ends the section: the next lines are aligned on their own.
    ("aaa\tb\u{0C}c\td\n", "aaa.b\nc.d\n"),
])
func goAlgorithm(input: String, expected: String) {
    let dots = TabWriter(minWidth: 0, tabWidth: 0, padding: 1, padChar: ".")
    let dashes = TabWriter(minWidth: 0, tabWidth: 0, padding: 1, padChar: "-")
    let writer = input.hasPrefix("x\t") ? dashes : dots
    #expect(writer.format(input) == expected)
}

@Test func flagsAndTabPadding() {
    let right = TabWriter(minWidth: 1, tabWidth: 0, padding: 2, padChar: " ", flags: .alignRight)
    #expect(right.format("1\t22\t\n333\t4\t\n") == "    1  22\n  333   4\n")
    let tabs = TabWriter(minWidth: 0, tabWidth: 4, padding: 1, padChar: "\t")
    // Width 6 rounds up to 8: "ab" needs 6 more columns = 2 tabs, "abcde" 3 = 1 tab.
    #expect(tabs.format("ab\tc\nabcde\tf\n") == "ab\t\tc\nabcde\tf\n")
    let tabsRight = TabWriter(minWidth: 0, tabWidth: 4, padding: 1, padChar: "\t", flags: .alignRight)
    #expect(tabsRight.format("ab\tc\n") == tabs.format("ab\tc\n"))
    let debug = TabWriter(minWidth: 0, tabWidth: 0, padding: 1, padChar: ".", flags: .debug)
    #expect(debug.format("a\tbb\tc\n") == "a.|bb.|c\n")
    #expect(debug.format("a\tb\u{0C}c\td\n") == "a.|b\n---\nc.|d\n")
    let discard = TabWriter(minWidth: 2, tabWidth: 0, padding: 0, padChar: ".", flags: .discardEmptyColumns)
    let keep = TabWriter(minWidth: 2, tabWidth: 0, padding: 0, padChar: ".")
    #expect(discard.format("a\u{0B}\u{0B}b\nc\u{0B}\u{0B}d\n") == "a.b\nc.d\n")
    #expect(keep.format("a\u{0B}\u{0B}b\nc\u{0B}\u{0B}d\n") == "a...b\nc...d\n")
    // Hard tabs keep an empty column even with discardEmptyColumns.
    #expect(discard.format("a\t\tb\n") == "a...b\n")
}

@Test func cellWidths() {
    let runes = TabWriter(minWidth: 0, tabWidth: 0, padding: 1, padChar: ".")
    let terminal = TabWriter(minWidth: 0, tabWidth: 0, padding: 1, padChar: ".", cellWidth: .terminal)
    #expect(runes.format("日本\tx\nab\ty\n") == "日本.x\nab.y\n")
    #expect(terminal.format("日本\tx\nab\ty\n") == "日本.x\nab...y\n")
    #expect(terminal.format("e\u{301}\tx\nab\ty\n") == "e\u{301}..x\nab.y\n")
    #expect(runes.format("héllo\tx\nh\ty\n") == "héllo.x\nh.....y\n")
    let huge = TabWriter(minWidth: Int.max, tabWidth: Int.max, padding: Int.max, padChar: "\t")
    #expect(huge.minWidth == 65536 && huge.tabWidth == 65536)
    #expect(huge.format("a\tb\n") == "a\t\tb\n")
}
