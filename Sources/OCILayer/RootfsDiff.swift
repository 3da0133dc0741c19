import OCICore
#if canImport(Glibc)
import Glibc
#endif

/// The changes that turn a base image's union view into a directory, as
/// layer items, computed the way docker's `archive.ChangesDirs` does:
///
/// - an entry is *changed* when its type, permission bits (not for
///   symlinks, whose mode the host fixes), owner, extended attributes
///   (`security.selinux` aside) or device numbers differ, or, for
///   anything but a directory, its size, mtime (whole seconds) or symlink
///   target; a changed file is written whole;
/// - added and changed entries are written, and every directory that
///   holds a written entry or whiteout is written too (with its current
///   attributes), so owners and modes survive; the root itself never is;
/// - a deleted path gets one `.wh.NAME` (its children none); a path whose
///   type changed needs no whiteout, the new entry replaces it;
/// - **opaque rule**: a directory that exists in both, whose base children
///   are all gone or replaced by entries of another kind (none survives as
///   it was, and no sub-directory survives as a directory), with at least
///   one gone and at least one new child, was removed and re-created: it
///   gets `.wh..wh..opq` instead of one whiteout per base child (same
///   result, one marker; docker writes the per-child whiteouts). A
///   directory that was only emptied gets per-child whiteouts;
/// - hard links among written files (same inode) become tar hard links
///   to the first member of the group (`LayerBuilder`).
///
/// Members come parents first, in byte order of names, markers before
/// their siblings.
final class RootfsDiff {
    let tree: HostTree
    private(set) var added = 0
    private(set) var changed = 0
    private(set) var deleted = 0

    /// Extended attributes the host sets by itself, never compared.
    static let ignoredXattrs: Set<String> = ["security.selinux"]

    init(tree: HostTree) { self.tree = tree }

    /// The items of the layer that turns `base` into the tree.
    ///
    /// Depth first with a work list and a `DirectoryStack` (a few
    /// descriptors open however deep the tree), items appended to one
    /// array: a directory's header goes in before its content and comes out
    /// again when neither it nor anything below it changed.
    func items(base: UnionIndex) throws -> [LayerItem] {
        var out: [LayerItem] = []
        let maxDepth = base.limits.maxDepth
        do {
            let stack = try DirectoryStack(start: tree.root.fd)
            var frames = [try frame(stack, [], base: base.root, headerAt: -1, differs: true, into: &out)]
            while let f = frames.last {
                guard f.next < f.children.count else {
                    frames.removeLast()
                    if frames.isEmpty { break }
                    try stack.pop()
                    if !f.differs && out.count == f.headerAt + 1 { out.removeLast() }  // nothing changed at or below it
                    continue
                }
                let c = f.children[f.next]
                frames[frames.count - 1].next += 1
                let components = f.components + [c.name]
                if c.header.kind == .directory {
                    guard frames.count < maxDepth else {
                        throw CommitError.unrepresentable(source: tree.label, entry: HostTree.join(components),
                                                          reason: "it is more than \(maxDepth) directories deep")
                    }
                    out.append(LayerItem(header: c.header, content: .none))
                    try stack.push(c.name)
                    frames.append(try frame(stack, components, base: c.old?.isDirectory == true ? c.old : nil,
                                            headerAt: out.count - 1, differs: c.differs, into: &out))
                } else if c.differs {
                    if c.header.kind == .regular {
                        out.append(LayerItem(header: c.header, content: .file(components: components, identity: HostTree.Identity(c.stat),
                                                                              linkCount: Int(clamping: c.stat.st_nlink))))
                    } else {
                        out.append(LayerItem(header: c.header, content: .none))
                    }
                }
            }
        } catch let f as DirectoryStack.Failure {
            if f.changed { throw CommitError.changedWhileReading(source: tree.label, entry: HostTree.join(f.components), reason: "it was moved or replaced") }
            throw tree.ioError(f.components, f.operation, f.errno)
        }
        return out
    }

    /// One directory being compared: its children with their headers.
    private struct Frame {
        struct Child {
            var name: String
            var stat: stat
            var header: TarEntry
            var old: UnionIndex.Node?
            var differs: Bool
        }
        var components: [String]
        var children: [Child]
        var next = 0
        /// Index of the directory's own header in the output (-1 for the root).
        var headerAt: Int
        /// The directory itself differs from the base.
        var differs: Bool
    }

    /// Reads the directory the stack is in, counts its changes and appends
    /// its markers (whiteouts, or the opaque marker), which come before
    /// its entries.
    private func frame(_ stack: DirectoryStack, _ components: [String], base: UnionIndex.Node?,
                       headerAt: Int, differs: Bool, into out: inout [LayerItem]) throws -> Frame {
        let dir = HostTree.Directory(fd: stack.fd, components: components, owns: false)
        let names = try tree.names(dir)
        let baseChildren = base?.isDirectory == true ? (base?.children ?? [:]) : [:]
        var children: [Frame.Child] = []
        children.reserveCapacity(names.count)
        var baseChildSurvives = false
        for name in names {
            if name.hasPrefix(LayerMember.whiteoutPrefix) {
                throw CommitError.unrepresentable(source: tree.label, entry: HostTree.join(dir.child(name)),
                                                  reason: "names starting with \(LayerMember.whiteoutPrefix) mean whiteouts in a layer")
            }
            let st = try tree.lstat(dir, name)
            let header = try tree.header(dir, name, st)
            let old = baseChildren[name]
            let oldHeader = old?.header
            let childDiffers = oldHeader.map { Self.differs($0, header) } ?? true
            if let old {
                if !childDiffers || (old.isDirectory && header.kind == .directory) { baseChildSurvives = true }
                if childDiffers { changed += 1 }
            } else {
                added += 1
            }
            children.append(Frame.Child(name: name, stat: st, header: header, old: old, differs: childDiffers))
        }
        let present = Set(names)
        let gone = baseChildren.keys.filter { !present.contains($0) }
            .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        deleted += gone.count
        if !gone.isEmpty && !baseChildSurvives && !names.isEmpty {
            out.append(.opaque(directory: components))
        } else {
            for name in gone { out.append(.whiteout(parent: components, name: name)) }
        }
        return Frame(components: components, children: children, headerAt: headerAt, differs: differs)
    }

    /// docker's `statDifferent`, plus symlink targets and every xattr.
    static func differs(_ old: TarEntry, _ new: TarEntry) -> Bool {
        let oldKind = old.kind == .hardlink ? TarEntry.Kind.regular : old.kind
        guard oldKind == new.kind else { return true }
        if new.kind != .symlink && (old.mode & 0o7777) != (new.mode & 0o7777) { return true }
        if old.uid != new.uid || old.gid != new.gid { return true }
        switch new.kind {
        case .directory:
            break
        case .regular:
            if old.size != new.size || old.mtime != new.mtime { return true }
        case .symlink:
            if (old.linkTarget ?? "") != (new.linkTarget ?? "") || old.mtime != new.mtime { return true }
        case .characterDevice, .blockDevice:
            if old.deviceMajor != new.deviceMajor || old.deviceMinor != new.deviceMinor || old.mtime != new.mtime { return true }
        default:
            if old.mtime != new.mtime { return true }
        }
        return comparableXattrs(old.xattrs) != comparableXattrs(new.xattrs)
    }

    static func comparableXattrs(_ xs: [TarEntry.Xattr]) -> [TarEntry.Xattr] {
        xs.filter { !ignoredXattrs.contains($0.name) }.sorted { $0.name < $1.name }
    }
}
