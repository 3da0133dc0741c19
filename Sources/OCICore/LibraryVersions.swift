import CArchive
import CCrypto
import CIsal
import CZlib
import CZstd

/// The versions of the C libraries ocitool runs with, as each reports it
/// at run time (ISA-L has no run-time call: its headers' version, as built).
public enum LibraryVersions {
    /// One library: its name and version text.
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var version: String
    }

    /// libarchive, OpenSSL libcrypto, zlib, zstd, ISA-L, in that order.
    public static var all: [Entry] {
        [
            Entry(name: "libarchive", version: libarchive),
            Entry(name: "OpenSSL", version: openSSL),
            Entry(name: "zlib", version: zlib),
            Entry(name: "zstd", version: zstd),
            Entry(name: "ISA-L", version: isal),
        ]
    }

    /// `archive_version_string()` without its "libarchive " prefix, e.g. `3.6.2`.
    public static var libarchive: String {
        let text = string(archive_version_string())
        return text.hasPrefix("libarchive ") ? String(text.dropFirst("libarchive ".count)) : text
    }

    /// `OpenSSL_version(OPENSSL_VERSION)` without its "OpenSSL " prefix, e.g. `3.0.17 1 Jul 2025`.
    public static var openSSL: String {
        let text = string(OpenSSL_version(OPENSSL_VERSION))
        return text.hasPrefix("OpenSSL ") ? String(text.dropFirst("OpenSSL ".count)) : text
    }

    /// `zlibVersion()`, e.g. `1.2.13`.
    public static var zlib: String { string(zlibVersion()) }

    /// `ZSTD_versionString()`, e.g. `1.5.4`.
    public static var zstd: String { string(ZSTD_versionString()) }

    /// The ISA-L headers' version, e.g. `2.30.0`.
    public static var isal: String {
        "\(OCITOOL_ISAL_VERSION_MAJOR).\(OCITOOL_ISAL_VERSION_MINOR).\(OCITOOL_ISAL_VERSION_PATCH)"
    }

    /// A C string, or `unknown` for a null pointer.
    private static func string(_ pointer: UnsafePointer<CChar>?) -> String {
        guard let pointer else { return "unknown" }
        let text = String(cString: pointer)
        return text.isEmpty ? "unknown" : text
    }
}
