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
///
/// Cost: the directories met are kept as a tree of `Dir` nodes (one small
/// node per directory, no paths stored), so resolving a path costs one
/// dictionary step per component and system calls only for names not seen
/// yet and for symlinks. Descriptors come from a `cursor` — the open path to
/// the directory used last, at most `DirectoryStack`'s bound of them open —
/// which moves up (through `..`, checked to be the directory entered) and
/// down as entries go: the work is linear in the path lengths, never a
/// walk from the root per entry nor a recursion that follows the input.
///
/// Not guarded against other processes changing the directory meanwhile
/// beyond what the `O_NOFOLLOW` steps and the `..` identity checks give.
final class RootedDirectory {
    /// A directory below the root, known to be a real directory (it was
    /// opened with `O_NOFOLLOW | O_DIRECTORY`), with `LayerApplier`'s
    /// bookkeeping.
    final class Dir {
        let name: String
        var parent: Dir?
        /// Components below the root (0 for the root).
        let depth: Int
        var children: [String: Dir] = [:]
        let device: UInt64
        let inode: UInt64
        /// Index on the cursor, -1 when not on it.
        var level = -1
        /// Deferred mode and times (`LayerApplier.finish`).
        var pending: PendingAttributes?
        /// The last layer that wrote this directory or something below it.
        var writtenIn = -1
        /// The layer all of this directory's content comes from: it made the
        /// directory, or found it empty (then no whiteout of it has anything
        /// lower to remove, and its files need not be remembered).
        var onlyLayer = -1
        /// The unpack knows everything in it: it made it (or it is the
        /// root of a target that was empty), so `names` is exact.
        var known = false
        /// Unique while the tree lives (names of the layer's written files are keyed by it).
        let id: Int
        /// Names the unpack made in it and has not removed (held to `maxNamesPerDirectory`).
        var names = 0

        fileprivate init(name: String, parent: Dir?, device: UInt64, inode: UInt64, id: Int) {
            self.name = name
            self.parent = parent
            depth = (parent?.depth ?? -1) + 1
            self.device = device
            self.inode = inode
            self.id = id
        }

        /// Canonical path in components (O(depth); for messages).
        var components: [String] {
            var out: [String] = []
            var n: Dir? = self
            while let cur = n, let p = cur.parent {
                out.append(cur.name)
                n = p
            }
            return out.reversed()
        }

        /// The canonical path of `name` in this directory (for messages).
        func child(_ name: String) -> [String] { components + [name] }
    }

    /// Mode and times applied to a directory at the end.
    struct PendingAttributes {
        var mode: UInt32
        var mtime: Int64
        var mtimeNanoseconds: Int
    }

    /// A directory to work in: its node and a descriptor of its own
    /// (`O_PATH`), valid while the handle lives.
    final class Handle {
        let dir: Dir
        let fd: Int32
        private let owns: Bool

        init(dir: Dir, fd: Int32, owns: Bool = true) {
            self.dir = dir
            self.fd = fd
            self.owns = owns
        }

        deinit { if owns { close(fd) } }

        var components: [String] { dir.components }
        func child(_ name: String) -> [String] { dir.child(name) }
    }

    let path: String
    let limits: UnionLimits
    let root: Handle
    let rootDir: Dir
    private var nextID = 1
    /// The open path from the root to the directory used last:
    /// `cursor[i].dir.level == i`; only the deepest levels hold descriptors.
    private var cursor: [(dir: Dir, fd: Int32)] = []
    private let cursorKeep = 16
    /// The last resolution (input components), dropped when anything is removed.
    var cache: (key: [String], dir: Dir)?
    /// System calls made resolving paths and moving the cursor (for tests
    /// that check the work grows linearly).
    var steps = 0

    /// Opens `path`, which must be a directory.
    /// - Parameter empty: the directory is known to be empty (so the
    ///   unpack knows all it will hold).
    init(path: String, limits: UnionLimits = .defaults, empty: Bool = false) throws {
        self.path = path
        self.limits = limits
        let fd = open(path, Sys.O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw LayerError.destination(path: path, reason: "cannot open: \(String(cString: strerror(errno)))") }
        guard let id = Sys.identity(fd) else {
            let e = errno
            close(fd)
            throw LayerError.destination(path: path, reason: "cannot stat: \(String(cString: strerror(e)))")
        }
        rootDir = Dir(name: "", parent: nil, device: id.device, inode: id.inode, id: 0)
        root = Handle(dir: rootDir, fd: fd)
        rootDir.known = empty
        rootDir.level = 0
        cursor = [(rootDir, fd)]
    }

    deinit {
        for l in cursor.dropFirst() where l.fd >= 0 { close(l.fd) }
        Self.dismantle(rootDir)
    }

    /// Breaks a subtree into unlinked nodes without recursion (releasing a
    /// deep tree of nodes would otherwise recurse once per level).
    static func dismantle(_ top: Dir) {
        var stack = Array(top.children.values)
        top.children = [:]
        while let d = stack.popLast() {
            stack.append(contentsOf: d.children.values)
            d.children = [:]
            d.parent = nil
        }
    }

    /// Fails when a path of `depth` components would be deeper than the limit.
    func checkDepth(_ depth: Int, _ ctx: EntryContext) throws {
        if depth > limits.maxDepth {
            throw LayerError.limitExceeded(layer: ctx.layer, entry: ctx.entry, what: "path depth (components below the root, symlinks followed)",
                                           limit: Int64(limits.maxDepth), flag: "")
        }
    }

    /// The layer being applied (set by `LayerApplier`).
    var layer = -1

    /// Counts a name about to be made in `dir`; a known directory that is
    /// empty at that moment holds only this layer's content from then on.
    /// - Throws: `LayerError.limitExceeded` past `maxNamesPerDirectory`.
    func countName(in dir: Dir, _ ctx: EntryContext) throws {
        guard dir.names < limits.maxNamesPerDirectory else {
            throw tooManyNames(dir.components, ctx)
        }
        if dir.names == 0 && dir.known { dir.onlyLayer = layer }
        dir.names += 1
    }

    /// Resolves `components` as a directory below the root.
    ///
    /// - Parameters:
    ///   - create: when given, missing directories are made (mode 0700 until
    ///     the final pass) and passed to it.
    ///   - lenient: return nil instead of throwing when a component is not a
    ///     directory (for whiteouts, where there is then nothing to remove).
    /// - Returns: nil when a component is missing and `create` is nil.
    /// - Throws: `LayerError.invalidEntry` when a component is a file or
    ///   symlinks loop; `LayerError.limitExceeded` past `maxDepth`;
    ///   `LayerError.io` for system errors.
    func directory(_ components: [String], create: ((Dir) throws -> Void)? = nil,
                   lenient: Bool = false, _ ctx: EntryContext) throws -> Handle? {
        if components.isEmpty { return root }
        if let c = cache, c.key == components { return try handle(c.dir, ctx) }
        var cur = rootDir
        var pending = Array(components.reversed())
        var hops = SymlinkHops()
        while let c = pending.popLast() {
            if c.isEmpty || c == "." { continue }
            if c == ".." {
                cur = cur.parent ?? rootDir
                continue
            }
            if let known = cur.children[c] {
                cur = known
                continue
            }
            let fd = try moveCursor(to: cur, ctx)
            steps += 1
            let opened = openat(fd, c, Sys.O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC)
            if opened >= 0 {
                cur = try adopt(opened, name: c, parent: cur, ctx)
                continue
            }
            let openErrno = errno
            var st = stat()
            steps += 1
            if fstatat(fd, c, &st, AT_SYMLINK_NOFOLLOW) != 0 {
                guard errno == ENOENT else { throw ctx.io("stat \(MemberPath.join(cur.child(c)))") }
                guard let create else { return nil }
                try checkDepth(cur.depth + 1, ctx)
                try countName(in: cur, ctx)
                steps += 2
                if mkdirat(fd, c, 0o700) != 0 && errno != EEXIST {
                    throw ctx.io("mkdir \(MemberPath.join(cur.child(c)))")
                }
                let made = openat(fd, c, Sys.O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC)
                guard made >= 0 else { throw ctx.io("open \(MemberPath.join(cur.child(c)))") }
                cur = try adopt(made, name: c, parent: cur, ctx)
                cur.known = true
                cur.onlyLayer = layer
                try create(cur)
                continue
            }
            if Sys.isLink(st) {
                steps += 1
                guard let target = Sys.readlink(fd, c) else { throw ctx.io("readlink \(MemberPath.join(cur.child(c)))") }
                guard let absolute = try hops.follow(target, at: MemberPath.join(cur.child(c)), resolving: components,
                                                     pending: &pending, lenient: lenient, ctx) else { return nil }
                if absolute { cur = rootDir }
                continue
            }
            if !Sys.isDir(st) {
                if lenient { return nil }
                throw ctx.notADirectory(MemberPath.join(cur.child(c)), parentOf: components)
            }
            throw ctx.io("open \(MemberPath.join(cur.child(c)))", openErrno)
        }
        cache = (components, cur)
        return try handle(cur, ctx)
    }

    /// A handle of `dir` with a descriptor of its own.
    func handle(_ dir: Dir, _ ctx: EntryContext) throws -> Handle {
        if dir === rootDir { return root }
        let fd = try moveCursor(to: dir, ctx)
        steps += 1
        let own = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        guard own >= 0 else { throw ctx.io("dup \(MemberPath.join(dir.components))") }
        return Handle(dir: dir, fd: own)
    }

    /// Records a directory just opened as `fd` (consumed) and puts it on the cursor.
    private func adopt(_ fd: Int32, name: String, parent: Dir, _ ctx: EntryContext) throws -> Dir {
        steps += 1
        guard let id = Sys.identity(fd) else {
            let e = errno
            close(fd)
            throw ctx.io("stat \(MemberPath.join(parent.child(name)))", e)
        }
        do {
            try checkDepth(parent.depth + 1, ctx)
        } catch {
            close(fd)
            throw error
        }
        let dir = Dir(name: name, parent: parent, device: id.device, inode: id.inode, id: nextID)
        nextID += 1
        parent.children[name] = dir
        if parent.level == cursor.count - 1 {
            push(dir, fd)
        } else {
            close(fd)
        }
        return dir
    }

    /// The node of the directory `name` in `dir` (not following a symlink).
    func child(_ dir: Handle, _ name: String, _ ctx: EntryContext) throws -> Handle {
        if let known = dir.dir.children[name] { return try handle(known, ctx) }
        steps += 1
        let fd = openat(dir.fd, name, Sys.O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw ctx.io("open \(MemberPath.join(dir.child(name)))") }
        let made = try adopt(fd, name: name, parent: dir.dir, ctx)
        return try handle(made, ctx)
    }

    // MARK: The cursor

    private func push(_ dir: Dir, _ fd: Int32) {
        dir.level = cursor.count
        cursor.append((dir, fd))
        let drop = cursor.count - 1 - cursorKeep
        if drop >= 1, cursor[drop].fd >= 0 {
            close(cursor[drop].fd)
            cursor[drop].fd = -1
        }
    }

    /// Pops the cursor down to `level` entries + 1, reopening through `..`
    /// the levels whose descriptors were dropped.
    func truncate(to level: Int, _ ctx: EntryContext) throws {
        while cursor.count - 1 > level {
            let leaving = cursor.removeLast()
            leaving.dir.level = -1
            defer { close(leaving.fd) }
            let up = cursor.count - 1
            guard cursor[up].fd < 0 else { continue }
            steps += 2
            let parent = openat(leaving.fd, "..", Sys.O_PATH | O_DIRECTORY | O_CLOEXEC)
            guard parent >= 0 else {
                // `..` needs search permission in the directory left (an
                // unprivileged unpack that already set its final mode):
                // come down again from the deepest open level above.
                guard errno == EACCES else { throw ctx.io("open \(MemberPath.join(cursor[up].dir.components))") }
                try reopenLevel(up, ctx)
                continue
            }
            let upDir = cursor[up].dir
            guard let id = Sys.identity(parent), id.device == upDir.device, id.inode == upDir.inode else {
                close(parent)
                throw ctx.invalid("\(MemberPath.join(upDir.components)) was replaced while unpacking")
            }
            cursor[up].fd = parent
        }
    }

    /// Opens the cursor's level `up` by names from the deepest open level above it.
    private func reopenLevel(_ up: Int, _ ctx: EntryContext) throws {
        var j = up - 1
        while j > 0 && cursor[j].fd < 0 { j -= 1 }
        var fd = cursor[j].fd
        for i in (j + 1)...up {
            steps += 1
            let next = openat(fd, cursor[i].dir.name, Sys.O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC)
            if i - 1 > j { close(fd) }
            guard next >= 0 else { throw ctx.io("open \(MemberPath.join(cursor[i].dir.components))") }
            fd = next
        }
        cursor[up].fd = fd
    }

    /// Moves the cursor to `dir` and returns its descriptor (owned by the cursor).
    private func moveCursor(to dir: Dir, _ ctx: EntryContext) throws -> Int32 {
        if dir.level >= 0 && dir.level == cursor.count - 1 { return cursor[dir.level].fd }
        var chain: [Dir] = []
        var d = dir
        while d.level < 0 {
            chain.append(d)
            guard let p = d.parent else { throw ctx.invalid("internal: directory \(d.name) is no longer in the tree") }
            d = p
        }
        try truncate(to: d.level, ctx)
        for next in chain.reversed() {
            steps += 1
            let fd = openat(cursor[cursor.count - 1].fd, next.name, Sys.O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC)
            guard fd >= 0 else { throw ctx.io("open \(MemberPath.join(next.components))") }
            push(next, fd)
        }
        return cursor[cursor.count - 1].fd
    }
}
