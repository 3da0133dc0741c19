import CArchive
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a tar stream into a `ByteSink` with libarchive's restricted pax
/// format: plain USTAR headers, plus a pax extended header only where USTAR
/// cannot hold a field (long names or link names, sizes ≥ 8 GiB, large
/// ids, non-ASCII names, xattrs as `SCHILY.xattr.*`). Times are stored in
/// whole seconds (restricted pax would keep nanoseconds only for members
/// that need a pax header anyway, so headers would depend on path length).
///
/// Headers carry exactly the fields of the `TarEntry` given, so the output
/// is deterministic. The stream ends with the two zero blocks, unpadded.
public final class TarWriter {
    private let archive: OpaquePointer
    private let box: WriteBox
    private let name: String
    private var remaining: Int64 = 0
    private var currentPath: String?
    private var finished = false
    // Sparse members: libarchive's pax writer consumes the *logical* file
    // (holes included) and drops the bytes that fall in holes, so the hole
    // before each region is fed as zeros (cheap: libarchive copies nothing).
    private var sparsePlan: [TarEntry.SparseRegion] = []
    private var planIndex = 0
    private var regionLeft: Int64 = 0
    private var logical: Int64 = 0
    private lazy var zeros = [UInt8](repeating: 0, count: 1 << 20)

    /// - Parameters:
    ///   - sink: receives the tar bytes; finished by `finish()`.
    ///   - name: names the output in errors.
    public init(sink: ByteSink, name: String) throws {
        TextLocale.ensureUTF8()
        guard let a = archive_write_new() else { throw CoreError.archive(context: name, message: "archive_write_new failed") }
        archive = a
        self.name = name
        box = WriteBox(sink: sink)
        archive_write_set_format_pax_restricted(a)
        archive_write_set_format_option(a, "pax", "xattrheader", "SCHILY")
        archive_write_set_bytes_per_block(a, 10240)
        archive_write_set_bytes_in_last_block(a, 1)
        let ctx = Unmanaged.passUnretained(box).toOpaque()
        guard archive_write_open2(a, ctx, nil, writeCallback, nil, nil) == ARCHIVE_OK else {
            // deinit frees the handle (every stored property is set by now).
            throw CoreError.archive(context: name, message: TarWriter.message(a))
        }
    }

    deinit { archive_write_free(archive) }

    /// Writes a header. For regular files, exactly `entry.size` bytes (or
    /// the sum of the sparse regions) must follow through `write(_:)`.
    public func writeHeader(_ entry: TarEntry) throws {
        guard remaining == 0 else {
            throw CoreError.archive(context: "\(name): member \(currentPath ?? "?")", message: "\(remaining) bytes of data missing")
        }
        guard let e = archive_entry_new() else { throw CoreError.archive(context: name, message: "archive_entry_new failed") }
        defer { archive_entry_free(e) }
        archive_entry_set_pathname_utf8(e, entry.path)
        switch entry.kind {
        case .regular, .hardlink, .unknown: archive_entry_set_filetype(e, OCITOOL_AE_IFREG)
        case .directory: archive_entry_set_filetype(e, OCITOOL_AE_IFDIR)
        case .symlink: archive_entry_set_filetype(e, OCITOOL_AE_IFLNK)
        case .characterDevice: archive_entry_set_filetype(e, OCITOOL_AE_IFCHR)
        case .blockDevice: archive_entry_set_filetype(e, OCITOOL_AE_IFBLK)
        case .fifo: archive_entry_set_filetype(e, OCITOOL_AE_IFIFO)
        case .socket:
            throw CoreError.archive(context: "\(name): member \(entry.path)", message: "sockets cannot be stored in a tar")
        }
        archive_entry_set_perm(e, mode_t(entry.mode & 0o7777))
        archive_entry_set_uid(e, entry.uid)
        archive_entry_set_gid(e, entry.gid)
        if let u = entry.uname, !u.isEmpty { archive_entry_set_uname_utf8(e, u) }
        if let g = entry.gname, !g.isEmpty { archive_entry_set_gname_utf8(e, g) }
        archive_entry_set_mtime(e, time_t(entry.mtime), 0)  // whole seconds, see above
        var dataSize: Int64 = 0
        switch entry.kind {
        case .regular:
            archive_entry_set_size(e, entry.size)
            if let regions = entry.sparseRegions {
                for r in regions { archive_entry_sparse_add_entry(e, r.offset, r.length) }
                dataSize = regions.reduce(0) { $0 + $1.length }
            } else {
                dataSize = entry.size
            }
        case .hardlink:
            archive_entry_set_hardlink_utf8(e, entry.linkTarget ?? "")
            archive_entry_set_size(e, 0)
        case .symlink:
            archive_entry_set_symlink_utf8(e, entry.linkTarget ?? "")
            archive_entry_set_size(e, 0)
        case .characterDevice, .blockDevice:
            archive_entry_set_rdevmajor(e, dev_t(entry.deviceMajor))
            archive_entry_set_rdevminor(e, dev_t(entry.deviceMinor))
            archive_entry_set_size(e, 0)
        default:
            archive_entry_set_size(e, 0)
        }
        for x in entry.xattrs {
            x.value.withUnsafeBytes { archive_entry_xattr_add_entry(e, x.name, $0.baseAddress, $0.count) }
        }
        let rc = archive_write_header(archive, e)
        if rc != ARCHIVE_OK {
            throw error(entry.path, rc == ARCHIVE_WARN ? "warning" : "error")
        }
        currentPath = entry.path
        remaining = dataSize
        sparsePlan = entry.kind == .regular ? (entry.sparseRegions ?? []).sorted { $0.offset < $1.offset } : []
        planIndex = 0
        regionLeft = 0
        logical = 0
    }

    /// Writes data of the current regular-file member.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        guard Int64(bytes.count) <= remaining else {
            throw CoreError.archive(context: "\(name): member \(currentPath ?? "?")", message: "more data than the header's size")
        }
        if sparsePlan.isEmpty {
            try feed(base, bytes.count)
        } else {
            var offset = 0
            while offset < bytes.count {
                if regionLeft == 0 {
                    let r = sparsePlan[planIndex]
                    planIndex += 1
                    var gap = r.offset - logical
                    while gap > 0 {
                        let n = Int(min(gap, Int64(zeros.count)))
                        try zeros.withUnsafeBytes { try feed($0.baseAddress!, n) }
                        gap -= Int64(n)
                    }
                    logical = r.offset
                    regionLeft = r.length
                    continue
                }
                let n = Int(min(Int64(bytes.count - offset), regionLeft))
                try feed(base + offset, n)
                offset += n
                regionLeft -= Int64(n)
                logical += Int64(n)
            }
        }
        remaining -= Int64(bytes.count)
    }

    /// Hands `count` bytes to libarchive, retrying partial writes.
    private func feed(_ base: UnsafeRawPointer, _ count: Int) throws {
        var offset = 0
        while offset < count {
            let n = archive_write_data(archive, base + offset, count - offset)
            if n < 0 { throw error(currentPath ?? "?", "data") }
            if n == 0 { throw CoreError.archive(context: "\(name): member \(currentPath ?? "?")", message: "write made no progress") }
            offset += n
        }
    }

    /// Writes a whole entry whose data (if any) comes from `source`.
    public func writeEntry(_ entry: TarEntry, source: FileSource? = nil) throws {
        try writeHeader(entry)
        if let source, remaining > 0 {
            let adapter = EntryDataSink(writer: self)
            let copied = try source.copy(to: adapter)
            guard copied == entry.size || entry.sparseRegions != nil else {
                throw CoreError.malformed(context: source.path, message: "file changed size while being archived (expected \(entry.size) bytes, read \(copied))")
            }
        }
        guard remaining == 0 else {
            throw CoreError.archive(context: "\(name): member \(entry.path)", message: "\(remaining) bytes of data missing")
        }
    }

    /// Writes a regular file whose data is `bytes`.
    public func writeFile(_ entry: TarEntry, bytes: [UInt8]) throws {
        var e = entry
        e.kind = .regular
        e.size = Int64(bytes.count)
        try writeHeader(e)
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// A sink that writes into the current member.
    public var dataSink: ByteSink { EntryDataSink(writer: self) }

    /// Writes the end-of-archive blocks and finishes the sink.
    public func finish() throws {
        guard !finished else { return }
        finished = true
        guard remaining == 0 else {
            throw CoreError.archive(context: "\(name): member \(currentPath ?? "?")", message: "\(remaining) bytes of data missing")
        }
        if archive_write_close(archive) != ARCHIVE_OK { throw error("end of archive", "close") }
        if let e = box.error { throw e }
        try box.sink.finish()
    }

    private func error(_ path: String, _ what: String) -> Error {
        if let e = box.error { return e }
        return CoreError.archive(context: "\(name): member \(path)", message: TarWriter.message(archive))
    }

    private static func message(_ a: OpaquePointer) -> String {
        if let s = archive_error_string(a) { return String(cString: s) }
        return "unknown libarchive error"
    }
}

private final class EntryDataSink: ByteSink {
    let writer: TarWriter
    init(writer: TarWriter) { self.writer = writer }
    func write(_ bytes: UnsafeRawBufferPointer) throws { try writer.write(bytes) }
    func finish() throws {}
}

private final class WriteBox {
    let sink: ByteSink
    var error: Error?
    init(sink: ByteSink) { self.sink = sink }
}

private func writeCallback(_ a: OpaquePointer?, _ ctx: UnsafeMutableRawPointer?, _ buf: UnsafeRawPointer?, _ len: Int) -> Int {
    let box = Unmanaged<WriteBox>.fromOpaque(ctx!).takeUnretainedValue()
    do {
        try box.sink.write(UnsafeRawBufferPointer(start: buf, count: len))
        return len
    } catch {
        box.error = error
        ocitool_archive_set_message(a, EIO, "\(error)")
        return -1
    }
}
