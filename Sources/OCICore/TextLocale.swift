#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// libarchive converts member names between UTF-8 (pax headers) and the
/// current locale; under the "C" locale non-ASCII names fail to convert.
/// ocitool treats every name as UTF-8, so the character-type locale is set to
/// C.UTF-8 once, before the first archive is opened.
package enum TextLocale {
    private static let once: Bool = {
        if let cur = setlocale(LC_CTYPE, nil), String(cString: cur).uppercased().contains("UTF-8") {
            return true
        }
        if setlocale(LC_CTYPE, "C.UTF-8") == nil { _ = setlocale(LC_CTYPE, "en_US.UTF-8") }
        return true
    }()

    /// Makes sure the character-type locale is UTF-8. Idempotent.
    package static func ensureUTF8() { _ = once }
}
