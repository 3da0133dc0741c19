import Foundation
import OCICore
import OCITestSupport

/// An in-process registry (HTTP on 127.0.0.1) for what distribution 2.8.2
/// lacks or cannot be made to do: the referrers API, `OCI-Chunk-Min-Length`,
/// rate limits, redirects, odd framing, dropped connections, corrupt data.
///
/// It implements enough of the distribution API in memory (blobs with
/// ranges, monolithic and chunked uploads checking `Content-Range` and that
/// the latest `Location` is used, mounts, manifests, tags with `n`/`last`
/// pagination, referrers). `hook` sees every request first and may answer
/// it instead (return nil to let the registry handle it), which is how
/// tests inject faults. Every request is recorded.
public final class FakeRegistry: @unchecked Sendable {
    public typealias Hook = @Sendable (TestHTTPRequest, FakeRegistry) -> TestHTTPResponse?

    private let lock = NSLock()
    private var server: TestHTTPServer?
    private var _hook: Hook?
    private var _log: [TestHTTPRequest] = []
    private var blobs: [String: [UInt8]] = [:]                 // digest → bytes (shared by all repositories)
    private var repoBlobs: [String: Set<String>] = [:]         // repository → digests
    private var manifests: [String: [String: (String, [UInt8])]] = [:]  // repository → reference → (type, bytes)
    private var uploads: [String: (repo: String, data: [UInt8], state: Int)] = [:]
    private var uploadCounter = 0

    /// Sent on upload starts when set.
    public var chunkMinLength: Int? {
        get { lock.withLock { _chunkMin } }
        set { lock.withLock { _chunkMin = newValue } }
    }
    private var _chunkMin: Int?
    /// Serve `GET /v2/<name>/referrers/<digest>` (else 404, as distribution 2.8.2).
    public var referrersAPI: Bool {
        get { lock.withLock { _referrers } }
        set { lock.withLock { _referrers = newValue } }
    }
    private var _referrers = true
    /// Apply the `artifactType` filter server-side (and say so in `OCI-Filters-Applied`).
    public var filtersReferrers: Bool {
        get { lock.withLock { _filters } }
        set { lock.withLock { _filters = newValue } }
    }
    private var _filters = true
    /// Require these Basic credentials on every `/v2/` request.
    public var basicAuth: (user: String, password: String)? {
        get { lock.withLock { _basic } }
        set { lock.withLock { _basic = newValue } }
    }
    private var _basic: (user: String, password: String)?
    /// Redirect blob GETs to this base URL (`http://host:port`), where another server serves them.
    public var blobRedirect: String? {
        get { lock.withLock { _redirect } }
        set { lock.withLock { _redirect = newValue } }
    }
    private var _redirect: String?

    /// `127.0.0.1:PORT`.
    public var host: String { server?.hostPort ?? "" }
    /// Every request received, in order.
    public var requests: [TestHTTPRequest] { lock.withLock { _log } }
    /// Sizes of the PATCH bodies received.
    public var patchSizes: [Int] { requests.filter { $0.method == "PATCH" }.map(\.body.count) }

    /// Starts on 127.0.0.1 and a free port.
    public init(hook: Hook? = nil) throws {
        _hook = hook
        server = try TestHTTPServer { [weak self] req in
            guard let self else { return .drop }
            return self.handle(req)
        }
    }

    deinit { stop() }

    public func stop() { server?.stop() }

    /// Replaces the fault hook.
    public func setHook(_ hook: Hook?) { lock.withLock { _hook = hook } }

    /// Stores a blob in `repository` and returns its digest.
    @discardableResult
    public func addBlob(_ bytes: [UInt8], repository: String) -> Digest {
        let d = SHA256Hasher.digest(bytes)
        lock.withLock {
            blobs[d.description] = bytes
            repoBlobs[repository, default: []].insert(d.description)
        }
        return d
    }

    /// The bytes of a stored blob.
    public func blob(_ digest: Digest) -> [UInt8]? { lock.withLock { blobs[digest.description] } }

    /// Stores a manifest under its digest and, when given, a tag.
    @discardableResult
    public func addManifest(_ bytes: [UInt8], mediaType: String, repository: String, tag: String? = nil) -> Digest {
        let d = SHA256Hasher.digest(bytes)
        lock.withLock {
            manifests[repository, default: [:]][d.description] = (mediaType, bytes)
            if let tag { manifests[repository, default: [:]][tag] = (mediaType, bytes) }
        }
        return d
    }

    // MARK: - Routing

    private func handle(_ req: TestHTTPRequest) -> TestHTTPResponse {
        let hook = lock.withLock { () -> Hook? in
            _log.append(req)
            return _hook
        }
        if let hook, let r = hook(req, self) { return r }
        return process(req)
    }

    /// Handles `req` as the registry would, without the hook (hooks call
    /// this to act on a request and then misbehave, e.g. drop the answer).
    public func process(_ req: TestHTTPRequest) -> TestHTTPResponse {
        if let (user, password) = basicAuth {
            let expected = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
            if req.header("authorization") != expected {
                return .error(401, code: "UNAUTHORIZED", message: "authentication required",
                              headers: [("WWW-Authenticate", "Basic realm=\"fake\"")])
            }
        }
        let path = req.path
        if path == "/v2/" || path == "/v2" { return .json(200, [:]) }
        guard path.hasPrefix("/v2/") else { return .error(404, code: "NOT_FOUND", message: "not found") }
        let rest = String(path.dropFirst(4))
        for marker in ["/blobs/uploads/", "/blobs/uploads", "/blobs/", "/manifests/", "/tags/list", "/referrers/"] {
            guard let range = rest.range(of: marker, options: .backwards) else { continue }
            let repo = String(rest[..<range.lowerBound])
            let tail = String(rest[range.upperBound...])
            switch marker {
            case "/blobs/uploads/", "/blobs/uploads": return upload(req, repo: repo, id: tail)
            case "/blobs/": return blob(req, repo: repo, digest: tail)
            case "/manifests/": return manifest(req, repo: repo, ref: tail)
            case "/tags/list": return tagList(req, repo: repo)
            default: return referrers(req, repo: repo, digest: tail)
            }
        }
        return .error(404, code: "NOT_FOUND", message: "not found")
    }

    private func blob(_ req: TestHTTPRequest, repo: String, digest: String) -> TestHTTPResponse {
        let found = lock.withLock { repoBlobs[repo]?.contains(digest) == true ? blobs[digest] : nil }
        switch req.method {
        case "GET", "HEAD":
            guard let bytes = found else { return .error(404, code: "BLOB_UNKNOWN", message: "blob unknown to registry") }
            if req.method == "GET", let base = blobRedirect {
                return TestHTTPResponse(status: 307, headers: [("Location", "\(base)/storage/\(digest)?sig=abc")])
            }
            return FakeRegistry.serveBytes(bytes, req: req, digest: digest, contentType: "application/octet-stream")
        case "DELETE":
            lock.withLock { _ = repoBlobs[repo]?.remove(digest) }
            return TestHTTPResponse(status: found == nil ? 404 : 202)
        default:
            return .error(405, code: "UNSUPPORTED", message: "method not allowed")
        }
    }

    /// Serves `bytes` honouring `Range: bytes=N-` (206), with 416 for a bad range.
    public static func serveBytes(_ bytes: [UInt8], req: TestHTTPRequest, digest: String?, contentType: String) -> TestHTTPResponse {
        var headers = [("Content-Type", contentType)]
        if let digest { headers.append(("Docker-Content-Digest", digest)) }
        if let range = req.header("range") {
            guard range.hasPrefix("bytes="), let dash = range.firstIndex(of: "-"),
                  let start = Int(range[range.index(range.startIndex, offsetBy: 6)..<dash]),
                  range[range.index(after: dash)...].isEmpty, start < bytes.count else {
                return TestHTTPResponse(status: 416, headers: [("Content-Range", "bytes */\(bytes.count)")])
            }
            headers.append(("Content-Range", "bytes \(start)-\(bytes.count - 1)/\(bytes.count)"))
            return TestHTTPResponse(status: 206, headers: headers, body: Array(bytes[start...]))
        }
        return TestHTTPResponse(status: 200, headers: headers, body: bytes)
    }

    private func uploadLocation(_ repo: String, _ id: String, _ state: Int) -> String {
        let path = "/v2/\(repo)/blobs/uploads/\(id)?_state=s\(state)"
        return absoluteLocations ? "http://\(host)\(path)" : path
    }

    /// A status GET with an outdated upload state cancels the upload (distribution 2.8.2's behaviour).
    public var staleStatusCancels: Bool {
        get { lock.withLock { _staleCancels } }
        set { lock.withLock { _staleCancels = newValue } }
    }
    private var _staleCancels = false

    /// Send upload `Location`s as absolute URLs (default: relative paths).
    public var absoluteLocations: Bool {
        get { lock.withLock { _absolute } }
        set { lock.withLock { _absolute = newValue } }
    }
    private var _absolute = false

    private func upload(_ req: TestHTTPRequest, repo: String, id: String) -> TestHTTPResponse {
        if req.method == "POST" && id.isEmpty {
            if let mount = req.queryValue("mount"), let from = req.queryValue("from") {
                let ok = lock.withLock { () -> Bool in
                    guard repoBlobs[from]?.contains(mount) == true else { return false }
                    repoBlobs[repo, default: []].insert(mount)
                    return true
                }
                if ok {
                    return TestHTTPResponse(status: 201, headers: [("Location", "/v2/\(repo)/blobs/\(mount)"), ("Docker-Content-Digest", mount)])
                }
            }
            let (uuid, min) = lock.withLock { () -> (String, Int?) in
                uploadCounter += 1
                let uuid = "u\(uploadCounter)"
                uploads[uuid] = (repo, [], 0)
                return (uuid, _chunkMin)
            }
            var headers = [("Location", uploadLocation(repo, uuid, 0)), ("Range", "0-0"), ("Docker-Upload-UUID", uuid)]
            if let min { headers.append(("OCI-Chunk-Min-Length", String(min))) }
            return TestHTTPResponse(status: 202, headers: headers)
        }
        let state = lock.withLock { uploads[id] }
        guard let upload = state, upload.repo == repo else {
            return .error(404, code: "BLOB_UPLOAD_UNKNOWN", message: "blob upload unknown to registry")
        }
        // Only the latest Location is valid for PATCH and PUT. A status GET
        // answers from any of them (as the spec says), unless
        // `staleStatusCancels` makes it behave like distribution 2.8.2,
        // which cancels an upload asked about with an outdated state.
        if req.queryValue("_state") != "s\(upload.state)" {
            if req.method == "GET" && staleStatusCancels {
                lock.withLock { uploads[id] = nil }
                return .error(400, code: "BLOB_UPLOAD_INVALID", message: "upload resumed at wrong offset")
            }
            if req.method != "GET" {
                return .error(400, code: "BLOB_UPLOAD_INVALID", message: "stale upload location (state \(req.queryValue("_state") ?? "none"), expected s\(upload.state))")
            }
        }
        func rangeHeader(_ n: Int) -> String { n == 0 ? "0-0" : "0-\(n - 1)" }
        switch req.method {
        case "GET":
            return TestHTTPResponse(status: 204, headers: [("Location", uploadLocation(repo, id, upload.state)), ("Range", rangeHeader(upload.data.count)),
                                                           ("Docker-Upload-UUID", id)])
        case "PATCH":
            if let cr = req.header("content-range") {
                let parts = cr.split(separator: "-")
                guard parts.count == 2, let start = Int(parts[0]), let end = Int(parts[1]), start == upload.data.count,
                      end - start + 1 == req.body.count else {
                    return TestHTTPResponse(status: 416, headers: [("Location", uploadLocation(repo, id, upload.state)), ("Range", rangeHeader(upload.data.count))])
                }
            }
            let next = lock.withLock { () -> Int in
                uploads[id]?.data.append(contentsOf: req.body)
                uploads[id]?.state += 1
                return uploads[id]?.data.count ?? 0
            }
            let st = upload.state + 1
            return TestHTTPResponse(status: 202, headers: [("Location", uploadLocation(repo, id, st)), ("Range", rangeHeader(next)), ("Docker-Upload-UUID", id)])
        case "PUT":
            guard let digest = req.queryValue("digest") else { return .error(400, code: "DIGEST_INVALID", message: "digest missing") }
            let data = upload.data + req.body
            guard SHA256Hasher.digest(data).description == digest else {
                return .error(400, code: "DIGEST_INVALID", message: "provided digest did not match uploaded content")
            }
            lock.withLock {
                uploads[id] = nil
                blobs[digest] = data
                repoBlobs[repo, default: []].insert(digest)
            }
            return TestHTTPResponse(status: 201, headers: [("Location", "/v2/\(repo)/blobs/\(digest)"), ("Docker-Content-Digest", digest)])
        case "DELETE":
            lock.withLock { uploads[id] = nil }
            return TestHTTPResponse(status: 204)
        default:
            return .error(405, code: "UNSUPPORTED", message: "method not allowed")
        }
    }

    private func manifest(_ req: TestHTTPRequest, repo: String, ref: String) -> TestHTTPResponse {
        switch req.method {
        case "GET", "HEAD":
            guard let (type, bytes) = lock.withLock({ manifests[repo]?[ref] }) else {
                return .error(404, code: "MANIFEST_UNKNOWN", message: "manifest unknown")
            }
            return TestHTTPResponse(status: 200, headers: [("Content-Type", type), ("Docker-Content-Digest", SHA256Hasher.digest(bytes).description)], body: bytes)
        case "PUT":
            let type = req.header("content-type") ?? "application/octet-stream"
            let d = addManifest(req.body, mediaType: type, repository: repo, tag: ref.contains(":") ? nil : ref)
            var headers = [("Location", "/v2/\(repo)/manifests/\(d)"), ("Docker-Content-Digest", d.description)]
            if let obj = try? JSONSerialization.jsonObject(with: Data(req.body)) as? [String: Any],
               let subject = obj["subject"] as? [String: Any], let sd = subject["digest"] as? String {
                headers.append(("OCI-Subject", sd))
            }
            return TestHTTPResponse(status: 201, headers: headers)
        case "DELETE":
            let existed = lock.withLock { () -> Bool in
                guard let m = manifests[repo], m[ref] != nil else { return false }
                manifests[repo] = m.filter { SHA256Hasher.digest($0.value.1).description != ref }
                return true
            }
            return TestHTTPResponse(status: existed ? 202 : 404)
        default:
            return .error(405, code: "UNSUPPORTED", message: "method not allowed")
        }
    }

    private func tagList(_ req: TestHTTPRequest, repo: String) -> TestHTTPResponse {
        guard let refs = lock.withLock({ manifests[repo].map { Array($0.keys) } }) else {
            return .error(404, code: "NAME_UNKNOWN", message: "repository name not known to registry")
        }
        var tags = refs.filter { !$0.contains(":") }.sorted()
        if let last = req.queryValue("last") { tags = tags.filter { $0 > last } }
        var headers: [(String, String)] = []
        if let n = req.queryValue("n").flatMap(Int.init), n > 0, tags.count > n {
            tags = Array(tags.prefix(n))
            headers.append(("Link", "</v2/\(repo)/tags/list?n=\(n)&last=\(tags[n - 1])>; rel=\"next\""))
        }
        return .json(200, ["name": repo, "tags": tags], headers: headers)
    }

    private func referrers(_ req: TestHTTPRequest, repo: String, digest: String) -> TestHTTPResponse {
        guard referrersAPI else { return TestHTTPResponse(status: 404, body: Array("404 page not found\n".utf8)) }
        let all = lock.withLock { manifests[repo].map { Array($0) } ?? [] }
        var list: [[String: Any]] = []
        var seen = Set<String>()
        for (_, (type, bytes)) in all {
            let d = SHA256Hasher.digest(bytes).description
            guard !seen.contains(d), let obj = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
                  let subject = obj["subject"] as? [String: Any], subject["digest"] as? String == digest else { continue }
            seen.insert(d)
            var entry: [String: Any] = ["mediaType": type, "digest": d, "size": bytes.count]
            let config = obj["config"] as? [String: Any]
            if let at = (obj["artifactType"] as? String) ?? (config?["mediaType"] as? String) { entry["artifactType"] = at }
            if let ann = obj["annotations"] { entry["annotations"] = ann }
            list.append(entry)
        }
        list.sort { ($0["digest"] as? String ?? "") < ($1["digest"] as? String ?? "") }
        var headers = [("Content-Type", "application/vnd.oci.image.index.v1+json")]
        if let t = req.queryValue("artifactType"), filtersReferrers {
            list = list.filter { $0["artifactType"] as? String == t }
            headers.append(("OCI-Filters-Applied", "artifactType"))
        }
        let index: [String: Any] = ["schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": list]
        let data = (try? JSONSerialization.data(withJSONObject: index, options: [.sortedKeys])) ?? Data()
        return TestHTTPResponse(status: 200, headers: headers, body: Array(data))
    }
}
