import OCICore

/// Watches a blob's bytes as they stream past: detects its compression from
/// the first bytes and, for gzip/zstd, decompresses on the fly to compute
/// the uncompressed digest (the diff_id of a layer). A decode failure is
/// recorded, not thrown: the blob may not be a layer at all.
package final class LayerDigester: ByteSink {
    private var head: [UInt8] = []
    package private(set) var compression: Compression?
    private var decoder: ByteSink?
    private var digester: DigestingSink?
    package private(set) var decodeError: String?
    private let context: String

    private let parallel: Bool
    private let decode: Bool

    /// - Parameters:
    ///   - parallel: hash the decompressed stream on a worker thread.
    ///   - decode: false to only detect the compression (the diff_id is
    ///     then computed later, by `DiffIDVerifier`, from the staged file).
    package init(context: String, parallel: Bool = false, decode: Bool = true) {
        self.context = context
        self.parallel = parallel
        self.decode = decode
    }

    package func write(_ bytes: UnsafeRawBufferPointer) throws {
        if compression == nil {
            head.append(contentsOf: bytes.prefix(max(0, 6 - head.count)))
            if head.count < 6 {
                pendingBytes.append(contentsOf: bytes)
                return
            }
            decide()
            if !pendingBytes.isEmpty {
                let p = pendingBytes
                pendingBytes = []
                feed(p)
            }
        }
        feed(bytes)
    }

    private var pendingBytes: [UInt8] = []

    private func decide() {
        let c = Compression.detect(head)
        compression = c
        if decode && (c == .gzip || c == .zstd) {
            let d = DigestingSink()
            digester = d
            // In parallel mode the decompressed stream is hashed on a worker
            // thread while the caller's thread decompresses; the gzip decoder
            // inflates straight into the hand-off buffers (no copy).
            decoder = try? c.decoder(into: parallel ? AsyncSink(inner: d) : d, context: context)
        }
    }

    private func feed<C: ContiguousBytes>(_ data: C) {
        data.withUnsafeBytes { feed($0) }
    }

    private func feed(_ bytes: UnsafeRawBufferPointer) {
        guard let decoder, decodeError == nil else { return }
        do { try decoder.write(bytes) } catch { decodeError = "\(error)" }
    }

    package func finish() throws {
        if compression == nil {
            decide()
            let p = pendingBytes
            pendingBytes = []
            feed(p)
        }
        if let decoder, decodeError == nil {
            do { try decoder.finish() } catch { decodeError = "\(error)" }
        }
    }

    /// The digest of the decompressed content (nil for uncompressed blobs,
    /// whose diff_id is their own digest, or after a decode error).
    package var uncompressedDigest: Digest? {
        guard decodeError == nil, let digester else { return nil }
        return try? digester.digest()
    }
}

import Foundation
