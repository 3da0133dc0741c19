import OCICore
#if canImport(Glibc)
import Glibc
#endif

/// The attributes of one path that a diff compares (docker's change
/// detection: type, mode, owner, size, mtime, link target, device, xattrs;
/// plus the content's SHA-256, so equal sizes and times do not hide an edit).
struct FileFacts: Equatable {
    var kind: TarEntry.Kind
    var mode: UInt32
    var uid: Int64
    var gid: Int64
    var size: Int64
    var mtime: Int64
    var linkTarget: String?
    /// Major and minor (devices only).
    var device: [UInt64]
    var xattrs: [TarEntry.Xattr]
    var digest: Digest?

    /// Attributes the host sets on its own, ignored when comparing.
    static let ignoredXattrs: Set<String> = ["security.selinux"]

    init(header h: TarEntry, digest: Digest?) {
        kind = h.kind == .hardlink ? .regular : h.kind
        mode = h.mode & 0o7777
        uid = h.uid
        gid = h.gid
        size = kind == .regular ? h.size : 0
        mtime = h.mtime
        linkTarget = kind == .symlink ? h.linkTarget : nil
        let isDevice = kind == .characterDevice || kind == .blockDevice
        device = isDevice ? [UInt64(truncatingIfNeeded: h.deviceMajor), UInt64(truncatingIfNeeded: h.deviceMinor)] : []
        xattrs = h.xattrs.filter { !Self.ignoredXattrs.contains($0.name) }.sorted { $0.name < $1.name }
        self.digest = kind == .regular ? digest : nil
    }
}

/// A tree of `FileFacts`, from a layer stack's union view or from a
/// directory on disk.
final class FileTree {
    final class Node {
        var facts: FileFacts
        var children: [String: Node] = [:]
        init(_ facts: FileFacts) { self.facts = facts }
    }

    let root: Node

    private init(root: Node) { self.root = root }

    /// The union view of `layers`, with content hashes.
    static func union(of layers: [LayerSource], limits: UnionLimits) throws -> FileTree {
        let index = try UnionIndex(layers: layers, limits: limits, hashContent: true)
        var map: [ObjectIdentifier: Node] = [:]
        let root = Node(FileFacts(header: index.root.header, digest: nil))
        map[ObjectIdentifier(index.root)] = root
        index.walk { n in
            let header = n.inode?.header ?? n.header
            let node = Node(FileFacts(header: header, digest: n.inode?.digest))
            if let p = n.parent, let parent = map[ObjectIdentifier(p)] { parent.children[n.name] = node }
            if n.isDirectory { map[ObjectIdentifier(n)] = node }
        }
        return FileTree(root: root)
    }

    /// The tree under `directory` (symlinks are not followed).
    static func scan(_ directory: String) throws -> FileTree {
        func facts(_ path: String) throws -> FileFacts? {
            var st = stat()
            guard lstat(path, &st) == 0 else {
                throw LayerError.io(layer: directory, entry: path, operation: "stat", errno: errno)
            }
            var h = TarEntry(path: "", kind: .unknown, mode: UInt32(st.st_mode) & 0o7777, uid: Int64(st.st_uid),
                             gid: Int64(st.st_gid), mtime: Int64(st.st_mtim.tv_sec))
            var digest: Digest?
            switch st.st_mode & S_IFMT {
            case S_IFREG:
                h.kind = .regular
                h.size = Int64(st.st_size)
                let sink = DigestingSink()
                try FileSource(path: path).copy(to: sink)
                digest = try sink.digest()
            case S_IFDIR: h.kind = .directory
            case S_IFLNK:
                h.kind = .symlink
                var buf = [UInt8](repeating: 0, count: 65536)
                let n = buf.withUnsafeMutableBytes { readlink(path, $0.baseAddress!.assumingMemoryBound(to: CChar.self), 65536) }
                guard n >= 0 else { throw LayerError.io(layer: directory, entry: path, operation: "readlink", errno: errno) }
                h.linkTarget = String(decoding: buf[0..<n], as: UTF8.self)
            case S_IFCHR, S_IFBLK:
                h.kind = (st.st_mode & S_IFMT) == S_IFCHR ? .characterDevice : .blockDevice
                h.deviceMajor = Sys.major(UInt64(st.st_rdev))
                h.deviceMinor = Sys.minor(UInt64(st.st_rdev))
            case S_IFIFO: h.kind = .fifo
            default: h.kind = .socket
            }
            for name in Sys.llistxattr(path) ?? [] {
                if let v = Sys.lgetxattr(path, name) { h.xattrs.append(.init(name: name, value: v)) }
            }
            return FileFacts(header: h, digest: digest)
        }
        guard FS.isDirectory(directory), let rootFacts = try facts(directory) else {
            throw LayerError.destination(path: directory, reason: "is not a directory")
        }
        let root = Node(rootFacts)
        func walk(_ path: String, _ node: Node) throws {
            for name in try FS.listDirectory(path) {
                let child = path + "/" + name
                guard let f = try facts(child) else { continue }
                let n = Node(f)
                node.children[name] = n
                if f.kind == .directory { try walk(child, n) }
            }
        }
        try walk(directory, root)
        return FileTree(root: root)
    }
}
