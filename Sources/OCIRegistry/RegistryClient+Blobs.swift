import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OCICore
import OCIModel

extension RegistryClient {
    /// Streams blob `descriptor.digest` into `sink`, verifying its size and
    /// sha256 (throws on a mismatch, naming the digest).
    ///
    /// Redirects (often to storage on another host) are followed without
    /// `Authorization`. A connection that breaks mid-blob is resumed with
    /// `Range: bytes=N-` (bounded by `retries`); a registry that ignores
    /// the range and sends the blob again has its first N bytes skipped.
    /// `sink` is written from the calling thread only and is not finished
    /// here; on a throw, what it received must be discarded.
    /// - Throws: `RegistryError.status` (`BLOB_UNKNOWN`, 416, …),
    ///   `.sizeMismatch`, `.digestMismatch`, `.transport`, or the sink's error.
    public func fetchBlob(repository: String, descriptor: Descriptor, into sink: ByteSink, progress: ByteProgress? = nil) throws {
        try Names.checkRepository(repository)
        let digest = descriptor.digest
        let ctx = context(repository, "blob \(digest)")
        guard descriptor.size >= 0 else { throw RegistryError.invalidArgument("\(ctx): negative size \(descriptor.size)") }
        guard digest.algorithm == "sha256" else { throw RegistryError.unsupported(ctx, "digest algorithm \(digest.algorithm) cannot be verified (sha256 only)") }
        let size = descriptor.size
        let url = try baseURL() + "/v2/\(repository)/blobs/\(digest)"
        let hasher = SHA256Hasher()
        var received: Int64 = 0
        var attempt = 0
        while true {
            var headers = HTTPHeaders()
            if received > 0 { headers.add(name: "Range", value: "bytes=\(received)-") }
            var call = Call(method: .GET, url: url, headers: headers, scopes: [.pull(repository)], context: ctx)
            call.streaming = true
            let r = try send(call)
            defer { r.close() }
            var skip: Int64 = 0
            switch r.status {
            case 200:
                skip = received  // the whole blob again: drop what we already have
                if let n = r.contentLength, n != size { throw RegistryError.sizeMismatch(ctx, expected: size, actual: n) }
            case 206 where received > 0:
                guard let cr = HeaderParsing.contentRange(r.header("Content-Range")), cr.start == received,
                      cr.end < size, cr.total == nil || cr.total == size else {
                    throw RegistryError.invalidResponse(ctx, "partial content \(r.header("Content-Range").map { RegistryError.sanitize(String($0.prefix(80))) } ?? "without Content-Range") does not continue at byte \(received) of \(size)")
                }
            case 416:
                let e = r.error(ctx)
                throw RegistryError.status(ctx, status: 416, code: e.code,
                                           message: "the registry refused to resume at byte \(received) of \(size) (range not satisfiable)")
            default:
                throw r.error(ctx)
            }
            if r.status == 200 || received == 0 { try checkAnnouncedDigest(r, digest, ctx) }
            do {
                while let chunk = try nextChunk(r) {
                    var view = chunk.readableBytesView[...]
                    if skip > 0 {
                        let drop = Int(min(Int64(view.count), skip))
                        view = view.dropFirst(drop)
                        skip -= Int64(drop)
                        if view.isEmpty { continue }
                    }
                    guard received + Int64(view.count) <= size else {
                        throw RegistryError.sizeMismatch(ctx, expected: size, actual: received + Int64(view.count))
                    }
                    try view.withUnsafeBytes { raw in
                        hasher.update(raw)
                        try sink.write(raw)
                    }
                    received += Int64(view.count)
                    progress?.advance(by: Int64(view.count))
                }
                if received == size { break }
                // The body ended early (a close-delimited response cut short).
                throw BodyReadError(underlying: HTTPClientError.remoteConnectionClosed, url: r.url)
            } catch let e as BodyReadError {
                guard attempt < options.retries, Transport.isRetryable(e.underlying) else {
                    if received < size && (e.underlying as? HTTPClientError) == .remoteConnectionClosed {
                        throw RegistryError.sizeMismatch(ctx, expected: size, actual: received)
                    }
                    throw RegistryError.transport(ctx, Transport.describe(e.underlying, url: e.url))
                }
                attempt += 1
                r.close()
                pause(backoff(attempt: attempt, retryAfter: nil))
            }
        }
        let actual = try hasher.finalize()
        guard actual == digest else {
            throw RegistryError.digestMismatch(ctx, expected: digest.description, actual: actual.description)
        }
    }

    /// The next body part, with connection failures marked as such
    /// (sink errors pass through unchanged).
    func nextChunk(_ r: Response) throws -> ByteBuffer? {
        do { return try r.exchange.nextChunk() } catch { throw BodyReadError(underlying: error, url: r.url) }
    }

    /// `HEAD /v2/<repository>/blobs/<digest>`: the blob's size, or nil when
    /// the repository does not have it.
    /// - Throws: `RegistryError.status` for errors other than 404, `.invalidResponse` without a size.
    public func blobSize(repository: String, digest: Digest) throws -> Int64? {
        try Names.checkRepository(repository)
        let ctx = context(repository, "blob \(digest)")
        let url = try baseURL() + "/v2/\(repository)/blobs/\(digest)"
        let r = try send(Call(method: .HEAD, url: url, scopes: [.pull(repository)], context: ctx))
        defer { r.close() }
        if r.status == 404 { return nil }
        guard r.status == 200 else { throw r.error(ctx) }
        if digest.algorithm == "sha256" { try checkAnnouncedDigest(r, digest, ctx) }
        guard let n = r.contentLength else { throw RegistryError.invalidResponse(ctx, "HEAD without a valid Content-Length") }
        return n
    }

    /// `DELETE /v2/<repository>/blobs/<digest>` (the registry must allow deletes).
    public func deleteBlob(repository: String, digest: Digest) throws {
        try Names.checkRepository(repository)
        let ctx = context(repository, "blob \(digest)")
        let url = try baseURL() + "/v2/\(repository)/blobs/\(digest)"
        let r = try send(Call(method: .DELETE, url: url, scopes: [.delete(repository)], context: ctx))
        defer { r.close() }
        guard r.status == 202 || r.status == 200 || r.status == 204 else { throw r.error(ctx) }
        r.discard()
    }
}
