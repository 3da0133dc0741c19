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

    /// Decodes `bytes` as `T`, naming `what` in errors.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], what: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch let DecodingError.dataCorrupted(ctx) {
            throw ModelError.badJSON(what, ctx.debugDescription)
        } catch let DecodingError.keyNotFound(key, _) {
            throw ModelError.badJSON(what, "missing \"\(key.stringValue)\"")
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw ModelError.badJSON(what, "wrong type at \(ctx.codingPath.map(\.stringValue).joined(separator: "."))")
        } catch let DecodingError.valueNotFound(_, ctx) {
            throw ModelError.badJSON(what, "null at \(ctx.codingPath.map(\.stringValue).joined(separator: "."))")
        } catch {
            throw ModelError.badJSON(what, "\(error)")
        }
    }

    /// Parses `bytes` into a JSONSerialization object tree.
    public static func object(from bytes: [UInt8], what: String) throws -> Any {
        do {
            return try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        } catch {
            throw ModelError.badJSON(what, "\(error.localizedDescription)")
        }
    }
}
