import ArgumentParser

/// What `OCIToolMain` does to the command line before ArgumentParser reads
/// it, so that docker-shaped command lines work:
///
/// - global options before the verb (`ocitool --root DIR images`) move to
///   after the verb (and after `image SUB`), where the verb's own
///   `--root` reads them (ArgumentParser only takes a parent's options
///   after the parent, not a child's before it);
/// - Go-style boolean flags with a value (`-H=false`, `--no-trunc=true`,
///   `-a=false`) become ArgumentParser's (`--no-human`, `--no-trunc`, nothing);
/// - an unknown verb is a usage error with cobra's "did you mean" suggestions.
///
/// Completion requests (`---completion`, `--generate-completion-script`)
/// pass through unchanged.
enum CommandLineNormalizer {
    /// docker's boolean flags that default to true: `name=false` → `--no-NAME`.
    static let trueByDefault: [String: String] = ["H": "human", "human": "human"]
    /// docker's boolean flags that default to false, and the verbs where a short one is boolean.
    static let falseByDefault: Set<String> = ["a", "all", "q", "quiet", "digests", "no-trunc", "force", "no-prune"]
    static let forceVerbs: Set<String> = ["prune", "rmi", "rm", "remove"]

    static func normalize(_ arguments: [String]) throws -> [String] {
        if arguments.first?.hasPrefix("---") == true || arguments.contains("--generate-completion-script")
            || arguments.contains("--experimental-dump-help") {
            return arguments
        }
        var globals: [String] = []
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if a == "--root" {
                guard i + 1 < arguments.count else { throw UsageError("--root needs a directory") }
                globals += [a, arguments[i + 1]]
                i += 2
            } else if a.hasPrefix("--root=") {
                globals.append(a)
                i += 1
            } else {
                break
            }
        }
        var rest = Array(arguments[i...])
        guard let verb = rest.first, !verb.hasPrefix("-") else { return rest.isEmpty && !globals.isEmpty ? [] : rest }
        var path = 1
        try check(verb, among: verbNames(OCIToolCommand.configuration.subcommands), parent: "ocitool")
        if verb == "image", rest.count > 1, !rest[1].hasPrefix("-") {
            try check(rest[1], among: verbNames(ImageGroupCommand.configuration.subcommands), parent: "ocitool image")
            path = 2
        }
        if verb == "help" || (verb == "image" && path == 1) { globals = [] }
        rest.insert(contentsOf: globals, at: path)
        let leaf = rest[path - 1]
        return rewriteBooleans(rest, from: path + globals.count, verb: leaf)
    }

    /// Names and aliases of `commands`, with `help`.
    static func verbNames(_ commands: [ParsableCommand.Type]) -> [String] {
        var names = ["help"]
        for c in commands {
            let conf = c.configuration
            if let n = conf.commandName { names.append(n) }
            names += conf.aliases
        }
        return names
    }

    /// Throws for a verb that is not one of `names`, suggesting close ones.
    static func check(_ verb: String, among names: [String], parent: String) throws {
        guard !names.contains(verb) else { return }
        let close = suggestions(for: verb, among: names)
        switch close.count {
        case 0: throw UsageError("unknown command \"\(verb)\" for \"\(parent)\"; run '\(parent) --help' for the list")
        case 1: throw UsageError("unknown command \"\(verb)\" for \"\(parent)\"; did you mean \"\(close[0])\"?")
        default: throw UsageError("unknown command \"\(verb)\" for \"\(parent)\"; did you mean one of: \(close.joined(separator: ", "))?")
        }
    }

    /// cobra's rule: within 2 edits, or a name the typed word starts (case-insensitive).
    static func suggestions(for typed: String, among names: [String]) -> [String] {
        let t = typed.lowercased()
        var out: [String] = []
        for n in names where n != "help" {
            let l = n.lowercased()
            if levenshtein(t, l) <= 2 || (!t.isEmpty && l.hasPrefix(t)) {
                if !out.contains(n) { out.append(n) }
            }
        }
        return out
    }

    static func levenshtein(_ a: String, _ b: String) -> Int {
        let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var previous = Array(0...y.count)
        for i in 1...x.count {
            var current = [i] + Array(repeating: 0, count: y.count)
            for j in 1...y.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[y.count]
    }

    /// `-H=false` → `--no-human`, `--all=true` → `--all`, `--all=false` → (nothing); up to `--`.
    static func rewriteBooleans(_ args: [String], from start: Int, verb: String) -> [String] {
        var out = Array(args[..<min(start, args.count)])
        var passthrough = false
        for a in args.dropFirst(start) {
            if passthrough || a == "--" {
                passthrough = true
                out.append(a)
                continue
            }
            guard a.hasPrefix("-"), let eq = a.firstIndex(of: "=") else {
                out.append(a)
                continue
            }
            let name = String(a[..<eq].drop { $0 == "-" })
            let value = a[a.index(after: eq)...].lowercased()
            guard value == "true" || value == "false" else {
                out.append(a)
                continue
            }
            let dashes = a.hasPrefix("--") ? "--" : "-"
            if let long = trueByDefault[name] {
                out.append(value == "true" ? "--\(long)" : "--no-\(long)")
            } else if falseByDefault.contains(name) || (name == "f" && forceVerbs.contains(verb)) {
                if value == "true" { out.append(dashes + name) }
            } else {
                out.append(a)
            }
        }
        return out
    }
}
