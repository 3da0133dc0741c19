#if canImport(Glibc)
import Glibc
#endif

/// The one way ocitool writes an output the user named with `-o` (archives,
/// exports, HTML reports): what the user named is written, and only that.
///
/// - a regular file, or a path that does not exist yet: written to a
///   temporary file beside it (`.NAME.ocitool-tmp-PID-N`), fsynced and
///   renamed over it at `commit()`: a reader never sees a partial file, and
///   a failure or interrupt leaves the old file (or none) in place;
/// - a symlink: followed, and its target written as above (the link stays);
/// - a character or block device, a FIFO, `/dev/stdout`, `/dev/fd/N`,
///   `/proc/self/fd/N`: opened and written into (never replaced);
/// - `-`: standard output;
/// - a directory, or a path whose directory does not exist: refused with a
///   clear error before anything is written.
package final class AtomicOutput {
    /// Where the bytes go. Finishing it only flushes: `commit()` closes.
    package var sink: ByteSink { OutputSink(file) }
    private let file: FileSink
    /// The path the user named (for messages).
    package let name: String
    private let temporary: String?
    private let target: String
    private let token: Cleanup.Token?
    private var done = false

    /// Standard output.
    package static func standardOutput() -> AtomicOutput { AtomicOutput(stdout: ()) }

    private init(stdout: ()) {
        file = FileSink(fd: 1, path: "stdout")
        name = "stdout"
        temporary = nil
        target = "-"
        token = nil
    }

    /// Opens the output `path` names (see the type's documentation).
    /// - Throws: `CoreError.io` / `.malformed` with the path and the reason.
    package init(path: String) throws {
        name = path
        if path == "-" {
            file = FileSink(fd: 1, path: "stdout")
            temporary = nil
            target = "-"
            token = nil
            return
        }
        let resolved = try Self.resolve(path)
        var st = stat()
        let exists = stat(resolved, &st) == 0
        let kind = st.st_mode & S_IFMT
        if exists && kind == S_IFDIR {
            throw CoreError.malformed(context: path, message: "is a directory; give a file name")
        }
        if (exists && kind != S_IFREG) || Self.isDescriptorPath(path) || Self.isDescriptorPath(resolved) {
            // A device, FIFO or descriptor: write into it, never replace it.
            let fd = open(resolved, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw CoreError.io(context: "open \(path)", errno: errno) }
            file = FileSink(fd: fd, path: path, owns: true)
            temporary = nil
            target = resolved
            token = nil
            return
        }
        let dir = PathString(resolved).deletingLastComponent
        guard FS.isDirectory(dir) else {
            throw CoreError.malformed(context: path, message: "directory \(dir) does not exist")
        }
        var created: (String, FileSink)?
        for attempt in 0..<8 {
            let tmp = "\(dir)/.\(PathString(resolved).lastComponent).ocitool-tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            do {
                created = (tmp, try FileSink(creating: tmp, mode: 0o644, exclusive: true))
                break
            } catch CoreError.io(_, let e) where e == EEXIST && attempt < 7 {
                continue
            }
        }
        guard let (tmp, made) = created else { throw CoreError.io(context: "create a temporary file in \(dir)", errno: EEXIST) }
        made.writeBehind = true
        self.file = made
        temporary = tmp
        target = resolved
        token = Cleanup.register(tmp)
    }

    /// Finishes the output: fsync and rename for a file; close for a device.
    package func commit() throws {
        guard !done else { return }
        done = true
        if let temporary {
            do {
                try file.sync()
                try file.finish()
                TestHook.point("output-before-rename")
                try FS.rename(temporary, target)
            } catch {
                FS.removeFile(temporary)
                if let token { Cleanup.unregister(token) }
                throw error
            }
            if let token { Cleanup.unregister(token) }
            FS.syncDirectory(PathString(target).deletingLastComponent)
        } else {
            try file.finish()
        }
    }

    /// Gives up: the temporary file is removed, the named file untouched.
    package func abandon() {
        guard !done else { return }
        done = true
        try? file.finish()
        if let temporary { FS.removeFile(temporary) }
        if let token { Cleanup.unregister(token) }
    }

    deinit { abandon() }

    static func isDescriptorPath(_ p: String) -> Bool {
        p == "/dev/stdout" || p == "/dev/stderr" || p.hasPrefix("/dev/fd/") || p.hasPrefix("/proc/self/fd/")
    }

    /// Follows symlinks of the last component (at most 40), keeping
    /// relative targets relative to their link's directory.
    static func resolve(_ path: String) throws -> String {
        var p = path
        for _ in 0..<40 {
            if isDescriptorPath(p) { return p }
            var st = stat()
            guard lstat(p, &st) == 0, (st.st_mode & S_IFMT) == S_IFLNK else { return p }
            var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = readlink(p, &buf, Int(PATH_MAX))
            guard n >= 0 else { throw CoreError.io(context: "readlink \(p)", errno: errno) }
            let t = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            p = t.hasPrefix("/") ? t : PathString(p).deletingLastComponent + "/" + t
        }
        throw CoreError.io(context: path, errno: ELOOP)
    }
}

/// Writes into the output's file; finishing is left to `AtomicOutput.commit`.
private final class OutputSink: ByteSink {
    private let file: FileSink
    init(_ file: FileSink) { self.file = file }
    func write(_ bytes: UnsafeRawBufferPointer) throws { try file.write(bytes) }
    func finish() throws {}
}
