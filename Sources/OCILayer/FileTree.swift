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
/// directory on disk. Built and torn down without recursion.
final class FileTree {
    final class Node {
        var facts: FileFacts
        var children: [String: Node] = [:]
        init(_ facts: FileFacts) { self.facts = facts }
    }

    let root: Node

    private init(root: Node) { self.root = root }

    deinit {
        // Releasing a deep tree node by node would recurse once per level.
        var stack = Array(root.children.values)
        root.children = [:]
        while let n = stack.popLast() {
            stack.append(contentsOf: n.children.values)
            n.children = [:]
        }
    }

    /// The union view of `layers`, with content hashes.
    static func union(of layers: [LayerSource], limits: UnionLimits) throws -> FileTree {
        let index = try UnionIndex(layers: layers, limits: limits, hashContent: true)
        var map: [ObjectIdentifier: Node] = [:]
        let root = Node(FileFacts(header: index.root.header, digest: nil))
        map[ObjectIdentifier(index.root)] = root
        index.walk { n in
            let node = Node(FileFacts(header: n.header, digest: n.inode?.digest))
            if let p = n.parent, let parent = map[ObjectIdentifier(p)] { parent.children[n.name] = node }
            if n.isDirectory { map[ObjectIdentifier(n)] = node }
        }
        return FileTree(root: root)
    }

    /// The tree under `directory`, read from descriptors (`fstatat`,
    /// `openat` with `O_NOFOLLOW`: symlinks are never followed, any depth
    /// works whatever `PATH_MAX` says), depth first with a work list.
    /// - Throws: `LayerError` naming `directory` and the entry.
    static func scan(_ directory: String, limits: UnionLimits = .defaults) throws -> FileTree {
        func fail(_ components: [String], _ operation: String, _ code: Int32 = errno) -> LayerError {
            .io(layer: directory, entry: MemberPath.join(components), operation: operation, errno: code)
        }
        let top = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard top >= 0 else {
            if errno == ENOTDIR || errno == ENOENT { throw LayerError.destination(path: directory, reason: "is not a directory") }
            throw LayerError.destination(path: directory, reason: String(cString: strerror(errno)))
        }
        defer { close(top) }
        var st = stat()
        guard fstat(top, &st) == 0 else { throw fail([], "stat") }
        let root = Node(try facts(st, fd: top, name: nil) { fail([], $0, $1) })
        do {
            let stack = try DirectoryStack(start: top)
            func names(_ components: @autoclosure () -> [String]) throws -> [Sys.DirName] {
                switch Sys.listRawDirectory(stack.fd, limit: limits.maxNamesPerDirectory) {
                case let .names(n): return n
                case .tooMany:
                    throw LayerError.limitExceeded(layer: directory, entry: MemberPath.join(components()),
                                                   what: "number of names in a directory", limit: Int64(limits.maxNamesPerDirectory), flag: "")
                case let .failed(e): throw fail(components(), "read directory", e)
                }
            }
            var work: [(node: Node, names: [Sys.DirName])] = [(root, try names([]))]
            while let frame = work.last {
                guard let name = frame.names.last else {
                    work.removeLast()
                    if !work.isEmpty { try stack.pop() }
                    continue
                }
                work[work.count - 1].names.removeLast()
                var st = stat()
                guard name.withName({ fstatat(stack.fd, $0, &st, AT_SYMLINK_NOFOLLOW) }) == 0 else {
                    throw fail(stack.components + [name.string], "stat")
                }
                let node = Node(try facts(st, fd: stack.fd, name: name) { fail(stack.components + [name.string], $0, $1) })
                frame.node.children[name.string] = node
                guard node.facts.kind == .directory else { continue }
                if stack.depth + 1 > limits.maxDepth {
                    throw LayerError.limitExceeded(layer: directory, entry: MemberPath.join(stack.components + [name.string]),
                                                   what: "path depth", limit: Int64(limits.maxDepth), flag: "")
                }
                try stack.push(name)
                work.append((node, try names(stack.components)))
            }
        } catch let f as DirectoryStack.Failure {
            if f.changed { throw LayerError.invalidEntry(layer: directory, entry: MemberPath.join(f.components), reason: "was replaced while reading it") }
            throw fail(f.components, f.operation, f.errno)
        }
        return FileTree(root: root)
    }

    /// The facts of `name` in the directory `fd` (nil: `fd` itself), whose
    /// `lstat` is `st`; regular files are hashed through a descriptor.
    private static func facts(_ st: stat, fd: Int32, name: Sys.DirName?,
                              _ fail: (String, Int32) -> LayerError) throws -> FileFacts {
        var h = TarEntry(path: "", kind: .unknown, mode: UInt32(st.st_mode) & 0o7777, uid: Int64(st.st_uid),
                         gid: Int64(st.st_gid), mtime: Int64(st.st_mtim.tv_sec))
        var digest: Digest?
        let proc = "/proc/self/fd/\(fd)/" + (name?.string ?? ".")
        switch st.st_mode & S_IFMT {
        case S_IFREG:
            h.kind = .regular
            h.size = Int64(st.st_size)
            guard let name else { throw fail("open", EISDIR) }
            let file = name.withName { openat(fd, $0, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) }
            guard file >= 0 else { throw fail("open", errno) }
            let sink = DigestingSink()
            try FileSource(fd: file, path: proc, owns: true).copy(to: sink)
            digest = try sink.digest()
        case S_IFDIR: h.kind = .directory
        case S_IFLNK:
            h.kind = .symlink
            guard let name, let target = Sys.readlink(fd, name) else { throw fail("readlink", errno) }
            h.linkTarget = target
        case S_IFCHR, S_IFBLK:
            h.kind = (st.st_mode & S_IFMT) == S_IFCHR ? .characterDevice : .blockDevice
            h.deviceMajor = .init(Sys.major(UInt64(truncatingIfNeeded: st.st_rdev)))
            h.deviceMinor = .init(Sys.minor(UInt64(truncatingIfNeeded: st.st_rdev)))
        case S_IFIFO: h.kind = .fifo
        default: h.kind = .socket
        }
        // Extended attributes through /proc (no *at form), not following a symlink.
        if let names = Sys.llistxattr(proc) {
            for n in names {
                if let v = Sys.lgetxattr(proc, n) {
                    h.xattrs.append(.init(name: n, value: v))
                } else if errno != ENODATA {
                    throw fail("read xattr \(n)", errno)
                }
            }
        } else if errno != ENOTSUP && errno != EOPNOTSUPP {
            throw fail("list xattrs", errno)
        }
        return FileFacts(header: h, digest: digest)
    }
}
