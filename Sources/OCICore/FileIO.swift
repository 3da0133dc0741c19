import CLinux
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes to a file descriptor, retrying short writes and EINTR.
package final class FileSink: ByteSink {
    package let fd: Int32
    private let ownsDescriptor: Bool
    private let path: String
    private var closed = false
    private var written: Int64 = 0
    private var flushedUpTo: Int64 = 0
    /// Start write-back of every 8 MiB as it is written (sync_file_range),
    /// so a final `sync()` has little left to do.
    package var writeBehind = false

    /// Wraps an open descriptor (not closed by this sink unless `owns`).
    package init(fd: Int32, path: String, owns: Bool = false) {
        self.fd = fd
        self.path = path
        self.ownsDescriptor = owns
    }

    /// Creates (or truncates) `path` for writing.
    package convenience init(creating path: String, mode: mode_t = 0o644, exclusive: Bool = false) throws {
        var flags = O_WRONLY | O_CREAT | O_CLOEXEC
        flags |= exclusive ? O_EXCL : O_TRUNC
        let fd = open(path, flags, mode)
        guard fd >= 0 else { throw CoreError.io(context: "create \(path)", errno: errno) }
        self.init(fd: fd, path: path, owns: true)
    }

    deinit {
        if ownsDescriptor && !closed { _ = close(fd) }
    }

    package func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard var p = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = Glibc.write(fd, p, left)
            if n < 0 {
                if errno == EINTR { continue }
                throw CoreError.io(context: "write \(path)", errno: errno)
            }
            p += n
            left -= n
        }
        written += Int64(bytes.count)
        if writeBehind && written - flushedUpTo >= 8 << 20 {
            _ = ocitool_start_writeback(fd, flushedUpTo, written - flushedUpTo)
            flushedUpTo = written
        }
    }

    /// fsyncs the file.
    package func sync() throws {
        guard fsync(fd) == 0 || errno == EINVAL || errno == EROFS else {
            throw CoreError.io(context: "fsync \(path)", errno: errno)
        }
    }

    package func finish() throws {
        guard ownsDescriptor, !closed else { return }
        closed = true
        guard close(fd) == 0 else { throw CoreError.io(context: "close \(path)", errno: errno) }
    }
}

/// Reads a file descriptor in fixed-size blocks.
package final class FileSource {
    package let fd: Int32
    package let path: String
    private let ownsDescriptor: Bool

    package init(fd: Int32, path: String, owns: Bool = false) {
        self.fd = fd
        self.path = path
        self.ownsDescriptor = owns
    }

    /// Opens `path` for reading.
    package convenience init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CoreError.io(context: "open \(path)", errno: errno) }
        self.init(fd: fd, path: path, owns: true)
    }

    deinit { if ownsDescriptor { _ = close(fd) } }

    /// Reads up to `buffer.count` bytes; 0 at end of file.
    package func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw CoreError.io(context: "read \(path)", errno: errno)
            }
            return n
        }
    }

    /// Pushes the whole remaining content into `sink` in blocks of `blockSize`.
    /// - Returns: the number of bytes copied.
    @discardableResult
    package func copy(to sink: ByteSink, blockSize: Int = 1 << 20) throws -> Int64 {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: blockSize, alignment: 16)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        while true {
            let n = try read(into: buffer)
            if n == 0 { return total }
            try sink.write(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            total += Int64(n)
        }
    }

    /// Reads up to `limit` bytes of the file into memory (for metadata and sniffing).
    package func readPrefix(_ limit: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: limit)
        var filled = 0
        while filled < limit {
            let n = try out.withUnsafeMutableBytes { try read(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...])) }
            if n == 0 { break }
            filled += n
        }
        out.removeSubrange(filled...)
        return out
    }
}

/// Small file-system helpers with errno-carrying errors.
package enum FS {
    /// Does `path` exist (without following a final symlink)?
    package static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    package static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Size of a regular file.
    package static func size(_ path: String) throws -> Int64 {
        var st = stat()
        guard stat(path, &st) == 0 else { throw CoreError.io(context: "stat \(path)", errno: errno) }
        return Int64(st.st_size)
    }

    /// mkdir -p.
    package static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws {
        if isDirectory(path) { return }
        let parent = PathString(path).deletingLastComponent
        if !parent.isEmpty && parent != path { try makeDirectories(parent, mode: mode) }
        if mkdir(path, mode) != 0 && errno != EEXIST {
            throw CoreError.io(context: "mkdir \(path)", errno: errno)
        }
    }

    /// Renames atomically.
    package static func rename(_ from: String, _ to: String) throws {
        guard Glibc.rename(from, to) == 0 else { throw CoreError.io(context: "rename \(from) -> \(to)", errno: errno) }
    }

    /// Removes a file if present.
    package static func removeFile(_ path: String) {
        _ = unlink(path)
    }

    /// fsyncs a directory so renames in it are durable.
    package static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 { _ = fsync(fd); _ = close(fd) }
    }

    /// Reads a whole (small) file, refusing files over `limit` bytes.
    package static func readFile(_ path: String, limit: Int = 64 << 20) throws -> [UInt8] {
        let src = try FileSource(path: path)
        let sink = MemorySink(limit: limit, context: path)
        try src.copy(to: sink, blockSize: 64 << 10)
        return sink.bytes
    }

    /// Writes `bytes` to `path` through a temp file, fsync and rename.
    /// - Parameter hook: a `TestHook` point reached just before the rename.
    package static func writeAtomically(_ path: String, bytes: [UInt8], mode: mode_t = 0o644, hook: String? = nil) throws {
        let tmp = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            let sink = try FileSink(creating: tmp, mode: mode, exclusive: true)
            try sink.write(contentsOf: bytes)
            try sink.sync()
            try sink.finish()
            if let hook { TestHook.point(hook) }
            try rename(tmp, path)
        } catch {
            removeFile(tmp)
            throw error
        }
        syncDirectory(PathString(path).deletingLastComponent)
    }

    /// Names in a directory (without . and ..).
    package static func listDirectory(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw CoreError.io(context: "opendir \(path)", errno: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let ent = readdir(dir) {
            let name = withUnsafeBytes(of: ent.pointee.d_name) { raw -> String in
                let p = raw.bindMemory(to: CChar.self)
                return String(cString: p.baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// rm -rf.
    package static func removeTree(_ path: String) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            for name in (try? listDirectory(path)) ?? [] { removeTree(path + "/" + name) }
            _ = rmdir(path)
        } else {
            _ = unlink(path)
        }
    }
}

/// Minimal path manipulation on plain strings (no Foundation URL round trips).
package struct PathString {
    let value: String
    package init(_ value: String) { self.value = value }
    package var deletingLastComponent: String {
        var v = value
        while v.count > 1 && v.hasSuffix("/") { v.removeLast() }
        guard let slash = v.lastIndex(of: "/") else { return "." }
        if slash == v.startIndex { return "/" }
        return String(v[..<slash])
    }
    package var lastComponent: String {
        var v = value
        while v.count > 1 && v.hasSuffix("/") { v.removeLast() }
        guard let slash = v.lastIndex(of: "/") else { return v }
        return String(v[v.index(after: slash)...])
    }
}
