/// Runs a parsed template: walks nodes, writes text, tracks variables and
/// enforces the step, output and template-depth limits.
///
/// A runtime value is `TemplateValue?`: `nil` is Go's invalid value ("no
/// value", e.g. a missing map key), distinct from `.null` (a nil pointer).
struct TemplateExecutor {
    typealias Value = TemplateValue?

    enum Flow { case normal, breakLoop, continueLoop }

    /// The node being evaluated, for error messages (Go's `state.at`).
    enum Location {
        case start
        case pipeline(TemplatePipeline)
        case command(TemplateCommand)
        case operand(TemplateOperand)
        case call(TemplateCall)

        var pos: Int {
            switch self {
            case .start: return 0
            case let .pipeline(p): return p.pos
            case let .command(c): return c.pos
            case let .operand(o): return o.pos
            case let .call(c): return c.pos
            }
        }

        var description: String {
            switch self {
            case .start: return ""
            case let .pipeline(p): return p.description
            case let .command(c): return c.description
            case let .operand(o): return o.description
            case let .call(c): return c.description
            }
        }
    }

    let template: Template
    let options: TemplateOptions
    let functions: TemplateFunctions
    var output = ""
    var outputBytes = 0
    var vars: [(name: String, value: Value)]
    var steps = 0
    var depth = 0
    var nesting = 0
    var location = Location.start
    var definitions: [String: [TemplateNode]] { template.parsed.definitions }

    init(template: Template, options: TemplateOptions, functions: TemplateFunctions, data: Value) {
        self.template = template
        self.options = options
        self.functions = functions
        vars = [("$", data)]
    }

    // MARK: errors and limits

    func fail(_ message: String) -> TemplateError {
        if case .start = location { return .limit(message) }
        let (line, column) = template.location(of: location.pos)
        return .execution(line: line, column: column, context: location.description, message: message)
    }

    /// Deepest nesting of `if`/`with`/`range` bodies, template calls and
    /// parenthesized pipelines in one execution, so that no template can
    /// exhaust a thread stack (512 KiB suffices, even in debug builds).
    static let maxNesting = 50

    /// Runs `body` one nesting level deeper.
    mutating func nested<T>(_ body: (inout TemplateExecutor) throws -> T) throws -> T {
        guard nesting < Self.maxNesting else { throw fail("exceeded maximum nesting depth (\(Self.maxNesting))") }
        nesting += 1
        defer { nesting -= 1 }
        return try body(&self)
    }

    mutating func step() throws {
        steps += 1
        if steps > options.maxSteps { throw TemplateError.limit("execution exceeded \(options.maxSteps) steps") }
    }

    mutating func write(_ text: String) throws {
        outputBytes += text.utf8.count
        if outputBytes > options.maxOutputBytes {
            throw TemplateError.limit("output exceeds \(options.maxOutputBytes) bytes")
        }
        output += text
    }

    // MARK: variables

    func variable(_ name: String) throws -> Value {
        guard let entry = vars.last(where: { $0.name == name }) else { throw fail("undefined variable: \(name)") }
        return entry.value
    }

    mutating func assign(_ name: String, _ value: Value) throws {
        guard let i = vars.lastIndex(where: { $0.name == name }) else { throw fail("undefined variable: \(name)") }
        vars[i].value = value
    }

    mutating func pop(to mark: Int) {
        if vars.count > mark { vars.removeLast(vars.count - mark) }
    }

    // MARK: walking

    mutating func walk(_ dot: Value, _ nodes: [TemplateNode]) throws -> Flow {
        for node in nodes {
            try step()
            switch node {
            case let .text(text):
                try write(text)
            case let .action(pipe):
                let value = try evalPipeline(dot, pipe)
                if pipe.declarations.isEmpty { try write(try GoValuePrinter.printed(value)) }
            case let .conditional(kind, clauses, elseList):
                let flow = try nested { try $0.walkConditional(dot, kind, clauses, elseList) }
                if flow != .normal { return flow }
            case let .range(pipe, body, elseList):
                let flow = try nested { try $0.walkRange(dot, pipe, body, elseList) }
                if flow != .normal { return flow }
            case let .template(call):
                try nested { try $0.walkTemplate(dot, call) }
            case .breakLoop:
                return .breakLoop
            case .continueLoop:
                return .continueLoop
            }
        }
        return .normal
    }

    private mutating func walkConditional(
        _ dot: Value, _ kind: ConditionalKind, _ clauses: [TemplateClause], _ elseList: [TemplateNode]?
    ) throws -> Flow {
        let mark = vars.count
        defer { pop(to: mark) }
        for clause in clauses {
            let value = try evalPipeline(dot, clause.pipeline)
            if value?.isTruthy == true {
                return try walk(kind == .with ? value : dot, clause.body)
            }
        }
        guard let elseList else { return .normal }
        return try walk(dot, elseList)
    }

    private mutating func walkRange(
        _ dot: Value, _ pipe: TemplatePipeline, _ body: [TemplateNode], _ elseList: [TemplateNode]?
    ) throws -> Flow {
        let outer = vars.count
        defer { pop(to: outer) }
        let value = try evalPipeline(dot, pipe)
        let mark = vars.count
        var iterated = false
        func iterations() throws -> [(TemplateValue, TemplateValue)]? {
            switch value {
            case nil, .null?: return []
            case let .array(items)?: return items.enumerated().map { (.int(Int64($0.offset)), $0.element) }
            case let .object(object)? where !object.isStructure:
                return object.entries.map { (.string($0.key), $0.value) }
            case let .int(n)?:
                if pipe.declarations.count > 1 {
                    throw fail("can't use \(try GoValuePrinter.printed(value)) to iterate over more than one variable")
                }
                return n > 0 ? nil : []
            default:
                throw fail("range can't iterate over \(try GoValuePrinter.printed(value))")
            }
        }
        let items = try iterations()
        var index: Int64 = 0
        while true {
            let pair: (TemplateValue, TemplateValue)
            if let items {
                guard index < Int64(items.count) else { break }
                pair = items[Int(index)]
            } else {
                guard case let .int(n)? = value, index < n else { break }
                pair = (.int(index), .int(index))
            }
            index += 1
            iterated = true
            try step()
            try bindRangeVariables(pipe, index: pair.0, element: pair.1)
            let flow = try walk(pair.1, body)
            pop(to: mark)
            if flow == .breakLoop { break }
        }
        if iterated { return .normal }
        guard let elseList else { return .normal }
        let flow = try walk(dot, elseList)
        return flow == .breakLoop ? .normal : flow
    }

    private mutating func bindRangeVariables(_ pipe: TemplatePipeline, index: TemplateValue, element: TemplateValue) throws {
        let decls = pipe.declarations
        guard !decls.isEmpty else { return }
        if pipe.isAssign {
            try assign(decls[0], decls.count > 1 ? index : element)
            if decls.count > 1 { try assign(decls[1], element) }
        } else {
            vars[vars.count - 1].value = element
            if decls.count > 1 { vars[vars.count - 2].value = index }
        }
    }

    private mutating func walkTemplate(_ dot: Value, _ call: TemplateCall) throws {
        location = .call(call)
        guard let body = definitions[call.name] else { throw fail("template \(GoQuote.quote(call.name)) not defined") }
        guard depth < options.maxTemplateDepth else {
            throw fail("exceeded maximum template depth (\(options.maxTemplateDepth))")
        }
        let newDot: Value = try call.pipeline.map { try evalPipeline(dot, $0) } ?? nil
        let saved = vars
        vars = [("$", newDot)]
        depth += 1
        defer {
            vars = saved
            depth -= 1
        }
        _ = try walk(newDot, body)
    }
}
