/// What a list verb's `--format` value asks for, read the way docker's
/// `formatter.Format` reads it.
public enum DockerFormat: Sendable, Equatable {
    /// The verb's default table: no `--format`, an empty one, or exactly `table`.
    case defaultTable
    /// `table TEMPLATE` (anything starting with `table`): a header row, then
    /// one row per item, aligned in columns.
    case table(String)
    /// `json`: one JSON object per item and line (docker's `{{json .}}`).
    case json
    /// Any other text: the template, executed once per item, each followed by a newline.
    case template(String)

    /// Reads a `--format` value.
    /// - Parameter format: the user's value, or `nil` when the option was not given.
    public init(_ format: String?) {
        guard let format, !format.isEmpty, format != "table" else {
            self = .defaultTable
            return
        }
        if format == "json" {
            self = .json
        } else if format.hasPrefix("table") {
            self = .table(String(format.dropFirst("table".count)))
        } else {
            self = .template(format)
        }
    }

    /// Whether output is a table with a header row.
    public var isTable: Bool {
        switch self {
        case .defaultTable, .table: return true
        case .json, .template: return false
        }
    }

    /// The template text docker executes per row: the `table` prefix removed,
    /// spaces trimmed, and the two-character sequences `\t` and `\n` turned
    /// into a tab and a newline (so shell-quoted formats work).
    /// - Parameter defaultTable: the verb's default, with or without its `table ` prefix.
    public func rowTemplate(defaultTable: String) -> String {
        let body: String
        switch self {
        case .defaultTable:
            body = defaultTable.hasPrefix("table") ? String(defaultTable.dropFirst("table".count)) : defaultTable
        case let .table(text), let .template(text):
            body = text
        case .json:
            body = "{{json .}}"
        }
        let trimmed = body.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()
        return String(trimmed).replacingEscapes()
    }
}

extension String {
    /// docker's `strings.NewReplacer(`\t`, "\t", `\n`, "\n")`, left to right.
    fileprivate func replacingEscapes() -> String {
        var out = ""
        var chars = self[...]
        while let c = chars.first {
            if c == "\\", let next = chars.dropFirst().first, next == "t" || next == "n" {
                out.append(next == "t" ? "\t" : "\n")
                chars = chars.dropFirst(2)
            } else {
                out.append(c)
                chars = chars.dropFirst()
            }
        }
        return out
    }
}
