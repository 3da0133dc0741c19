import OCICore
#if canImport(Glibc)
import Glibc
#endif

/// A directory tree on the host read for a commit (a changed root file
/// system, an overlay upper directory). Every path is reached from a
/// descriptor of its parent with `O_NOFOLLOW`, so a symlink inside the tree
/// (or one swapped in while the commit runs) is stored as a symlink and
/// never followed: the layer can only hold what is inside the tree.
final class HostTree {
    /// An open directory of the tree and its path in components.
    final class Directory {
        let fd: Int32
        let components: [String]
        private let owns: Bool

        /// - Parameter owns: close `fd` when done (a `DirectoryStack`'s level is not).
        init(fd: Int32, components: [String], owns: Bool = true) {
            self.fd = fd
            self.components = components
            self.owns = owns
        }

        deinit { if owns { close(fd) } }

        func child(_ name: String) -> [String] { components + [name] }
    }

    /// Device and inode: what hard links share.
    struct Identity: Hashable, Sendable {
        var device: UInt64
        var inode: UInt64
    }

    /// The directory as given on the command line.
    let path: String
    /// Names the tree in errors, e.g. `rootfs ./dir` (the path included).
    let label: String
    let root: Directory
    /// The directories of the path opened last, below the root, as `O_PATH`
    /// descriptors; only the deepest `keptLevels` stay open (-1 otherwise).
    private var openPath: [(name: String, fd: Int32)] = []
    private static let keptLevels = 16

    /// Opens `path`, which must be a readable directory.
    /// - Throws: `CommitError.source` when it is missing, not a directory or unreadable.
    init(path: String, label: String) throws {
        self.path = path
        self.label = label
        var st = stat()
        guard fstatat(AT_FDCWD, path, &st, 0) == 0 else {
            throw CommitError.source(path: label, reason: String(cString: strerror(errno)))
        }
        guard Sys.isDir(st) else { throw CommitError.source(path: label, reason: "is not a directory") }
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw CommitError.source(path: label, reason: "cannot open the directory: \(String(cString: strerror(errno)))")
        }
        root = Directory(fd: fd, components: [])
    }

    deinit {
        for l in openPath where l.fd >= 0 { close(l.fd) }
    }

    /// The path of `components` for messages.
    static func join(_ components: [String]) -> String { components.isEmpty ? "." : components.joined(separator: "/") }

    func ioError(_ components: [String], _ operation: String, _ code: Int32 = errno) -> CommitError {
        .io(source: label, entry: Self.join(components), operation: operation, errno: code)
    }

    /// Names in `dir`, sorted in byte order.
    /// - Throws: `CommitError.unrepresentable` for a name that is not UTF-8.
    func names(_ dir: Directory) throws -> [String] {
        let dupFD = openat(dir.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dupFD >= 0 else { throw ioError(dir.components, "open directory") }
        guard let stream = fdopendir(dupFD) else {
            let e = errno
            close(dupFD)
            throw ioError(dir.components, "read directory", e)
        }
        defer { closedir(stream) }
        var names: [String] = []
        errno = 0
        while let ent = readdir(stream) {
            let bytes = withUnsafeBytes(of: ent.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if bytes == [0x2e] || bytes == [0x2e, 0x2e] { continue }
            guard let name = String(validating: bytes, as: UTF8.self) else {
                let shown = String(decoding: bytes, as: UTF8.self)
                throw CommitError.unrepresentable(source: label, entry: Self.join(dir.child(shown)),
                                                  reason: "the file name is not valid UTF-8")
            }
            names.append(name)
            errno = 0
        }
        if errno != 0 { throw ioError(dir.components, "read directory") }
        return names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    /// `lstat` of `name` in `dir`.
    func lstat(_ dir: Directory, _ name: String) throws -> stat {
        var st = stat()
        guard fstatat(dir.fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { throw ioError(dir.child(name), "stat") }
        return st
    }

    /// Opens the directory `name` in `dir` for listing (never through a symlink).
    func open(_ dir: Directory, _ name: String) throws -> Directory {
        let fd = openat(dir.fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw ioError(dir.child(name), "open directory") }
        return Directory(fd: fd, components: dir.child(name))
    }

    /// The header `name` in `dir` would get in a layer: type, permission
    /// bits, owner, size, mtime (seconds), symlink target, device numbers
    /// and extended attributes (sorted by name). The path is the member
    /// path (components joined with `/`).
    /// - Throws: `CommitError.unrepresentable` for sockets and unknown types.
    func header(_ dir: Directory, _ name: String, _ st: stat) throws -> TarEntry {
        let components = dir.child(name)
        var h = TarEntry(path: components.joined(separator: "/"), kind: .unknown, mode: UInt32(st.st_mode) & 0o7777,
                         uid: Int64(st.st_uid), gid: Int64(st.st_gid), mtime: Int64(st.st_mtim.tv_sec))
        switch st.st_mode & S_IFMT {
        case S_IFREG:
            h.kind = .regular
            h.size = Int64(st.st_size)
        case S_IFDIR:
            h.kind = .directory
        case S_IFLNK:
            h.kind = .symlink
            guard let target = Sys.readlink(dir.fd, name) else { throw ioError(components, "readlink") }
            h.linkTarget = target
        case S_IFCHR, S_IFBLK:
            h.kind = (st.st_mode & S_IFMT) == S_IFCHR ? .characterDevice : .blockDevice
            h.deviceMajor = .init(Sys.major(UInt64(truncatingIfNeeded: st.st_rdev)))
            h.deviceMinor = .init(Sys.minor(UInt64(truncatingIfNeeded: st.st_rdev)))
        case S_IFIFO:
            h.kind = .fifo
        case S_IFSOCK:
            throw CommitError.unrepresentable(source: label, entry: Self.join(components),
                                              reason: "it is a socket (tar has no socket type); remove it or commit without it")
        default:
            throw CommitError.unrepresentable(source: label, entry: Self.join(components), reason: "unknown file type")
        }
        h.xattrs = try xattrs(dir, name)
        return h
    }

    /// The extended attributes of `name` in `dir` (not following a symlink),
    /// sorted by name. A file system without xattr support has none.
    func xattrs(_ dir: Directory, _ name: String) throws -> [TarEntry.Xattr] {
        let proc = "/proc/self/fd/\(dir.fd)/\(name)"
        guard let names = Sys.llistxattr(proc) else {
            if errno == ENOTSUP || errno == EOPNOTSUPP { return [] }
            throw ioError(dir.child(name), "list xattrs")
        }
        var out: [TarEntry.Xattr] = []
        for n in names.sorted() {
            guard let value = Sys.lgetxattr(proc, n) else {
                if errno == ENODATA { continue }  // removed meanwhile
                throw ioError(dir.child(name), "read xattr \(n)")
            }
            out.append(.init(name: n, value: value))
        }
        return out
    }

    /// Opens the regular file at `components` for reading, walking every
    /// directory from the root without following symlinks, and checks that
    /// it is still the file that was scanned.
    func openFile(_ components: [String], identity: Identity, size: Int64) throws -> FileSource {
        guard let name = components.last else { throw ioError(components, "open", EISDIR) }
        let parentComponents = Array(components.dropLast())
        let parentFD = try directoryFD(parentComponents)
        let fd = openat(parentFD, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ELOOP { throw CommitError.changedWhileReading(source: label, entry: Self.join(components), reason: "it is now a symlink") }
            throw ioError(components, "open")
        }
        let source = FileSource(fd: fd, path: "\(label): \(Self.join(components))", owns: true)
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ioError(components, "stat") }
        guard (st.st_mode & S_IFMT) == S_IFREG, Identity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino)) == identity else {
            throw CommitError.changedWhileReading(source: label, entry: Self.join(components), reason: "it was replaced")
        }
        guard Int64(st.st_size) == size else {
            throw CommitError.changedWhileReading(source: label, entry: Self.join(components),
                                                  reason: "its size changed from \(size) to \(st.st_size) bytes")
        }
        return source
    }

    /// An `O_PATH` descriptor of the directory at `components`, walked from
    /// the root without following symlinks. The path opened last is kept
    /// (its deepest levels open), so files written directory by directory,
    /// and a return to a parent, cost a step or two instead of a walk from
    /// the root.
    private func directoryFD(_ components: [String]) throws -> Int32 {
        if components.isEmpty { return root.fd }
        var common = 0
        while common < min(components.count, openPath.count) && openPath[common].name == components[common] { common += 1 }
        while openPath.count > common {
            let l = openPath.removeLast()
            if l.fd >= 0 { close(l.fd) }
        }
        // Levels of the kept prefix whose descriptors were dropped: reopen
        // them from the deepest open one above.
        var start = openPath.count
        while start > 0 && openPath[start - 1].fd < 0 { start -= 1 }
        for i in start..<openPath.count {
            openPath[i].fd = try openLevel(i == 0 ? root.fd : openPath[i - 1].fd, components, upTo: i)
            let drop = i - Self.keptLevels
            if drop >= 0, openPath[drop].fd >= 0 {
                close(openPath[drop].fd)
                openPath[drop].fd = -1
            }
        }
        for i in openPath.count..<components.count {
            let fd = try openLevel(i == 0 ? root.fd : openPath[i - 1].fd, components, upTo: i)
            openPath.append((components[i], fd))
            let drop = openPath.count - 1 - Self.keptLevels
            if drop >= 0, openPath[drop].fd >= 0 {
                close(openPath[drop].fd)
                openPath[drop].fd = -1
            }
        }
        return openPath[openPath.count - 1].fd
    }

    /// Opens `components[i]` in the directory `parent`.
    private func openLevel(_ parent: Int32, _ components: [String], upTo i: Int) throws -> Int32 {
        let fd = openat(parent, components[i], Sys.O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            let at = Array(components[...i])
            if e == ENOTDIR || e == ELOOP {
                throw CommitError.changedWhileReading(source: label, entry: Self.join(at), reason: "it is no longer a directory")
            }
            throw ioError(at, "open directory", e)
        }
        return fd
    }
}

extension HostTree.Identity {
    init(_ st: stat) {
        self.init(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }
}
