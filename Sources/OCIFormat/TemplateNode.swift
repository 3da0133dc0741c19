/// A node of a parsed template (Go's text/template/parse tree, with
/// `if … else if …` chains flattened so neither parsing nor execution
/// recurses once per `else if`).
indirect enum TemplateNode: Sendable {
    /// Literal text, copied to the output.
    case text(String)
    /// `{{pipeline}}`: printed unless it declares variables.
    case action(TemplatePipeline)
    /// `{{if}}`/`{{with}}` with its `else if`/`else with` clauses and final `{{else}}`.
    case conditional(ConditionalKind, [TemplateClause], elseList: [TemplateNode]?)
    /// `{{range pipeline}} body {{else}} elseList {{end}}`.
    case range(TemplatePipeline, body: [TemplateNode], elseList: [TemplateNode]?)
    /// `{{template "name" pipeline}}` (also what `{{block}}` leaves in place).
    case template(TemplateCall)
    /// `{{break}}` inside a range.
    case breakLoop
    /// `{{continue}}` inside a range.
    case continueLoop
}

/// `if` tests its pipeline; `with` also sets dot to it.
enum ConditionalKind: String, Sendable {
    case `if`, with
}

/// One `{{if pipeline}} body` (or `else if`) clause.
struct TemplateClause: Sendable {
    let pipeline: TemplatePipeline
    let body: [TemplateNode]
}

/// A `{{template}}` invocation.
struct TemplateCall: Sendable, CustomStringConvertible {
    let pos: Int
    let name: String
    let pipeline: TemplatePipeline?

    var description: String {
        let pipe = pipeline.map { " \($0)" } ?? ""
        return "{{template \(GoQuote.quote(name))\(pipe)}}"
    }
}

/// `$x := cmd | cmd …`: optional declarations and a chain of commands.
struct TemplatePipeline: Sendable, CustomStringConvertible {
    let pos: Int
    var declarations: [String] = []
    var isAssign = false
    var commands: [TemplateCommand] = []

    var description: String {
        var out = ""
        if !declarations.isEmpty {
            out = declarations.joined(separator: ", ") + (isAssign ? " = " : " := ")
        }
        return out + commands.map(\.description).joined(separator: " | ")
    }
}

/// A function call, field or value with its arguments.
struct TemplateCommand: Sendable, CustomStringConvertible {
    let pos: Int
    var args: [TemplateOperand] = []

    var description: String {
        args.map { arg in
            if case .pipeline = arg { return "(\(arg))" }
            return arg.description
        }.joined(separator: " ")
    }
}

/// An operand: a term possibly followed by field names.
indirect enum TemplateOperand: Sendable, CustomStringConvertible {
    case field(pos: Int, names: [String])
    case variable(pos: Int, name: String, fields: [String])
    case dot(pos: Int)
    case nilValue(pos: Int)
    case bool(pos: Int, Bool)
    case number(pos: Int, NumberLiteral)
    case string(pos: Int, quoted: String, value: String)
    case identifier(pos: Int, name: String)
    case pipeline(TemplatePipeline)
    case chain(pos: Int, base: TemplateOperand, fields: [String])

    var pos: Int {
        switch self {
        case let .field(pos, _), let .variable(pos, _, _), let .dot(pos), let .nilValue(pos), let .bool(pos, _),
             let .number(pos, _), let .string(pos, _, _), let .identifier(pos, _), let .chain(pos, _, _):
            return pos
        case let .pipeline(p):
            return p.pos
        }
    }

    /// Whether the operand is a constant (Go rejects those after a `|`).
    var isConstant: Bool {
        switch self {
        case .bool, .dot, .nilValue, .number, .string: return true
        default: return false
        }
    }

    var description: String {
        switch self {
        case let .field(_, names): return names.map { "." + $0 }.joined()
        case let .variable(_, name, fields): return name + fields.map { "." + $0 }.joined()
        case .dot: return "."
        case .nilValue: return "nil"
        case let .bool(_, b): return b ? "true" : "false"
        case let .number(_, n): return n.text
        case let .string(_, quoted, _): return quoted
        case let .identifier(_, name): return name
        case let .pipeline(p): return p.description
        case let .chain(_, base, fields):
            let head: String
            if case .pipeline = base { head = "(\(base))" } else { head = base.description }
            return head + fields.map { "." + $0 }.joined()
        }
    }
}
