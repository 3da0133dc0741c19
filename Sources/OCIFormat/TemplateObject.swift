/// An object inside a ``TemplateValue``: struct-like or map-like.
///
/// Struct-like objects behave like Go structs: their fields keep declaration
/// order (for printing `{a b}` and JSON), an unknown field is an execution
/// error, and they are always true. Map-like objects behave like Go maps with
/// string keys: they iterate, print (`map[k:v]`) and encode in sorted key
/// order, and a missing key gives "no value" (or an error with
/// ``TemplateOptions/MissingKey/error``).
public struct TemplateObject: Sendable, Equatable {
    /// Which Go kind the object imitates.
    public enum Kind: Sendable, Equatable {
        /// A struct named `typeName` (used in error messages and `%T`).
        case structure(typeName: String)
        /// A map; `elementZero` is what `index` yields for a missing key
        /// (`nil`: no value, as for `map[string]interface {}`).
        case map(elementZero: TemplateValue?)
    }

    /// The object's kind.
    public let kind: Kind
    /// Keys in iteration order: declaration order for structs, sorted for maps.
    public private(set) var keys: [String]
    private var storage: [String: TemplateValue]
    /// Struct fields that `json` leaves out when empty (Go's `json:",omitempty"`).
    public let omitEmpty: Set<String>
    /// Struct fields that `json` writes under another key (Go's `json:"name"` tag).
    public let jsonNames: [String: String]

    /// A struct-like object.
    /// - Parameters:
    ///   - typeName: Go-style type name for messages.
    ///   - fields: names and values in declaration order; a repeated name keeps
    ///     its first position and takes the last value.
    ///   - omitEmpty: fields that `json` leaves out when their value is
    ///     empty (false, 0, "", nil, an empty array or map), like Go's
    ///     `json:",omitempty"` tag; templates still see them.
    ///   - jsonNames: keys `json` writes for some fields (`["ID": "Id"]`),
    ///     like Go's `json:"Id"` tag; templates use the field names.
    public init(structure typeName: String, fields: [(String, TemplateValue)], omitEmpty: Set<String> = [],
                jsonNames: [String: String] = [:]) {
        kind = .structure(typeName: typeName)
        keys = []
        storage = [:]
        self.omitEmpty = omitEmpty
        self.jsonNames = jsonNames
        for (name, value) in fields {
            if storage.updateValue(value, forKey: name) == nil { keys.append(name) }
        }
    }

    /// A map-like object.
    /// - Parameters:
    ///   - entries: keys and values.
    ///   - elementZero: the value `index` returns for a missing key, or `nil`.
    public init(map entries: [String: TemplateValue], elementZero: TemplateValue? = nil) {
        kind = .map(elementZero: elementZero)
        storage = entries
        omitEmpty = []
        jsonNames = [:]
        keys = entries.keys.sorted(by: goStringLess)
    }

    /// Whether the object is struct-like.
    public var isStructure: Bool {
        if case .structure = kind { return true }
        return false
    }

    /// The number of fields or entries.
    public var count: Int { keys.count }

    /// The value stored under `key`, if any.
    public subscript(key: String) -> TemplateValue? {
        storage[key]
    }

    /// Fields or entries in iteration order.
    public var entries: [(key: String, value: TemplateValue)] {
        keys.compactMap { key in storage[key].map { (key, $0) } }
    }

    /// Sets `key` to `value`; a new struct field goes last, a new map key
    /// takes its sorted place.
    public mutating func set(_ key: String, _ value: TemplateValue) {
        guard storage.updateValue(value, forKey: key) == nil else { return }
        if isStructure {
            keys.append(key)
        } else {
            let index = keys.firstIndex { goStringLess(key, $0) } ?? keys.endIndex
            keys.insert(key, at: index)
        }
    }

    /// Fields and entries as `json` writes them: without the empty `omitEmpty` fields.
    var encodedEntries: [(key: String, value: TemplateValue)] {
        guard !omitEmpty.isEmpty || !jsonNames.isEmpty else { return entries }
        return entries.compactMap { entry in
            if omitEmpty.contains(entry.key) && entry.value.isEmptyForJSON { return nil }
            return (jsonNames[entry.key] ?? entry.key, entry.value)
        }
    }

    /// The Go type name (`map[string]interface {}` for maps).
    public var goTypeName: String {
        switch kind {
        case let .structure(typeName): return typeName
        case let .map(zero):
            if case .string? = zero { return "map[string]string" }
            return "map[string]interface {}"
        }
    }

    /// What indexing a missing key yields (`nil` = no value).
    var missingIndexValue: TemplateValue? {
        if case let .map(zero) = kind { return zero }
        return nil
    }
}
