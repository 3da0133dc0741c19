import Foundation
import OCICore

/// The inputs of `../shared/crashers/` (archives that crashed or hung
/// ocitool), read from its README table, and a way to run the CLI on them
/// with a time limit, telling a clean exit from a signal or a hang.
public enum Crashers {
    /// `<repo>/../shared/crashers`.
    public static let dir: String = URL(fileURLWithPath: Fixtures.repoRoot + "/../shared/crashers").standardizedFileURL.path

    /// One row of the README table: a file (or glob) and the ocitool
    /// commands it was reported against.
    public struct Row: Sendable {
        public var pattern: String
        /// Each command as words, `ocitool` dropped (`["unpack", "--max-bytes", "2G", "F", "DIR"]`).
        public var commands: [[String]]
    }

    /// The table of the README; empty when the folder is missing.
    public static var rows: [Row] {
        guard let text = try? String(contentsOfFile: dir + "/README.md", encoding: .utf8) else { return [] }
        var out: [Row] = []
        var previous: [[String]] = []
        for line in text.split(separator: "\n") where line.hasPrefix("| ") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 4, cells[1] != "file", !cells[1].hasPrefix("---") else { continue }
            var commands: [[String]] = []
            let parts = cells[2].split(separator: "`", omittingEmptySubsequences: false)
            for (i, part) in parts.enumerated() where i % 2 == 1 {
                var words = part.split(separator: " ").map(String.init)
                if words.first == "ocitool" { words.removeFirst() }
                if !words.isEmpty { commands.append(words) }
            }
            if commands.isEmpty && cells[2].hasPrefix("same") { commands = previous }
            previous = commands
            out.append(Row(pattern: cells[1], commands: commands))
        }
        return out
    }

    /// Union-view verbs, whose crashers the layer tests replay.
    public static let unionVerbs: Set<String> = ["unpack", "export", "squash"]

    /// Files of the folder matching a row whose commands include a union
    /// verb, with those commands; sorted by name.
    public static var unionCases: [(file: String, commands: [[String]])] {
        let names = ((try? FS.listDirectory(dir)) ?? []).sorted()
        var out: [(String, [[String]])] = []
        for row in rows {
            let verbs = row.commands.filter { unionVerbs.contains($0.first ?? "") }
            guard !verbs.isEmpty else { continue }
            let matching: [String]
            if row.pattern.contains("*") {
                let parts = row.pattern.split(separator: "*", maxSplits: 1).map(String.init)
                matching = names.filter { $0.hasPrefix(parts[0]) && $0.hasSuffix(parts.count > 1 ? parts[1] : "") }
            } else {
                matching = names.filter { $0 == row.pattern }
            }
            for m in matching { out.append((m, verbs)) }
        }
        return out.sorted { $0.0 < $1.0 }
    }

    /// How a run ended.
    public enum Ending: Equatable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)
        case timedOut

        public var description: String {
            switch self {
            case let .exited(c): return "exit \(c)"
            case let .signaled(s): return "signal \(s)"
            case .timedOut: return "no exit within the time limit"
            }
        }
    }

    /// Runs `ocitool args…` under `timeout(1)`, through `sh` so that a
    /// death by signal shows as the shell's 128+N status.
    public static func runCLI(_ args: [String], seconds: Int = 10) throws -> (ending: Ending, result: Shell.Result) {
        let r = try Shell.run(["sh", "-c", "timeout -k 2 \(seconds) \"$@\"", "sh", OCIToolBinary.path] + args)
        let ending: Ending
        switch r.status {
        case 124, 137: ending = .timedOut
        case 129...191: ending = .signaled(r.status - 128)
        default: ending = .exited(r.status)
        }
        return (ending, r)
    }

    /// The error lines of a failed run: lines of stderr that are not
    /// warnings or progress.
    public static func errorLines(_ stderr: String) -> [String] {
        stderr.split(separator: "\n").map(String.init).filter { !$0.lowercased().hasPrefix("warning") && !$0.isEmpty }
    }
}
