import OCICore
#if canImport(Glibc)
import Glibc
#endif

/// Converts an overlayfs upper directory into layer items (the conversion
/// containers/storage's overlay driver makes for `podman commit`):
///
/// - a character device 0/0 is a deletion: `.wh.NAME`;
/// - a directory with `trusted.overlay.opaque=y` (or `user.overlay.opaque=y`,
///   rootless overlay) hides its lower content: the directory, then
///   `.wh..wh..opq` inside it;
/// - fuse-overlayfs writes `.wh.NAME` and `.wh..wh..opq` files itself, and
///   a zero-size file with an `overlay.whiteout` xattr is a whiteout too:
///   both become the same markers;
/// - everything else is written as it is (the upper directory only holds
///   what changed), `trusted.overlay.*` / `user.overlay.*` xattrs removed;
/// - `overlay.redirect` (renamed directories, `redirect_dir=on`) and
///   `overlay.metacopy` (metadata-only copy-up) cannot be expressed in a
///   layer and are refused.
///
/// Members come parents first, in byte order of names, markers before
/// their siblings.
final class OverlayUpper {
    let tree: HostTree
    private(set) var whiteouts = 0

    static let xattrPrefixes = ["trusted.overlay.", "user.overlay."]

    init(tree: HostTree) { self.tree = tree }

    /// The items of the layer.
    ///
    /// Depth first with a work list and a `DirectoryStack` (a few
    /// descriptors open however deep the tree): each directory is read
    /// once, its markers appended before its entries, sub-directories
    /// entered as their turn comes.
    func items() throws -> [LayerItem] {
        var out: [LayerItem] = []
        let rootXattrs = try xattrs(path: "/proc/self/fd/\(tree.root.fd)/.", components: [])
        do {
            let stack = try DirectoryStack(start: tree.root.fd)
            var frames = [try frame(stack, [], opaque: Self.isOpaque(rootXattrs), into: &out)]
            while let f = frames.last {
                guard f.next < f.entries.count else {
                    frames.removeLast()
                    if frames.isEmpty { break }
                    try stack.pop()
                    continue
                }
                let e = f.entries[f.next]
                frames[frames.count - 1].next += 1
                out.append(e.item)
                guard let subOpaque = e.directoryOpaque else { continue }
                guard frames.count < Self.maxDepth else {
                    throw CommitError.unrepresentable(source: tree.label, entry: HostTree.join(f.components + [e.name]),
                                                      reason: "it is more than \(Self.maxDepth) directories deep")
                }
                try stack.push(e.name)
                frames.append(try frame(stack, f.components + [e.name], opaque: subOpaque, into: &out))
            }
        } catch let f as DirectoryStack.Failure {
            if f.changed { throw CommitError.changedWhileReading(source: tree.label, entry: HostTree.join(f.components), reason: "it was moved or replaced") }
            throw tree.ioError(f.components, f.operation, f.errno)
        }
        return out
    }

    /// As deep as the union view goes (`UnionLimits.maxDepth`).
    static let maxDepth = UnionLimits.defaults.maxDepth

    private struct Frame {
        struct Entry {
            var name: String
            var item: LayerItem
            /// For a directory: whether its lower content is hidden.
            var directoryOpaque: Bool?
        }
        var components: [String]
        var entries: [Entry]
        var next = 0
    }

    /// Reads the directory the stack is in: appends its markers (opaque,
    /// then the whiteouts) and returns its entries.
    private func frame(_ stack: DirectoryStack, _ components: [String], opaque: Bool,
                       into out: inout [LayerItem]) throws -> Frame {
        let dir = HostTree.Directory(fd: stack.fd, components: components, owns: false)
        var isOpaque = opaque
        var removed: [String] = []
        var entries: [Frame.Entry] = []
        for name in try tree.names(dir) {
            let components = dir.child(name)
            if name == LayerMember.opaqueName {
                isOpaque = true
                continue
            }
            if name.hasPrefix(LayerMember.whiteoutPrefix + LayerMember.whiteoutPrefix) { continue }  // AUFS meta
            if name.hasPrefix(LayerMember.whiteoutPrefix) {
                removed.append(String(name.dropFirst(LayerMember.whiteoutPrefix.count)))
                continue
            }
            let st = try tree.lstat(dir, name)
            if (st.st_mode & S_IFMT) == S_IFCHR && st.st_rdev == 0 {
                removed.append(name)
                continue
            }
            var header = try tree.header(dir, name, st)
            let overlay = header.xattrs.filter { x in Self.xattrPrefixes.contains { x.name.hasPrefix($0) } }
            for x in overlay {
                let key = Self.overlayKey(x.name)
                if key == "redirect" {
                    throw CommitError.overlayFeature(source: tree.label, entry: HostTree.join(components),
                                                     reason: "is a renamed directory (overlay redirect_dir); a layer cannot express it: mount with redirect_dir=off, or commit the merged directory with --rootfs")
                }
                if key == "metacopy" {
                    throw CommitError.overlayFeature(source: tree.label, entry: HostTree.join(components),
                                                     reason: "is a metadata-only copy-up (overlay metacopy=on); its data is in a lower layer: mount with metacopy=off, or commit the merged directory with --rootfs")
                }
            }
            if header.kind == .regular && header.size == 0 && overlay.contains(where: { Self.overlayKey($0.name) == "whiteout" }) {
                removed.append(name)
                continue
            }
            header.xattrs.removeAll { x in Self.xattrPrefixes.contains { x.name.hasPrefix($0) } }
            switch header.kind {
            case .directory:
                entries.append(.init(name: name, item: LayerItem(header: header, content: .none), directoryOpaque: Self.isOpaque(overlay)))
            case .regular:
                entries.append(.init(name: name, item: LayerItem(header: header, content: .file(components: components, identity: HostTree.Identity(st),
                                                                                                 linkCount: Int(clamping: st.st_nlink)))))
            default:
                entries.append(.init(name: name, item: LayerItem(header: header, content: .none)))
            }
        }
        if isOpaque {
            out.append(.opaque(directory: dir.components))
            whiteouts += 1
        }
        let unique = Set(removed).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for name in unique {
            if name.isEmpty || name == "." || name == ".." {
                throw CommitError.unrepresentable(source: tree.label, entry: HostTree.join(dir.child(LayerMember.whiteoutPrefix + name)),
                                                  reason: "malformed whiteout")
            }
            out.append(.whiteout(parent: dir.components, name: name))
        }
        whiteouts += unique.count
        return Frame(components: components, entries: entries)
    }

    /// `redirect` for `trusted.overlay.redirect`.
    static func overlayKey(_ name: String) -> String {
        for p in xattrPrefixes where name.hasPrefix(p) { return String(name.dropFirst(p.count)) }
        return name
    }

    /// `overlay.opaque` is `y` (newer kernels also write `x` on merge
    /// directories holding xattr whiteouts: not opaque).
    static func isOpaque(_ xattrs: [TarEntry.Xattr]) -> Bool {
        xattrs.contains { x in xattrPrefixes.contains { $0 + "opaque" == x.name } && x.value == Array("y".utf8) }
    }

    private func xattrs(path: String, components: [String]) throws -> [TarEntry.Xattr] {
        guard let names = Sys.llistxattr(path) else {
            if errno == ENOTSUP || errno == EOPNOTSUPP { return [] }
            throw tree.ioError(components, "list xattrs")
        }
        var out: [TarEntry.Xattr] = []
        for n in names {
            if let v = Sys.lgetxattr(path, n) {
                out.append(TarEntry.Xattr(name: n, value: v))
            } else if errno != ENODATA {
                throw tree.ioError(components, "read xattr \(n)")
            }
        }
        return out
    }
}
