import CArchive
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a tar stream (plain, or compressed with any filter libarchive
/// knows: gzip, zstd, xz, bzip2) entry by entry, streaming each entry's data
/// in bounded blocks.
///
/// ```swift
/// let reader = try TarReader(path: "image.tar")
/// while let entry = try reader.next() {
///     try reader.readData(into: sink)
/// }
/// ```
public final class TarReader {
    private let archive: OpaquePointer
    /// Names the stream in errors (a file path, `-` for stdin, or a layer digest).
    public let name: String
    private var current: String?
    private var pendingData = false
    private var closed = false
    private let progress: ByteProgress?
    /// The regular file read, when opened with `init(path:)` on one.
    public private(set) var filePath: String?
    private var dataOffset: Int64?

    /// Opens the file at `path`.
    public convenience init(path: String, progress: ByteProgress? = nil, allowEmpty: Bool = false) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CoreError.io(context: "open \(path)", errno: errno) }
        var st = stat()
        let regular = fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
        try self.init(fd: fd, name: path, ownsDescriptor: true, progress: progress, allowEmpty: allowEmpty)
        if regular { filePath = path }
    }

    /// Where the current member's data starts in `filePath`, when the file
    /// is a plain (uncompressed) tar and the member is stored contiguously
    /// (not sparse): its bytes can then be read again straight from the file.
    /// Valid between `next()` and the next call to `next()`.
    public var currentDataOffset: Int64? { dataOffset }

    /// Reads from an open descriptor (a pipe works: the stream is read once, forwards only).
    public init(fd: Int32, name: String, ownsDescriptor: Bool = false, progress: ByteProgress? = nil, allowEmpty: Bool = false) throws {
        TextLocale.ensureUTF8()
        guard let a = archive_read_new() else { throw CoreError.archive(context: name, message: "archive_read_new failed") }
        archive = a
        self.name = name
        self.progress = progress
        archive_read_support_filter_all(a)
        archive_read_support_format_tar(a)
        if allowEmpty { archive_read_support_format_empty(a) }
        let box = ReadBox(fd: fd, owns: ownsDescriptor, progress: progress)
        let ctx = Unmanaged.passRetained(box).toOpaque()
        // A regular file skips unread member data by seeking instead of reading it.
        let rc = archive_read_open2(a, ctx, nil, readCallback, box.seekable ? skipCallback : nil, closeCallback)
        if rc != ARCHIVE_OK {
            // deinit frees the handle (every stored property is set by now).
            throw CoreError.archive(context: name, message: TarReader.message(a))
        }
    }

    deinit { archive_read_free(archive) }

    /// Advances to the next entry; nil at the end of the archive.
    /// Unread data of the previous entry is skipped.
    public func next() throws -> TarEntry? {
        if pendingData {
            let rc = archive_read_data_skip(archive)
            if rc < ARCHIVE_WARN { throw error("reading data") }
            pendingData = false
        }
        var entryPtr: OpaquePointer?
        let rc = archive_read_next_header(archive, &entryPtr)
        if rc == ARCHIVE_EOF { return nil }
        if rc != ARCHIVE_OK && rc != ARCHIVE_WARN {
            throw error(current == nil ? "reading the first header" : "reading the header after")
        }
        guard let e = entryPtr else { throw error("reading a header") }
        let entry = try TarReader.decode(e, archiveName: name)
        current = entry.path
        pendingData = true
        dataOffset = nil
        if filePath != nil, entry.kind == .regular, entry.sparseRegions == nil, outerCompression == .none {
            // The format reader has consumed every header block of this
            // member: the position of the (only) filter is where its data starts.
            let position = archive_filter_bytes(archive, 0)
            if position >= 0 { dataOffset = position }
        }
        return entry
    }

    /// Streams the current entry's data into `sink` (holes of sparse files
    /// are written as zeros). Returns the number of bytes delivered.
    @discardableResult
    public func readData(into sink: ByteSink) throws -> Int64 {
        var position: Int64 = 0
        let zeros = [UInt8](repeating: 0, count: 64 << 10)
        try readDataBlocks { offset, block in
            while position < offset {
                let n = Int(min(Int64(zeros.count), offset - position))
                try zeros.withUnsafeBytes { try sink.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                position += Int64(n)
            }
            try sink.write(block)
            position += Int64(block.count)
        } finalSize: { size in
            while position < size {
                let n = Int(min(Int64(zeros.count), size - position))
                try zeros.withUnsafeBytes { try sink.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                position += Int64(n)
            }
        }
        return position
    }

    /// Streams the current entry's data as (offset, bytes) blocks straight
    /// from libarchive's buffers; sparse holes are simply not delivered.
    public func readDataBlocks(_ body: (Int64, UnsafeRawBufferPointer) throws -> Void,
                               finalSize: ((Int64) throws -> Void)? = nil) throws {
        guard pendingData else { return }
        pendingData = false
        var buf: UnsafeRawPointer?
        var size = 0
        var offset: Int64 = 0
        while true {
            let rc = archive_read_data_block(archive, &buf, &size, &offset)
            if rc == ARCHIVE_EOF { break }
            if rc != ARCHIVE_OK && rc != ARCHIVE_WARN { throw error("reading data of") }
            if size > 0, let b = buf { try body(offset, UnsafeRawBufferPointer(start: b, count: size)) }
        }
        // archive_read_data_block reports the final hole through `offset` at EOF.
        if let finalSize { try finalSize(offset) }
    }

    /// Skips the current entry's data.
    public func skipData() throws {
        guard pendingData else { return }
        pendingData = false
        if archive_read_data_skip(archive) < ARCHIVE_WARN { throw error("skipping data of") }
    }

    /// The filter libarchive detected on the outer stream.
    public var outerCompression: Compression {
        let count = archive_filter_count(archive)
        for i in 0..<count {
            switch archive_filter_code(archive, i) {
            case ARCHIVE_FILTER_GZIP: return .gzip
            case ARCHIVE_FILTER_ZSTD: return .zstd
            case ARCHIVE_FILTER_XZ: return .xz
            case ARCHIVE_FILTER_BZIP2: return .bzip2
            default: continue
            }
        }
        return .none
    }

    private func error(_ what: String) -> CoreError {
        var msg = TarReader.message(archive)
        if msg == TarReader.noMessage {
            // libarchive's filters fail at a premature end without a message
            // (e.g. gzip input ending inside its trailer): name the likely cause.
            let outer = outerCompression
            msg = "truncated or damaged input" + (outer == .none ? "" : " (\(outer.rawValue) stream ended early or is corrupt)")
        }
        let location = current.map { "\(what) member \($0)" } ?? what
        return CoreError.archive(context: "\(name): \(location)", message: msg)
    }

    private static func message(_ a: OpaquePointer) -> String {
        if let s = archive_error_string(a) { return String(cString: s) }
        let code = archive_errno(a)
        return code != 0 ? String(cString: strerror(code)) : noMessage
    }

    private static let noMessage = "unknown libarchive error"

    static func decode(_ e: OpaquePointer, archiveName: String) throws -> TarEntry {
        guard let rawPath = archive_entry_pathname(e) else {
            throw CoreError.archive(context: archiveName, message: "member without a path")
        }
        let path = String(cString: rawPath)
        var kind: TarEntry.Kind
        let hardlink = archive_entry_hardlink(e).map { String(cString: $0) }
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
        if let hardlink {
            kind = .hardlink
            link = hardlink
        } else if kind == .symlink {
            link = archive_entry_symlink(e).map { String(cString: $0) } ?? ""
        }
        var xattrs: [TarEntry.Xattr] = []
        if archive_entry_xattr_reset(e) > 0 {
            var namePtr: UnsafePointer<CChar>?
            var valuePtr: UnsafeRawPointer?
            var size = 0
            while archive_entry_xattr_next(e, &namePtr, &valuePtr, &size) == ARCHIVE_OK {
                guard let namePtr else { continue }
                let value = valuePtr.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
                xattrs.append(.init(name: String(cString: namePtr), value: value))
            }
            xattrs.sort { $0.name < $1.name }
        }
        var sparse: [TarEntry.SparseRegion]?
        if archive_entry_sparse_reset(e) > 0 {
            var regions: [TarEntry.SparseRegion] = []
            var off: la_int64_t = 0
            var len: la_int64_t = 0
            while archive_entry_sparse_next(e, &off, &len) == ARCHIVE_OK {
                regions.append(.init(offset: off, length: len))
            }
            sparse = regions
        }
        return TarEntry(
            path: path, kind: kind,
            mode: UInt32(archive_entry_perm(e)) & 0o7777,
            uid: archive_entry_uid(e), gid: archive_entry_gid(e),
            uname: archive_entry_uname(e).map { String(cString: $0) },
            gname: archive_entry_gname(e).map { String(cString: $0) },
            mtime: Int64(archive_entry_mtime(e)), mtimeNanoseconds: Int(archive_entry_mtime_nsec(e)),
            size: kind == .regular ? archive_entry_size(e) : 0,
            linkTarget: link, xattrs: xattrs,
            deviceMajor: UInt32(archive_entry_rdevmajor(e)), deviceMinor: UInt32(archive_entry_rdevminor(e)),
            sparseRegions: sparse)
    }
}

/// State shared with the C read callback.
private final class ReadBox {
    let fd: Int32
    let owns: Bool
    let progress: ByteProgress?
    let buffer: UnsafeMutableRawPointer
    let seekable: Bool
    static let size = 1 << 20

    init(fd: Int32, owns: Bool, progress: ByteProgress?) {
        self.fd = fd
        self.owns = owns
        self.progress = progress
        buffer = .allocate(byteCount: ReadBox.size, alignment: 64)
        var st = stat()
        seekable = fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    deinit {
        buffer.deallocate()
        if owns { _ = close(fd) }
    }
}

private func readCallback(_ a: OpaquePointer?, _ ctx: UnsafeMutableRawPointer?, _ out: UnsafeMutablePointer<UnsafeRawPointer?>?) -> Int {
    let box = Unmanaged<ReadBox>.fromOpaque(ctx!).takeUnretainedValue()
    while true {
        let n = read(box.fd, box.buffer, ReadBox.size)
        if n < 0 {
            if errno == EINTR { continue }
            ocitool_archive_set_errno(a, errno)
            return -1
        }
        out?.pointee = UnsafeRawPointer(box.buffer)
        if n > 0 { box.progress?.advance(by: Int64(n)) }
        return n
    }
}

/// Skips `request` bytes by seeking (regular files only); they count as read.
private func skipCallback(_ a: OpaquePointer?, _ ctx: UnsafeMutableRawPointer?, _ request: la_int64_t) -> la_int64_t {
    let box = Unmanaged<ReadBox>.fromOpaque(ctx!).takeUnretainedValue()
    guard request > 0, lseek(box.fd, off_t(request), SEEK_CUR) >= 0 else { return 0 }
    box.progress?.advance(by: request)
    return request
}

private func closeCallback(_ a: OpaquePointer?, _ ctx: UnsafeMutableRawPointer?) -> Int32 {
    Unmanaged<ReadBox>.fromOpaque(ctx!).release()
    return ARCHIVE_OK
}
