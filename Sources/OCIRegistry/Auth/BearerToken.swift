import Foundation

/// A bearer token and when to stop using it.
struct BearerToken: Sendable {
    var value: String
    /// Refresh at or after this time (expiry less a small margin).
    var refreshAfter: Date

    var isFresh: Bool { Date() < refreshAfter }

    /// Parses a token-server response (distribution token spec: `token` or
    /// `access_token`, `expires_in` seconds, default 60), bounded in size.
    static func parse(_ bytes: [UInt8], requestedAt: Date) throws -> BearerToken {
        guard JSONDepth.isAcceptable(bytes),
              let obj = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw TokenParseError("token response is not a JSON object")
        }
        let token = (obj["token"] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? (obj["access_token"] as? String)
        guard let token, !token.isEmpty else { throw TokenParseError("token response has no token") }
        guard token.utf8.count <= RegistryLimits.tokenBytes else {
            throw TokenParseError("token longer than \(RegistryLimits.tokenBytes) bytes")
        }
        guard token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else { throw TokenParseError("token holds characters not allowed in a header") }
        var lifetime = 60.0
        if let n = obj["expires_in"] as? NSNumber {
            let d = n.doubleValue
            if d.isFinite && d > 0 { lifetime = min(d, 366 * 86_400) }
        }
        let margin = min(10, lifetime / 10)
        return BearerToken(value: token, refreshAfter: requestedAt.addingTimeInterval(lifetime - margin))
    }
}

struct TokenParseError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
