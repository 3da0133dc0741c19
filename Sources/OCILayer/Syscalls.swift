import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// Linux constants and calls that Glibc's Swift module does not import
/// (`O_PATH` needs `_GNU_SOURCE`; `<sys/xattr.h>` is declared by the CLinux
/// shim), with every return code checked: a failure is nil or -1 with
/// `errno` set, never a value made up.
enum Sys {
    /// `O_PATH` (the same value on every Linux architecture Swift supports).
    static let O_PATH: Int32 = 0o10000000

    /// Linux's own bounds on extended attributes (`XATTR_NAME_MAX`,
    /// `XATTR_SIZE_MAX`, `XATTR_LIST_MAX` in `<linux/limits.h>`).
    static let xattrNameMax = 255
    static let xattrSizeMax = 65536
    static let xattrListMax = 65536

    /// `fremovexattr(2)`.
    static func fremovexattr(_ fd: Int32, _ name: String) -> Int32 {
        CLinux.fremovexattr(fd, name)
    }

    /// Names of the extended attributes of the open file `fd`.
    static func flistxattr(_ fd: Int32) -> [String]? {
        list { CLinux.flistxattr(fd, $0, $1) }
    }

    /// `lsetxattr(2)`; -1 with `errno` set on failure.
    static func lsetxattr(_ path: String, _ name: String, _ value: [UInt8]) -> Int32 {
        value.withUnsafeBytes { CLinux.lsetxattr(path, name, $0.baseAddress, $0.count, 0) }
    }

    /// `fsetxattr(2)`; -1 with `errno` set on failure.
    static func fsetxattr(_ fd: Int32, _ name: String, _ value: [UInt8]) -> Int32 {
        value.withUnsafeBytes { CLinux.fsetxattr(fd, name, $0.baseAddress, $0.count, 0) }
    }

    /// Names of the extended attributes of `path` (not following a final symlink).
    static func llistxattr(_ path: String) -> [String]? {
        list { CLinux.llistxattr(path, $0, $1) }
    }

    /// The value of one extended attribute of `path` (not following a final symlink).
    static func lgetxattr(_ path: String, _ name: String) -> [UInt8]? {
        value { CLinux.lgetxattr(path, name, $0, $1) }
    }

    /// The value of one extended attribute of the open file `fd`.
    static func fgetxattr(_ fd: Int32, _ name: String) -> [UInt8]? {
        value { CLinux.fgetxattr(fd, name, $0, $1) }
    }

    /// Runs a `*listxattr` call twice (size, then data), again when the list
    /// grew in between; the list is NUL-separated names.
    private static func list(_ call: (UnsafeMutablePointer<CChar>?, Int) -> Int) -> [String]? {
        for _ in 0..<4 {
            let size = call(nil, 0)
            if size < 0 { return nil }
            if size == 0 { return [] }
            guard size <= xattrListMax else {
                errno = E2BIG
                return nil
            }
            var buf = [CChar](repeating: 0, count: size)
            let n = buf.withUnsafeMutableBufferPointer { call($0.baseAddress, size) }
            if n < 0 {
                if errno == ERANGE { continue }
                return nil
            }
            guard n <= size else {
                errno = ERANGE
                return nil
            }
            return buf[0..<n].split(separator: 0).map { String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        }
        errno = ERANGE
        return nil
    }

    /// Runs a `*getxattr` call twice (size, then data), again when the value grew.
    private static func value(_ call: (UnsafeMutableRawPointer?, Int) -> Int) -> [UInt8]? {
        for _ in 0..<4 {
            let size = call(nil, 0)
            if size < 0 { return nil }
            if size == 0 { return [] }
            guard size <= xattrSizeMax else {
                errno = E2BIG
                return nil
            }
            var buf = [UInt8](repeating: 0, count: size)
            let n = buf.withUnsafeMutableBytes { call($0.baseAddress, size) }
            if n < 0 {
                if errno == ERANGE { continue }
                return nil
            }
            guard n <= size else {
                errno = ERANGE
                return nil
            }
            return Array(buf[0..<n])
        }
        errno = ERANGE
        return nil
    }

    /// glibc's `makedev(3)` encoding of a device number, or nil when the
    /// major or minor does not fit its 32 bits. Takes any integer type, so
    /// it stays right whatever width the tar reader gives device numbers.
    static func makedev<Major: BinaryInteger, Minor: BinaryInteger>(_ major: Major, _ minor: Minor) -> dev_t? {
        guard let ma32 = UInt32(exactly: major), let mi32 = UInt32(exactly: minor) else { return nil }
        let ma = UInt64(ma32), mi = UInt64(mi32)
        let encoded = ((ma & 0xffff_f000) << 32) | ((ma & 0xfff) << 8) | ((mi & 0xffff_ff00) << 12) | (mi & 0xff)
        return dev_t(truncatingIfNeeded: encoded)
    }

    /// The kernel's `mknod` takes a 32-bit device number: a 12-bit major
    /// and a 20-bit minor (`MINORBITS`); anything wider is refused.
    static func kernelCanMake<Major: BinaryInteger, Minor: BinaryInteger>(_ major: Major, _ minor: Minor) -> Bool {
        major >= 0 && minor >= 0 && major <= 0xfff && minor <= 0xf_ffff
    }

    static func major(_ dev: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: ((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff)) }
    static func minor(_ dev: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: ((dev >> 12) & 0xffff_ff00) | (dev & 0xff)) }

    /// `readlinkat(2)` into a String (targets up to 64 KiB).
    static func readlink(_ dirfd: Int32, _ name: String) -> String? {
        readlink(dirfd, DirName(name))
    }

    /// `readlinkat(2)` of a name as listed.
    static func readlink(_ dirfd: Int32, _ name: DirName) -> String? {
        var size = 256
        while size <= 1 << 16 {
            var buf = [CChar](repeating: 0, count: size)
            let n = buf.withUnsafeMutableBufferPointer { b -> Int in
                guard let base = b.baseAddress else { return -1 }
                return name.withName { readlinkat(dirfd, $0, base, b.count) }
            }
            if n < 0 { return nil }
            if n < size { return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
            size *= 4
        }
        errno = ENAMETOOLONG
        return nil
    }

    /// A directory entry's name as the kernel gave it (NUL-terminated bytes)
    /// and decoded for messages and comparisons.
    struct DirName {
        let bytes: [CChar]
        /// The name, invalid UTF-8 repaired.
        let string: String
        /// The bytes are valid UTF-8 (`string` names exactly this entry).
        let isUTF8: Bool

        init(_ name: String) {
            bytes = Array(name.utf8CString)
            string = name
            isUTF8 = true
        }

        init(raw: UnsafeRawBufferPointer) {
            let b = Array(raw.prefix { $0 != 0 })
            bytes = b.map { CChar(bitPattern: $0) } + [0]
            let valid = String(validating: b, as: UTF8.self)
            string = valid ?? String(decoding: b, as: UTF8.self)
            isUTF8 = valid != nil
        }

        func withName<R>(_ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
            try bytes.withUnsafeBufferPointer { b in
                guard let base = b.baseAddress else { return try "".withCString(body) }
                return try body(base)
            }
        }

        /// `unlinkat(2)` of this name in `dirfd`.
        func unlink(at dirfd: Int32, directory: Bool) -> Int32 {
            withName { unlinkat(dirfd, $0, directory ? AT_REMOVEDIR : 0) }
        }
    }

    /// What reading a directory as raw names gave.
    enum RawListing {
        case names([DirName])
        case tooMany
        case failed(Int32)
    }

    /// Names in the directory open as `fd`, as the kernel gives them (any
    /// bytes), in directory order; stops after `limit` names.
    static func listRawDirectory(_ fd: Int32, limit: Int = Int.max) -> RawListing {
        let dupFD = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dupFD >= 0 else { return .failed(errno) }
        guard let dir = fdopendir(dupFD) else {
            let e = errno
            close(dupFD)
            return .failed(e)
        }
        defer { closedir(dir) }
        var names: [DirName] = []
        while true {
            errno = 0
            guard let ent = readdir(dir) else {
                if errno != 0 { return .failed(errno) }
                break
            }
            let name = withUnsafeBytes(of: ent.pointee.d_name) { DirName(raw: $0) }
            if name.string == "." || name.string == ".." { continue }
            if names.count >= limit { return .tooMany }
            names.append(name)
        }
        return .names(names)
    }

    /// Device and inode of an open file.
    static func identity(_ fd: Int32) -> (device: UInt64, inode: UInt64)? {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        return (UInt64(truncatingIfNeeded: st.st_dev), UInt64(truncatingIfNeeded: st.st_ino))
    }

    static func isDir(_ st: stat) -> Bool { (st.st_mode & S_IFMT) == S_IFDIR }
    static func isLink(_ st: stat) -> Bool { (st.st_mode & S_IFMT) == S_IFLNK }
}
