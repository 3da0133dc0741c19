import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writing to stdout and stderr; stdout carries data only.
enum Console {
    static func out(_ s: String) { write(Array((s + "\n").utf8), to: 1) }

    static func err(_ s: String) { write(Array((s + "\n").utf8), to: 2) }

    /// A prompt on stderr, without a newline.
    static func errNoNewline(_ s: String) { write(Array(s.utf8), to: 2) }

    /// Writes raw bytes to stdout (a document printed as stored).
    static func outRaw(_ bytes: [UInt8]) { write(bytes, to: 1) }

    /// Writes everything, retrying short writes. A reader that went away
    /// (EPIPE) ends the process as SIGPIPE would, with status 141 and no
    /// message; other errors are ignored on stderr and end the process
    /// with status 1 on stdout.
    private static func write(_ bytes: [UInt8], to fd: Int32) {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return Glibc.write(fd, base + off, raw.count - off)
            }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                if fd == 2 { return }
                _exit(errno == EPIPE ? 128 + SIGPIPE : 1)
            }
            off += n
        }
    }

    static var stderrIsTerminal: Bool { isatty(2) == 1 }
    static var stdoutIsTerminal: Bool { isatty(1) == 1 }
    static var stdinIsTerminal: Bool { isatty(0) == 1 }

    /// Is stdout a pipe (this process feeds another one)?
    static var stdoutIsPipe: Bool {
        var st = stat()
        return fstat(1, &st) == 0 && (st.st_mode & S_IFMT) == S_IFIFO
    }

    /// Can stderr's terminal move the cursor (`TERM` set and not `dumb`)?
    static var cursorControl: Bool {
        guard let term = ProcessInfo.processInfo.environment["TERM"], !term.isEmpty else { return false }
        return term != "dumb"
    }

    /// A table with columns padded like docker's (3 spaces between).
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            var s = ""
            for (i, c) in cells.enumerated() {
                s += c
                if i < cells.count - 1 { s += String(repeating: " ", count: widths[i] - c.count + 3) }
            }
            return s
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }

    /// Pretty JSON (sorted keys, no escaped slashes).
    static func json(_ object: Any) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data("null".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// Compact JSON for one-object-per-line output.
    static func jsonLine(_ object: Any) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("null".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
