/// One Dockerfile-style change to an image config, as `docker commit -c`
/// takes them: `CMD`, `ENTRYPOINT`, `ENV`, `EXPOSE`, `LABEL`, `USER`,
/// `WORKDIR`, `VOLUME`, `STOPSIGNAL`, `ONBUILD`.
public enum ConfigChange: Equatable, Sendable {
    case cmd([String])
    case entrypoint([String])
    case env([(String, String)])
    case expose([String])
    case label([(String, String)])
    case user(String)
    case workdir(String)
    case volume([String])
    case stopSignal(String)
    case onBuild(String)

    public static func == (a: ConfigChange, b: ConfigChange) -> Bool {
        switch (a, b) {
        case let (.cmd(x), .cmd(y)), let (.entrypoint(x), .entrypoint(y)), let (.expose(x), .expose(y)), let (.volume(x), .volume(y)):
            return x == y
        case let (.env(x), .env(y)), let (.label(x), .label(y)):
            return x.map(\.0) == y.map(\.0) && x.map(\.1) == y.map(\.1)
        case let (.user(x), .user(y)), let (.workdir(x), .workdir(y)), let (.stopSignal(x), .stopSignal(y)), let (.onBuild(x), .onBuild(y)):
            return x == y
        default:
            return false
        }
    }

    /// Parses one instruction, e.g. `CMD ["nginx", "-g", "daemon off;"]`,
    /// `CMD echo hi` (shell form: `/bin/sh -c`), `ENV A=1 B="two words"`,
    /// `ENV A 1`, `EXPOSE 80 443/udp`, `LABEL a=b`, `VOLUME ["/data"]`.
    public init(parsing line: String) throws {
        let trimmed = line.trimmingWhitespace()
        let keywordEnd = trimmed.firstIndex(where: { $0 == " " || $0 == "\t" }) ?? trimmed.endIndex
        let keyword = trimmed[..<keywordEnd].uppercased()
        let rest = String(trimmed[keywordEnd...]).trimmingWhitespace()
        func bad(_ why: String) -> ModelError { ModelError.invalid("change \"\(line)\"", why) }
        switch keyword {
        case "CMD", "ENTRYPOINT":
            let argv = try Self.execOrShell(rest, shell: ["/bin/sh", "-c"])
            self = keyword == "CMD" ? .cmd(argv) : .entrypoint(argv)
        case "ENV":
            let pairs = try Self.keyValues(rest, allowSpaceForm: true)
            guard !pairs.isEmpty else { throw bad("ENV needs NAME=VALUE") }
            self = .env(pairs)
        case "LABEL":
            let pairs = try Self.keyValues(rest, allowSpaceForm: false)
            guard !pairs.isEmpty else { throw bad("LABEL needs KEY=VALUE") }
            self = .label(pairs)
        case "EXPOSE":
            let ports = try Self.words(rest)
            guard !ports.isEmpty else { throw bad("EXPOSE needs a port") }
            self = .expose(try ports.map { p in
                let parts = p.split(separator: "/", maxSplits: 1).map(String.init)
                guard let port = parts.first, !port.isEmpty, port.allSatisfy({ $0.isNumber || $0 == "-" }) else { throw bad("bad port \"\(p)\"") }
                let proto = parts.count > 1 ? parts[1].lowercased() : "tcp"
                guard ["tcp", "udp", "sctp"].contains(proto) else { throw bad("bad protocol \"\(proto)\"") }
                return "\(port)/\(proto)"
            })
        case "USER":
            guard !rest.isEmpty else { throw bad("USER needs a user") }
            self = .user(rest)
        case "WORKDIR":
            guard !rest.isEmpty else { throw bad("WORKDIR needs a path") }
            self = .workdir(rest)
        case "VOLUME":
            let vols = rest.hasPrefix("[") ? try Self.jsonArray(rest) : try Self.words(rest)
            guard !vols.isEmpty else { throw bad("VOLUME needs a path") }
            self = .volume(vols)
        case "STOPSIGNAL":
            guard !rest.isEmpty else { throw bad("STOPSIGNAL needs a signal") }
            self = .stopSignal(rest)
        case "ONBUILD":
            guard !rest.isEmpty else { throw bad("ONBUILD needs an instruction") }
            let inner = rest.split(separator: " ").first.map { $0.uppercased() } ?? ""
            guard !["ONBUILD", "FROM", "MAINTAINER"].contains(inner) else { throw bad("\(inner) is not allowed in ONBUILD") }
            self = .onBuild(rest)
        default:
            throw bad("unknown instruction \"\(keyword)\" (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR, VOLUME, STOPSIGNAL, ONBUILD)")
        }
    }

    /// The exec (JSON) form, or the shell form. docker's parser silently
    /// falls back to the shell form for any `[…` text that is not JSON, so a
    /// typo such as `CMD ["/app` becomes `/bin/sh -c '["/app'`; ocitool
    /// refuses text that starts like a JSON array (`[` then `"` or `]`) but
    /// does not parse, and keeps docker's shell form for the rest (`[ -f x ] && run`).
    static func execOrShell(_ s: String, shell: [String]) throws -> [String] {
        if s.hasPrefix("[") {
            if let a = try? jsonArray(s) { return a }
            let next = s.dropFirst().first { $0 != " " && $0 != "\t" }
            if next == "\"" || next == "]" || next == nil {
                do { _ = try jsonArray(s) } catch {
                    throw ModelError.invalid(s, "starts as the JSON (exec) form but is not a JSON array of strings (\(Self.jsonProblem(s))); quote it as JSON, e.g. [\"/bin/app\", \"--flag\"], or write the shell form without the leading [")
                }
            }
        }
        guard !s.isEmpty else { return [] }
        return shell + [s]
    }

    /// What is wrong with `s` as a JSON array of strings, in a few words.
    static func jsonProblem(_ s: String) -> String {
        var inString = false, escaped = false, depth = 0
        for c in s {
            if inString {
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
                continue
            }
            if c == "\"" { inString = true } else if c == "[" { depth += 1 } else if c == "]" { depth -= 1 }
        }
        if inString { return "unterminated string" }
        if depth > 0 { return "missing ]" }
        if depth < 0 { return "unbalanced ]" }
        return "not only strings, or text after ]"
    }

    static func jsonArray(_ s: String) throws -> [String] {
        guard let arr = try CanonicalJSON.object(from: Array(s.utf8), what: "JSON array") as? [Any],
              arr.allSatisfy({ $0 is String }) else {
            throw ModelError.invalid("\(s)", "expected a JSON array of strings")
        }
        return arr.compactMap { $0 as? String }
    }

    /// Splits on white space, honouring double and single quotes and backslash escapes.
    static func words(_ s: String) throws -> [String] {
        var out: [String] = []
        var cur = ""
        var inWord = false
        var quote: Character?
        var escape = false
        for c in s {
            if escape { cur.append(c); escape = false; inWord = true; continue }
            if c == "\\" && quote != "'" { escape = true; continue }
            if let q = quote {
                if c == q { quote = nil } else { cur.append(c) }
                continue
            }
            if c == "\"" || c == "'" { quote = c; inWord = true; continue }
            if c == " " || c == "\t" {
                if inWord { out.append(cur); cur = ""; inWord = false }
                continue
            }
            cur.append(c)
            inWord = true
        }
        guard quote == nil else { throw ModelError.invalid("\"\(s)\"", "unterminated quote") }
        if inWord { out.append(cur) }
        return out
    }

    /// `K=V K2="v 2"`, or (ENV only) the legacy `K V with spaces`.
    static func keyValues(_ s: String, allowSpaceForm: Bool) throws -> [(String, String)] {
        let ws = try words(s)
        if allowSpaceForm, let first = ws.first, !first.contains("=") {
            let value = s.trimmingWhitespace().dropFirst(first.count).description.trimmingWhitespace()
            return [(first, value)]
        }
        return try ws.map { w in
            guard let eq = w.firstIndex(of: "="), eq != w.startIndex else {
                throw ModelError.invalid("\"\(w)\"", "expected KEY=VALUE")
            }
            return (String(w[..<eq]), String(w[w.index(after: eq)...]))
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\n" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" || l == "\r" { s.removeLast() }
        return String(s)
    }
}
