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
final class LayerApplier {
    struct PendingDirectory {
        var components: [String]
        var mode: UInt32
        var mtime: Int64
        var mtimeNanoseconds: Int
    }

    let root: RootedDirectory
    let options: UnpackOptions
    let meter: LimitMeter
    let warn: (String) -> Void
    private(set) var report = UnpackReport()
    private var pending: [String: PendingDirectory] = [:]
    /// Canonical paths this layer wrote, with their ancestors.
    private var written = Set<String>()
    private let euid = geteuid()
    private let egid = getegid()

    init(root: RootedDirectory, options: UnpackOptions, warn: @escaping (String) -> Void) {
        self.root = root
        self.options = options
        meter = LimitMeter(options.limits)
        self.warn = warn
    }

    /// Applies one layer.
    func apply(_ layer: LayerSource) throws {
        let reader = try layer.open()
        written.removeAll(keepingCapacity: true)
        report.layers += 1
        while let entry = try reader.next() {
            let ctx = EntryContext(layer: layer.name, entry: entry.path)
            try meter.countEntry(ctx)
            do {
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
            guard let dir = try root.directory(parent, lenient: true, ctx) else { return }
            try hide(dir, name, ctx)
        case let .opaque(directory):
            guard let dir = try root.directory(directory, lenient: true, ctx) else { return }
            for name in try root.names(dir, ctx) { try hide(dir, name, ctx) }
        case let .entry(components):
            guard let name = components.last else {
                guard entry.kind == .directory else {
                    throw ctx.unsafe("a \(entry.kind.rawValue) entry would replace the target directory itself")
                }
                try updateDirectory(root.root, nil, entry, existed: true, ctx)
                return
            }
            let mtime = (entry.mtime, entry.mtimeNanoseconds)
            guard let parent = try root.directory(Array(components.dropLast()), create: { [unowned self] made in
                self.pending[MemberPath.join(made)] = PendingDirectory(components: made, mode: 0o755, mtime: mtime.0, mtimeNanoseconds: mtime.1)
                self.markWritten(made)
            }, ctx) else { return }
            if try place(entry, parent, name, reader, ctx) { markWritten(parent.child(name)) }
        }
    }

    /// Whiteout semantics: removes `name` unless this layer wrote it; a
    /// directory this layer wrote keeps what it wrote and loses the rest.
    private func hide(_ dir: RootedDirectory.Handle, _ name: String, _ ctx: EntryContext) throws {
        let path = dir.child(name)
        guard let st = try root.lstat(dir, name, ctx) else { return }
        guard written.contains(MemberPath.join(path)) else {
            try root.remove(dir, name, ctx)
            return
        }
        guard Sys.isDir(st) else { return }
        let sub = try root.child(dir, name, ctx)
        for n in try root.names(sub, ctx) { try hide(sub, n, ctx) }
    }

    private func markWritten(_ components: [String]) {
        var comps = components
        while !comps.isEmpty {
            guard written.insert(comps.joined(separator: "/")).inserted else { return }
            comps.removeLast()
        }
    }

    /// Creates or updates `name` in `parent`; false when nothing was made.
    private func place(_ entry: TarEntry, _ parent: RootedDirectory.Handle, _ name: String,
                       _ reader: TarReader, _ ctx: EntryContext) throws -> Bool {
        let existing = try root.lstat(parent, name, ctx)
        if entry.kind == .directory {
            if let existing, Sys.isDir(existing) {
                try updateDirectory(parent, name, entry, existed: true, ctx)
            } else {
                if existing != nil { try root.remove(parent, name, ctx) }
                guard mkdirat(parent.fd, name, 0o700) == 0 else { throw ctx.io("mkdir") }
                try updateDirectory(parent, name, entry, existed: false, ctx)
            }
            return true
        }
        if existing != nil { try root.remove(parent, name, ctx) }
        switch entry.kind {
        case .regular:
            try writeFile(entry, parent, name, reader, ctx)
        case .hardlink:
            try link(entry, parent, name, ctx)
        case .symlink:
            guard symlinkat(entry.linkTarget ?? "", parent.fd, name) == 0 else { throw ctx.io("symlink") }
            try finishNode(entry, parent, name, chmod: false, ctx)
        case .fifo:
            guard mknodat(parent.fd, name, S_IFIFO | mode_t(entry.mode & 0o777), 0) == 0 else { throw ctx.io("mkfifo") }
            try finishNode(entry, parent, name, chmod: true, ctx)
        case .characterDevice, .blockDevice:
            guard options.createDevices else {
                report.skippedDevices += 1
                return false
            }
            let type = entry.kind == .characterDevice ? S_IFCHR : S_IFBLK
            guard mknodat(parent.fd, name, type | mode_t(entry.mode & 0o777), Sys.makedev(entry.deviceMajor, entry.deviceMinor)) == 0 else {
                throw ctx.io("mknod")
            }
            try finishNode(entry, parent, name, chmod: true, ctx)
        case .socket, .unknown, .directory:
            report.skippedOther += 1
            return false
        }
        return true
    }

    private func writeFile(_ entry: TarEntry, _ parent: RootedDirectory.Handle, _ name: String,
                           _ reader: TarReader, _ ctx: EntryContext) throws {
        let announced = entry.sparseRegions.map { $0.reduce(0) { $0 + $1.length } } ?? entry.size
        try meter.checkAnnounced(announced, ctx)
        let fd = openat(parent.fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ctx.io("create") }
        defer { close(fd) }
        var end: Int64 = 0
        try reader.readDataBlocks({ offset, block in
            try meter.countBytes(Int64(block.count), ctx)
            var done = 0
            while done < block.count {
                let n = pwrite(fd, block.baseAddress! + done, block.count - done, off_t(offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ctx.io("write")
                }
                done += n
            }
            end = max(end, offset + Int64(block.count))
        }, finalSize: { size in
            if size > end && ftruncate(fd, off_t(size)) != 0 { throw ctx.io("truncate") }
        })
        try applyOwner(entry, ctx) { fchown(fd, uid_t($0), gid_t($1)) }
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
            default: throw ctx.io("link to \(shown)")
            }
        }
    }

    /// Owner, mode, xattrs and times of a node made without a descriptor.
    private func finishNode(_ entry: TarEntry, _ parent: RootedDirectory.Handle, _ name: String,
                            chmod: Bool, _ ctx: EntryContext) throws {
        try applyOwner(entry, ctx) { fchownat(parent.fd, name, uid_t($0), gid_t($1), AT_SYMLINK_NOFOLLOW) }
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
    private func updateDirectory(_ parent: RootedDirectory.Handle, _ name: String?, _ entry: TarEntry,
                                 existed: Bool, _ ctx: EntryContext) throws {
        let fd: Int32
        let components: [String]
        if let name {
            fd = openat(parent.fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            components = parent.child(name)
        } else {
            fd = openat(parent.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            components = []
        }
        guard fd >= 0 else { throw ctx.io("open directory") }
        defer { close(fd) }
        try applyOwner(entry, ctx) { fchown(fd, uid_t($0), gid_t($1)) }
        if existed {
            let wanted = Set(entry.xattrs.map(\.name))
            for old in Sys.flistxattr(fd) ?? [] where !wanted.contains(old) && !Self.keptXattrs.contains(old) {
                _ = Sys.fremovexattr(fd, old)
            }
        }
        try applyXattrs(entry.xattrs, ctx) { Sys.fsetxattr(fd, $0, $1) }
        pending[MemberPath.join(components)] = PendingDirectory(
            components: components, mode: entry.mode & 0o7777, mtime: entry.mtime, mtimeNanoseconds: entry.mtimeNanoseconds)
    }

    /// Attributes the host owns and a layer must not clear.
    static let keptXattrs: Set<String> = ["security.selinux"]

    private func applyOwner(_ entry: TarEntry, _ ctx: EntryContext, _ call: (Int64, Int64) -> Int32) throws {
        guard options.applyOwnership else {
            if entry.uid != Int64(euid) || entry.gid != Int64(egid), options.sameOwner || options.rootless {
                report.skippedOwnership += 1
            }
            return
        }
        guard entry.uid >= 0, entry.gid >= 0, entry.uid <= Int64(UInt32.max - 1), entry.gid <= Int64(UInt32.max - 1) else {
            throw ctx.invalid("owner \(entry.uid):\(entry.gid) is out of range")
        }
        guard call(entry.uid, entry.gid) == 0 else { throw ctx.io("chown \(entry.uid):\(entry.gid)") }
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
        let t = timespec(tv_sec: time_t(sec), tv_nsec: ns)
        return [t, t]
    }

    /// Applies the deferred directory modes and times, deepest first; a
    /// directory that has since been removed or replaced is skipped.
    func finish() throws {
        let ctx = EntryContext(layer: "unpack", entry: ".")
        let order = pending.values.sorted {
            $0.components.count != $1.components.count ? $0.components.count > $1.components.count
                : MemberPath.join($0.components) < MemberPath.join($1.components)
        }
        for d in order {
            let fd: Int32
            if let name = d.components.last {
                guard let parent = try? root.reopen(Array(d.components.dropLast()), ctx) else { continue }
                fd = openat(parent.fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            } else {
                fd = openat(root.root.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            }
            guard fd >= 0 else { continue }
            defer { close(fd) }
            let c = EntryContext(layer: "unpack", entry: MemberPath.join(d.components))
            guard fchmod(fd, mode_t(d.mode)) == 0 else { throw c.io("chmod") }
            var times = Self.times(d.mtime, d.mtimeNanoseconds)
            guard futimens(fd, &times) == 0 else { throw c.io("set times") }
        }
        pending.removeAll()
    }
}
