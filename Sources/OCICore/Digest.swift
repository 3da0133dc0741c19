/// A content digest, `algorithm:encoded`, validated against the OCI
/// image-spec grammar (descriptor.md, "Digests").
///
/// `sha256` digests must be 64 lowercase hex characters and `sha512` 128;
/// other algorithms are accepted only if they match the general grammar.
public struct Digest: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    /// The algorithm, e.g. `sha256`.
    public let algorithm: String
    /// The encoded part (lowercase hex for sha256).
    public let encoded: String

    /// Parses and validates `value`.
    /// - Throws: `CoreError.invalidDigest` naming what is wrong.
    public init(parsing value: String) throws {
        guard let colon = value.firstIndex(of: ":") else {
            throw CoreError.invalidDigest(value, reason: "missing ':' between algorithm and encoded part")
        }
        let alg = String(value[..<colon])
        let enc = String(value[value.index(after: colon)...])
        guard !alg.isEmpty, Digest.isValidAlgorithm(alg) else {
            throw CoreError.invalidDigest(value, reason: "bad algorithm \"\(alg)\"")
        }
        guard !enc.isEmpty, enc.utf8.allSatisfy({ Digest.isEncodedChar($0) }) else {
            throw CoreError.invalidDigest(value, reason: "bad encoded part")
        }
        switch alg {
        case "sha256":
            guard enc.utf8.count == 64, enc.utf8.allSatisfy(Digest.isLowerHex) else {
                throw CoreError.invalidDigest(value, reason: "sha256 needs 64 lowercase hex characters")
            }
        case "sha512":
            guard enc.utf8.count == 128, enc.utf8.allSatisfy(Digest.isLowerHex) else {
                throw CoreError.invalidDigest(value, reason: "sha512 needs 128 lowercase hex characters")
            }
        default:
            break
        }
        self.algorithm = alg
        self.encoded = enc
    }

    /// A sha256 digest from 64 lowercase hex characters.
    public init(sha256Hex hex: String) throws {
        try self.init(parsing: "sha256:" + hex)
    }

    init(uncheckedAlgorithm algorithm: String, encoded: String) {
        self.algorithm = algorithm
        self.encoded = encoded
    }

    /// `algorithm:encoded`.
    public var description: String { "\(algorithm):\(encoded)" }
    /// `encoded`, shortened to 12 characters as docker shows IDs.
    public var shortID: String { String(encoded.prefix(12)) }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.description < rhs.description }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        try self.init(parsing: c.decode(String.self))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }

    /// Is `value` a well-formed digest?
    public static func isValid(_ value: String) -> Bool { (try? Digest(parsing: value)) != nil }

    private static func isLowerHex(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66)
    }

    private static func isEncodedChar(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
            || c == UInt8(ascii: "=") || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
    }

    /// algorithm ::= component (separator component)*; component ::= [a-z0-9]+; separator ::= [+._-]
    private static func isValidAlgorithm(_ alg: String) -> Bool {
        var previousWasSeparator = true
        for c in alg.utf8 {
            let isComponent = (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a)
            let isSeparator = c == UInt8(ascii: "+") || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
            if isComponent {
                previousWasSeparator = false
            } else if isSeparator {
                if previousWasSeparator { return false }
                previousWasSeparator = true
            } else {
                return false
            }
        }
        return !previousWasSeparator
    }
}
