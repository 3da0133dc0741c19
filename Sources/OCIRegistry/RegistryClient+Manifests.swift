import AsyncHTTPClient
import Foundation
import NIOHTTP1
import OCICore
import OCIModel

/// A manifest or index as the registry sent it: the raw bytes (never
/// re-serialised), their media type and digest.
public struct FetchedManifest: Sendable, Equatable {
    /// The document, byte for byte.
    public let bytes: [UInt8]
    /// From `Content-Type`, or the document's `mediaType` when the header is missing or generic.
    public let mediaType: String
    /// The sha256 of `bytes` (checked against a digest reference and `Docker-Content-Digest`).
    public let digest: Digest

    /// A descriptor of this document.
    public var descriptor: Descriptor { Descriptor(mediaType: mediaType, digest: digest, size: Int64(bytes.count)) }
}

extension RegistryClient {
    /// `GET /v2/<repository>/manifests/<reference>` with an Accept list.
    ///
    /// The bytes are returned as sent (at most 4 MiB, JSON nesting bounded).
    /// Their sha256 must equal `reference` when it is a digest, and the
    /// registry's `Docker-Content-Digest` when it sends one.
    /// - Parameters:
    ///   - reference: a tag or a digest (`sha256:…`).
    ///   - accept: media types to ask for (default `RegistryClient.defaultAccept`).
    /// - Throws: `RegistryError.status` (`MANIFEST_UNKNOWN`, `NAME_UNKNOWN`, `DENIED`, …),
    ///   `.digestMismatch`, `.unsupported` for schema 1, `.invalidResponse`, `.transport`.
    public func manifest(repository: String, reference: String, accept: [String] = RegistryClient.defaultAccept) throws -> FetchedManifest {
        try Names.checkRepository(repository)
        try Names.checkReference(reference)
        let ctx = context(repository, "manifest \(reference)")
        let expected = try reference.contains(":") ? sha256Reference(reference, ctx) : nil
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: accept.joined(separator: ", "))
        let url = try baseURL() + "/v2/\(repository)/manifests/\(reference)"
        return try readingWithRetries(ctx) {
            let r = try send(Call(method: .GET, url: url, headers: headers, scopes: [.pull(repository)], context: ctx))
            defer { r.close() }
            guard r.status == 200 else { throw r.error(ctx) }
            let bytes = try readDocument(r, limit: RegistryLimits.manifestBytes, what: "manifest", ctx)
            let digest = SHA256Hasher.digest(bytes)
            if let expected, expected != digest {
                throw RegistryError.digestMismatch(ctx, expected: expected.description, actual: digest.description)
            }
            try checkAnnouncedDigest(r, digest, ctx)
            let type = try ManifestMediaType.resolve(contentType: r.header("Content-Type"), bytes: bytes, ctx)
            return FetchedManifest(bytes: bytes, mediaType: type, digest: digest)
        }
    }

    /// `HEAD /v2/<repository>/manifests/<reference>`: the descriptor of the
    /// manifest without its body, or nil when it does not exist. Falls back
    /// to a GET when the registry omits `Docker-Content-Digest`,
    /// `Content-Length` or a specific `Content-Type`.
    /// - Throws: as `manifest`, except that absence is nil.
    public func manifestDescriptor(repository: String, reference: String, accept: [String] = RegistryClient.defaultAccept) throws -> Descriptor? {
        try Names.checkRepository(repository)
        try Names.checkReference(reference)
        let ctx = context(repository, "manifest \(reference)")
        let expected = try reference.contains(":") ? sha256Reference(reference, ctx) : nil
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: accept.joined(separator: ", "))
        let url = try baseURL() + "/v2/\(repository)/manifests/\(reference)"
        let r = try send(Call(method: .HEAD, url: url, headers: headers, scopes: [.pull(repository)], context: ctx))
        defer { r.close() }
        if r.status == 404 { return nil }
        guard r.status == 200 else { throw r.error(ctx) }
        let type = HeaderParsing.mediaType(r.header("Content-Type"))
        guard let dcd = r.header("Docker-Content-Digest"), let digest = try? Digest(parsing: dcd.trimmingCharacters(in: .whitespaces)),
              let size = r.contentLength, size <= Int64(RegistryLimits.manifestBytes),
              let type, !ManifestMediaType.isGeneric(type) else {
            r.close()
            return try manifest(repository: repository, reference: reference, accept: accept).descriptor
        }
        if ManifestMediaType.isSchema1(type) { throw ManifestMediaType.schema1Error(ctx) }
        if let expected, expected != digest {
            throw RegistryError.digestMismatch(ctx, expected: expected.description, actual: digest.description)
        }
        return Descriptor(mediaType: type, digest: digest, size: size)
    }

    /// `PUT /v2/<repository>/manifests/<reference>` with `bytes` as they are.
    /// - Parameters:
    ///   - reference: a tag, or the manifest's own digest.
    ///   - mediaType: sent as `Content-Type` (the document's `mediaType`).
    /// - Returns: the sha256 of `bytes` (checked against the registry's `Docker-Content-Digest`).
    /// - Throws: `RegistryError.invalidArgument` (over 4 MiB, digest reference
    ///   not matching), `.status` (`MANIFEST_INVALID`, `MANIFEST_BLOB_UNKNOWN`, `DENIED`…), `.digestMismatch`.
    @discardableResult
    public func putManifest(repository: String, reference: String, mediaType: String, bytes: [UInt8]) throws -> Digest {
        try pushManifest(repository: repository, reference: reference, mediaType: mediaType, bytes: bytes).digest
    }

    /// What `pushManifest` learnt from the registry.
    public struct ManifestPushResult: Sendable, Equatable {
        /// The sha256 of the bytes sent (the registry's `Docker-Content-Digest` agreed).
        public var digest: Digest
        /// The registry's `OCI-Subject` header: the subject digest when the
        /// registry indexed the manifest for the referrers API itself
        /// (distribution-spec 1.1 "Pushing Manifests with Subject"); nil
        /// when it did not say so, so the client must update the
        /// `sha256-<hex>` tag index (see `addReferrerByTag`).
        public var subject: Digest?
    }

    /// `putManifest`, also returning the registry's `OCI-Subject` answer.
    /// - Throws: as `putManifest`.
    public func pushManifest(repository: String, reference: String, mediaType: String, bytes: [UInt8]) throws -> ManifestPushResult {
        try Names.checkRepository(repository)
        try Names.checkReference(reference)
        let ctx = context(repository, "manifest \(reference)")
        guard bytes.count <= RegistryLimits.manifestBytes else {
            throw RegistryError.invalidArgument("\(ctx): manifest of \(bytes.count) bytes is over the \(RegistryLimits.manifestBytes)-byte limit")
        }
        guard !mediaType.isEmpty, mediaType.utf8.count <= 255, mediaType.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
            throw RegistryError.invalidArgument("\(ctx): invalid media type \"\(String(mediaType.prefix(100)))\"")
        }
        let digest = SHA256Hasher.digest(bytes)
        if reference.contains(":") {
            let want = try sha256Reference(reference, ctx)
            guard want == digest else {
                throw RegistryError.invalidArgument("\(ctx): the manifest's digest is \(digest), not \(reference)")
            }
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: mediaType)
        let url = try baseURL() + "/v2/\(repository)/manifests/\(reference)"
        let r = try send(Call(method: .PUT, url: url, headers: headers, body: .bytes(bytes), scopes: [.push(repository)], context: ctx))
        defer { r.close() }
        guard r.status == 201 || r.status == 200 || r.status == 202 else { throw r.error(ctx) }
        try checkAnnouncedDigest(r, digest, ctx)
        let subject = r.header("OCI-Subject").flatMap { try? Digest(parsing: $0.trimmingCharacters(in: .whitespaces)) }
        r.discard()
        return ManifestPushResult(digest: digest, subject: subject)
    }

    /// `DELETE /v2/<repository>/manifests/<digest>` (the registry must allow deletes).
    /// - Throws: `RegistryError.status` (`MANIFEST_UNKNOWN`, `UNSUPPORTED`, `DENIED`…).
    public func deleteManifest(repository: String, digest: Digest) throws {
        try Names.checkRepository(repository)
        let ctx = context(repository, "manifest \(digest)")
        let url = try baseURL() + "/v2/\(repository)/manifests/\(digest)"
        let r = try send(Call(method: .DELETE, url: url, scopes: [.delete(repository)], context: ctx))
        defer { r.close() }
        guard r.status == 202 || r.status == 200 || r.status == 204 else { throw r.error(ctx) }
        r.discard()
    }

    // MARK: - Shared helpers

    /// Parses a digest reference and insists on sha256 (what can be verified).
    func sha256Reference(_ reference: String, _ ctx: RegistryErrorContext) throws -> Digest {
        guard let d = try? Digest(parsing: reference) else { throw RegistryError.invalidArgument("\(ctx): invalid digest \(reference)") }
        guard d.algorithm == "sha256" else { throw RegistryError.unsupported(ctx, "digest algorithm \(d.algorithm) cannot be verified (sha256 only)") }
        return d
    }

    /// A sha256 `Docker-Content-Digest` must equal what was computed.
    func checkAnnouncedDigest(_ r: Response, _ digest: Digest, _ ctx: RegistryErrorContext) throws {
        guard let dcd = r.header("Docker-Content-Digest")?.trimmingCharacters(in: .whitespaces), !dcd.isEmpty else { return }
        guard let announced = try? Digest(parsing: dcd) else {
            throw RegistryError.invalidResponse(ctx, "malformed Docker-Content-Digest \"\(RegistryError.sanitize(String(dcd.prefix(100))))\"")
        }
        if announced.algorithm == "sha256" && announced != digest {
            throw RegistryError.digestMismatch(ctx, expected: announced.description, actual: digest.description)
        }
    }

    /// Reads a small JSON body: bounded by `limit` (before and while
    /// reading), `Content-Length` honoured, nesting bounded.
    func readDocument(_ r: Response, limit: Int, what: String, _ ctx: RegistryErrorContext) throws -> [UInt8] {
        if let n = r.contentLength, n > Int64(limit) {
            throw RegistryError.invalidResponse(ctx, "\(what) of \(n) bytes is over the \(limit)-byte limit")
        }
        let bytes: [UInt8]
        do {
            guard let b = try r.exchange.collect(limit: limit) else {
                throw RegistryError.invalidResponse(ctx, "\(what) is over the \(limit)-byte limit")
            }
            bytes = b
        } catch let e as RegistryError {
            throw e
        } catch {
            throw BodyReadError(underlying: error, url: r.url)
        }
        if let n = r.contentLength, n != Int64(bytes.count) {
            throw RegistryError.sizeMismatch(ctx, expected: n, actual: Int64(bytes.count))
        }
        guard JSONDepth.isAcceptable(bytes) else {
            throw RegistryError.invalidResponse(ctx, "\(what) nests JSON deeper than \(RegistryLimits.jsonDepth) levels")
        }
        return bytes
    }

    /// Runs `body`, repeating it (bounded, with backoff) when the
    /// connection broke while a response body was read.
    func readingWithRetries<T>(_ ctx: RegistryErrorContext, _ body: () throws -> T) throws -> T {
        var attempt = 0
        while true {
            do {
                return try body()
            } catch let e as BodyReadError {
                guard attempt < options.retries, Transport.isRetryable(e.underlying) else {
                    throw RegistryError.transport(ctx, Transport.describe(e.underlying, url: e.url))
                }
                attempt += 1
                pause(backoff(attempt: attempt, retryAfter: nil))
            }
        }
    }
}

/// The connection failed while a body was read (retryable by the caller).
struct BodyReadError: Error {
    var underlying: Error
    var url: String
}

/// Telling a manifest's media type, and refusing schema 1.
enum ManifestMediaType {
    static let schema1 = ["application/vnd.docker.distribution.manifest.v1+json", "application/vnd.docker.distribution.manifest.v1+prettyjws"]

    static func isSchema1(_ t: String) -> Bool { schema1.contains(t) }
    static func isGeneric(_ t: String) -> Bool { ["application/json", "text/plain", "application/octet-stream", "binary/octet-stream"].contains(t) }

    static func schema1Error(_ ctx: RegistryErrorContext) -> RegistryError {
        .unsupported(ctx, "Docker schema 1 manifests are not supported (push the image again with a current client to get schema 2 or OCI)")
    }

    /// The header's type unless missing or generic, else the document's
    /// `mediaType`, else guessed from its shape (`manifests` → OCI index,
    /// `config` → OCI manifest).
    static func resolve(contentType: String?, bytes: [UInt8], _ ctx: RegistryErrorContext) throws -> String {
        let header = HeaderParsing.mediaType(contentType)
        if let header, isSchema1(header) { throw schema1Error(ctx) }
        guard let obj = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw RegistryError.invalidResponse(ctx, "the manifest is not a JSON object")
        }
        if (obj["schemaVersion"] as? NSNumber)?.intValue == 1 { throw schema1Error(ctx) }
        let field = obj["mediaType"] as? String
        if let field, isSchema1(field) { throw schema1Error(ctx) }
        if let header, !isGeneric(header) { return header }
        if let field, !field.isEmpty { return field }
        if obj["manifests"] != nil { return MediaType.ociIndex }
        if obj["config"] != nil { return MediaType.ociManifest }
        throw RegistryError.invalidResponse(ctx, "cannot tell the manifest's media type (no Content-Type, no mediaType)")
    }
}
