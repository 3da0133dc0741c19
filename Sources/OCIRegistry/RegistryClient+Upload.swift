import AsyncHTTPClient
import Foundation
import NIOHTTP1
import OCICore
import OCIModel

/// What `pushBlob` did.
public enum BlobPushResult: Sendable, Equatable {
    /// The repository already had the blob (HEAD).
    case existed
    /// Mounted from another repository of the registry.
    case mounted(from: String)
    /// Uploaded.
    case uploaded
}

extension RegistryClient {
    /// Makes blob `descriptor` present in `repository`: skip when a HEAD
    /// finds it, else try a cross-repository mount from each of
    /// `mountFrom`, else upload `file`.
    public func pushBlob(repository: String, descriptor: Descriptor, file: String, mountFrom: [String] = [],
                         progress: ByteProgress? = nil) throws -> BlobPushResult {
        if let size = try blobSize(repository: repository, digest: descriptor.digest) {
            guard size == descriptor.size else {
                throw RegistryError.sizeMismatch(context(repository, "blob \(descriptor.digest) (already in the registry)"),
                                                 expected: descriptor.size, actual: size)
            }
            return .existed
        }
        for from in mountFrom where from != repository {
            if try mountBlob(repository: repository, digest: descriptor.digest, from: from) { return .mounted(from: from) }
        }
        try uploadBlob(repository: repository, descriptor: descriptor, file: file, progress: progress)
        return .uploaded
    }

    /// Cross-repository mount: `POST /v2/<repository>/blobs/uploads/?mount=<digest>&from=<from>`,
    /// with a token for `repository:<repository>:pull,push` and `repository:<from>:pull`.
    /// - Returns: true when mounted (201); false on any mount error or when
    ///   the registry started an ordinary upload instead (202, which is cancelled).
    /// - Throws: only when the registry cannot be reached at all.
    public func mountBlob(repository: String, digest: Digest, from: String) throws -> Bool {
        try Names.checkRepository(repository)
        try Names.checkRepository(from)
        let ctx = context(repository, "blob \(digest)")
        let url = try baseURL() + "/v2/\(repository)/blobs/uploads/?mount=\(digest)&from=\(from)"
        var headers = HTTPHeaders()
        headers.add(name: "Content-Length", value: "0")
        let r: Response
        do {
            r = try send(Call(method: .POST, url: url, headers: headers, scopes: [.push(repository), .pull(from)], context: ctx))
        } catch let e as RegistryError {
            switch e {
            case .status, .authentication: return false
            default: throw e
            }
        }
        defer { r.close() }
        switch r.status {
        case 201:
            if (try? checkAnnouncedDigest(r, digest, ctx)) == nil { return false }
            r.discard()
            return true
        case 202:
            let session = try? r.location()
            r.discard()
            if let session { cancelUpload(session, repository: repository, ctx) }
            return false
        default:
            r.discard()
            return false
        }
    }

    /// Uploads the blob in `file` (whose size and digest `descriptor` gives).
    ///
    /// Up to `monolithicLimit`: `POST` then one `PUT ?digest=` with the
    /// whole file. Above it, on a 413, or when the registry's
    /// `OCI-Chunk-Min-Length` is below the blob's size: `PATCH` chunks of
    /// `max(chunkSize, OCI-Chunk-Min-Length)` bytes with `Content-Range`,
    /// then `PUT ?digest=`. The latest `Location` is always followed. A
    /// chunk that fails (broken connection, 416, 5xx) is resumed from the
    /// offset the registry reports (`GET` on the upload URL, `Range: 0-N`);
    /// a failed session is restarted; both bounded by `retries`.
    /// - Throws: `RegistryError.invalidArgument` when the file's size differs
    ///   from the descriptor's, `.status` (`BLOB_UPLOAD_INVALID`, `DIGEST_INVALID`,
    ///   `DENIED`…), `.digestMismatch`, `.transport`.
    public func uploadBlob(repository: String, descriptor: Descriptor, file: String, progress: ByteProgress? = nil) throws {
        try Names.checkRepository(repository)
        let ctx = context(repository, "blob \(descriptor.digest)")
        let size: Int64
        do { size = try FS.size(file) } catch { throw RegistryError.invalidArgument("\(ctx): \(error)") }
        guard size == descriptor.size else {
            throw RegistryError.invalidArgument("\(ctx): file \(file) has \(size) bytes, the descriptor says \(descriptor.size)")
        }
        let meter = UploadMeter(progress)
        var forceChunked = false
        var restarts = 0
        while true {
            do {
                let session = try startUpload(repository, ctx)
                var chunk = Int64(options.chunkSize)
                var chunked = forceChunked || size > options.monolithicLimit
                if let min = session.minChunk {
                    chunk = max(chunk, min)
                    if size > min { chunked = true }
                }
                if !chunked {
                    meter.reset(to: 0)
                    var headers = HTTPHeaders()
                    headers.add(name: "Content-Type", value: "application/octet-stream")
                    var call = Call(method: .PUT, url: appendingDigest(session.location, descriptor.digest), headers: headers,
                                    body: .file(path: file, offset: 0, length: size, chunk: 1 << 20),
                                    scopes: [.push(repository)], context: ctx)
                    call.retry = false
                    call.streaming = true
                    call.bodySent = { meter.sent($0) }
                    let r = try send(call)
                    defer { r.close() }
                    if r.status == 413 {
                        r.discard()
                        forceChunked = true
                        continue
                    }
                    guard r.status == 201 || r.status == 204 || r.status == 200 else { throw r.error(ctx) }
                    try checkAnnouncedDigest(r, descriptor.digest, ctx)
                    r.discard()
                    return
                }
                try uploadChunks(session.location, file: file, size: size, chunk: chunk, descriptor: descriptor,
                                 repository: repository, meter: meter, ctx)
                return
            } catch let e as RegistryError {
                guard restarts < options.retries, isWorthRestarting(e) else { throw e }
                restarts += 1
                pause(backoff(attempt: restarts, retryAfter: nil))
            }
        }
    }

    /// Connection failures and server errors restart an upload; refusals do not.
    private func isWorthRestarting(_ e: RegistryError) -> Bool {
        switch e {
        case .transport: return true
        case let .status(_, status, code, _):
            return status == 429 || status >= 500 || code == "BLOB_UPLOAD_UNKNOWN" || code == "BLOB_UPLOAD_INVALID" || status == 416
        default: return false
        }
    }

    /// `POST /v2/<repository>/blobs/uploads/` → the session URL and the
    /// registry's minimum chunk length, if it sends one.
    private func startUpload(_ repository: String, _ ctx: RegistryErrorContext) throws -> (location: String, minChunk: Int64?) {
        let url = try baseURL() + "/v2/\(repository)/blobs/uploads/"
        var headers = HTTPHeaders()
        headers.add(name: "Content-Length", value: "0")
        let r = try send(Call(method: .POST, url: url, headers: headers, scopes: [.push(repository)], context: ctx))
        defer { r.close() }
        guard r.status == 202 else { throw r.error(ctx) }
        let location = try r.location()
        var minChunk: Int64?
        if let raw = r.header("OCI-Chunk-Min-Length") {
            guard let n = HeaderParsing.int64(raw), n > 0, n <= 1 << 40 else {
                throw RegistryError.invalidResponse(ctx, "bad OCI-Chunk-Min-Length \"\(RegistryError.sanitize(String(raw.prefix(40))))\"")
            }
            minChunk = n
        }
        r.discard()
        return (location, minChunk)
    }

    /// The PATCH loop and the closing PUT of a chunked upload.
    private func uploadChunks(_ start: String, file: String, size: Int64, chunk: Int64, descriptor: Descriptor,
                              repository: String, meter: UploadMeter, _ ctx: RegistryErrorContext) throws {
        var location = start
        var offset: Int64 = 0
        var failures = 0
        meter.reset(to: 0)
        while offset < size {
            let n = min(chunk, size - offset)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/octet-stream")
            headers.add(name: "Content-Range", value: "\(offset)-\(offset + n - 1)")
            var call = Call(method: .PATCH, url: location, headers: headers,
                            body: .file(path: file, offset: offset, length: n, chunk: 1 << 20),
                            scopes: [.push(repository)], context: ctx)
            call.retry = false
            call.streaming = true
            call.bodySent = { meter.sent($0) }
            meter.reset(to: offset)
            var failed: RegistryError?
            do {
                let r = try send(call)
                defer { r.close() }
                if r.status == 202 {
                    location = try r.location()
                    let reported = HeaderParsing.uploadOffset(r.header("Range"))
                    r.discard()
                    offset += n
                    if let reported, reported != offset {
                        // Trust the registry's count (it may have kept less).
                        guard reported <= size else { throw RegistryError.invalidResponse(ctx, "upload Range beyond the blob's size") }
                        offset = reported
                    }
                    meter.reset(to: offset)
                    continue
                }
                let e = r.error(ctx)
                guard r.status == 416 || r.status == 429 || r.status >= 500 else { throw e }
                failed = e
            } catch let e as RegistryError {
                guard case .transport = e else { throw e }
                failed = e
            }
            // Resume: ask the registry how much it holds.
            guard failures < options.retries, failed != nil else { throw failed ?? RegistryError.invalidResponse(ctx, "upload failed") }
            failures += 1
            pause(backoff(attempt: failures, retryAfter: nil))
            let status = try uploadStatus(location, repository: repository, ctx)
            guard status.offset <= size else { throw RegistryError.invalidResponse(ctx, "upload Range beyond the blob's size") }
            location = status.location
            offset = status.offset
        }
        // Close the session with the digest.
        var closeFailures = 0
        while true {
            var headers = HTTPHeaders()
            headers.add(name: "Content-Length", value: "0")
            var call = Call(method: .PUT, url: appendingDigest(location, descriptor.digest), headers: headers,
                            scopes: [.push(repository)], context: ctx)
            call.retry = false
            do {
                let r = try send(call)
                defer { r.close() }
                guard r.status == 201 || r.status == 204 || r.status == 200 else { throw r.error(ctx) }
                try checkAnnouncedDigest(r, descriptor.digest, ctx)
                r.discard()
                meter.reset(to: size)
                return
            } catch let e as RegistryError {
                guard case .transport = e, closeFailures < options.retries else { throw e }
                closeFailures += 1
                pause(backoff(attempt: closeFailures, retryAfter: nil))
                // The PUT may have landed before the connection broke.
                if let n = try blobSize(repository: repository, digest: descriptor.digest), n == size { return }
            }
        }
    }

    /// `GET` on an upload URL: where to continue (`Range: 0-N` → N+1) and the latest `Location`.
    private func uploadStatus(_ location: String, repository: String, _ ctx: RegistryErrorContext) throws -> (location: String, offset: Int64) {
        let r = try send(Call(method: .GET, url: location, scopes: [.push(repository)], context: ctx))
        defer { r.close() }
        guard r.status == 204 || r.status == 200 || r.status == 202 else { throw r.error(ctx) }
        guard let offset = HeaderParsing.uploadOffset(r.header("Range")) else {
            throw RegistryError.invalidResponse(ctx, "upload status without a valid Range header")
        }
        let next = (try? r.location()) ?? location
        r.discard()
        return (next, offset)
    }

    /// Best-effort `DELETE` of an upload session.
    private func cancelUpload(_ location: String, repository: String, _ ctx: RegistryErrorContext) {
        var call = Call(method: .DELETE, url: location, scopes: [.push(repository)], context: ctx)
        call.retry = false
        if let r = try? send(call) { r.discard() }
    }

    /// `url` with `digest=<digest>` added to its query (the existing query is kept verbatim).
    func appendingDigest(_ url: String, _ digest: Digest) -> String {
        var base = url
        var fragment = ""
        if let hash = base.firstIndex(of: "#") {
            fragment = String(base[hash...])
            base = String(base[..<hash])
        }
        let sep = base.contains("?") ? (base.hasSuffix("?") || base.hasSuffix("&") ? "" : "&") : "?"
        return base + sep + "digest=" + digest.description + fragment
    }
}

/// Reports upload progress once per byte even when chunks are re-sent.
final class UploadMeter: @unchecked Sendable {
    private let progress: ByteProgress?
    private var position: Int64 = 0
    private var reported: Int64 = 0

    init(_ progress: ByteProgress?) { self.progress = progress }

    /// Bytes of the current request body were written.
    func sent(_ n: Int64) {
        position += n
        report()
    }

    /// The request body starts (again) at `offset`.
    func reset(to offset: Int64) {
        position = offset
        report()
    }

    private func report() {
        if position > reported {
            progress?.advance(by: position - reported)
            reported = position
        }
    }
}
