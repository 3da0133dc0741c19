#if canImport(Glibc)
import Glibc
#endif

/// Linux constants and calls that Glibc's Swift module does not import
/// (`O_PATH` needs `_GNU_SOURCE`; `<sys/xattr.h>` is not in the module).
enum Sys {
    /// `O_PATH` (the same value on every Linux architecture Swift supports).
    static let O_PATH: Int32 = 0o10000000

    private typealias SetXattr = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeRawPointer?, Int, Int32) -> Int32
    private typealias FSetXattr = @convention(c) (Int32, UnsafePointer<CChar>, UnsafeRawPointer?, Int, Int32) -> Int32
    private typealias ListXattr = @convention(c) (UnsafePointer<CChar>, UnsafeMutablePointer<CChar>?, Int) -> Int
    private typealias GetXattr = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeMutableRawPointer?, Int) -> Int
    private typealias FListXattr = @convention(c) (Int32, UnsafeMutablePointer<CChar>?, Int) -> Int
    private typealias FRemoveXattr = @convention(c) (Int32, UnsafePointer<CChar>) -> Int32

    private static func symbol<T>(_ name: String, _ type: T.Type) -> T? {
        dlsym(nil, name).map { unsafeBitCast($0, to: type) }
    }

    private static let lsetxattrFn = symbol("lsetxattr", SetXattr.self)
    private static let fsetxattrFn = symbol("fsetxattr", FSetXattr.self)
    private static let llistxattrFn = symbol("llistxattr", ListXattr.self)
    private static let lgetxattrFn = symbol("lgetxattr", GetXattr.self)
    private static let flistxattrFn = symbol("flistxattr", FListXattr.self)
    private static let fremovexattrFn = symbol("fremovexattr", FRemoveXattr.self)

    /// `fremovexattr(2)`.
    static func fremovexattr(_ fd: Int32, _ name: String) -> Int32 {
        guard let f = fremovexattrFn else { errno = ENOTSUP; return -1 }
        return f(fd, name)
    }

    /// Names of the extended attributes of the open file `fd`.
    static func flistxattr(_ fd: Int32) -> [String]? {
        guard let f = flistxattrFn else { errno = ENOTSUP; return nil }
        return list { f(fd, $0, $1) }
    }

    /// `lsetxattr(2)`; -1 with `errno` set on failure.
    static func lsetxattr(_ path: String, _ name: String, _ value: [UInt8]) -> Int32 {
        guard let f = lsetxattrFn else { errno = ENOTSUP; return -1 }
        return value.withUnsafeBytes { f(path, name, $0.baseAddress, $0.count, 0) }
    }

    /// `fsetxattr(2)`.
    static func fsetxattr(_ fd: Int32, _ name: String, _ value: [UInt8]) -> Int32 {
        guard let f = fsetxattrFn else { errno = ENOTSUP; return -1 }
        return value.withUnsafeBytes { f(fd, name, $0.baseAddress, $0.count, 0) }
    }

    /// Names of the extended attributes of `path` (not following a final symlink).
    static func llistxattr(_ path: String) -> [String]? {
        guard let f = llistxattrFn else { errno = ENOTSUP; return nil }
        return list { f(path, $0, $1) }
    }

    private static func list(_ call: (UnsafeMutablePointer<CChar>?, Int) -> Int) -> [String]? {
        for _ in 0..<4 {
            let size = call(nil, 0)
            if size < 0 { return nil }
            if size == 0 { return [] }
            var buf = [CChar](repeating: 0, count: size)
            let n = call(&buf, size)
            if n < 0 { if errno == ERANGE { continue } else { return nil } }
            return buf[0..<n].split(separator: 0).map { String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        }
        errno = ERANGE
        return nil
    }

    /// The value of one extended attribute of `path`.
    static func lgetxattr(_ path: String, _ name: String) -> [UInt8]? {
        guard let f = lgetxattrFn else { errno = ENOTSUP; return nil }
        for _ in 0..<4 {
            let size = f(path, name, nil, 0)
            if size < 0 { return nil }
            var buf = [UInt8](repeating: 0, count: size)
            let n = buf.withUnsafeMutableBytes { f(path, name, $0.baseAddress, size) }
            if n < 0 { if errno == ERANGE { continue } else { return nil } }
            return Array(buf[0..<n])
        }
        errno = ERANGE
        return nil
    }

    /// `makedev(3)` for Linux's encoding.
    static func makedev(_ major: UInt32, _ minor: UInt32) -> dev_t {
        let ma = UInt64(major), mi = UInt64(minor)
        return dev_t(((ma & 0xffff_f000) << 32) | ((ma & 0xfff) << 8) | ((mi & 0xffff_ff00) << 12) | (mi & 0xff))
    }

    static func major(_ dev: UInt64) -> UInt32 { UInt32(((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff)) }
    static func minor(_ dev: UInt64) -> UInt32 { UInt32(((dev >> 12) & 0xffff_ff00) | (dev & 0xff)) }

    /// `readlinkat(2)` into a String.
    static func readlink(_ dirfd: Int32, _ name: String) -> String? {
        var size = 256
        while size <= 1 << 16 {
            var buf = [UInt8](repeating: 0, count: size)
            let n = buf.withUnsafeMutableBytes { readlinkat(dirfd, name, $0.baseAddress!.assumingMemoryBound(to: CChar.self), size) }
            if n < 0 { return nil }
            if n < size { return String(decoding: buf[0..<n], as: UTF8.self) }
            size *= 4
        }
        errno = ENAMETOOLONG
        return nil
    }

    /// Names in the directory open as `fd` (the descriptor is not consumed), sorted.
    static func listDirectory(_ fd: Int32) -> [String]? {
        let dupFD = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dupFD >= 0, let dir = fdopendir(dupFD) else {
            let e = errno
            if dupFD >= 0 { close(dupFD) }
            errno = e
            return nil
        }
        defer { closedir(dir) }
        var names: [String] = []
        errno = 0
        while let ent = readdir(dir) {
            let name = withUnsafeBytes(of: ent.pointee.d_name) { raw -> String in
                let bytes = raw.prefix { $0 != 0 }
                return String(decoding: bytes, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    static func isDir(_ st: stat) -> Bool { (st.st_mode & S_IFMT) == S_IFDIR }
    static func isLink(_ st: stat) -> Bool { (st.st_mode & S_IFMT) == S_IFLNK }
}
