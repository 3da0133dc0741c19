import Foundation

extension TemplateValue: Decodable {
    /// Decodes any JSON value: objects become map-like objects (as docker's
    /// `inspect` decodes raw JSON into `map[string]interface {}`), integral
    /// numbers that fit become `int`, other numbers `double`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let b = try? container.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? container.decode(Int64.self) {
            self = .int(i)
        } else if let d = try? container.decode(Double.self) {
            self = .double(d)
        } else if let s = try? container.decode(String.self) {
            self = .string(s)
        } else if let a = try? container.decode([TemplateValue].self) {
            self = .array(a)
        } else {
            self = .map(try container.decode([String: TemplateValue].self))
        }
    }

    /// Parses a JSON document into a value tree (objects are map-like).
    /// - Parameter json: the document's bytes.
    /// - Throws: ``TemplateError/badData(_:)`` when the bytes are not JSON.
    public init(json: Data) throws {
        do {
            self = try JSONDecoder().decode(TemplateValue.self, from: json)
        } catch {
            throw TemplateError.badData("not valid JSON: \(error.localizedDescription)")
        }
    }

    /// Converts an `Encodable` value through its JSON form (objects become map-like).
    /// - Parameter value: any encodable value.
    /// - Throws: ``TemplateError/badData(_:)`` when encoding fails.
    public init<T: Encodable>(encoding value: T) throws {
        let data: Data
        do {
            data = try JSONEncoder().encode(value)
        } catch {
            throw TemplateError.badData("cannot encode value: \(error.localizedDescription)")
        }
        try self.init(json: data)
    }

    /// The value as JSON, encoded as Go's `encoding/json` does (compact;
    /// map keys sorted; struct fields in order; `<`, `>`, `&` escaped only
    /// when `escapeHTML` is set, as docker's `json` function leaves them).
    /// - Throws: ``TemplateError/badData(_:)`` for NaN or infinities, or a
    ///   value nested more than 100 levels deep.
    public func jsonString(escapeHTML: Bool = false) throws -> String {
        var out = ""
        try GoJSON.append(self, to: &out, escapeHTML: escapeHTML, depth: 0)
        return out
    }
}
