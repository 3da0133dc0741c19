/// A function callable from a template (`{{name arg …}}` or `{{… | name}}`).
///
/// Arguments are checked against `parameters` the way Go checks a FuncMap
/// function's signature: a wrong count is `wrong number of args for name:
/// want N got M`; a wrong type is `wrong type for value; expected string; got int`.
public struct TemplateFunction: Sendable {
    /// The Go type a parameter accepts.
    public enum Parameter: Sendable, Equatable {
        /// Any value (Go `interface {}`); a missing value arrives as `.null`.
        case any
        /// A string.
        case string
        /// An integer.
        case int
        /// An array whose elements are all strings (Go `[]string`); nil is accepted.
        case stringArray

        /// The Go spelling used in messages.
        public var goName: String {
            switch self {
            case .any: return "interface {}"
            case .string: return "string"
            case .int: return "int"
            case .stringArray: return "[]string"
            }
        }

        var acceptsNil: Bool { self == .any || self == .stringArray }
    }

    /// The name templates call it by.
    public let name: String
    /// Fixed parameters, in order.
    public let parameters: [Parameter]
    /// The type of extra trailing arguments, when the function is variadic.
    public let variadic: Parameter?
    let body: Body

    enum Body: Sendable {
        /// An ordinary function of evaluated arguments; `nil` result means "no value".
        case plain(@Sendable ([TemplateValue], FunctionContext) throws -> TemplateValue?)
        /// `and`/`or`: evaluate arguments lazily, stop at the first false/true one.
        case shortCircuit(stopWhen: Bool)
    }

    /// A function of its evaluated arguments.
    /// - Parameters:
    ///   - name: the identifier templates use (letters, digits, `_`).
    ///   - parameters: fixed parameter types.
    ///   - variadic: type of any further arguments, or `nil` for a fixed count.
    ///   - body: computes the result; throw ``TemplateFunctionError`` to fail
    ///     with `error calling name: message`.
    public init(
        _ name: String, parameters: [Parameter], variadic: Parameter? = nil,
        _ body: @escaping @Sendable ([TemplateValue]) throws -> TemplateValue
    ) {
        self.init(name, parameters, variadic, body: .plain { args, _ in try body(args) })
    }

    init(_ name: String, _ parameters: [Parameter], _ variadic: Parameter? = nil, body: Body) {
        self.name = name
        self.parameters = parameters
        self.variadic = variadic
        self.body = body
    }
}

/// Thrown by a ``TemplateFunction`` body; reported as `error calling NAME: message`.
public struct TemplateFunctionError: Error, Sendable, CustomStringConvertible {
    /// The reason, without the function name.
    public let message: String
    /// An error with the given reason.
    public init(_ message: String) { self.message = message }
    /// The reason.
    public var description: String { message }
}

/// What a function body may consult while running.
struct FunctionContext: Sendable {
    let options: TemplateOptions
}

/// The functions a template may call: Go's builtins plus, for docker
/// compatibility, docker/cli's template functions.
public struct TemplateFunctions: Sendable {
    var table: [String: TemplateFunction]

    /// Go's text/template builtins only (`and`, `call`, `eq`, `ge`, `gt`,
    /// `html`, `index`, `js`, `le`, `len`, `lt`, `ne`, `not`, `or`, `print`,
    /// `printf`, `println`, `slice`, `urlquery`).
    public static let goBuiltins = TemplateFunctions(table: TemplateBuiltins.all)

    /// The docker CLI's set: Go's builtins plus `json`, `split`, `join`,
    /// `title`, `lower`, `upper`, `pad`, `truncate`.
    public static let docker = goBuiltins.adding(DockerFunctions.basic)

    /// docker's table-header variants: `json`, `split`, `join`, `title`,
    /// `lower`, `upper` and `truncate` return their first argument, so a
    /// header cell shows the column name unchanged (`pad` still pads).
    public static let dockerHeader = docker.adding(DockerFunctions.header)

    /// This set with `functions` added (replacing any of the same name).
    public func adding(_ functions: [TemplateFunction]) -> TemplateFunctions {
        var copy = self
        for f in functions { copy.table[f.name] = f }
        return copy
    }

    /// The names of all functions in the set.
    public var names: Set<String> { Set(table.keys) }

    subscript(name: String) -> TemplateFunction? { table[name] }
}
