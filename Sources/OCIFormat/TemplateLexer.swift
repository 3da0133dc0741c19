/// Splits a template into tokens the way Go's text/template/parse lexer does:
/// text, `{{`/`}}` with `{{- ` and ` -}}` trimming, comments `{{/* */}}`,
/// and the items inside actions. A lexical error becomes a final `.error`
/// token, so the parser reports earlier syntax errors first, as Go does.
struct TemplateLexer {
    private let source: TemplateSource
    private var bytes: [UInt8] { source.bytes }
    private let newlines: [Int]
    private var tokens: [TemplateToken] = []
    private var pos = 0

    static func tokenize(_ text: String) -> [TemplateToken] {
        var lexer = TemplateLexer(bytes: Array(text.utf8))
        lexer.run()
        return lexer.tokens
    }

    private init(bytes: [UInt8]) {
        source = TemplateSource(bytes: bytes)
        newlines = bytes.indices.filter { bytes[$0] == 0x0A }
    }

    // MARK: helpers

    /// 1-based line of a byte offset.
    func line(at offset: Int) -> Int {
        var low = 0, high = newlines.count
        while low < high {
            let mid = (low + high) / 2
            if newlines[mid] < offset { low = mid + 1 } else { high = mid }
        }
        return low + 1
    }

    private func text(_ start: Int, _ end: Int) -> String { source.text(start, end) }

    private mutating func emit(_ kind: TemplateToken.Kind, _ start: Int, _ end: Int) {
        tokens.append(TemplateToken(kind: kind, text: text(start, end), pos: start, line: line(at: start)))
    }

    private mutating func fail(_ message: String, at start: Int) {
        tokens.append(TemplateToken(kind: .error, text: message, pos: start, line: line(at: start)))
    }

    private func hasPrefix(_ s: StaticString, at p: Int) -> Bool { source.hasPrefix(s, at: p) }

    private func find(_ s: StaticString, from p: Int) -> Int? {
        let first = s.withUTF8Buffer { $0[0] }
        var i = p
        while let j = bytes[min(i, bytes.count)...].firstIndex(of: first) {
            if hasPrefix(s, at: j) { return j }
            i = j + 1
        }
        return nil
    }

    /// `- ` right after `{{`.
    private func hasLeftTrimMarker(_ p: Int) -> Bool {
        p + 1 < bytes.count && bytes[p] == UInt8(ascii: "-") && LexClass.isSpace(bytes[p + 1])
    }

    /// Whether `}}` (or ` -}}`) starts at `p`, and whether it trims.
    private func atRightDelim(_ p: Int) -> (delim: Bool, trim: Bool) {
        if p + 1 < bytes.count, LexClass.isSpace(bytes[p]), bytes[p + 1] == UInt8(ascii: "-"), hasPrefix("}}", at: p + 2) {
            return (true, true)
        }
        return (hasPrefix("}}", at: p), false)
    }

    private func skipSpaces(from p: Int) -> Int {
        var p = p
        while p < bytes.count, LexClass.isSpace(bytes[p]) { p += 1 }
        return p
    }

    // MARK: states

    private mutating func run() {
        while lexText(), lexAction() {}
    }

    /// Text up to the next action; handles comments. False when done.
    private mutating func lexText() -> Bool {
        while true {
            guard let x = find("{{", from: pos) else {
                if pos < bytes.count { emit(.text, pos, bytes.count) }
                emit(.eof, bytes.count, bytes.count)
                return false
            }
            let trimLeft = hasLeftTrimMarker(x + 2)
            var textEnd = x
            if trimLeft {
                while textEnd > pos, LexClass.isSpace(bytes[textEnd - 1]) { textEnd -= 1 }
            }
            if textEnd > pos { emit(.text, pos, textEnd) }
            let inner = x + 2 + (trimLeft ? 2 : 0)
            guard hasPrefix("/*", at: inner) else {
                emit(.leftDelim, x, x + 2)
                pos = inner
                return true
            }
            guard let close = find("*/", from: inner + 2) else {
                fail("unclosed comment", at: inner)
                return false
            }
            let (delim, trim) = atRightDelim(close + 2)
            guard delim else {
                fail("comment ends before closing delimiter", at: inner)
                return false
            }
            pos = close + 2 + (trim ? 2 : 0) + 2
            if trim { pos = skipSpaces(from: pos) }
        }
    }

    /// Items inside one action, through its `}}`. False on error.
    private mutating func lexAction() -> Bool {
        var parenDepth = 0
        while true {
            let (delim, trim) = atRightDelim(pos)
            if delim {
                guard parenDepth == 0 else {
                    fail("unclosed left paren", at: pos)
                    return false
                }
                let start = trim ? pos + 2 : pos
                emit(.rightDelim, start, start + 2)
                pos = trim ? skipSpaces(from: start + 2) : start + 2
                return true
            }
            guard pos < bytes.count else {
                fail("unclosed action", at: pos)
                return false
            }
            let start = pos
            let b = bytes[pos]
            if LexClass.isSpace(b) {
                var end = skipSpaces(from: pos)
                if end - 1 > start, bytes.count > end, bytes[end] == UInt8(ascii: "-"), hasPrefix("}}", at: end + 1) {
                    end -= 1 // the last space belongs to " -}}"
                }
                emit(.space, start, end)
                pos = end
                continue
            }
            guard lexItem(start: start, byte: b, parenDepth: &parenDepth) else { return false }
        }
    }
}

extension TemplateLexer {
    /// Lexes one non-space item at `start`. False on error.
    fileprivate mutating func lexItem(start: Int, byte b: UInt8, parenDepth: inout Int) -> Bool {
        let scan = TemplateScanner(source: source)
        let result: (TemplateToken.Kind, Int)
        switch b {
        case UInt8(ascii: "="): result = (.assign, start + 1)
        case UInt8(ascii: ":"):
            guard start + 1 < bytes.count, bytes[start + 1] == UInt8(ascii: "=") else {
                fail("expected :=", at: start)
                return false
            }
            result = (.declare, start + 2)
        case UInt8(ascii: "|"): result = (.pipe, start + 1)
        case UInt8(ascii: "("):
            parenDepth += 1
            result = (.leftParen, start + 1)
        case UInt8(ascii: ")"):
            parenDepth -= 1
            guard parenDepth >= 0 else {
                fail("unexpected right paren U+0029 ')'", at: start)
                return false
            }
            result = (.rightParen, start + 1)
        default:
            switch scan.item(at: start) {
            case let .success(item): result = item
            case let .failure(message):
                fail(message.text, at: start)
                return false
            }
        }
        emit(result.0, start, result.1)
        pos = result.1
        return true
    }
}
