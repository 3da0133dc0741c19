/// Go's `fmt.Sprintf` for template values: verbs `%v %+v %s %q %d %b %o %O
/// %x %X %c %U %e %E %f %F %g %G %t %T %%`, flags `+ - # 0 space`, width,
/// precision, `*` and `[n]` argument indexes, and Go's error notations
/// (`%!d(string=x)`, `%!s(MISSING)`, `%!(EXTRA int=1)`, `%!(NOVERB)`).
struct GoPrintf {
    /// Flags, width and precision of one verb (Go's `fmt.fmtFlags`).
    struct Spec {
        var minus = false, plus = false, sharp = false, space = false, zero = false
        var plusV = false, sharpV = false
        var width: Int?
        var precision: Int?
    }

    private let format: [Unicode.Scalar]
    private let args: [TemplateValue]
    private let limit: Int
    private var out = ""
    private var i = 0
    private var argNum = 0
    private var reordered = false
    private var goodArgNum = true

    /// Formats `args` according to `format`.
    /// - Throws: ``TemplateError/limit(_:)`` when the result would exceed `limit` bytes.
    static func sprintf(_ format: String, _ args: [TemplateValue], limit: Int) throws -> String {
        var printer = GoPrintf(format: Array(format.unicodeScalars), args: args, limit: limit)
        try printer.run()
        return printer.out
    }

    private init(format: [Unicode.Scalar], args: [TemplateValue], limit: Int) {
        self.format = format
        self.args = args
        self.limit = limit
    }

    private mutating func run() throws {
        while i < format.count {
            let c = format[i]
            i += 1
            guard c == "%" else {
                out.unicodeScalars.append(c)
                continue
            }
            try verb()
            if out.utf8.count > limit { throw TemplateError.limit("result of printf exceeds \(limit) bytes") }
        }
        if !reordered, argNum < args.count {
            out += "%!(EXTRA "
            for (n, arg) in args[argNum...].enumerated() {
                if n > 0 { out += ", " }
                if arg == .null { out += "<nil>" } else { out += arg.goTypeName + "=" + (try GoValuePrinter.string(arg)) }
            }
            out += ")"
        }
    }

    private mutating func verb() throws {
        var spec = Spec()
        goodArgNum = true
        flags: while i < format.count {
            switch format[i] {
            case "#": spec.sharp = true
            case "0": spec.zero = !spec.minus
            case "+": spec.plus = true
            case "-": spec.minus = true; spec.zero = false
            case " ": spec.space = true
            default: break flags
            }
            i += 1
        }
        var afterIndex = argIndex()
        if i < format.count, format[i] == "*" {
            i += 1
            spec.width = starArgument()
            if let w = spec.width, w < 0 {
                spec.minus = true
                spec.zero = false
                spec.width = -w
            }
            if spec.width == nil { out += "%!(BADWIDTH)" }
            afterIndex = false
        } else if let w = number() {
            spec.width = w
            if afterIndex { goodArgNum = false }
        }
        if i < format.count, format[i] == "." {
            i += 1
            if afterIndex { goodArgNum = false }
            afterIndex = argIndex()
            if i < format.count, format[i] == "*" {
                i += 1
                spec.precision = starArgument()
                if let p = spec.precision, p < 0 { spec.precision = nil } else if spec.precision == nil { out += "%!(BADPREC)" }
                afterIndex = false
            } else {
                spec.precision = number() ?? 0
            }
        }
        if !afterIndex { afterIndex = argIndex() }
        guard i < format.count else {
            out += "%!(NOVERB)"
            return
        }
        let verb = Character(format[i])
        i += 1
        switch verb {
        case "%": out += "%"
        case _ where !goodArgNum: out += "%!\(verb)(BADINDEX)"
        case _ where argNum >= args.count: out += "%!\(verb)(MISSING)"
        default:
            if verb == "v" {
                if spec.sharp { spec.sharp = false; spec.sharpV = true }
                if spec.plus { spec.plus = false; spec.plusV = true }
            }
            out += try GoVerb.format(args[argNum], verb: verb, spec: spec, nested: false)
            argNum += 1
        }
    }

    /// Decimal digits at `i`; Go gives up (and consumes the rest) past 1e6.
    private mutating func number() -> Int? {
        var value = 0
        var found = false
        while i < format.count, let d = Self.digit(format[i]) {
            if value > 1_000_000 {
                i = format.count
                return nil
            }
            value = value * 10 + d
            found = true
            i += 1
        }
        return found ? value : nil
    }

    private static func digit(_ s: Unicode.Scalar) -> Int? {
        s.value >= 0x30 && s.value <= 0x39 ? Int(s.value - 0x30) : nil
    }

    /// `[n]` before a width, precision or verb; returns whether one was read.
    private mutating func argIndex() -> Bool {
        guard i < format.count, format[i] == "[" else { return false }
        reordered = true
        var j = i + 1
        var n = 0
        var digits = false
        while j < format.count, let d = Self.digit(format[j]), n < 1_000_000 {
            n = n * 10 + d
            digits = true
            j += 1
        }
        guard j < format.count, format[j] == "]", digits, n >= 1, n <= args.count else {
            goodArgNum = false
            while j < format.count, format[j] != "]" { j += 1 }
            i = min(j + 1, format.count)
            return true
        }
        argNum = n - 1
        i = j + 1
        return true
    }

    /// A `*` width or precision taken from the next argument (an int within ±1e6).
    private mutating func starArgument() -> Int? {
        defer { argNum += 1 }
        guard argNum < args.count, case let .int(v) = args[argNum], v >= -1_000_000, v <= 1_000_000 else { return nil }
        return Int(v)
    }
}
