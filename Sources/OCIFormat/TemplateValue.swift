/// The data a template formats: a JSON-like tree with two kinds of object.
///
/// Go's text/template walks Go values by reflection; ocitool hands it this
/// tree instead. The cases mirror what docker formats:
/// - `string`, `int`, `double`, `bool` are Go's basic kinds (`int` is Go's
///   `int`, `double` its `float64`);
/// - `null` is a nil pointer or interface (prints as `<nil>`, is false);
/// - `array` is a slice (`[]interface {}`), printed `[a b]`;
/// - `object` is either struct-like (an unknown field is an execution error,
///   as for docker's `images` and `history` rows) or map-like (a missing key
///   gives `<no value>`, as for the raw JSON `inspect` formats), see
///   ``TemplateObject``.
public indirect enum TemplateValue: Sendable, Equatable {
    /// A string (Go `string`).
    case string(String)
    /// A signed integer (Go `int`).
    case int(Int64)
    /// A floating-point number (Go `float64`).
    case double(Double)
    /// A boolean (Go `bool`).
    case bool(Bool)
    /// A nil pointer or interface value.
    case null
    /// An ordered list (Go slice).
    case array([TemplateValue])
    /// A struct-like or map-like object.
    case object(TemplateObject)

    /// A struct-like object whose fields are `fields`, in this order.
    /// - Parameters:
    ///   - typeName: the Go-style type name used in error messages
    ///     (`can't evaluate field X in type typeName`).
    ///   - fields: field names and values; a later duplicate replaces an earlier one.
    ///   - omitEmpty: fields `json` leaves out when empty (Go's `omitempty`).
    ///   - jsonNames: keys `json` writes instead of some field names (Go's `json:"name"`).
    public static func structure(_ typeName: String, _ fields: [(String, TemplateValue)], omitEmpty: Set<String> = [],
                                 jsonNames: [String: String] = [:]) -> TemplateValue {
        .object(TemplateObject(structure: typeName, fields: fields, omitEmpty: omitEmpty, jsonNames: jsonNames))
    }

    /// A map-like object (Go `map[string]interface {}`): iterated and printed in sorted key order.
    /// - Parameters:
    ///   - entries: the keys and values.
    ///   - elementZero: what `index` returns for a missing key; `nil` means
    ///     "no value", as for `map[string]interface {}`; `.string("")` mimics
    ///     `map[string]string`.
    public static func map(_ entries: [String: TemplateValue], elementZero: TemplateValue? = nil) -> TemplateValue {
        .object(TemplateObject(map: entries, elementZero: elementZero))
    }

    /// An array of strings (Go `[]string`).
    public static func strings(_ items: [String]) -> TemplateValue {
        .array(items.map { .string($0) })
    }

    /// The Go type name of the value as `%T` and error messages print it.
    public var goTypeName: String {
        switch self {
        case .string: return "string"
        case .int: return "int"
        case .double: return "float64"
        case .bool: return "bool"
        case .null: return "<nil>"
        case .array: return "[]interface {}"
        case let .object(object): return object.goTypeName
        }
    }

    /// Go's truth rule (`if`, `with`, `and`, `or`, `not`): false, 0, nil and
    /// empty strings, arrays and maps are false; everything else (structs
    /// included) is true.
    public var isTruthy: Bool {
        switch self {
        case let .string(s): return !s.isEmpty
        case let .int(i): return i != 0
        case let .double(d): return d != 0
        case let .bool(b): return b
        case .null: return false
        case let .array(a): return !a.isEmpty
        case let .object(o): return o.isStructure || o.count > 0
        }
    }

    /// Go's `omitempty` rule: false, 0, "", nil and empty arrays and maps
    /// are empty; structs never are.
    var isEmptyForJSON: Bool {
        switch self {
        case let .object(o): return !o.isStructure && o.count == 0
        default: return !isTruthy
        }
    }

    /// The string, if the value is a string.
    public var stringValue: String? {
        if case let .string(s) = self { return s }
        return nil
    }
}

extension TemplateValue: ExpressibleByStringLiteral {
    /// A string value.
    public init(stringLiteral value: String) { self = .string(value) }
}

extension TemplateValue: ExpressibleByIntegerLiteral {
    /// An integer value.
    public init(integerLiteral value: Int64) { self = .int(value) }
}

extension TemplateValue: ExpressibleByFloatLiteral {
    /// A floating-point value.
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension TemplateValue: ExpressibleByBooleanLiteral {
    /// A boolean value.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension TemplateValue: ExpressibleByNilLiteral {
    /// The nil value.
    public init(nilLiteral: ()) { self = .null }
}

extension TemplateValue: ExpressibleByArrayLiteral {
    /// An array value.
    public init(arrayLiteral elements: TemplateValue...) { self = .array(elements) }
}

extension TemplateValue: ExpressibleByDictionaryLiteral {
    /// A map-like object (missing keys give "no value").
    public init(dictionaryLiteral elements: (String, TemplateValue)...) {
        var entries: [String: TemplateValue] = [:]
        for (key, value) in elements { entries[key] = value }
        self = .map(entries)
    }
}

/// Byte-wise (UTF-8) string order, which is how Go sorts map keys.
func goStringLess(_ a: String, _ b: String) -> Bool {
    a.utf8.lexicographicallyPrecedes(b.utf8)
}
