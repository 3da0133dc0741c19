import OCICore
#if canImport(Glibc)
import Glibc
#endif

/// An advisory `flock(2)` lock on a file, released on `unlock()` or deinit.
public final class FileLock: @unchecked Sendable {
    private let fd: Int32
    private var held = false

    /// Opens (creating) the lock file and waits for the lock.
    public init(path: String, exclusive: Bool) throws {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CoreError.io(context: "open lock \(path)", errno: errno) }
        while flock(fd, exclusive ? LOCK_EX : LOCK_SH) != 0 {
            if errno == EINTR { continue }
            let e = errno
            close(fd)
            throw CoreError.io(context: "lock \(path)", errno: e)
        }
        held = true
    }

    /// Takes the lock only if nobody holds it; nil otherwise.
    public static func attempt(path: String, exclusive: Bool) -> FileLock? {
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        guard flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0 else {
            close(fd)
            return nil
        }
        return FileLock(locked: fd)
    }

    private init(locked fd: Int32) {
        self.fd = fd
        held = true
    }

    public func unlock() {
        guard held else { return }
        held = false
        flock(fd, LOCK_UN)
    }

    deinit {
        unlock()
        close(fd)
    }
}
