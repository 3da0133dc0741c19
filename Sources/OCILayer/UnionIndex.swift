import Foundation
import OCICore
#if canImport(Glibc)
import Glibc
#endif

/// The union view of a layer stack held in memory as a tree of headers
/// (no file data): one node per path that survives, so memory grows with
/// the number of paths, never with their sizes. Built in one streamed pass
/// over the layers with exactly the rules `LayerApplier` applies on disk
/// (whiteouts, opaque directories, same-layer protection, symlinks
/// followed inside the root, implicit parents).
///
/// Every walk over the tree (whiteouts, the final visit, tearing it down)
/// uses an explicit work list, so a tree as deep as `UnionLimits.maxDepth`
/// costs no stack; resolving a path costs one dictionary step per
/// component (plus the symlinks it expands).
///
/// `UnionExporter` turns it into one tar stream; `ImageDiff` compares two.
final class UnionIndex {
    /// One path of the union.
    final class Node {
        var name: String
        /// The header that defines the node (path emptied; kind is
        /// `.regular` for hard-link group members).
        var header: TarEntry
        fileprivate(set) var children: [String: Node] = [:]
        /// The directory holding the node (strong: a node leaving the tree
        /// is taken apart by `UnionIndex.detach`, which breaks the cycle).
        fileprivate(set) var parent: Node?
        /// Components below the root.
        let depth: Int
        /// Regular files: the content they share with their hard links.
        var inode: Inode?
        /// The member that defines the node: (layer, ordinal); nil for
        /// implicit directories.
        var source: (layer: Int, ordinal: Int)?
        /// The last layer that wrote this node or something below it.
        var touched: Int
        var emitted = false

        init(name: String, header: TarEntry, parent: Node?, touched: Int) {
            self.name = name
            self.header = header
            self.parent = parent
            depth = (parent?.depth ?? -1) + 1
            self.touched = touched
        }

        var isDirectory: Bool { header.kind == .directory }

        /// Components from the root (O(depth)).
        var components: [String] {
            var out: [String] = []
            out.reserveCapacity(depth)
            var n: Node? = self
            while let cur = n, let p = cur.parent {
                out.append(cur.name)
                n = p
            }
            return out.reversed()
        }

        var path: String { MemberPath.join(components) }
    }

    /// The content of a regular file that has hard links (or a hash): the
    /// member that carries its data, and (after `finish`) the paths of the
    /// union that name it. Every name's node holds the same header. A file
    /// with one name and no hash has none (its node is enough), which keeps
    /// the index at one object per path.
    final class Inode {
        let layer: Int
        let ordinal: Int
        var digest: Digest?
        var live: [Node] = []
        /// Names given to it so far (its own and hard links).
        var names = 1

        init(layer: Int, ordinal: Int, digest: Digest?) {
            self.layer = layer
            self.ordinal = ordinal
            self.digest = digest
        }
    }

    /// What the second pass does at one member of one layer.
    enum Action {
        /// A header-only node (symlink, device, fifo).
        case node(Node)
        /// A regular file with one name: header and data.
        case file(Node)
        /// A regular file with several names: data once, then hard links.
        case inode(Inode)
    }

    let layers: [LayerSource]
    let root: Node
    let limits: UnionLimits
    /// Per layer: (ordinal, action) for every surviving member that is not a
    /// directory, sorted by ordinal; filled by `finish`.
    private(set) var plan: [[(ordinal: Int, action: Action)]] = []
    private(set) var skippedOther = 0
    private(set) var skippedUnsafe: [String] = []
    let meter: LimitMeter
    /// Dictionary steps and node visits (for tests that check the work
    /// grows linearly with the input).
    private(set) var steps = 0
    /// Bumped whenever a node leaves the tree (a cached resolution may then be stale).
    private var generation = 0
    /// Bytes of headers (estimated) the layers read ahead may hold at once.
    static let readAheadBudget = 64 << 20
    /// The last directory resolved, for the run of members that share a parent.
    private var lastDirectory: (key: [String], node: Node, generation: Int)?

    /// Reads every layer once. The first layer is read on this thread
    /// while the others are read ahead on the other cores (inflating and,
    /// for diff, hashing is most of the work); their members are applied
    /// here in layer order, so the tree, the errors and the entry they name
    /// are those of one sequential pass.
    /// - Parameters:
    ///   - hashContent: compute each regular file's SHA-256 (for diff).
    ///   - skipUnsafe: warn about unsafe entries instead of failing.
    ///   - readAheadBudget: bytes of headers the upper layers read ahead on
    ///     other cores may hold (0: no read-ahead, one thread; the same
    ///     result either way, which tests check with tiny budgets too).
    init(layers: [LayerSource], limits: UnionLimits, hashContent: Bool = false, skipUnsafe: Bool = false,
         readAheadBudget: Int = UnionIndex.readAheadBudget, warn: (String) -> Void = { _ in }) throws {
        self.layers = layers
        self.limits = limits
        meter = LimitMeter(limits)
        root = Node(name: "", header: TarEntry(path: "", kind: .directory, mode: 0o755), parent: nil, touched: -1)
        let ahead = readAheadBudget > 0 ? ReadAhead(layers.dropFirst(), limits: limits, hash: hashContent, budget: readAheadBudget) : nil
        defer { ahead?.stop() }
        for (index, layer) in layers.enumerated() {
            func apply(_ entry: TarEntry, ordinal: Int, content: () throws -> Digest?) throws {
                let ctx = EntryContext(layer: layer.name, entry: entry.path)
                do {
                    try meter.check(entry, ctx)
                    try add(entry, layer: index, ordinal: ordinal, hash: hashContent, content: content, ctx)
                } catch let e as LayerError where e.isUnsafeEntry && skipUnsafe {
                    skippedUnsafe.append(e.description)
                    warn("skipped: \(e)")
                }
            }
            var from = 0  // the first member this thread reads itself
            if index > 0, let ahead {
                let read = ahead.take(index - 1)
                for (ordinal, member) in read.members.enumerated() {
                    try apply(member.entry, ordinal: ordinal) {
                        if let failure = member.failure { throw failure }
                        try meter.countBytes(member.bytes, EntryContext(layer: layer.name, entry: member.entry.path))
                        return member.digest
                    }
                    if let failure = member.failure { throw failure }
                }
                if let failure = read.failure { throw failure }
                ahead.release(read)
                guard read.partial else { continue }
                from = read.members.count  // the record ran out of budget: the rest is read here
            }
            let reader = try layer.open(limits: limits)
            var ordinal = -1
            while let entry = try reader.next() {
                ordinal += 1
                guard ordinal >= from else { continue }  // applied from the record
                try apply(entry, ordinal: ordinal) {
                    try Self.readContent(reader, meter: meter, hash: hashContent, EntryContext(layer: layer.name, entry: entry.path))
                }
            }
        }
        finish()
    }

    deinit { Self.dismantle(root) }

    /// Takes a subtree apart without recursion (releasing a deep chain of
    /// nodes would otherwise recurse once per level).
    private static func dismantle(_ top: Node) {
        var stack = Array(top.children.values)
        top.children = [:]
        while let n = stack.popLast() {
            stack.append(contentsOf: n.children.values)
            n.children = [:]
            n.parent = nil
        }
    }

    /// Puts `node` (or nothing) at `name` in `parent`; what was there leaves the tree.
    private func set(_ parent: Node, _ name: String, _ node: Node?, _ ctx: EntryContext) throws {
        let old = parent.children[name]
        if let old, old === node { return }
        if old == nil, node != nil, parent.children.count >= limits.maxNamesPerDirectory {
            throw LayerError.limitExceeded(layer: ctx.layer, entry: ctx.entry,
                                           what: "number of names in directory \(MemberPath.join(parent.components))",
                                           limit: Int64(limits.maxNamesPerDirectory), flag: "")
        }
        parent.children[name] = node
        if let old {
            generation += 1
            Self.dismantle(old)
            old.parent = nil
        }
    }

    private func checkDepth(_ depth: Int, _ ctx: EntryContext) throws {
        if depth > limits.maxDepth {
            throw LayerError.limitExceeded(layer: ctx.layer, entry: ctx.entry, what: "path depth (components below the root, symlinks followed)",
                                           limit: Int64(limits.maxDepth), flag: "")
        }
    }

    private func add(_ entry: TarEntry, layer: Int, ordinal: Int, hash: Bool, content: () throws -> Digest?,
                     _ ctx: EntryContext) throws {
        switch try LayerMember.classify(entry, ctx) {
        case .aufsMeta:
            return
        case let .whiteout(parent, name):
            try checkDepth(parent.count + 1, ctx)
            guard let dir = try directory(parent, create: nil, lenient: true, ctx), let child = dir.children[name] else { return }
            try hide([child], layer: layer, ctx)
        case let .opaque(directory):
            try checkDepth(directory.count + 1, ctx)
            guard let dir = try self.directory(directory, create: nil, lenient: true, ctx) else { return }
            try hide(Array(dir.children.values), layer: layer, ctx)
        case let .entry(components):
            var header = entry
            header.path = ""
            guard let name = components.last else {
                guard entry.kind == .directory else {
                    throw ctx.unsafe("a \(entry.kind.rawValue) entry would replace the target directory itself")
                }
                root.header = header
                root.source = (layer, ordinal)
                root.touched = layer
                return
            }
            try checkDepth(components.count, ctx)
            guard let parent = try directory(Array(components.dropLast()), create: (layer, entry), lenient: false, ctx) else { return }
            try checkDepth(parent.depth + 1, ctx)
            let existing = parent.children[name]
            let node: Node
            switch entry.kind {
            case .directory:
                if let existing, existing.isDirectory {
                    existing.header = header
                    existing.source = (layer, ordinal)
                    node = existing
                } else {
                    node = Node(name: name, header: header, parent: parent, touched: layer)
                    node.source = (layer, ordinal)
                }
            case .regular:
                try meter.checkAnnounced(entry.size, ctx)
                let digest = try content()
                node = Node(name: name, header: header, parent: parent, touched: layer)
                node.source = (layer, ordinal)
                if hash { node.inode = Inode(layer: layer, ordinal: ordinal, digest: digest) }
            case .hardlink:
                // As on disk: what was at the path goes first, then the target is looked up.
                let target = try MemberPath.linkTarget(entry, ctx)
                let shown = MemberPath.join(target)
                try set(parent, name, nil, ctx)
                guard let tdir = try directory(Array(target.dropLast()), create: nil, lenient: true, ctx),
                      let tname = target.last, let tnode = tdir.children[tname] else {
                    throw ctx.invalid("hard-link target \(shown) does not exist")
                }
                guard !tnode.isDirectory else { throw ctx.invalid("hard-link target \(shown) is a directory") }
                var inode = tnode.inode
                if inode == nil, tnode.header.kind == .regular, let s = tnode.source {
                    inode = Inode(layer: s.layer, ordinal: s.ordinal, digest: nil)
                    tnode.inode = inode
                    tnode.source = nil
                }
                if let inode {
                    guard inode.names < limits.maxLinksPerFile else {
                        throw LayerError.limitExceeded(layer: ctx.layer, entry: ctx.entry, what: "number of hard links to \(shown)",
                                                       limit: Int64(limits.maxLinksPerFile), flag: "")
                    }
                    inode.names += 1
                }
                node = Node(name: name, header: tnode.header, parent: parent, touched: layer)
                node.inode = inode
                node.source = inode == nil ? tnode.source : nil
            case .characterDevice, .blockDevice:
                guard Sys.makedev(entry.deviceMajor, entry.deviceMinor) != nil else {
                    throw ctx.invalid("device number \(entry.deviceMajor),\(entry.deviceMinor) is out of range (major and minor must each fit in 32 bits)")
                }
                node = Node(name: name, header: header, parent: parent, touched: layer)
                node.source = (layer, ordinal)
            case .symlink, .fifo:
                node = Node(name: name, header: header, parent: parent, touched: layer)
                node.source = (layer, ordinal)
            case .socket, .unknown:
                // As on disk: what was there is gone, nothing replaces it.
                try set(parent, name, nil, ctx)
                skippedOther += 1
                return
            }
            try set(parent, name, node, ctx)
            touch(node, layer: layer)
        }
    }

    /// Streams the current member's data, counting its logical size against
    /// the limits and, when asked, hashing it (holes of sparse files as zeros).
    fileprivate static func readContent(_ reader: TarReader, meter: LimitMeter, hash: Bool, _ ctx: EntryContext) throws -> Digest? {
        let sink = hash ? DigestingSink() : nil
        var extent = FileExtent()
        var position: Int64 = 0
        func zeros(upTo end: Int64) throws {
            guard let sink else { return }
            let zero = [UInt8](repeating: 0, count: 64 << 10)
            while position < end {
                let n = Int(min(Int64(zero.count), end - position))
                try zero.withUnsafeBytes { try sink.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                position += Int64(n)
            }
        }
        try reader.readDataBlocks({ offset, block in
            let end = try extent.add(offset: offset, count: block.count, meter, ctx)
            guard let sink else { return }
            try zeros(upTo: offset)
            try sink.write(block)
            position = max(position, end)
        }, finalSize: { size in
            try extent.finish(size: size, meter, ctx)
            try zeros(upTo: size)
        })
        return try sink?.digest()
    }

    /// Marks `node` and its ancestors as written by `layer`.
    private func touch(_ node: Node, layer: Int) {
        node.touched = layer
        var n = node.parent
        while let cur = n, cur.touched != layer {
            cur.touched = layer
            n = cur.parent
        }
    }

    /// Whiteout semantics, as `LayerApplier.hide`: nodes this layer did not
    /// write leave the tree; directories it wrote keep what it wrote.
    private func hide(_ nodes: [Node], layer: Int, _ ctx: EntryContext) throws {
        var work = nodes
        while let node = work.popLast() {
            steps += 1
            guard node.touched == layer else {
                if let p = node.parent { try set(p, node.name, nil, ctx) }
                continue
            }
            if node.isDirectory { work.append(contentsOf: node.children.values) }
        }
    }

    /// Resolves a directory like `RootedDirectory.directory`: symlinks are
    /// followed inside the root, missing directories made when `create` is
    /// given (mode 0755, root-owned, the causing member's mtime).
    private func directory(_ components: [String], create: (layer: Int, entry: TarEntry)?, lenient: Bool,
                           _ ctx: EntryContext) throws -> Node? {
        if let last = lastDirectory, last.generation == generation, last.key == components {
            steps += 1
            return last.node
        }
        var cur = root
        var pending = Array(components.reversed())
        var hops = SymlinkHops()
        while let c = pending.popLast() {
            steps += 1
            if c.isEmpty || c == "." { continue }
            if c == ".." {
                if let p = cur.parent { cur = p }
                continue
            }
            guard let child = cur.children[c] else {
                guard let create else { return nil }
                try checkDepth(cur.depth + 1, ctx)
                let header = TarEntry(path: "", kind: .directory, mode: 0o755, mtime: create.entry.mtime,
                                      mtimeNanoseconds: create.entry.mtimeNanoseconds)
                let made = Node(name: c, header: header, parent: cur, touched: create.layer)
                try set(cur, c, made, ctx)
                // Its ancestors hold something this layer wrote now (as on disk:
                // a later whiteout in the same layer must not remove them).
                touch(made, layer: create.layer)
                cur = made
                continue
            }
            if child.isDirectory {
                cur = child
                continue
            }
            if child.header.kind == .symlink {
                guard let absolute = try hops.follow(child.header.linkTarget ?? "", at: child.path, resolving: components,
                                                     pending: &pending, lenient: lenient, ctx) else { return nil }
                if absolute { cur = root }
                continue
            }
            if lenient { return nil }
            throw ctx.notADirectory(child.path, parentOf: components)
        }
        lastDirectory = (components, cur, generation)
        return cur
    }

    /// After the pass: collects the live paths of each inode and the plan
    /// of the second pass.
    private func finish() {
        var plan = Array(repeating: [(ordinal: Int, action: Action)](), count: layers.count)
        var inodes: [Inode] = []
        walk { node in
            if let inode = node.inode {
                if inode.live.isEmpty { inodes.append(inode) }
                inode.live.append(node)
            } else if let s = node.source, !node.isDirectory, plan.indices.contains(s.layer) {
                plan[s.layer].append((s.ordinal, node.header.kind == .regular ? .file(node) : .node(node)))
            }
        }
        for inode in inodes where plan.indices.contains(inode.layer) { plan[inode.layer].append((inode.ordinal, .inode(inode))) }
        for i in plan.indices { plan[i].sort { $0.ordinal < $1.ordinal } }
        self.plan = plan
    }

    /// Visits every live node below the root, parents before children,
    /// children in byte order of their names; a work list, not recursion.
    func walk(_ body: (Node) throws -> Void) rethrows {
        var stack: [[Node]] = [Self.sortedChildren(root)]
        while !stack.isEmpty {
            guard let child = stack[stack.count - 1].popLast() else {
                stack.removeLast()
                continue
            }
            steps += 1
            try body(child)
            if child.isDirectory && !child.children.isEmpty { stack.append(Self.sortedChildren(child)) }
        }
    }

    /// Children in reverse byte order of names (the walk pops from the end).
    private static func sortedChildren(_ n: Node) -> [Node] {
        n.children.values.sorted { $1.name.utf8.lexicographicallyPrecedes($0.name.utf8) }
    }
}

/// The layers above the first, read on a worker pool while the first is
/// applied: each job reads one layer to its end and keeps its headers, the
/// logical size of each regular file's data and (for diff) its digest,
/// never the data. Each layer is metered alone, which bounds the work per
/// layer; the running totals over the stack are counted again when the
/// members are applied. The first failure ends the layer's record where it
/// happened. The records share a memory budget (bytes, estimated
/// from the headers): a layer that finds it spent stops there, and the
/// index reads the rest of that layer itself (a layer of millions of
/// entries that rewrite one path costs no more memory than in one pass).
/// Nil on one core or for one layer.
private final class ReadAhead {
    struct Member: Sendable {
        let entry: TarEntry
        /// Logical data bytes counted (regular files; holes included).
        var bytes: Int64 = 0
        var digest: Digest?
        /// Reading the data failed: the record ends here.
        var failure: Error?
    }

    struct Layer: Sendable {
        var members: [Member] = []
        /// Reading the next header failed (after `members`).
        var failure: Error?
        /// The budget ran out: the members after `members` were not read.
        var partial = false
        /// The budget this record holds.
        var cost = 0
    }

    private let pool: WorkerPool
    private var pending: [Pending<Layer>?]
    private let shared: Shared

    init?(_ layers: ArraySlice<LayerSource>, limits: UnionLimits, hash: Bool, budget: Int) {
        let cores = WorkerPool.cores
        guard !layers.isEmpty, cores > 1 else { return nil }
        let pool = WorkerPool(threads: min(cores - 1, layers.count), name: "index")
        let shared = Shared(budget: budget)
        self.pool = pool
        self.shared = shared
        pending = layers.map { layer in pool.submit { Self.read(layer, limits: limits, hash: hash, shared) } }
    }

    /// The record of the `i`-th layer read ahead (once: the pool keeps no copy).
    func take(_ i: Int) -> Layer {
        guard let p = pending[i] else { return Layer(failure: CancellationError()) }
        pending[i] = nil
        do { return try p.wait() } catch { return Layer(failure: error) }
    }

    /// Returns the budget of a record that has been applied.
    func release(_ layer: Layer) { shared.give(layer.cost) }

    /// Ends the jobs still queued or running (their records are not used).
    func stop() {
        shared.stop()
        pool.close(cancelQueued: true)
    }

    /// What a member's record costs: the header's strings and the fixed part.
    static func cost(_ e: TarEntry) -> Int {
        var n = MemoryLayout<Member>.stride + 64 + e.path.utf8.count + (e.linkTarget?.utf8.count ?? 0)
        n += (e.uname?.utf8.count ?? 0) + (e.gname?.utf8.count ?? 0) + 16 * (e.sparseRegions?.count ?? 0)
        for x in e.xattrs { n += 48 + x.name.utf8.count + x.value.count }
        return n
    }

    private static func read(_ layer: LayerSource, limits: UnionLimits, hash: Bool, _ shared: Shared) -> Layer {
        var out = Layer()
        let meter = LimitMeter(limits)
        do {
            let reader = try layer.open(limits: limits)
            while let entry = try reader.next() {
                if shared.isStopped { throw CancellationError() }
                let cost = Self.cost(entry)
                guard shared.take(cost) else {
                    out.partial = true
                    return out
                }
                out.cost += cost
                let ctx = EntryContext(layer: layer.name, entry: entry.path)
                try meter.countEntry(ctx)
                var member = Member(entry: entry)
                // The members whose data a sequential pass reads: regular
                // files that are not whiteouts (their data is skipped).
                if entry.kind == .regular, case .entry? = try? LayerMember.classify(entry, ctx) {
                    let before = meter.bytes
                    do {
                        try meter.checkAnnounced(entry.size, ctx)
                        member.digest = try UnionIndex.readContent(reader, meter: meter, hash: hash, ctx)
                        member.bytes = meter.bytes - before
                    } catch {
                        member.failure = error
                        out.members.append(member)
                        return out
                    }
                }
                out.members.append(member)
            }
        } catch {
            out.failure = error
        }
        return out
    }
}

/// What the read-ahead jobs share with the index: the header budget left,
/// and whether the index has stopped wanting their records.
private final class Shared: @unchecked Sendable {
    private let lock = NSLock()
    private var left: Int
    private var stopped = false
    init(budget: Int) { left = budget }

    var isStopped: Bool { lock.withLock { stopped } }
    func stop() { lock.withLock { stopped = true } }

    /// Takes `n` bytes of the budget if that many are left.
    func take(_ n: Int) -> Bool {
        lock.withLock {
            guard n <= left else { return false }
            left -= n
            return true
        }
    }
    func give(_ n: Int) { lock.withLock { left += n } }
}
