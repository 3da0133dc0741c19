#if canImport(Glibc)
import Glibc
#endif

/// The path of open directories an iterative walk is in, from a start
/// directory down, with a bounded number of descriptors however deep the
/// tree: only the deepest `keep` levels hold one. Going back up to a level
/// whose descriptor was dropped opens `..` of the level below and checks it
/// is the same directory (device and inode) that was entered, so a tree
/// renamed or swapped meanwhile stops the walk instead of leading it
/// elsewhere. Each step costs O(1) system calls, so a walk is linear in the
/// size of the tree and never recursive.
final class DirectoryStack {
    /// A failed step: the call, its `errno`, and the names from the start
    /// down to where it failed.
    struct Failure: Error {
        var operation: String
        var errno: Int32
        var components: [String]
        /// `..` led to another directory than the one entered.
        var changed = false
    }

    private struct Level {
        var fd: Int32
        let device: UInt64
        let inode: UInt64
        let name: String
    }

    private var levels: [Level] = []
    private let keep: Int
    private let flags: Int32

    /// Starts at `fd`, which stays the caller's (it is never closed here).
    /// - Parameters:
    ///   - readable: open levels `O_RDONLY` (for listing) rather than `O_PATH`.
    init(start fd: Int32, readable: Bool = true, keep: Int = 16) throws(Failure) {
        self.keep = max(2, keep)
        flags = (readable ? O_RDONLY : Sys.O_PATH) | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
        guard let id = Sys.identity(fd) else { throw Failure(operation: "stat", errno: errno, components: []) }
        levels.append(Level(fd: fd, device: id.device, inode: id.inode, name: ""))
    }

    deinit {
        for l in levels.dropFirst() where l.fd >= 0 { close(l.fd) }
    }

    /// Levels below the start.
    var depth: Int { levels.count - 1 }

    /// The descriptor of the deepest level (always open).
    var fd: Int32 { levels[levels.count - 1].fd }

    /// Names from the start down to the deepest level.
    var components: [String] { levels.dropFirst().map(\.name) }

    /// Enters the directory `name` of the deepest level (never through a symlink).
    func push(_ name: String) throws(Failure) {
        try push(Sys.DirName(name))
    }

    /// Enters the directory `name` (raw bytes) of the deepest level.
    func push(_ name: Sys.DirName) throws(Failure) {
        let parentFD = fd
        let child = name.withName { openat(parentFD, $0, flags) }
        guard child >= 0 else { throw Failure(operation: "open directory", errno: errno, components: components + [name.string]) }
        guard let id = Sys.identity(child) else {
            let e = errno
            close(child)
            throw Failure(operation: "stat", errno: e, components: components + [name.string])
        }
        levels.append(Level(fd: child, device: id.device, inode: id.inode, name: name.string))
        let drop = levels.count - 1 - keep
        if drop >= 1, levels[drop].fd >= 0 {
            close(levels[drop].fd)
            levels[drop].fd = -1
        }
    }

    /// Leaves the deepest level; the one above is open again afterwards.
    func pop() throws(Failure) {
        guard levels.count > 1 else { return }
        let leaving = levels.removeLast()
        defer { close(leaving.fd) }
        let up = levels.count - 1
        guard levels[up].fd < 0 else { return }
        let parent = openat(leaving.fd, "..", flags)
        guard parent >= 0 else { throw Failure(operation: "open directory ..", errno: errno, components: components) }
        guard let id = Sys.identity(parent), id.device == levels[up].device, id.inode == levels[up].inode else {
            close(parent)
            throw Failure(operation: "open directory ..", errno: ENOENT, components: components, changed: true)
        }
        levels[up].fd = parent
    }
}
