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
/// is deterministic. The stream ends with the two zero blocks, unpadded,
/// only when `finish()` succeeds: a writer dropped or failed before that is
/// abandoned (`abandon()`), so a consumer sees a truncated stream rather
/// than a well-formed but incomplete tar.
public final class TarWriter {
    private let archive: OpaquePointer
    private let box: WriteBox
    private let name: String
    private var remaining: Int64 = 0
    private var currentPath: String?
    /// `finish()` completed: the stream is whole.
    private var finished = false
    // Sparse members: libarchive's pax writer consumes the *logical* file
    // (holes included) and drops the bytes that fall in holes, so the hole
    // before each region is fed as zeros (cheap: libarchive copies nothing).
    private var sparsePlan: [TarEntry.SparseRegion] = []
    private var planIndex = 0
    private var regionLeft: Int64 = 0
    private var logical: Int64 = 0
    private lazy var zeros = [UInt8](repeating: 0, count: 1 << 20)

    /// Set once the stream is closed (`finish()`) or given up (`abandon()`,
    /// a failed write): nothing more may be written.
    private var done = false

    /// - Parameters:
    ///   - sink: receives the tar bytes; finished by `finish()`.
    ///   - name: names the output in errors.
    public init(sink: ByteSink, name: String) throws {
        TextLocale.ensureUTF8()
        guard let a = archive_write_new() else { throw CoreError.archive(context: name, message: "archive_write_new failed") }
        archive = a
        self.name = name
        box = WriteBox(sink: sink)
        // From here on deinit frees the handle (every stored property is set).
        let setup: [(String, Int32)] = [
            ("set_format_pax_restricted", archive_write_set_format_pax_restricted(a)),
            ("set_format_option xattrheader", archive_write_set_format_option(a, "pax", "xattrheader", "SCHILY")),
            ("set_bytes_per_block", archive_write_set_bytes_per_block(a, 10240)),
            ("set_bytes_in_last_block", archive_write_set_bytes_in_last_block(a, 1)),
        ]
        for (what, rc) in setup where rc != ARCHIVE_OK {
            box.abandoned = true
            throw CoreError.archive(context: name, message: "archive_write_\(what): \(TarWriter.message(a))")
        }
        let ctx = Unmanaged.passUnretained(box).toOpaque()
        guard archive_write_open2(a, ctx, nil, writeCallback, nil, nil) == ARCHIVE_OK else {
            box.abandoned = true
            throw CoreError.archive(context: name, message: TarWriter.message(a))
        }
    }

    /// An unfinished writer is abandoned: its sink sees a truncated stream.
    deinit {
        if !finished { box.abandoned = true }
        archive_write_free(archive)
    }

    /// Gives the stream up: nothing more reaches the sink (not the rest of
    /// the block libarchive holds, no padding, no end-of-archive blocks) and
    /// the sink is not finished, so whoever reads it sees a truncated tar,
    /// never a well-formed one. Called by `deinit` when `finish()` was not
    /// reached; later writes throw. Idempotent.
    public func abandon() {
        done = true
        box.abandoned = true
    }

    /// Writes a header. For regular files, exactly `entry.size` bytes (or
    /// the sum of the sparse regions) must follow through `write(_:)`.
    /// - Throws: `CoreError.malformed` for values a tar header cannot hold
    ///   (negative ids or sizes, NUL in names, invalid sparse maps),
    ///   `CoreError.archive` when libarchive fails.
    public func writeHeader(_ entry: TarEntry) throws {
        try checkOpen()
        guard remaining == 0 else {
            throw CoreError.archive(context: "\(name): member \(currentPath ?? "?")", message: "\(remaining) bytes of data missing")
        }
        let dataSize = try Self.validate(entry, context: "\(name): member \(TarText.display(entry.path))")
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
            throw CoreError.archive(context: "\(name): member \(TarText.display(entry.path))", message: "sockets cannot be stored in a tar")
        }
        archive_entry_set_perm(e, mode_t(entry.mode & 0o7777))
        archive_entry_set_uid(e, entry.uid)
        archive_entry_set_gid(e, entry.gid)
        if let u = entry.uname, !u.isEmpty { archive_entry_set_uname_utf8(e, u) }
        if let g = entry.gname, !g.isEmpty { archive_entry_set_gname_utf8(e, g) }
        guard let mtime = time_t(exactly: entry.mtime) else {
            throw CoreError.malformed(context: "\(name): member \(TarText.display(entry.path))", message: "modification time \(entry.mtime) is out of range")
        }
        archive_entry_set_mtime(e, mtime, 0)  // whole seconds, see above
        switch entry.kind {
        case .regular:
            archive_entry_set_size(e, entry.size)
            for r in entry.sparseRegions ?? [] { archive_entry_sparse_add_entry(e, r.offset, r.length) }
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
            let failure = error(TarText.display(entry.path), rc == ARCHIVE_WARN ? "warning" : "error")
            abandon()
            throw failure
        }
        currentPath = TarText.display(entry.path)
        remaining = dataSize
        sparsePlan = entry.kind == .regular ? (entry.sparseRegions ?? []).sorted { $0.offset < $1.offset } : []
        planIndex = 0
        regionLeft = 0
        logical = 0
    }

    /// Writes data of the current regular-file member.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        try checkOpen()
        guard Int64(bytes.count) <= remaining else {
            throw CoreError.archive(context: "\(name): member \(currentPath ?? "?")", message: "more data than the header's size")
        }
        if sparsePlan.isEmpty {
            try feed(base, bytes.count)
        } else {
            var offset = 0
            while offset < bytes.count {
                if regionLeft == 0 {
                    guard planIndex < sparsePlan.count else {
                        throw CoreError.archive(context: "\(name): member \(currentPath ?? "?")", message: "more data than the sparse map holds")
                    }
                    let r = sparsePlan[planIndex]
                    planIndex += 1
                    var gap = r.offset - logical
                    while gap > 0 {
                        let n = Int(truncatingIfNeeded: min(gap, Int64(zeros.count)))
                        try zeros.withUnsafeBytes { z in
                            guard let zbase = z.baseAddress else { return }
                            try feed(zbase, n)
                        }
                        gap -= Int64(n)
                    }
                    logical = r.offset
                    regionLeft = r.length
                    continue
                }
                let n = Int(truncatingIfNeeded: min(Int64(bytes.count - offset), regionLeft))
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
            if n <= 0 {
                let failure = n < 0 ? error(currentPath ?? "?", "data")
                    : CoreError.archive(context: "\(name): member \(currentPath ?? "?")", message: "write made no progress")
                abandon()
                throw failure
            }
            offset += n
        }
    }

    /// Writes a whole entry whose data (if any) comes from `source`.
    package func writeEntry(_ entry: TarEntry, source: FileSource? = nil) throws {
        try writeHeader(entry)
        if let source, remaining > 0 {
            let adapter = EntryDataSink(writer: self)
            let copied = try source.copy(to: adapter)
            guard copied == entry.size || entry.sparseRegions != nil else {
                throw CoreError.malformed(context: source.path, message: "file changed size while being archived (expected \(entry.size) bytes, read \(copied))")
            }
        }
        guard remaining == 0 else {
            throw CoreError.archive(context: "\(name): member \(TarText.display(entry.path))", message: "\(remaining) bytes of data missing")
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

    /// Writes the end-of-archive blocks and finishes the sink. If the last
    /// member is incomplete, or anything fails, the writer is abandoned
    /// instead (see `abandon()`): the sink never sees a complete-looking tar.
    public func finish() throws {
        guard !finished else { return }
        try checkOpen()
        guard remaining == 0 else {
            abandon()
            throw CoreError.archive(context: "\(name): member \(currentPath ?? "?")", message: "\(remaining) bytes of data missing")
        }
        if archive_write_close(archive) != ARCHIVE_OK {
            let failure = error("end of archive", "close")
            abandon()
            throw failure
        }
        if let e = box.error {
            abandon()
            throw e
        }
        done = true
        finished = true
        try box.sink.finish()
    }

    private func checkOpen() throws {
        guard !done else {
            throw CoreError.archive(context: name, message: finished ? "write after finish" : "write after the stream was abandoned")
        }
    }

    /// Checks what a header will carry; returns the bytes of data to follow.
    private static func validate(_ entry: TarEntry, context: String) throws -> Int64 {
        for (what, value) in [("name", entry.path), ("link target", entry.linkTarget ?? ""),
                              ("user name", entry.uname ?? ""), ("group name", entry.gname ?? "")] where value.utf8.contains(0) {
            throw CoreError.malformed(context: context, message: "\(what) contains a NUL byte")
        }
        for x in entry.xattrs where x.name.isEmpty || x.name.utf8.contains(0) {
            throw CoreError.malformed(context: context, message: "extended attribute name is empty or contains a NUL byte")
        }
        guard entry.uid >= 0, entry.gid >= 0 else {
            throw CoreError.malformed(context: context, message: "negative uid or gid (\(entry.uid):\(entry.gid))")
        }
        guard entry.kind == .regular else { return 0 }
        guard entry.size >= 0 else { throw CoreError.malformed(context: context, message: "negative size \(entry.size)") }
        guard let regions = entry.sparseRegions else { return entry.size }
        var end: Int64 = 0
        var stored: Int64 = 0
        for r in regions.sorted(by: { $0.offset < $1.offset }) {
            let (regionEnd, o1) = r.offset.addingReportingOverflow(r.length)
            let (sum, o2) = stored.addingReportingOverflow(r.length)
            guard r.offset >= end, r.length >= 0, !o1, !o2, regionEnd <= entry.size else {
                throw CoreError.malformed(context: context, message: "sparse map is invalid (region at \(r.offset) of \(r.length) bytes in a file of \(entry.size))")
            }
            end = regionEnd
            stored = sum
        }
        return stored
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
    /// Set when the stream is given up: later bytes (libarchive's padding
    /// and end-of-archive blocks on free) are dropped.
    var abandoned = false
    init(sink: ByteSink) { self.sink = sink }
}

private func writeCallback(_ a: OpaquePointer?, _ ctx: UnsafeMutableRawPointer?, _ buf: UnsafeRawPointer?, _ len: Int) -> Int {
    guard let ctx else { return -1 }
    let box = Unmanaged<WriteBox>.fromOpaque(ctx).takeUnretainedValue()
    if box.abandoned { return len }
    guard len > 0, let buf else { return 0 }
    do {
        try box.sink.write(UnsafeRawBufferPointer(start: buf, count: len))
        return len
    } catch {
        box.error = error
        box.abandoned = true
        ocitool_archive_set_message(a, EIO, "\(error)")
        return -1
    }
}
