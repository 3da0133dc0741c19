#if canImport(Glibc)
import Glibc
#endif

/// Reading directories of the target and removing what a layer replaces
/// or whites out: without recursion and with a bounded number of
/// descriptors however deep the tree.
extension RootedDirectory {
    /// `lstat` of `name` in `dir`; nil when it does not exist.
    func lstat(_ dir: Handle, _ name: String, _ ctx: EntryContext) throws -> stat? {
        var st = stat()
        steps += 1
        if fstatat(dir.fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 { return st }
        if errno == ENOENT { return nil }
        throw ctx.io("stat \(MemberPath.join(dir.child(name)))")
    }

    /// Names in `dir` as the kernel gives them; at most `limits.maxNamesPerDirectory`.
    func rawNames(_ dir: Handle, _ ctx: EntryContext) throws -> [Sys.DirName] {
        try rawNames(dir.fd, dir.components, ctx)
    }

    func tooManyNames(_ components: [String], _ ctx: EntryContext) -> LayerError {
        .limitExceeded(layer: ctx.layer, entry: ctx.entry, what: "number of names in directory \(MemberPath.join(components))",
                       limit: Int64(limits.maxNamesPerDirectory), flag: "")
    }

    /// Removes `name` from `dir`, with everything below it when it is a
    /// directory (never following symlinks, without recursion). Missing is fine.
    /// - Parameter replacing: a new entry takes the name at once (it stays counted).
    func remove(_ dir: Handle, _ name: String, replacing: Bool = false, _ ctx: EntryContext) throws {
        try remove(dir, Sys.DirName(name), replacing: replacing, ctx)
    }

    /// `remove` for a name as listed (possibly not UTF-8).
    func remove(_ dir: Handle, _ name: Sys.DirName, replacing: Bool = false, _ ctx: EntryContext) throws {
        cache = nil
        if name.isUTF8, let gone = dir.dir.children[name.string] {
            if gone.level >= 0 { try truncate(to: gone.level - 1, ctx) }
            dir.dir.children[name.string] = nil
            Self.dismantle(gone)
            gone.parent = nil
        }
        if try removeTree(dir, name, ctx) && !replacing && dir.dir.names > 0 { dir.dir.names -= 1 }
    }

    /// - Returns: whether there was something to remove.
    private func removeTree(_ dir: Handle, _ name: Sys.DirName, _ ctx: EntryContext) throws -> Bool {
        let base = dir.components
        func shown(_ inner: [String]) -> String { MemberPath.join(base + inner) }
        steps += 1
        if name.unlink(at: dir.fd, directory: false) == 0 { return true }
        if errno == ENOENT { return false }
        guard errno == EISDIR else { throw ctx.io("remove \(shown([name.string]))") }
        steps += 1
        if name.unlink(at: dir.fd, directory: true) == 0 { return true }
        if errno == ENOENT { return false }
        guard errno == ENOTEMPTY || errno == EEXIST else { throw ctx.io("remove directory \(shown([name.string]))") }
        // A directory with content: depth first, at most a few descriptors
        // open however deep it goes, the names of each level kept until done.
        do {
            let stack = try DirectoryStack(start: dir.fd)
            steps += 2
            try stack.push(name)
            var entered = [name]
            var todo: [[Sys.DirName]] = [try rawNames(stack.fd, base + stack.components, ctx)]
            while let last = todo.last {
                guard let next = last.last else {
                    todo.removeLast()
                    let gone = entered.removeLast()
                    steps += 3
                    try stack.pop()
                    guard gone.unlink(at: stack.fd, directory: true) == 0 || errno == ENOENT else {
                        throw ctx.io("remove directory \(shown(stack.components + [gone.string]))")
                    }
                    continue
                }
                todo[todo.count - 1].removeLast()
                steps += 1
                if next.unlink(at: stack.fd, directory: false) == 0 || errno == ENOENT { continue }
                guard errno == EISDIR else { throw ctx.io("remove \(shown(stack.components + [next.string]))") }
                steps += 1
                if next.unlink(at: stack.fd, directory: true) == 0 || errno == ENOENT { continue }
                guard errno == ENOTEMPTY || errno == EEXIST else {
                    throw ctx.io("remove directory \(shown(stack.components + [next.string]))")
                }
                steps += 2
                try stack.push(next)
                entered.append(next)
                todo.append(try rawNames(stack.fd, base + stack.components, ctx))
            }
        } catch let f as DirectoryStack.Failure {
            if f.changed { throw ctx.invalid("\(shown(f.components)) was replaced while removing it") }
            throw ctx.io("\(f.operation) \(shown(f.components))", f.errno)
        }
        return true
    }

    /// Names in the directory open as `fd`, as raw bytes (a name that is
    /// not UTF-8, left by something else than an image, is removed too).
    private func rawNames(_ fd: Int32, _ components: @autoclosure () -> [String], _ ctx: EntryContext) throws -> [Sys.DirName] {
        steps += 1
        switch Sys.listRawDirectory(fd, limit: limits.maxNamesPerDirectory) {
        case let .names(names): return names
        case .tooMany: throw tooManyNames(components(), ctx)
        case let .failed(e): throw ctx.io("read directory \(MemberPath.join(components()))", e)
        }
    }

    /// A path through `/proc/self/fd` naming `name` in `dir` without
    /// following it, for calls that have no `*at` form (xattrs).
    func procPath(_ dir: Handle, _ name: String) -> String { "/proc/self/fd/\(dir.fd)/\(name)" }
}
