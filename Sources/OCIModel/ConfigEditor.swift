import Foundation
import OCICore

/// Edits an image config's raw JSON, keeping every field it does not touch
/// (unknown ones included): appends layers' diff_ids and history entries,
/// sets `created`/`author`, applies `ConfigChange`s. The result is
/// serialised with `CanonicalJSON` (sorted keys, no escaped slashes).
public struct ConfigEditor {
    private var root: [String: Any]

    /// - Throws: if `bytes` is not a JSON object.
    public init(bytes: [UInt8]) throws {
        guard let obj = try CanonicalJSON.object(from: bytes, what: "image config") as? [String: Any] else {
            throw ModelError.badJSON("image config", "not a JSON object")
        }
        root = obj
    }

    private var config: [String: Any] {
        get { root["config"] as? [String: Any] ?? [:] }
        set { root["config"] = newValue }
    }

    /// Appends a layer's diff_id to `rootfs.diff_ids`.
    public mutating func appendDiffID(_ d: Digest) {
        var rootfs = root["rootfs"] as? [String: Any] ?? ["type": "layers"]
        var ids = rootfs["diff_ids"] as? [Any] ?? []
        ids.append(d.description)
        rootfs["diff_ids"] = ids
        if rootfs["type"] == nil { rootfs["type"] = "layers" }
        root["rootfs"] = rootfs
    }

    /// Replaces the diff_ids (squash).
    public mutating func setDiffIDs(_ ds: [Digest]) {
        var rootfs = root["rootfs"] as? [String: Any] ?? ["type": "layers"]
        rootfs["diff_ids"] = ds.map(\.description)
        root["rootfs"] = rootfs
    }

    /// Appends a history entry.
    public mutating func appendHistory(_ h: ImageConfig.History) {
        var hist = root["history"] as? [Any] ?? []
        var e: [String: Any] = [:]
        if let v = h.created { e["created"] = v }
        if let v = h.createdBy { e["created_by"] = v }
        if let v = h.author, !v.isEmpty { e["author"] = v }
        if let v = h.comment, !v.isEmpty { e["comment"] = v }
        if h.emptyLayer == true { e["empty_layer"] = true }
        hist.append(e)
        root["history"] = hist
    }

    /// Replaces the history (squash).
    public mutating func setHistory(_ entries: [ImageConfig.History]) {
        root["history"] = []
        entries.forEach { appendHistory($0) }
    }

    /// Sets the top-level `created` (RFC 3339) and, if given, `author`.
    public mutating func setCreated(_ created: String, author: String?) {
        root["created"] = created
        if let author, !author.isEmpty { root["author"] = author }
    }

    /// Applies one `-c` change to the `config` section (docker's semantics:
    /// CMD/ENTRYPOINT replace, ENV/LABEL/EXPOSE/VOLUME merge, WORKDIR
    /// resolves relative to the previous one; ENTRYPOINT clears CMD as in
    /// a Dockerfile only when CMD is not also given, which callers decide).
    public mutating func apply(_ change: ConfigChange) {
        var c = config
        switch change {
        case let .cmd(argv): c["Cmd"] = argv
        case let .entrypoint(argv): c["Entrypoint"] = argv
        case let .env(pairs):
            var env = (c["Env"] as? [Any])?.compactMap { $0 as? String } ?? []
            for (k, v) in pairs {
                env.removeAll { $0 == k || $0.hasPrefix(k + "=") }
                env.append("\(k)=\(v)")
            }
            c["Env"] = env
        case let .label(pairs):
            var labels = c["Labels"] as? [String: Any] ?? [:]
            for (k, v) in pairs { labels[k] = v }
            c["Labels"] = labels
        case let .expose(ports):
            var exposed = c["ExposedPorts"] as? [String: Any] ?? [:]
            for p in ports { exposed[p] = [String: Any]() }
            c["ExposedPorts"] = exposed
        case let .volume(vols):
            var volumes = c["Volumes"] as? [String: Any] ?? [:]
            for v in vols { volumes[v] = [String: Any]() }
            c["Volumes"] = volumes
        case let .user(u): c["User"] = u
        case let .workdir(w):
            let previous = c["WorkingDir"] as? String ?? "/"
            c["WorkingDir"] = w.hasPrefix("/") ? w : (previous.hasSuffix("/") ? previous + w : previous + "/" + w)
        case let .stopSignal(s): c["StopSignal"] = s
        case let .onBuild(s):
            var ob = (c["OnBuild"] as? [Any])?.compactMap { $0 as? String } ?? []
            ob.append(s)
            c["OnBuild"] = ob
        }
        config = c
    }

    /// Applies a list of `-c` changes like `docker commit --change`: each in
    /// order, and an ENTRYPOINT without a CMD in the same list resets `Cmd`
    /// to null (docker's ENTRYPOINT rule).
    public mutating func apply(_ changes: [ConfigChange]) {
        changes.forEach { apply($0) }
        let entrypoint = changes.contains { if case .entrypoint = $0 { return true } else { return false } }
        let cmd = changes.contains { if case .cmd = $0 { return true } else { return false } }
        if entrypoint && !cmd {
            var c = config
            c["Cmd"] = NSNull()
            config = c
        }
    }

    /// The edited config.
    public func bytes() throws -> [UInt8] { try CanonicalJSON.encode(object: root) }

    /// RFC 3339 UTC for `date`, or for `$SOURCE_DATE_EPOCH` when set.
    public static func timestamp(_ date: Date = Date(), environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        var d = date
        if let s = environment["SOURCE_DATE_EPOCH"], let secs = Double(s) { d = Date(timeIntervalSince1970: secs) }
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(identifier: "UTC")
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: d)
    }
}
