/// Limits and switches for one template execution.
public struct TemplateOptions: Sendable, Equatable {
    /// What a missing map key yields (Go's `Option("missingkey=…")`).
    public enum MissingKey: Sendable, Equatable {
        /// "No value": prints `<no value>`, is false (Go's default).
        case `default`
        /// The map's zero element (``TemplateObject/Kind/map(elementZero:)``), else no value.
        case zero
        /// An execution error `map has no entry for key "K"` (docker's raw inspect fallback).
        case error
    }

    /// Missing map key behaviour.
    public var missingKey: MissingKey
    /// Largest output, and largest string a function may build, in bytes.
    public var maxOutputBytes: Int
    /// Largest number of nodes and commands one execution may evaluate.
    public var maxSteps: Int
    /// Deepest nesting of `{{template}}` calls (all nesting of control
    /// structures, template calls and parentheses is also capped at 50 levels).
    public var maxTemplateDepth: Int
    /// Whether `json` escapes `<`, `>`, `&` as `\u003c` etc. (Go's
    /// `json.Marshal` default); docker's `json` function does not.
    public var jsonEscapesHTML: Bool

    /// Options with docker's behaviour and generous bounds.
    public init(
        missingKey: MissingKey = .default, maxOutputBytes: Int = 16 << 20, maxSteps: Int = 10_000_000,
        maxTemplateDepth: Int = 40, jsonEscapesHTML: Bool = false
    ) {
        self.missingKey = missingKey
        self.maxOutputBytes = maxOutputBytes
        self.maxSteps = maxSteps
        self.maxTemplateDepth = maxTemplateDepth
        self.jsonEscapesHTML = jsonEscapesHTML
    }
}

/// A parsed Go text/template, ready to execute against ``TemplateValue`` data.
///
/// Supports the language docker users write: text and actions, `{{- ` / ` -}}`
/// trimming, comments, pipelines, fields, variables, `if`/`else if`/`else`,
/// `range` (with `else`, `break`, `continue`), `with`, `define`/`template`/
/// `block`, literals, parentheses, and the functions of a
/// ``TemplateFunctions`` set (docker's by default).
///
/// ```swift
/// let t = try Template("{{.Repository}}:{{.Tag}}")
/// let line = try t.render(.structure("image", [("Repository", "busybox"), ("Tag", "latest")]))
/// ```
public struct Template: Sendable {
    /// The template text as given.
    public let text: String
    let parsed: ParsedTemplate
    let functions: TemplateFunctions
    let lineStarts: [Int]

    /// Parses `text`.
    /// - Parameters:
    ///   - text: the template source.
    ///   - functions: the functions the template may call (checked now, as Go does).
    /// - Throws: ``TemplateError/parse(line:message:)``, e.g.
    ///   `template: :1: function "foo" not defined` or `template: :1: unclosed action`.
    public init(_ text: String, functions: TemplateFunctions = .docker) throws {
        self.text = text
        self.functions = functions
        parsed = try TemplateParser.parse(text, functionNames: functions.names)
        var starts = [0]
        for (i, b) in text.utf8.enumerated() where b == 0x0A { starts.append(i + 1) }
        lineStarts = starts
    }

    /// Executes the template with `data` as dot (and `$`).
    /// - Parameters:
    ///   - data: the value the template formats.
    ///   - options: missing-key behaviour and resource limits.
    /// - Returns: the output text.
    /// - Throws: ``TemplateError/execution(line:column:context:message:)`` (e.g.
    ///   `can't evaluate field Foo in type image`) or ``TemplateError/limit(_:)``.
    public func render(_ data: TemplateValue, options: TemplateOptions = TemplateOptions()) throws -> String {
        let (output, failure) = run(data, options: options, functions: functions)
        if let failure { throw failure }
        return output
    }

    /// Executes and returns whatever was written before any error, and the error.
    func run(_ data: TemplateValue?, options: TemplateOptions, functions: TemplateFunctions) -> (String, TemplateError?) {
        var executor = TemplateExecutor(template: self, options: options, functions: functions, data: data)
        do {
            _ = try executor.walk(data, parsed.root)
            return (executor.output, nil)
        } catch let error as TemplateError {
            return (executor.output, error)
        } catch {
            return (executor.output, .limit("\(error)"))
        }
    }

    /// 1-based line and 0-based byte column of a byte offset, as Go reports them.
    func location(of pos: Int) -> (line: Int, column: Int) {
        var low = 0, high = lineStarts.count
        while low < high {
            let mid = (low + high) / 2
            if lineStarts[mid] <= pos { low = mid + 1 } else { high = mid }
        }
        let line = max(low, 1)
        return (line, pos - lineStarts[line - 1])
    }
}
