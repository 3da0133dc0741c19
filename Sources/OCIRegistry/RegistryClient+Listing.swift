import AsyncHTTPClient
import Foundation
import NIOHTTP1
import OCICore
import OCIModel

extension RegistryClient {
    /// All tags of `repository` (`GET /v2/<repository>/tags/list`),
    /// following `Link: <…>; rel="next"` pages (page size `options.tagPageSize`).
    /// Bounded: at most `RegistryLimits.maxPages` pages of 4 MiB and
    /// `RegistryLimits.maxListEntries` tags.
    /// - Throws: `RegistryError.status` (`NAME_UNKNOWN`, `DENIED`…), `.invalidResponse`.
    public func tags(repository: String) throws -> [String] {
        try Names.checkRepository(repository)
        let ctx = context(repository, "tag list")
        var url = try baseURL() + "/v2/\(repository)/tags/list"
        if let n = options.tagPageSize { url += "?n=\(n)" }
        var tags: [String] = []
        var pages = 0
        var seen: Set<String> = []
        while true {
            pages += 1
            guard pages <= RegistryLimits.maxPages else { throw RegistryError.invalidResponse(ctx, "more than \(RegistryLimits.maxPages) pages") }
            let (bytes, next) = try page(url, scopes: [.pull(repository)], accept: "application/json", ctx)
            guard let obj = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
                throw RegistryError.invalidResponse(ctx, "tag list is not a JSON object")
            }
            if let list = obj["tags"], !(list is NSNull) {
                guard let names = list as? [String] else { throw RegistryError.invalidResponse(ctx, "\"tags\" is not a list of strings") }
                tags += names
            }
            guard tags.count <= RegistryLimits.maxListEntries else {
                throw RegistryError.invalidResponse(ctx, "more than \(RegistryLimits.maxListEntries) tags")
            }
            guard let next else { break }
            guard seen.insert(next).inserted else { throw RegistryError.invalidResponse(ctx, "tag list pages loop") }
            url = next
        }
        return tags
    }

    /// Manifests that refer to `digest` through their `subject`
    /// (`GET /v2/<repository>/referrers/<digest>`, distribution-spec 1.1),
    /// optionally only those of `artifactType` (filtered here when the
    /// registry did not apply the filter, i.e. `OCI-Filters-Applied` lacks it).
    /// When the API answers 404, the tag schema is used: the index tagged
    /// `sha256-<hex>`; no such tag means no referrers.
    /// - Throws: `RegistryError.status` for errors other than 404, `.invalidResponse`.
    public func referrers(repository: String, digest: Digest, artifactType: String? = nil) throws -> [Descriptor] {
        try Names.checkRepository(repository)
        let ctx = context(repository, "referrers of \(digest)")
        var url = try baseURL() + "/v2/\(repository)/referrers/\(digest)"
        if let t = artifactType {
            var q = URLComponents()
            q.queryItems = [URLQueryItem(name: "artifactType", value: t)]
            url += "?" + (q.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
        }
        var result: [Descriptor] = []
        var pages = 0
        var filtered = true
        var seen: Set<String> = []
        while true {
            pages += 1
            guard pages <= RegistryLimits.maxPages else { throw RegistryError.invalidResponse(ctx, "more than \(RegistryLimits.maxPages) pages") }
            let answer: (bytes: [UInt8], next: String?, filters: String?)
            do {
                answer = try pageWithFilters(url, scopes: [.pull(repository)], accept: MediaType.ociIndex, ctx)
            } catch let e as RegistryError where e.httpStatus == 404 && pages == 1 {
                return try referrersByTag(repository: repository, digest: digest, artifactType: artifactType)
            }
            let index: IndexManifest
            do { index = try IndexManifest.parse(answer.bytes, what: "referrers index") } catch {
                throw RegistryError.invalidResponse(ctx, "\(error)")
            }
            if let t = artifactType {
                let applied = (answer.filters ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                if !applied.contains("artifactType") { filtered = false }
                _ = t
            }
            result += index.manifests
            guard result.count <= RegistryLimits.maxListEntries else {
                throw RegistryError.invalidResponse(ctx, "more than \(RegistryLimits.maxListEntries) referrers")
            }
            guard let next = answer.next else { break }
            guard seen.insert(next).inserted else { throw RegistryError.invalidResponse(ctx, "referrers pages loop") }
            url = next
        }
        if let t = artifactType, !filtered { result = result.filter { $0.artifactType == t } }
        return result
    }

    /// The tag the referrers tag schema uses for `digest`: `<alg>-<encoded>`, at most 128 characters.
    public static func referrersTag(for digest: Digest) -> String {
        String("\(digest.algorithm)-\(digest.encoded)".prefix(128))
    }

    /// Lists `descriptor` (a manifest whose `subject` is `subject`) in the
    /// referrers tag schema index of `repository`, for registries without
    /// the referrers API (distribution-spec 1.1 "Pushing Manifests with
    /// Subject", when the registry sent no `OCI-Subject`): the index tagged
    /// `sha256-<hex>` is read (none: an empty OCI index), the descriptor
    /// appended unless it is there, and the index pushed under that tag.
    /// Its other fields and entries are kept as they are.
    /// - Returns: false when the descriptor was listed already (nothing pushed).
    /// - Throws: `RegistryError.status` (`DENIED`…), `.invalidResponse` for an index that is not one.
    @discardableResult
    public func addReferrerByTag(repository: String, subject: Digest, descriptor: Descriptor) throws -> Bool {
        try Names.checkRepository(repository)
        let tag = RegistryClient.referrersTag(for: subject)
        let ctx = context(repository, "referrers tag \(tag)")
        var object: [String: Any] = ["schemaVersion": 2, "mediaType": MediaType.ociIndex, "manifests": [Any]()]
        do {
            let current = try manifest(repository: repository, reference: tag, accept: [MediaType.ociIndex])
            guard let o = try? JSONSerialization.jsonObject(with: Data(current.bytes)) as? [String: Any],
                  let list = o["manifests"] as? [Any] else {
                throw RegistryError.invalidResponse(ctx, "the tag does not name an image index")
            }
            if list.contains(where: { ($0 as? [String: Any])?["digest"] as? String == descriptor.digest.description }) { return false }
            object = o
        } catch let e as RegistryError where e.isNotFound {
            // No referrers yet: start with an empty index.
        }
        var entry = descriptor
        if entry.mediaType.isEmpty { entry.mediaType = MediaType.ociManifest }
        let encoded: Any
        do { encoded = try JSONSerialization.jsonObject(with: Data(try CanonicalJSON.encode(entry))) } catch {
            throw RegistryError.invalidArgument("\(ctx): \(error)")
        }
        object["manifests"] = (object["manifests"] as? [Any] ?? []) + [encoded]
        let bytes: [UInt8]
        do { bytes = try CanonicalJSON.encode(object: object) } catch { throw RegistryError.invalidArgument("\(ctx): \(error)") }
        try putManifest(repository: repository, reference: tag, mediaType: MediaType.ociIndex, bytes: bytes)
        return true
    }

    private func referrersByTag(repository: String, digest: Digest, artifactType: String?) throws -> [Descriptor] {
        let fetched: FetchedManifest
        do {
            fetched = try manifest(repository: repository, reference: RegistryClient.referrersTag(for: digest),
                                   accept: [MediaType.ociIndex])
        } catch let e as RegistryError where e.isNotFound {
            return []
        }
        let index: IndexManifest
        do { index = try IndexManifest.parse(fetched.bytes, what: "referrers tag index") } catch {
            throw RegistryError.invalidResponse(context(repository, "referrers tag \(RegistryClient.referrersTag(for: digest))"), "\(error)")
        }
        guard let t = artifactType else { return index.manifests }
        return index.manifests.filter { $0.artifactType == t }
    }

    /// One JSON page and the `rel="next"` URL, if any.
    private func page(_ url: String, scopes: [Scope], accept: String, _ ctx: RegistryErrorContext) throws -> ([UInt8], String?) {
        let p = try pageWithFilters(url, scopes: scopes, accept: accept, ctx)
        return (p.bytes, p.next)
    }

    private func pageWithFilters(_ url: String, scopes: [Scope], accept: String, _ ctx: RegistryErrorContext) throws -> (bytes: [UInt8], next: String?, filters: String?) {
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: accept)
        return try readingWithRetries(ctx) {
            let r = try send(Call(method: .GET, url: url, headers: headers, scopes: scopes, context: ctx))
            defer { r.close() }
            guard r.status == 200 else { throw r.error(ctx) }
            let bytes = try readDocument(r, limit: RegistryLimits.pageBytes, what: "page", ctx)
            var next: String?
            if let link = HeaderParsing.nextLink(r.header("Link")) {
                guard let base = URL(string: r.url), let resolved = URL(string: link, relativeTo: base)?.absoluteURL,
                      let scheme = resolved.scheme, scheme == "http" || scheme == "https" else {
                    throw RegistryError.invalidResponse(ctx, "unusable Link header")
                }
                next = resolved.absoluteString
            }
            return (bytes, next, r.header("OCI-Filters-Applied"))
        }
    }
}
