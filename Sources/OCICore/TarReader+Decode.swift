import CArchive
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Turns libarchive's view of a header into a `TarEntry`, checking every
// value at the C boundary: a hostile header (base-256 or PAX numbers up to
// 63 bits, negative sizes, non-UTF-8 names, absurd xattr or sparse lists)
// ends in a `CoreError` naming the archive and the member, never in a trap.

extension TarReader {
    static func decode(_ e: OpaquePointer, archiveName: String, limits: Limits) throws -> TarEntry {
        guard let rawPath = archive_entry_pathname(e) else {
            throw CoreError.malformed(context: archiveName, message: "member without a path")
        }
        let shown = TarText.shown(rawPath)
        let context = "\(archiveName): member \(shown)"
        let path = try TarText.string(rawPath, what: "name", limit: limits.maxNameBytes, context: context)
        guard !path.isEmpty else { throw CoreError.malformed(context: archiveName, message: "member with an empty name") }

        var kind: TarEntry.Kind
        switch archive_entry_filetype(e) {
        case OCITOOL_AE_IFREG: kind = .regular
        case OCITOOL_AE_IFDIR: kind = .directory
        case OCITOOL_AE_IFLNK: kind = .symlink
        case OCITOOL_AE_IFCHR: kind = .characterDevice
        case OCITOOL_AE_IFBLK: kind = .blockDevice
        case OCITOOL_AE_IFIFO: kind = .fifo
        case OCITOOL_AE_IFSOCK: kind = .socket
        default: kind = .unknown
        }
        var link: String?
        if let hard = archive_entry_hardlink(e) {
            kind = .hardlink
            link = try TarText.string(hard, what: "hard-link target", limit: limits.maxNameBytes, context: context)
        } else if kind == .symlink {
            link = try archive_entry_symlink(e).map {
                try TarText.string($0, what: "symlink target", limit: limits.maxNameBytes, context: context)
            } ?? ""
        }

        // libarchive reads a regular member whose name ends in '/' as a
        // directory, except after a header warning (a malformed PAX record):
        // then it stays a file that no file system can hold and that would
        // read back as a directory once written again.
        if kind == .regular && path.hasSuffix("/") {
            throw CoreError.malformed(context: context, message: "a regular file whose name ends in '/'")
        }

        let uid = archive_entry_uid(e), gid = archive_entry_gid(e)
        guard (0...maxID).contains(uid) else {
            throw CoreError.malformed(context: context, message: "uid \(uid) is out of range (0-\(maxID))")
        }
        guard (0...maxID).contains(gid) else {
            throw CoreError.malformed(context: context, message: "gid \(gid) is out of range (0-\(maxID))")
        }
        guard let mtime = Int64(exactly: archive_entry_mtime(e)) else {
            throw CoreError.malformed(context: context, message: "modification time is out of range")
        }
        let nsec = archive_entry_mtime_nsec(e)
        guard (0..<1_000_000_000).contains(nsec) else {
            throw CoreError.malformed(context: context, message: "modification time has \(nsec) nanoseconds")
        }

        var size: Int64 = 0
        if kind == .regular {
            size = archive_entry_size(e)
            guard size >= 0 else { throw CoreError.malformed(context: context, message: "negative size \(size)") }
        }
        var major: UInt32 = 0, minor: UInt32 = 0
        if kind == .characterDevice || kind == .blockDevice {
            let rawMajor = archive_entry_rdevmajor(e), rawMinor = archive_entry_rdevminor(e)
            guard let ma = UInt32(exactly: rawMajor) else {
                throw CoreError.malformed(context: context, message: "device major number \(rawMajor) does not fit 32 bits")
            }
            guard let mi = UInt32(exactly: rawMinor) else {
                throw CoreError.malformed(context: context, message: "device minor number \(rawMinor) does not fit 32 bits")
            }
            major = ma
            minor = mi
        }

        return TarEntry(
            path: path, kind: kind,
            mode: UInt32(truncatingIfNeeded: archive_entry_perm(e) & 0o7777),
            uid: uid, gid: gid,
            uname: try archive_entry_uname(e).map { try TarText.lossy($0, what: "user name", limit: limits.maxNameBytes, context: context) },
            gname: try archive_entry_gname(e).map { try TarText.lossy($0, what: "group name", limit: limits.maxNameBytes, context: context) },
            mtime: mtime, mtimeNanoseconds: nsec,
            size: size, linkTarget: link,
            xattrs: try xattrs(e, limits: limits, context: context),
            deviceMajor: major, deviceMinor: minor,
            sparseRegions: kind == .regular ? try sparseRegions(e, size: size, limits: limits, context: context) : nil)
    }

    /// The largest uid/gid Linux can hold (`uid_t` is 32 bits).
    static let maxID = Int64(UInt32.max)

    /// Extended attributes, sorted by name; of a name given twice the last value wins.
    private static func xattrs(_ e: OpaquePointer, limits: Limits, context: String) throws -> [TarEntry.Xattr] {
        let count = archive_entry_xattr_reset(e)
        guard count > 0 else { return [] }
        guard count <= limits.maxXattrs else {
            throw CoreError.limit(context: context, message: "\(count) extended attributes, over the limit of \(limits.maxXattrs)")
        }
        var byName: [String: [UInt8]] = [:]
        var total = 0
        var namePtr: UnsafePointer<CChar>?
        var valuePtr: UnsafeRawPointer?
        var valueSize = 0
        while archive_entry_xattr_next(e, &namePtr, &valuePtr, &valueSize) == ARCHIVE_OK {
            guard let namePtr else { continue }
            let name = try TarText.string(namePtr, what: "extended attribute name", limit: limits.maxXattrBytes, context: context)
            let (withName, o1) = total.addingReportingOverflow(name.utf8.count)
            let (withValue, o2) = withName.addingReportingOverflow(valueSize)
            guard !o1, !o2, withValue <= limits.maxXattrBytes else {
                throw CoreError.limit(context: context, message: "extended attributes over the limit of \(limits.maxXattrBytes) bytes")
            }
            total = withValue
            var value: [UInt8] = []
            if valueSize > 0 {
                guard let valuePtr else {
                    throw CoreError.malformed(context: context, message: "extended attribute \(name) has a size but no value")
                }
                value = Array(UnsafeRawBufferPointer(start: valuePtr, count: valueSize))
            }
            byName[name] = value
        }
        return byName.map { TarEntry.Xattr(name: $0.key, value: $0.value) }.sorted { $0.name < $1.name }
    }

    /// The data regions of a sparse member, checked: in order, not
    /// overlapping, inside the logical size, at most `maxSparseRegions`.
    private static func sparseRegions(_ e: OpaquePointer, size: Int64, limits: Limits, context: String) throws -> [TarEntry.SparseRegion]? {
        let count = archive_entry_sparse_reset(e)
        guard count > 0 else { return nil }
        guard count <= limits.maxSparseRegions else {
            throw CoreError.limit(context: context, message: "sparse map of \(count) regions, over the limit of \(limits.maxSparseRegions)")
        }
        var regions: [TarEntry.SparseRegion] = []
        regions.reserveCapacity(Int(count))
        var end: Int64 = 0
        var offset: la_int64_t = 0
        var length: la_int64_t = 0
        while archive_entry_sparse_next(e, &offset, &length) == ARCHIVE_OK {
            guard regions.count < limits.maxSparseRegions else {
                throw CoreError.limit(context: context, message: "sparse map over the limit of \(limits.maxSparseRegions) regions")
            }
            let (regionEnd, overflow) = offset.addingReportingOverflow(length)
            guard offset >= end, length >= 0, !overflow, regionEnd <= size else {
                throw CoreError.malformed(context: context, message: "sparse map is invalid (region at \(offset) of \(length) bytes in a file of \(size))")
            }
            regions.append(.init(offset: offset, length: length))
            end = regionEnd
        }
        return regions
    }
}

/// Names from C strings. A tar name ends at its first NUL byte (the
/// header field and libarchive's PAX parser both stop there), so a NUL
/// cannot be inside a name. Member names and link targets must be UTF-8:
/// repairing them (U+FFFD) would silently rename files and could make two
/// members collide, so they are refused; user and group names are only
/// informative and are repaired.
enum TarText {
    static func string(_ p: UnsafePointer<CChar>, what: String, limit: Int, context: String) throws -> String {
        let n = strlen(p)
        guard n <= limit else {
            throw CoreError.limit(context: context, message: "\(what) is \(n) bytes long, over the limit of \(limit)")
        }
        guard let s = String(validatingCString: p) else {
            throw CoreError.malformed(context: context, message: "\(what) is not valid UTF-8 (\(shown(p)))")
        }
        return s
    }

    static func lossy(_ p: UnsafePointer<CChar>, what: String, limit: Int, context: String) throws -> String {
        let n = strlen(p)
        guard n <= limit else {
            throw CoreError.limit(context: context, message: "\(what) is \(n) bytes long, over the limit of \(limit)")
        }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: n), as: UTF8.self)
    }

    /// A printable, bounded rendering of a C string for messages: valid
    /// UTF-8 as `display` shows it, other bytes as `\xNN`, cut after 200 bytes.
    static func shown(_ p: UnsafePointer<CChar>) -> String {
        let n = strlen(p)
        let bytes = UnsafeRawBufferPointer(start: p, count: min(n, 200))
        let cut = n > 200 ? "…" : ""
        if let s = String(validating: bytes, as: UTF8.self) { return display(s, limit: .max) + cut }
        var out = ""
        for b in bytes {
            if b >= 0x20 && b < 0x7f { out.unicodeScalars.append(Unicode.Scalar(b)) } else { out += "\\x" + hex(b) }
        }
        return out + cut
    }

    /// Text made safe for one line: control characters (a newline in a
    /// member name) escaped as `\xNN`, cut after `limit` characters.
    static func display(_ s: String, limit: Int = 300) -> String {
        let scalars = s.unicodeScalars
        let long = scalars.count > limit
        guard long || scalars.contains(where: isControl) else { return s }
        var out = ""
        for scalar in scalars.prefix(limit) {
            if isControl(scalar) { out += "\\x" + hex(UInt8(truncatingIfNeeded: scalar.value)) } else { out.unicodeScalars.append(scalar) }
        }
        return long ? out + "…" : out
    }

    /// A library message made safe for one line (lossy UTF-8).
    static func shownMessage(_ p: UnsafePointer<CChar>) -> String { display(String(cString: p)) }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool { scalar.value < 0x20 || scalar.value == 0x7f }

    private static func hex(_ b: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(b >> 4)], digits[Int(b & 0xf)]])
    }
}
