/// Errors from parsing or executing a template, worded like Go's
/// text/template (and so like the docker CLI) on a single line.
///
/// The CLI maps ``parse(line:message:)`` and ``execution(line:column:context:message:)``
/// to a usage error (docker exits 64 for a bad `--format`).
public enum TemplateError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The template text is malformed at `line` (1-based).
    case parse(line: Int, message: String)
    /// Executing the action `context` at `line`:`column` failed
    /// (`column` is the 0-based byte offset in the line, as Go reports it).
    case execution(line: Int, column: Int, context: String, message: String)
    /// A resource bound (output size, steps, template depth) was exceeded.
    case limit(String)
    /// Input data could not be turned into a value tree or encoded.
    case badData(String)

    /// The one-line message, e.g.
    /// `template: :1:2: executing "" at <.Foo>: can't evaluate field Foo in type image`.
    public var description: String {
        switch self {
        case let .parse(line, message):
            return "template: :\(line): \(message)"
        case let .execution(line, column, context, message):
            return "template: :\(line):\(column): executing \"\" at <\(context)>: \(message)"
        case let .limit(message):
            return "template: \(message)"
        case let .badData(message):
            return "template data: \(message)"
        }
    }

    /// The message without the location prefix.
    public var message: String {
        switch self {
        case let .parse(_, message), let .execution(_, _, _, message), let .limit(message), let .badData(message):
            return message
        }
    }
}

/// An error raised while calling a function; the executor adds the location.
struct FunctionError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
