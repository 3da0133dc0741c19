import Foundation
import OCICore

/// What a registry error is about: the registry, and when known the
/// repository and the object (`manifest "latest"`, `blob sha256:…`).
public struct RegistryErrorContext: Sendable, Equatable, CustomStringConvertible {
    /// The registry host as the user named it (`localhost:5000`, `docker.io`).
    public var registry: String
    /// The repository, e.g. `library/busybox`.
    public var repository: String?
    /// The object, e.g. `manifest latest` or `blob sha256:…`.
    public var object: String?

    public init(registry: String, repository: String? = nil, object: String? = nil) {
        self.registry = registry
        self.repository = repository
        self.object = object
    }

    public var description: String {
        var s = "registry \(registry)"
        if let repository { s += ", repository \(repository)" }
        if let object { s += ", \(object)" }
        return s
    }
}

/// Errors of the registry client. Each prints as one line naming the
/// registry, repository and object, and never contains a secret.
public enum RegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The registry answered with an error status; `code` and `message`
    /// come from its JSON error body (distribution-spec "Error Codes"):
    /// `MANIFEST_UNKNOWN`, `BLOB_UNKNOWN`, `DENIED`, `UNAUTHORIZED`,
    /// `NAME_UNKNOWN`, `TOOMANYREQUESTS`, …
    case status(RegistryErrorContext, status: Int, code: String?, message: String?)
    /// Content did not hash to the digest it was asked for or announced.
    case digestMismatch(RegistryErrorContext, expected: String, actual: String)
    /// Content was not the size its descriptor says.
    case sizeMismatch(RegistryErrorContext, expected: Int64, actual: Int64)
    /// The registry sent something malformed or out of bounds.
    case invalidResponse(RegistryErrorContext, String)
    /// The connection failed (refused, reset, TLS, timeout).
    case transport(RegistryErrorContext, String)
    /// The registry offered something ocitool refuses (schema 1 manifests, an unknown digest algorithm).
    case unsupported(RegistryErrorContext, String)
    /// Getting a token or credentials for the registry failed.
    case authentication(RegistryErrorContext, String)
    /// An argument (host, repository, reference, option) is not valid.
    case invalidArgument(String)
    /// An auth file or credential helper could not be read or written.
    case credentials(String)
    /// A CA, client certificate or key file could not be loaded.
    case tlsSetup(String)
    /// The client was used after `shutdown()`.
    case shutDown(String)

    public var description: String {
        switch self {
        case let .status(ctx, status, code, message):
            var s = "\(ctx): "
            if let code, !code.isEmpty { s += code }
            if let message, !message.isEmpty { s += (code?.isEmpty == false ? ": " : "") + message }
            if code == nil && message == nil { s += RegistryError.statusText(status) }
            return s + " (HTTP \(status))"
        case let .digestMismatch(ctx, expected, actual):
            return "\(ctx): digest mismatch: expected \(expected), got \(actual)"
        case let .sizeMismatch(ctx, expected, actual):
            return "\(ctx): size mismatch: expected \(expected) bytes, got \(actual)"
        case let .invalidResponse(ctx, why):
            return "\(ctx): invalid response: \(why)"
        case let .transport(ctx, why):
            return "\(ctx): \(why)"
        case let .unsupported(ctx, why):
            return "\(ctx): \(why)"
        case let .authentication(ctx, why):
            return "\(ctx): authentication failed: \(why)"
        case let .invalidArgument(why):
            return why
        case let .credentials(why):
            return "credentials: \(why)"
        case let .tlsSetup(why):
            return "TLS set-up: \(why)"
        case let .shutDown(registry):
            return "registry \(registry): client already shut down"
        }
    }

    /// The registry's error code (`MANIFEST_UNKNOWN`, …) when it sent one.
    public var code: String? {
        if case let .status(_, _, code, _) = self { return code }
        return nil
    }

    /// The HTTP status of a `.status` error.
    public var httpStatus: Int? {
        if case let .status(_, status, _, _) = self { return status }
        return nil
    }

    /// Is this "not found" (404, or a `*_UNKNOWN` code)?
    public var isNotFound: Bool {
        guard case let .status(_, status, code, _) = self else { return false }
        return status == 404 || (code?.hasSuffix("_UNKNOWN") ?? false)
    }

    static func statusText(_ status: Int) -> String {
        switch status {
        case 400: return "bad request"
        case 401: return "UNAUTHORIZED: authentication required"
        case 403: return "DENIED: access denied"
        case 404: return "not found"
        case 405: return "UNSUPPORTED: operation not supported by the registry"
        case 413: return "request too large"
        case 416: return "requested range not satisfiable"
        case 429: return "TOOMANYREQUESTS: too many requests"
        case 500..<600: return "server error"
        default: return "unexpected status"
        }
    }

    /// Parses a distribution-spec error body (`{"errors":[{"code","message"}]}`),
    /// or a token server's (`{"error","error_description"}` / `{"details"}`).
    /// Returns the first code and message, sanitised to one short line.
    static func parseBody(_ bytes: [UInt8]) -> (code: String?, message: String?) {
        guard !bytes.isEmpty, JSONDepth.isAcceptable(bytes),
              let obj = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            let text = String(decoding: bytes.prefix(512), as: UTF8.self)
            let clean = sanitize(text)
            return (nil, clean.isEmpty || clean.hasPrefix("<") ? nil : clean)
        }
        if let errors = obj["errors"] as? [[String: Any]], let first = errors.first {
            let codes = errors.compactMap { $0["code"] as? String }.map(sanitize)
            let message = (first["message"] as? String).map(sanitize)
            return (codes.isEmpty ? nil : codes.joined(separator: ","), message)
        }
        let code = (obj["error"] as? String).map(sanitize)
        let message = ((obj["error_description"] as? String) ?? (obj["details"] as? String) ?? (obj["message"] as? String)).map(sanitize)
        return (code, message)
    }

    /// One printable line of at most 300 characters.
    static func sanitize(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            if out.unicodeScalars.count >= 300 { out += "…"; break }
            if scalar.value < 0x20 || scalar.value == 0x7f { out += " " } else { out.unicodeScalars.append(scalar) }
        }
        return out.trimmingCharacters(in: .whitespaces)
    }
}
