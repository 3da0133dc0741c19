import Foundation

/// The one JSON encoder for documents ocitool writes: sorted keys, no
/// escaped slashes, compact. The same value always gives the same bytes.
public enum CanonicalJSON {
    /// Encodes an `Encodable` value.
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try enc.encode(value))
    }

    /// Encodes a JSONSerialization object tree (for edited documents whose
    /// unknown fields must survive).
    public static func encode(object: Any) throws -> [UInt8] {
        Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed]))
    }

    /// Decodes `bytes` as `T`, naming `what` in errors: a syntax error
    /// says what and where (line, column, byte), a value error which field
    /// (`manifests[0].size`) and what was expected.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], what: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch where JSONDiagnostics.syntaxError(in: bytes) != nil {
            throw ModelError.badJSON(what, JSONDiagnostics.syntaxError(in: bytes) ?? "")
        } catch let DecodingError.dataCorrupted(ctx) {
            throw ModelError.badJSON(what, "bad value at \(JSONDiagnostics.path(ctx.codingPath)): \(ctx.debugDescription)")
        } catch let DecodingError.keyNotFound(key, ctx) {
            let parent = ctx.codingPath.isEmpty ? "" : " in \(JSONDiagnostics.path(ctx.codingPath))"
            throw ModelError.badJSON(what, "missing \"\(key.stringValue)\"\(parent)")
        } catch let DecodingError.typeMismatch(expected, ctx) {
            throw ModelError.badJSON(what, "wrong type at \(JSONDiagnostics.path(ctx.codingPath)): expected \(JSONDiagnostics.typeName(expected))")
        } catch let DecodingError.valueNotFound(expected, ctx) {
            throw ModelError.badJSON(what, "null at \(JSONDiagnostics.path(ctx.codingPath)): expected \(JSONDiagnostics.typeName(expected))")
        } catch {
            throw ModelError.badJSON(what, "\(error)")
        }
    }

    /// Parses `bytes` into a JSONSerialization object tree.
    public static func object(from bytes: [UInt8], what: String) throws -> Any {
        do {
            return try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        } catch {
            throw ModelError.badJSON(what, JSONDiagnostics.syntaxError(in: bytes) ?? "not valid JSON")
        }
    }
}
