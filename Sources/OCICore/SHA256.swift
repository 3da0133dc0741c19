import Foundation
import CCrypto

/// A streaming SHA-256 over OpenSSL libcrypto's EVP interface.
///
/// Feed bytes with `update(_:)` in any block sizes, then call `finalize()`
/// once. Not thread-safe; use one hasher per stream.
///
/// Every EVP return code is checked. Should libcrypto be unable to give a
/// context (allocation, a provider that does not load), the hasher computes
/// the same digest with a portable implementation (`SoftwareSHA256`,
/// slower) instead of stopping the process; an EVP call failing in the
/// middle of a stream is reported by `finalize()`.
public final class SHA256Hasher {
    private let ctx: OpaquePointer?
    private var software: SoftwareSHA256?
    private var failure: CoreError?
    private var finished = false
    /// Bytes hashed so far.
    public private(set) var count: Int64 = 0

    public init() {
        ctx = SHA256Hasher.makeContext()
        if ctx == nil { software = SoftwareSHA256() }
    }

    /// For tests: a hasher on the portable implementation only.
    init(softwareOnly: Bool) {
        ctx = softwareOnly ? nil : SHA256Hasher.makeContext()
        if ctx == nil { software = SoftwareSHA256() }
    }

    private static func makeContext() -> OpaquePointer? {
        guard let c = EVP_MD_CTX_new() else { return nil }
        guard let md = EVP_sha256(), EVP_DigestInit_ex(c, md, nil) == 1 else {
            EVP_MD_CTX_free(c)
            return nil
        }
        return c
    }

    deinit { if let ctx { EVP_MD_CTX_free(ctx) } }

    /// Did an EVP call fail (reported by `finalize()`)?
    public var failed: Bool { failure != nil }

    /// Adds `bytes` to the hash.
    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard failure == nil else { return }
        guard !finished else {
            failure = .library(context: "SHA-256", message: "hasher used after finalize()")
            return
        }
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        if let ctx {
            guard EVP_DigestUpdate(ctx, base, bytes.count) == 1 else {
                failure = .library(context: "EVP_DigestUpdate(sha256)", message: "libcrypto failed")
                return
            }
        } else {
            software?.update(bytes)
        }
        count += Int64(bytes.count)
    }

    /// Adds the bytes of `array` to the hash.
    public func update<C: ContiguousBytes>(_ data: C) {
        data.withUnsafeBytes { update($0) }
    }

    /// Finishes and returns the digest; the hasher cannot be used afterwards.
    /// - Throws: `CoreError.library` if an EVP call failed or it was called twice.
    public func finalize() throws -> Digest {
        if let failure { throw failure }
        guard !finished else { throw CoreError.library(context: "SHA-256", message: "hasher finalized twice") }
        finished = true
        if let ctx {
            var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
            var len: UInt32 = 0
            guard EVP_DigestFinal_ex(ctx, &out, &len) == 1, len == 32 else {
                let error = CoreError.library(context: "EVP_DigestFinal_ex(sha256)", message: "libcrypto failed")
                failure = error
                throw error
            }
            return Digest(uncheckedAlgorithm: "sha256", encoded: hexString(out.prefix(32)))
        }
        let bytes = software?.finalize() ?? []
        return Digest(uncheckedAlgorithm: "sha256", encoded: hexString(bytes))
    }

    /// The SHA-256 digest of `data` (never fails: if libcrypto does, the
    /// portable implementation computes it).
    public static func digest<C: ContiguousBytes>(_ data: C) -> Digest {
        let h = SHA256Hasher()
        h.update(data)
        if let d = try? h.finalize() { return d }
        var soft = SoftwareSHA256()
        data.withUnsafeBytes { soft.update($0) }
        return Digest(uncheckedAlgorithm: "sha256", encoded: hexString(soft.finalize()))
    }
}

private let hexDigits = Array("0123456789abcdef".utf8)

func hexString<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
    var chars: [UInt8] = []
    chars.reserveCapacity(64)
    for b in bytes {
        chars.append(hexDigits[Int(b >> 4)])
        chars.append(hexDigits[Int(b & 0xf)])
    }
    return String(decoding: chars, as: UTF8.self)
}
