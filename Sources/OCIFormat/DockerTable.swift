/// Renders a list verb's items (`images`, `history`, …) the way docker's
/// `formatter.Context.Write` does, for the three kinds of `--format`:
///
/// - table (``DockerFormat/defaultTable`` or `table …`): the header row is
///   the same template executed against the verb's header map with docker's
///   header functions (so `{{.ID}}` becomes `IMAGE ID`, `{{.Size}}` `SIZE`;
///   a field without a header shows `<no value>`), then one row per item,
///   all aligned with ``TabWriter/docker``. The header is printed even when
///   there are no items.
/// - ``DockerFormat/json``: `{{json .}}` per item; struct-like rows are
///   written with sorted keys, as docker marshals its row objects as maps.
/// - ``DockerFormat/template(_:)``: the template per item, each plus `\n`.
///
/// ```swift
/// let table = try DockerTable(format: "table {{.ID}}\t{{.Size}}",
///                             defaultTable: "table {{.Repository}}\t{{.Tag}}",
///                             headers: ["ID": "IMAGE ID", "Size": "SIZE"])
/// print(try table.render(rows), terminator: "")
/// ```
public struct DockerTable: Sendable {
    /// The parsed `--format` value.
    public let format: DockerFormat
    /// The template executed for each row (see ``DockerFormat/rowTemplate(defaultTable:)``).
    public let template: Template
    /// Column headers by field name.
    public let headers: [String: String]
    /// Execution options (limits, missing-key behaviour).
    public let options: TemplateOptions

    /// Parses the format once.
    /// - Parameters:
    ///   - format: the user's `--format` value, or `nil` when not given.
    ///   - defaultTable: the verb's default table format, e.g.
    ///     `"table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"`.
    ///   - headers: header text per field name, e.g. `["ID": "IMAGE ID"]`.
    ///   - options: limits and missing-key behaviour for every row.
    /// - Throws: ``TemplateError/parse(line:message:)`` for a bad template
    ///   (docker reports it as `template parsing error: …` and exits 64).
    public init(format: String?, defaultTable: String, headers: [String: String], options: TemplateOptions = TemplateOptions()) throws {
        self.init(parsed: DockerFormat(format), template: try Template(DockerFormat(format).rowTemplate(defaultTable: defaultTable)),
                  headers: headers, options: options)
    }

    private init(parsed: DockerFormat, template: Template, headers: [String: String], options: TemplateOptions) {
        format = parsed
        self.template = template
        self.headers = headers
        self.options = options
    }

    /// The whole output for `rows`: every line ends with a newline; an empty
    /// list gives only the header (tables) or nothing.
    /// - Throws: ``TemplateError`` from the first row that fails; nothing is
    ///   produced in that case, as docker prints nothing.
    public func render(_ rows: [TemplateValue]) throws -> String {
        var body = ""
        for row in rows {
            body += try template.render(format == .json ? Self.sortedKeys(row) : row, options: options) + "\n"
        }
        guard format.isTable else { return body }
        var entries: [String: TemplateValue] = [:]
        for (key, value) in headers { entries[key] = .string(value) }
        let (header, _) = template.run(.map(entries, elementZero: ""), options: options, functions: .dockerHeader)
        return TabWriter.docker.format(header + "\n" + body)
    }

    /// The header line alone (aligned as a one-line table), e.g. for a verb
    /// that streams rows. Errors while rendering it are ignored, as docker does.
    public func headerLine() -> String {
        guard format.isTable else { return "" }
        var entries: [String: TemplateValue] = [:]
        for (key, value) in headers { entries[key] = .string(value) }
        return template.run(.map(entries, elementZero: ""), options: options, functions: .dockerHeader).0
    }

    private static func sortedKeys(_ row: TemplateValue) -> TemplateValue {
        guard case let .object(object) = row, object.isStructure else { return row }
        var entries: [String: TemplateValue] = [:]
        for (key, value) in object.entries { entries[key] = value }
        return .map(entries)
    }
}
