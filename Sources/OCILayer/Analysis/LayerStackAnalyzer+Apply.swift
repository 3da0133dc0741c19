import OCICore

/// Applying one member to the followed union (the rules of `UnionIndex`).
extension LayerStackAnalyzer {
    func apply(_ entry: TarEntry, _ member: LayerMember, reader: TarReader, _ ctx: EntryContext) throws {
        switch member {
        case .aufsMeta:
            return
        case let .whiteout(parent, name):
            let index = Int32(deletions.count)
            deletions.append(Deletion(kind: .whiteout, member: entry.path, target: nil, hiddenPaths: 0, hiddenBytes: 0))
            guard let dir = try directory(parent, create: nil, lenient: true, ctx), let child = dir.children[name] else { return }
            deletions[Int(index)].target = child.path
            hide(child, deletion: index)
        case let .opaque(directory):
            let index = Int32(deletions.count)
            deletions.append(Deletion(kind: .opaque, member: entry.path, target: nil, hiddenPaths: 0, hiddenBytes: 0))
            guard let dir = try self.directory(directory, create: nil, lenient: true, ctx) else { return }
            deletions[Int(index)].target = dir.path
            for name in dir.children.keys.sorted() {
                if let child = dir.children[name] { hide(child, deletion: index) }
            }
        case let .entry(components):
            try place(entry, components, reader: reader, ctx)
        }
    }

    private func place(_ entry: TarEntry, _ components: [String], reader: TarReader, _ ctx: EntryContext) throws {
        guard let name = components.last else {
            guard entry.kind == .directory else {
                throw ctx.unsafe("a \(entry.kind.rawValue) entry would replace the target directory itself")
            }
            note(root.path)
            versions[Int(root.version)].hiddenBy = Int32(layer)
            root.version = newVersion(root.path, entry, facts: FileFacts(header: entry, digest: nil))
            touch(root)
            return
        }
        guard let parent = try directory(Array(components.dropLast()), create: entry, lenient: false, ctx) else { return }
        let existing = parent.children[name]
        let pathID = paths.intern(parent.path, name)
        switch entry.kind {
        case .directory:
            let facts = FileFacts(header: entry, digest: nil)
            if let existing, versions[Int(existing.version)].facts.kind == .directory {
                note(existing.path)
                versions[Int(existing.version)].hiddenBy = Int32(layer)
                existing.version = newVersion(existing.path, entry, facts: facts)
                touch(existing)
                return
            }
            if let existing { remove(existing, deletion: -1) }
            attach(Node(path: pathID, name: name, version: newVersion(pathID, entry, facts: facts), parent: parent, touched: layer),
                   to: parent)
        case .regular:
            let announced = entry.sparseRegions.map { $0.reduce(Int64(0)) { $0 +| $1.length } } ?? entry.size
            try meter.checkAnnounced(announced, ctx)
            let digest = try readContent(reader, ctx)
            if let existing { remove(existing, deletion: -1) }
            let v = newVersion(pathID, entry, facts: FileFacts(header: entry, digest: digest), dataSize: entry.size)
            versions[Int(v)].inode = Int32(inodes.count)
            inodes.append(Inode(version: v, size: entry.size))
            attach(Node(path: pathID, name: name, version: v, parent: parent, touched: layer), to: parent)
        case .hardlink:
            // As on disk: what was at the path goes first, then the target is looked up.
            let target = try MemberPath.linkTarget(entry, ctx)
            let shown = MemberPath.join(target)
            if let existing { remove(existing, deletion: -1) }
            guard let tname = target.last, let tdir = try directory(Array(target.dropLast()), create: nil, lenient: true, ctx),
                  let tnode = tdir.children[tname] else {
                throw ctx.invalid("hard-link target \(shown) does not exist")
            }
            let tv = versions[Int(tnode.version)]
            guard tv.facts.kind != .directory else { throw ctx.invalid("hard-link target \(shown) is a directory") }
            let v = newVersion(pathID, entry, facts: tv.facts)
            versions[Int(v)].inode = tv.inode
            versions[Int(v)].hardLinkTarget = tnode.path
            attach(Node(path: pathID, name: name, version: v, parent: parent, touched: layer), to: parent)
        case .symlink, .fifo, .characterDevice, .blockDevice:
            if let existing { remove(existing, deletion: -1) }
            let v = newVersion(pathID, entry, facts: FileFacts(header: entry, digest: nil))
            attach(Node(path: pathID, name: name, version: v, parent: parent, touched: layer), to: parent)
        case .socket, .unknown:
            // As on disk: what was there is gone, nothing replaces it.
            guard let existing else { return }
            let index = Int32(deletions.count)
            deletions.append(Deletion(kind: .unsupported, member: entry.path, target: existing.path, hiddenPaths: 0, hiddenBytes: 0))
            remove(existing, deletion: index)
        }
    }

    /// Streams the current member's data into SHA-256, counting it against
    /// the limits (holes of sparse files hash as zeros).
    private func readContent(_ reader: TarReader, _ ctx: EntryContext) throws -> Digest {
        let sink = DigestingSink()
        var position: Int64 = 0
        let zero = [UInt8](repeating: 0, count: 64 << 10)
        func zeros(upTo end: Int64) throws {
            while position < end {
                let n = Int(min(Int64(zero.count), end - position))
                try zero.withUnsafeBytes { try sink.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                position += Int64(n)
            }
        }
        try reader.readDataBlocks({ offset, block in
            try self.meter.countBytes(Int64(block.count), ctx)
            try zeros(upTo: offset)
            try sink.write(block)
            position = offset + Int64(block.count)
        }, finalSize: { size in try zeros(upTo: size) })
        return try sink.digest()
    }

    /// A new version written by the current layer.
    private func newVersion(_ path: Int32, _ entry: TarEntry, facts: FileFacts, dataSize: Int64 = 0) -> Int32 {
        versions.append(Version(path: path, layer: Int32(layer), facts: facts, memberKind: entry.kind,
                                dataSize: max(0, dataSize), diveSize: max(0, entry.size)))
        return Int32(versions.count - 1)
    }

    /// Remembers what `path` was before the current layer (once per layer).
    func note(_ path: Int32) {
        if journal[path] != nil { return }
        let node = Int(path) < live.count ? live[Int(path)] : nil
        journal[path] = Before(version: node?.version ?? -1)
    }

    private func attach(_ node: Node, to parent: Node) {
        note(node.path)
        parent.children[node.name] = node
        while live.count <= Int(node.path) { live.append(nil) }
        live[Int(node.path)] = node
        let inode = versions[Int(node.version)].inode
        if inode >= 0 { inodes[Int(inode)].liveRefs += 1 }
        touch(node)
    }

    /// Marks `node` and its ancestors as written by the current layer.
    private func touch(_ node: Node) {
        var n: Node? = node
        while let cur = n, cur.touched != layer {
            cur.touched = layer
            n = cur.parent
        }
    }

    /// Removes `node` and everything below it from the union; the versions
    /// are hidden by the current layer and charged to `deletion` (-1: a
    /// replacement).
    private func remove(_ node: Node, deletion: Int32) {
        node.parent?.children[node.name] = nil
        var stack = [node]
        var count = 0
        var bytes: Int64 = 0
        while let n = stack.popLast() {
            note(n.path)
            journal[n.path]?.deletion = deletion
            live[Int(n.path)] = nil
            let v = Int(n.version)
            if versions[v].hiddenBy < 0 { versions[v].hiddenBy = Int32(layer) }
            let inode = versions[v].inode
            if inode >= 0 {
                inodes[Int(inode)].liveRefs -= 1
                if inodes[Int(inode)].liveRefs == 0 { inodes[Int(inode)].deadAt = Int32(layer) }
            }
            count += 1
            bytes +|= versions[v].dataSize
            stack.append(contentsOf: n.children.values)
        }
        if deletion >= 0 {
            deletions[Int(deletion)].hiddenPaths += count
            deletions[Int(deletion)].hiddenBytes +|= bytes
        }
    }

    /// Whiteout semantics, as `UnionIndex.hide`: what the current layer
    /// wrote stays; a directory it wrote into loses only the rest.
    private func hide(_ node: Node, deletion: Int32) {
        var stack = [node]
        while let n = stack.popLast() {
            guard n.touched == layer else {
                remove(n, deletion: deletion)
                continue
            }
            if versions[Int(n.version)].facts.kind == .directory { stack.append(contentsOf: n.children.values) }
        }
    }

    /// Resolves a directory like `UnionIndex.directory`: symlinks are
    /// followed inside the root, missing directories made when `create` is
    /// given (mode 0755, root-owned, the causing member's mtime).
    func directory(_ components: [String], create: TarEntry?, lenient: Bool, _ ctx: EntryContext) throws -> Node? {
        var cur = root
        var pending = Array(components.reversed())
        var hops = SymlinkHops()
        while let c = pending.popLast() {
            if c.isEmpty || c == "." { continue }
            if c == ".." {
                if let p = cur.parent { cur = p }
                continue
            }
            guard let child = cur.children[c] else {
                guard let create else { return nil }
                let header = TarEntry(path: "", kind: .directory, mode: 0o755, mtime: create.mtime,
                                      mtimeNanoseconds: create.mtimeNanoseconds)
                let pathID = paths.intern(cur.path, c)
                let v = newVersion(pathID, header, facts: FileFacts(header: header, digest: nil))
                versions[Int(v)].implicit = true
                let made = Node(path: pathID, name: c, version: v, parent: cur, touched: layer)
                attach(made, to: cur)
                cur = made
                continue
            }
            let facts = versions[Int(child.version)].facts
            if facts.kind == .directory {
                cur = child
                continue
            }
            if facts.kind == .symlink {
                guard let absolute = try hops.follow(facts.linkTarget ?? "", at: String(paths.path(child.path).dropFirst()),
                                                     resolving: components, pending: &pending, lenient: lenient, ctx) else { return nil }
                if absolute { cur = root }
                continue
            }
            if lenient { return nil }
            throw ctx.notADirectory(String(paths.path(child.path).dropFirst()), parentOf: components)
        }
        return cur
    }
}
