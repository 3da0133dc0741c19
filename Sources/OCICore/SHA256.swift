import Foundation
import CCrypto

/// A streaming SHA-256 over OpenSSL libcrypto's EVP interface.
///
/// Feed bytes with `update(_:)` in any block sizes, then call `finalize()`
/// once. Not thread-safe; use one hasher per stream.
public final class SHA256Hasher {
    private let ctx: OpaquePointer
    private var finished = false
    /// Bytes hashed so far.
    public private(set) var count: Int64 = 0

    public init() {
        // EVP_MD_CTX_new only fails on allocation failure.
        guard let ctx = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new: out of memory") }
        self.ctx = ctx
        guard EVP_DigestInit_ex(ctx, EVP_sha256(), nil) == 1 else { fatalError("EVP_DigestInit_ex(sha256) failed") }
    }

    deinit { EVP_MD_CTX_free(ctx) }

    /// Adds `bytes` to the hash.
    public func update(_ bytes: UnsafeRawBufferPointer) {
        precondition(!finished, "SHA256Hasher used after finalize()")
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        EVP_DigestUpdate(ctx, base, bytes.count)
        count += Int64(bytes.count)
    }

    /// Adds the bytes of `array` to the hash.
    public func update<C: ContiguousBytes>(_ data: C) {
        data.withUnsafeBytes { update($0) }
    }

    /// Finishes and returns the digest; the hasher cannot be used afterwards.
    public func finalize() -> Digest {
        precondition(!finished, "SHA256Hasher finalized twice")
        finished = true
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var len: UInt32 = 0
        EVP_DigestFinal_ex(ctx, &out, &len)
        return Digest(uncheckedAlgorithm: "sha256", encoded: hexString(out.prefix(Int(len))))
    }

    /// The SHA-256 digest of `data`.
    public static func digest<C: ContiguousBytes>(_ data: C) -> Digest {
        let h = SHA256Hasher()
        h.update(data)
        return h.finalize()
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
