#if canImport(Glibc)
import Glibc
#endif

/// A directory that layer entries are written into. Every path is resolved
/// one component at a time from a descriptor of the root (`openat` with
/// `O_NOFOLLOW`), and symlinks met on the way are expanded as if the root
/// were `/` (`..` stops at the root, absolute targets restart at it), the
/// way `openat2(RESOLVE_IN_ROOT)`, umoci's securejoin and a chroot do. So no
/// entry, however its path and the symlinks before it are built, can make
/// a write land outside the root.
final class RootedDirectory {
    /// A directory below the root, open as an `O_PATH` descriptor, with its
    /// canonical (symlink-free) path in components.
    final class Handle {
        let fd: Int32
        let components: [String]
        private let owns: Bool

        init(fd: Int32, components: [String], owns: Bool = true) {
            self.fd = fd
            self.components = components
            self.owns = owns
        }

        deinit { if owns { close(fd) } }

        /// The canonical path of `name` in this directory.
        func child(_ name: String) -> [String] { components + [name] }
    }

    /// The most symlinks one resolution may expand (Linux's own limit).
    static let maxSymlinks = 40

    let path: String
    let root: Handle
    private var cache: (key: [String], handle: Handle)?

    /// Opens `path`, which must be a directory.
    init(path: String) throws {
        self.path = path
        let fd = open(path, Sys.O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw LayerError.destination(path: path, reason: "cannot open: \(String(cString: strerror(errno)))") }
        root = Handle(fd: fd, components: [])
    }

    /// Forgets cached resolutions; called after anything is removed.
    func invalidate() { cache = nil }

    /// Resolves `components` as a directory below the root.
    ///
    /// - Parameters:
    ///   - create: when given, missing directories are made (mode 0700 until
    ///     the final pass) and reported with their canonical path.
    ///   - lenient: return nil instead of throwing when a component is not a
    ///     directory (for whiteouts, where there is then nothing to remove).
    /// - Returns: nil when a component is missing and `create` is nil.
    /// - Throws: `LayerError.invalidEntry` when a component is a file or
    ///   symlinks loop; `LayerError.io` for system errors.
    func directory(_ components: [String], create: (([String]) throws -> Void)? = nil,
                   lenient: Bool = false, _ ctx: EntryContext) throws -> Handle? {
        if components.isEmpty { return root }
        if let c = cache, c.key == components { return c.handle }
        var cur = root
        var pending = Array(components.reversed())
        var hops = 0
        var retries = 0
        while let c = pending.popLast() {
            if c.isEmpty || c == "." { continue }
            if c == ".." {
                if !cur.components.isEmpty { cur = try reopen(Array(cur.components.dropLast()), ctx) }
                continue
            }
            let fd = openat(cur.fd, c, Sys.O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC)
            if fd >= 0 {
                cur = Handle(fd: fd, components: cur.child(c))
                continue
            }
            let openErrno = errno
            var st = stat()
            if fstatat(cur.fd, c, &st, AT_SYMLINK_NOFOLLOW) != 0 {
                guard errno == ENOENT else { throw ctx.io("stat \(MemberPath.join(cur.child(c)))") }
                guard let create else { return nil }
                retries += 1
                if retries > 8 { throw ctx.io("mkdir \(MemberPath.join(cur.child(c)))", ENOENT) }
                if mkdirat(cur.fd, c, 0o700) != 0 && errno != EEXIST {
                    throw ctx.io("mkdir \(MemberPath.join(cur.child(c)))")
                }
                try create(cur.child(c))
                pending.append(c)
                continue
            }
            if Sys.isLink(st) {
                hops += 1
                guard hops <= Self.maxSymlinks else {
                    throw ctx.invalid("too many levels of symbolic links resolving \(MemberPath.join(components))")
                }
                guard let target = Sys.readlink(cur.fd, c) else { throw ctx.io("readlink \(MemberPath.join(cur.child(c)))") }
                guard !target.isEmpty else {
                    if lenient { return nil }
                    throw ctx.invalid("\(MemberPath.join(cur.child(c))) is a symlink with an empty target")
                }
                if target.hasPrefix("/") { cur = root }
                pending.append(contentsOf: target.split(separator: "/", omittingEmptySubsequences: true).map(String.init).reversed())
                continue
            }
            if !Sys.isDir(st) {
                if lenient { return nil }
                throw ctx.invalid("\(MemberPath.join(cur.child(c))) is not a directory (needed as a parent of \(MemberPath.join(components)))")
            }
            throw ctx.io("open \(MemberPath.join(cur.child(c)))", openErrno)
        }
        cache = (components, cur)
        return cur
    }

    /// Opens a canonical path without following any symlink.
    func reopen(_ components: [String], _ ctx: EntryContext) throws -> Handle {
        var cur = root
        for c in components {
            let fd = openat(cur.fd, c, Sys.O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC)
            guard fd >= 0 else { throw ctx.io("open \(MemberPath.join(cur.child(c)))") }
            cur = Handle(fd: fd, components: cur.child(c))
        }
        return cur
    }

    /// `lstat` of `name` in `dir`; nil when it does not exist.
    func lstat(_ dir: Handle, _ name: String, _ ctx: EntryContext) throws -> stat? {
        var st = stat()
        if fstatat(dir.fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 { return st }
        if errno == ENOENT { return nil }
        throw ctx.io("stat \(MemberPath.join(dir.child(name)))")
    }

    /// Opens the directory `name` in `dir` (not following a symlink).
    func child(_ dir: Handle, _ name: String, _ ctx: EntryContext) throws -> Handle {
        let fd = openat(dir.fd, name, Sys.O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw ctx.io("open \(MemberPath.join(dir.child(name)))") }
        return Handle(fd: fd, components: dir.child(name))
    }

    /// Names in `dir`, sorted.
    func names(_ dir: Handle, _ ctx: EntryContext) throws -> [String] {
        guard let names = Sys.listDirectory(dir.fd) else { throw ctx.io("read directory \(MemberPath.join(dir.components))") }
        return names
    }

    /// Removes `name` from `dir`, recursively when it is a directory
    /// (never following symlinks). Missing is fine.
    func remove(_ dir: Handle, _ name: String, _ ctx: EntryContext) throws {
        invalidate()
        try removeTree(dir.fd, name, dir.components, ctx)
    }

    private func removeTree(_ dirfd: Int32, _ name: String, _ parent: [String], _ ctx: EntryContext) throws {
        var st = stat()
        guard fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
            if errno == ENOENT { return }
            throw ctx.io("stat \(MemberPath.join(parent + [name]))")
        }
        if Sys.isDir(st) {
            let fd = openat(dirfd, name, Sys.O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC)
            guard fd >= 0 else { throw ctx.io("open \(MemberPath.join(parent + [name]))") }
            defer { close(fd) }
            guard let children = Sys.listDirectory(fd) else { throw ctx.io("read directory \(MemberPath.join(parent + [name]))") }
            for c in children { try removeTree(fd, c, parent + [name], ctx) }
            guard unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT else {
                throw ctx.io("remove directory \(MemberPath.join(parent + [name]))")
            }
        } else {
            guard unlinkat(dirfd, name, 0) == 0 || errno == ENOENT else {
                throw ctx.io("remove \(MemberPath.join(parent + [name]))")
            }
        }
    }

    /// A path through `/proc/self/fd` naming `name` in `dir` without
    /// following it, for calls that have no `*at` form (xattrs).
    func procPath(_ dir: Handle, _ name: String) -> String { "/proc/self/fd/\(dir.fd)/\(name)" }
}
