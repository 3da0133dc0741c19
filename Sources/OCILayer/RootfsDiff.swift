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
    func items(base: UnionIndex) throws -> [LayerItem] {
        var out: [LayerItem] = []
        _ = try diffChildren(of: tree.root, base: base.root, into: &out)
        return out
    }

    /// Appends the items for the children of `dir` (compared with the
    /// children of `base`, when it is a directory of the union).
    private func diffChildren(of dir: HostTree.Directory, base: UnionIndex.Node?, into out: inout [LayerItem]) throws -> Bool {
        let names = try tree.names(dir)
        let baseChildren = base?.isDirectory == true ? (base?.children ?? [:]) : [:]
        let present = Set(names)
        var entries: [LayerItem] = []
        var baseChildSurvives = false
        for name in names {
            if name.hasPrefix(LayerMember.whiteoutPrefix) {
                throw CommitError.unrepresentable(source: tree.label, entry: HostTree.join(dir.child(name)),
                                                  reason: "names starting with \(LayerMember.whiteoutPrefix) mean whiteouts in a layer")
            }
            let st = try tree.lstat(dir, name)
            let header = try tree.header(dir, name, st)
            let old = baseChildren[name]
            let oldHeader = old.map { $0.inode?.header ?? $0.header }
            let differs = oldHeader.map { Self.differs($0, header) } ?? true
            if let old {
                if !differs || (old.isDirectory && header.kind == .directory) { baseChildSurvives = true }
                if differs { changed += 1 }
            } else {
                added += 1
            }
            if header.kind == .directory {
                let sub = try tree.open(dir, name)
                var subItems: [LayerItem] = []
                _ = try diffChildren(of: sub, base: old?.isDirectory == true ? old : nil, into: &subItems)
                if differs || !subItems.isEmpty {
                    entries.append(LayerItem(header: header, content: .none))
                    entries += subItems
                }
            } else if differs {
                if header.kind == .regular {
                    entries.append(LayerItem(header: header, content: .file(components: dir.child(name), identity: HostTree.Identity(st),
                                                                            linkCount: Int(st.st_nlink))))
                } else {
                    entries.append(LayerItem(header: header, content: .none))
                }
            }
        }
        let gone = baseChildren.keys.filter { !present.contains($0) }
            .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        deleted += gone.count
        if !gone.isEmpty && !baseChildSurvives && !names.isEmpty {
            out.append(.opaque(directory: dir.components))
        } else {
            for name in gone { out.append(.whiteout(parent: dir.components, name: name)) }
        }
        out += entries
        return !gone.isEmpty || !entries.isEmpty
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
