import OCICore
#if canImport(Glibc)
import Glibc
#endif

/// Applies layers, one at a time and bottom first, to a `RootedDirectory`
/// (image-spec layer.md "Applying Changesets"):
///
/// - `.wh.NAME` removes NAME and `.wh..wh..opq` hides every lower child of
///   its directory, wherever they appear in the layer: paths this layer
///   already wrote (and their ancestors) are kept, everything else goes;
/// - a directory over a directory updates its attributes, anything else
///   replaces what was there;
/// - directory modes and times are applied at the very end (`finish`), so
///   creating children does not disturb them and read-only directories do
///   not stop an unprivileged unpack.
///
/// What the layer wrote is known without storing paths: directories carry
/// the layer that last wrote them (`Dir.writtenIn`) or made them
/// or found empty (`Dir.onlyLayer`, then all they hold is this layer's), and
/// a file written into any other directory is remembered as a keyed 64-bit
/// hash of (directory, name) — 8 bytes each. A hash collision (odds about
/// n²/2⁶⁴ for n such files, with a key chosen per process) could only keep
/// a lower file that a whiteout of the same layer should have removed; it
/// can never write or remove anything else.
final class LayerApplier {
    let root: RootedDirectory
    let options: UnpackOptions
    let meter: LimitMeter
    let warn: (String) -> Void
    private(set) var report = UnpackReport()
    /// The layer being applied (0 for the first).
    private var layer = -1
    /// Files this layer wrote into directories it did not make.
    private var writtenNames = Set<Int>()
    private let euid = geteuid()
    private let egid = getegid()

    init(root: RootedDirectory, options: UnpackOptions, warn: @escaping (String) -> Void) {
        self.root = root
        self.options = options
        meter = LimitMeter(options.limits)
        self.warn = warn
    }

    /// Applies one layer.
    func apply(_ source: LayerSource) throws {
        let reader = try source.open(limits: options.limits, inflateAhead: true)
        layer += 1
        root.layer = layer
        writtenNames.removeAll(keepingCapacity: true)
        report.layers += 1
        while let entry = try reader.next() {
            let ctx = EntryContext(layer: source.name, entry: entry.path)
            do {
                try meter.check(entry, ctx)
                try apply(entry, reader, ctx)
            } catch let e as LayerError where e.isUnsafeEntry && options.skipUnsafe {
                report.skippedUnsafe.append(e.description)
                warn("skipped: \(e)")
            }
        }
        report.entries = meter.entries
        report.bytes = meter.bytes
    }

    private func apply(_ entry: TarEntry, _ reader: TarReader, _ ctx: EntryContext) throws {
        switch try LayerMember.classify(entry, ctx) {
        case .aufsMeta:
            return
        case let .whiteout(parent, name):
            try root.checkDepth(parent.count + 1, ctx)
            guard let dir = try root.directory(parent, lenient: true, ctx) else { return }
            try hide(dir, [Sys.DirName(name)], ctx)
        case let .opaque(directory):
            try root.checkDepth(directory.count + 1, ctx)
            guard let dir = try root.directory(directory, lenient: true, ctx) else { return }
            try hide(dir, try root.rawNames(dir, ctx), ctx)
        case let .entry(components):
            guard let name = components.last else {
                guard entry.kind == .directory else {
                    throw ctx.unsafe("a \(entry.kind.rawValue) entry would replace the target directory itself")
                }
                try updateDirectory(root.root, nil, entry, existed: true, ctx)
                return
            }
            try root.checkDepth(components.count, ctx)
            let (mtime, nsec, layer) = (entry.mtime, entry.mtimeNanoseconds, layer)
            guard let parent = try root.directory(Array(components.dropLast()), create: { [unowned self] made in
                made.pending = RootedDirectory.PendingAttributes(mode: 0o755, mtime: mtime, mtimeNanoseconds: nsec)
                                self.markWritten(made)
            }, ctx) else { return }
            try root.checkDepth(parent.dir.depth + 1, ctx)
            if try place(entry, parent, name, reader, ctx), entry.kind != .directory {
                markWritten(parent.dir)
                if parent.dir.onlyLayer != layer { writtenNames.insert(Self.key(parent.dir, name)) }
            }
        }
    }

    static func key(_ dir: RootedDirectory.Dir, _ name: String) -> Int {
        var h = Hasher()
        h.combine(dir.id)
        h.combine(name)
        return h.finalize()
    }

    /// Marks `dir` and its ancestors as written by this layer.
    private func markWritten(_ dir: RootedDirectory.Dir) {
        var d: RootedDirectory.Dir? = dir
        while let cur = d, cur.writtenIn != layer {
            cur.writtenIn = layer
            d = cur.parent
        }
    }

    /// Whiteout semantics for `names` of `dir`: each is removed unless this
    /// layer wrote it; a directory this layer wrote keeps what it wrote and
    /// loses the rest. Depth first with a work list, not recursion.
    private func hide(_ dir: RootedDirectory.Handle, _ names: [Sys.DirName], _ ctx: EntryContext) throws {
        if dir.dir.onlyLayer == layer { return }  // all in it is this layer's
        var work: [(dir: RootedDirectory.Dir, names: [Sys.DirName])] = [(dir.dir, names)]
        var current = dir
        while let top = work.last {
            guard let n = top.names.last else {
                work.removeLast()
                continue
            }
            work[work.count - 1].names.removeLast()
            if current.dir !== top.dir { current = try root.handle(top.dir, ctx) }
            guard n.isUTF8 else {
                try root.remove(current, n, ctx)  // not a name any layer can write
                continue
            }
            guard let st = try root.lstat(current, n.string, ctx) else { continue }
            if Sys.isDir(st) {
                guard let known = top.dir.children[n.string], known.writtenIn == layer else {
                    try root.remove(current, n, ctx)
                    continue
                }
                if known.onlyLayer == layer { continue }
                let sub = try root.handle(known, ctx)
                work.append((known, try root.rawNames(sub, ctx)))
                current = sub
            } else if !writtenNames.contains(Self.key(top.dir, n.string)) {
                try root.remove(current, n, ctx)
            }
        }
    }

    /// Creates or updates `name` in `parent`; false when nothing was made.
    private func place(_ entry: TarEntry, _ parent: RootedDirectory.Handle, _ name: String,
                       _ reader: TarReader, _ ctx: EntryContext) throws -> Bool {
        let existing = try root.lstat(parent, name, ctx)
        if existing == nil { try root.countName(in: parent.dir, ctx) }
        if entry.kind == .directory {
            if let existing, Sys.isDir(existing) {
                try updateDirectory(parent, name, entry, existed: true, ctx)
            } else {
                if existing != nil { try root.remove(parent, name, replacing: true, ctx) }
                guard mkdirat(parent.fd, name, 0o700) == 0 else { throw ctx.io("mkdir") }
                try updateDirectory(parent, name, entry, existed: false, ctx)
            }
            return true
        }
        switch entry.kind {
        case .characterDevice, .blockDevice:
            // Checked before anything is removed: a bad number changes nothing.
            guard let dev = Sys.makedev(entry.deviceMajor, entry.deviceMinor) else {
                throw ctx.invalid("device number \(entry.deviceMajor),\(entry.deviceMinor) is out of range (major and minor must each fit in 32 bits)")
            }
            if options.createDevices && !Sys.kernelCanMake(entry.deviceMajor, entry.deviceMinor) {
                throw ctx.invalid("device number \(entry.deviceMajor),\(entry.deviceMinor) cannot be made on Linux (major at most 4095, minor at most 1048575)")
            }
            if existing != nil { try root.remove(parent, name, replacing: true, ctx) }
            guard options.createDevices else {
                report.skippedDevices += 1
                return false
            }
            let type = entry.kind == .characterDevice ? S_IFCHR : S_IFBLK
            guard mknodat(parent.fd, name, type | mode_t(entry.mode & 0o777), dev) == 0 else { throw ctx.io("mknod") }
            try finishNode(entry, parent, name, chmod: true, ctx)
            return true
        case .socket, .unknown, .directory:
            if existing != nil { try root.remove(parent, name, replacing: true, ctx) }
            report.skippedOther += 1
            return false
        default:
            break
        }
        if existing != nil { try root.remove(parent, name, replacing: true, ctx) }
        switch entry.kind {
        case .regular:
            try writeFile(entry, parent, name, reader, ctx)
        case .hardlink:
            try link(entry, parent, name, ctx)
        case .symlink:
            guard symlinkat(entry.linkTarget ?? "", parent.fd, name) == 0 else { throw ctx.io("symlink") }
            try finishNode(entry, parent, name, chmod: false, ctx)
        default:
            guard mknodat(parent.fd, name, S_IFIFO | mode_t(entry.mode & 0o777), 0) == 0 else { throw ctx.io("mkfifo") }
            try finishNode(entry, parent, name, chmod: true, ctx)
        }
        return true
    }

    /// Writes a regular file: data blocks at their offsets, holes left as
    /// holes (a sparse file stays sparse), the size set at the end; the
    /// logical size counts against `--max-bytes`.
    private func writeFile(_ entry: TarEntry, _ parent: RootedDirectory.Handle, _ name: String,
                           _ reader: TarReader, _ ctx: EntryContext) throws {
        try meter.checkAnnounced(entry.size, ctx)
        let fd = openat(parent.fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ctx.io("create") }
        defer { close(fd) }
        var extent = FileExtent()
        let meter = self.meter
        try reader.readDataBlocks({ offset, block in
            _ = try extent.add(offset: offset, count: block.count, meter, ctx)
            guard let base = block.baseAddress else { return }
            var done = 0
            while done < block.count {
                let n = pwrite(fd, base + done, block.count - done, off_t(offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ctx.io("write")
                }
                done += n
            }
        }, finalSize: { size in
            let written = extent.end
            try extent.finish(size: size, meter, ctx)
            if size > written && ftruncate(fd, off_t(size)) != 0 { throw ctx.io("truncate to \(size) bytes") }
        })
        try applyOwner(entry, ctx) { fchown(fd, $0, $1) }
        guard fchmod(fd, mode_t(entry.mode & 0o7777)) == 0 else { throw ctx.io("chmod") }
        try applyXattrs(entry.xattrs, ctx) { Sys.fsetxattr(fd, $0, $1) }
        var times = Self.times(entry.mtime, entry.mtimeNanoseconds)
        guard futimens(fd, &times) == 0 else { throw ctx.io("set times") }
    }

    private func link(_ entry: TarEntry, _ parent: RootedDirectory.Handle, _ name: String, _ ctx: EntryContext) throws {
        let target = try MemberPath.linkTarget(entry, ctx)
        let shown = MemberPath.join(target)
        guard let dir = try root.directory(Array(target.dropLast()), lenient: true, ctx), let tname = target.last else {
            throw ctx.invalid("hard-link target \(shown) does not exist")
        }
        if linkat(dir.fd, tname, parent.fd, name, 0) != 0 {
            switch errno {
            case ENOENT, ENOTDIR: throw ctx.invalid("hard-link target \(shown) does not exist")
            case EPERM where (try? root.lstat(dir, tname, ctx)).flatMap({ $0.map(Sys.isDir) }) == true:
                throw ctx.invalid("hard-link target \(shown) is a directory")
            case EMLINK: throw ctx.invalid("hard-link target \(shown) has as many links as the file system allows")
            default: throw ctx.io("link to \(shown)")
            }
        }
        if let st = try root.lstat(parent, name, ctx), UInt64(truncatingIfNeeded: st.st_nlink) > UInt64(max(1, options.limits.maxLinksPerFile)) {
            throw LayerError.limitExceeded(layer: ctx.layer, entry: ctx.entry, what: "number of hard links to \(shown)",
                                           limit: Int64(options.limits.maxLinksPerFile), flag: "")
        }
    }
}

extension LayerApplier {
    /// Owner, mode, xattrs and times of a node made without a descriptor.
    private func finishNode(_ entry: TarEntry, _ parent: RootedDirectory.Handle, _ name: String,
                            chmod: Bool, _ ctx: EntryContext) throws {
        try applyOwner(entry, ctx) { fchownat(parent.fd, name, $0, $1, AT_SYMLINK_NOFOLLOW) }
        if chmod {
            guard fchmodat(parent.fd, name, mode_t(entry.mode & 0o7777), 0) == 0 else { throw ctx.io("chmod") }
        }
        let proc = root.procPath(parent, name)
        try applyXattrs(entry.xattrs, ctx) { Sys.lsetxattr(proc, $0, $1) }
        var times = Self.times(entry.mtime, entry.mtimeNanoseconds)
        guard utimensat(parent.fd, name, &times, AT_SYMLINK_NOFOLLOW) == 0 else { throw ctx.io("set times") }
    }

    /// Directory attributes: owner and xattrs now (the xattr set becomes
    /// exactly the entry's), mode and times in `finish`.
    fileprivate func updateDirectory(_ parent: RootedDirectory.Handle, _ name: String?, _ entry: TarEntry,
                                     existed: Bool, _ ctx: EntryContext) throws {
        let dir = try name.map { try root.child(parent, $0, ctx) } ?? root.root
        let fd = openat(dir.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw ctx.io("open directory") }
        defer { close(fd) }
        try applyOwner(entry, ctx) { fchown(fd, $0, $1) }
        if existed {
            let wanted = Set(entry.xattrs.map(\.name))
            guard let present = Sys.flistxattr(fd) else {
                if errno != ENOTSUP && errno != EOPNOTSUPP { throw ctx.io("list xattrs") }
                return try finishDirectory(dir, entry, existed: existed, ctx, fd)
            }
            for old in present where !wanted.contains(old) && !Self.keptXattrs.contains(old) {
                if Sys.fremovexattr(fd, old) != 0 {
                    switch errno {
                    case ENODATA, ENOTSUP, EOPNOTSUPP: continue
                    case EPERM, EACCES: report.skippedXattrs += 1
                    default: throw ctx.io("remove xattr \(old)")
                    }
                }
            }
        }
        try finishDirectory(dir, entry, existed: existed, ctx, fd)
    }

    private func finishDirectory(_ dir: RootedDirectory.Handle, _ entry: TarEntry, existed: Bool, _ ctx: EntryContext, _ fd: Int32) throws {
        try applyXattrs(entry.xattrs, ctx) { Sys.fsetxattr(fd, $0, $1) }
        dir.dir.pending = RootedDirectory.PendingAttributes(mode: entry.mode & 0o7777, mtime: entry.mtime,
                                                            mtimeNanoseconds: entry.mtimeNanoseconds)
        if !existed {
            dir.dir.known = true
            dir.dir.onlyLayer = layer
        }
        markWritten(dir.dir)
    }

    /// Attributes the host owns and a layer must not clear.
    static let keptXattrs: Set<String> = ["security.selinux"]

    private func applyOwner(_ entry: TarEntry, _ ctx: EntryContext, _ call: (uid_t, gid_t) -> Int32) throws {
        guard options.applyOwnership else {
            if entry.uid != Int64(euid) || entry.gid != Int64(egid), options.sameOwner || options.rootless {
                report.skippedOwnership += 1
            }
            return
        }
        // uid_t is 32 bits and (uid_t)-1 means "unchanged" to chown.
        guard let uid = uid_t(exactly: entry.uid), let gid = gid_t(exactly: entry.gid), uid != uid_t.max, gid != gid_t.max else {
            throw ctx.invalid("owner \(entry.uid):\(entry.gid) is out of range")
        }
        guard call(uid, gid) == 0 else { throw ctx.io("chown \(entry.uid):\(entry.gid)") }
    }

    private func applyXattrs(_ xattrs: [TarEntry.Xattr], _ ctx: EntryContext, _ set: (String, [UInt8]) -> Int32) throws {
        for x in xattrs {
            if set(x.name, x.value) != 0 {
                switch errno {
                case EPERM, EACCES, ENOTSUP, EOPNOTSUPP, EINVAL:
                    report.skippedXattrs += 1
                default:
                    throw ctx.io("set xattr \(x.name)")
                }
            }
        }
    }

    static func times(_ sec: Int64, _ nsec: Int) -> [timespec] {
        let ns = (0..<1_000_000_000).contains(nsec) ? nsec : 0
        let t = timespec(tv_sec: time_t(truncatingIfNeeded: sec), tv_nsec: ns)
        return [t, t]
    }

    /// Applies the deferred directory modes and times, children before
    /// their parent (a directory removed or replaced since is no longer in
    /// the tree, so it is skipped). Iterative: one step per directory.
    func finish() throws {
        var work: [(dir: RootedDirectory.Dir, children: [RootedDirectory.Dir])] = [(root.rootDir, Array(root.rootDir.children.values))]
        while let top = work.last {
            if let next = top.children.last {
                work[work.count - 1].children.removeLast()
                work.append((next, Array(next.children.values)))
                continue
            }
            work.removeLast()
            guard let p = top.dir.pending else { continue }
            top.dir.pending = nil
            // The path is only spelled out for an error (it costs its depth).
            func c() -> EntryContext { EntryContext(layer: "unpack", entry: MemberPath.join(top.dir.components)) }
            let handle = try root.handle(top.dir, EntryContext(layer: "unpack", entry: top.dir.name))
            let fd = openat(handle.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard fd >= 0 else { throw c().io("open directory") }
            defer { close(fd) }
            guard fchmod(fd, mode_t(p.mode)) == 0 else { throw c().io("chmod") }
            var times = Self.times(p.mtime, p.mtimeNanoseconds)
            guard futimens(fd, &times) == 0 else { throw c().io("set times") }
        }
    }
}
