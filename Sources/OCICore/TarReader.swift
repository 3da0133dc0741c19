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
/// let reader = try TarReader(path: "image.tar", limits: .imageArchive)
/// while let entry = try reader.next() {
///     try reader.readData(into: sink)
/// }
/// ```
///
/// Untrusted input is bounded: every header value is checked as it leaves
/// libarchive (see `TarReader+Decode.swift`), per-member lists are capped by
/// `limits`, sparse members follow `limits.sparse`, and a member's data must
/// match its header (no data outside the logical size, no overlapping
/// regions, no size announced but not stored). Every loop over libarchive
/// calls ends: at the end of input, at an error, or after a bounded number
/// of calls that make no progress.
public final class TarReader {
    private let archive: OpaquePointer
    /// Names the stream in errors (a file path, `-` for stdin, or a layer digest).
    public let name: String
    /// The bounds applied to each member (may be changed between members).
    public var limits: Limits
    /// Sparse members passed over under `SparsePolicy.skip`.
    public private(set) var skippedSparseMembers = 0
    private var current: String?
    private var currentEntry: TarEntry?
    private var pendingData = false
    private let progress: ByteProgress?
    /// The regular file read, when opened with `init(path:)` on one.
    public private(set) var filePath: String?
    private var dataOffset: Int64?
    /// The input, shared with libarchive's callbacks.
    private let input: ReadBox

    /// libarchive calls in a row that may return nothing before the reader
    /// gives up (a guard against a library loop; each call normally
    /// consumes input or ends).
    static let maxIdleCalls = 64

    /// Opens the file at `path`.
    /// - Parameters:
    ///   - allowEmpty: accept a zero-byte input as an empty archive.
    ///   - limits: bounds on each member (sparse policy, list sizes).
    public convenience init(path: String, progress: ByteProgress? = nil, allowEmpty: Bool = false,
                            limits: Limits = .defaults) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CoreError.io(context: "open \(path)", errno: errno) }
        try self.init(fd: fd, name: path, ownsDescriptor: true, progress: progress, allowEmpty: allowEmpty, limits: limits)
        if input.seekable { filePath = path }
    }

    /// Where the current member's data starts in `filePath`, when the file
    /// is a plain (uncompressed) tar and the member is stored contiguously
    /// (not sparse) and fits in the file: its bytes can then be read again
    /// straight from the file. Valid between `next()` and the next call to
    /// `next()`. A header can still lie about the size in ways only the
    /// data shows (a GNU `realsize` field): `readData` reports those.
    public var currentDataOffset: Int64? { dataOffset }

    /// Is gzip input being inflated on another thread (`inflateAhead`)? Known after the first `next()`.
    package var inflatesAhead: Bool { input.ahead != nil }

    /// Reads from an open descriptor (a pipe works: the stream is read once, forwards only).
    /// - Parameter inflateAhead: gzip input of a large regular file is
    ///   inflated on another thread ahead of the reader (`InflateAhead`),
    ///   for readers that do more than parse: extracting, re-writing.
    public init(fd: Int32, name: String, ownsDescriptor: Bool = false, progress: ByteProgress? = nil, allowEmpty: Bool = false,
                limits: Limits = .defaults, inflateAhead: Bool = false) throws {
        TextLocale.ensureUTF8()
        guard let a = archive_read_new() else {
            if ownsDescriptor { _ = close(fd) }
            throw CoreError.archive(context: name, message: "archive_read_new failed")
        }
        archive = a
        self.name = name
        self.progress = progress
        self.limits = limits
        input = ReadBox(fd: fd, owns: ownsDescriptor, progress: progress, name: name, inflateAhead: inflateAhead)
        // From here on deinit frees the handle and the box closes an owned descriptor.
        // Only the compressions ocitool reads. "All filters" would also take
        // weak magic numbers (raw LZMA, uuencode, rpm…) for streams, and hand
        // lrzip, lzop and grzip input to external programs.
        var setup: [(String, Int32)] = [
            ("gzip", archive_read_support_filter_gzip(a)), ("bzip2", archive_read_support_filter_bzip2(a)),
            ("xz", archive_read_support_filter_xz(a)), ("zstd", archive_read_support_filter_zstd(a)),
            ("tar", archive_read_support_format_tar(a)),
        ]
        if allowEmpty { setup.append(("empty", archive_read_support_format_empty(a))) }
        // ARCHIVE_WARN: libarchive lacks the library and will run the program (gzip -d…): accepted.
        for (what, rc) in setup where rc != ARCHIVE_OK && rc != ARCHIVE_WARN {
            throw CoreError.archive(context: name, message: "cannot enable \(what) reading: \(TarReader.message(a))")
        }
        // libarchive holds its own reference, released by closeCallback (also after a failed open).
        let ctx = Unmanaged.passRetained(input).toOpaque()
        // A regular file skips unread member data by seeking instead of reading it.
        let rc = archive_read_open2(a, ctx, nil, readCallback, input.seekable ? skipCallback : nil, closeCallback)
        if rc != ARCHIVE_OK {
            throw CoreError.archive(context: name, message: TarReader.message(a))
        }
    }

    deinit { archive_read_free(archive) }

    /// Advances to the next entry; nil at the end of the archive.
    /// Unread data of the previous entry is skipped.
    /// - Throws: `CoreError.archive` for what libarchive rejects,
    ///   `CoreError.malformed` for header values out of range,
    ///   `CoreError.limit` for what `limits` refuses.
    public func next() throws -> TarEntry? {
        while true {
            if pendingData { try skipData() }
            var entryPtr: OpaquePointer?
            let rc = archive_read_next_header(archive, &entryPtr)
            if rc == ARCHIVE_EOF {
                currentEntry = nil
                return nil
            }
            guard rc == ARCHIVE_OK || rc == ARCHIVE_WARN else {
                throw error(current == nil ? "reading the first header" : "reading the header after")
            }
            guard let e = entryPtr else { throw error("reading a header") }
            currentEntry = nil
            dataOffset = nil
            pendingData = true
            current = archive_entry_pathname(e).map(TarText.shown)
            let entry = try TarReader.decode(e, archiveName: name, limits: limits)
            current = TarText.display(entry.path)
            currentEntry = entry
            if entry.isSparse {
                switch limits.sparse {
                case .refuse:
                    throw CoreError.limit(context: "\(name): member \(TarText.display(entry.path))",
                                          message: "sparse member (logical size \(entry.size) bytes, \(entry.storedSize) stored) refused: this input may not hold sparse files")
                case .skip:
                    skippedSparseMembers += 1
                    continue
                case let .expand(maxLogicalSize):
                    guard entry.size <= maxLogicalSize else {
                        throw CoreError.limit(context: "\(name): member \(TarText.display(entry.path))",
                                              message: "sparse member with a logical size of \(entry.size) bytes exceeds the limit of \(maxLogicalSize) bytes")
                    }
                }
            }
            if filePath != nil, entry.kind == .regular, !entry.isSparse, outerCompression == .none {
                // The format reader has consumed every header block of this
                // member: the position of the (only) filter is where its data starts.
                let position = archive_filter_bytes(archive, 0)
                let (end, overflow) = position.addingReportingOverflow(entry.size)
                if position >= 0, !overflow, end <= input.fileSize { dataOffset = position }
            }
            return entry
        }
    }

    /// Streams the current entry's data into `sink` (holes of sparse files
    /// are written as zeros, up to the logical size `limits.sparse`
    /// admitted). Returns the number of bytes delivered: the entry's `size`.
    @discardableResult
    public func readData(into sink: ByteSink) throws -> Int64 {
        var position: Int64 = 0
        try readDataBlocks { offset, block in
            // readDataBlocks guarantees offset >= position.
            try Self.writeZeros(offset - position, into: sink)
            try sink.write(block)
            position = offset + Int64(block.count)
        } finalSize: { size in
            try Self.writeZeros(size - position, into: sink)
            position = size
        }
        return position
    }

    private static let zeroBlock = [UInt8](repeating: 0, count: 64 << 10)

    private static func writeZeros(_ count: Int64, into sink: ByteSink) throws {
        var left = count
        while left > 0 {
            let n = Int(truncatingIfNeeded: min(Int64(zeroBlock.count), left))
            try zeroBlock.withUnsafeBytes { try sink.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            left -= Int64(n)
        }
    }

    /// Streams the current entry's data as (offset, bytes) blocks straight
    /// from libarchive's buffers; sparse holes are simply not delivered.
    /// Offsets only grow, and every block lies inside the entry's `size`;
    /// a non-sparse entry's blocks are contiguous from 0 to `size`.
    /// `finalSize` receives the logical size once all data is delivered.
    /// Entries other than regular files deliver nothing (`finalSize(0)`).
    /// - Throws: `CoreError.archive` for read errors, `CoreError.malformed`
    ///   when the data does not match the header.
    public func readDataBlocks(_ body: (Int64, UnsafeRawBufferPointer) throws -> Void,
                               finalSize: ((Int64) throws -> Void)? = nil) throws {
        guard pendingData, let entry = currentEntry else { return }
        guard entry.kind == .regular else {
            try skipData()
            try finalSize?(0)
            return
        }
        pendingData = false
        let context = "\(name): member \(TarText.display(entry.path))"
        let logical = entry.size
        var end: Int64 = 0
        var idle = 0
        var buf: UnsafeRawPointer?
        var size = 0
        var offset: la_int64_t = 0
        while true {
            let rc = archive_read_data_block(archive, &buf, &size, &offset)
            if rc == ARCHIVE_EOF { break }
            guard rc == ARCHIVE_OK || rc == ARCHIVE_WARN else { throw error("reading data of") }
            guard size > 0, let b = buf else {
                idle += 1
                if idle > Self.maxIdleCalls { throw CoreError.archive(context: context, message: "the tar reader makes no progress") }
                continue
            }
            idle = 0
            let (blockEnd, overflow) = offset.addingReportingOverflow(Int64(size))
            guard offset >= 0, !overflow, blockEnd <= logical else {
                throw CoreError.malformed(context: context, message: "data at offset \(offset) lies beyond the member's size of \(logical) bytes")
            }
            if entry.isSparse {
                guard offset >= end else {
                    throw CoreError.malformed(context: context, message: "sparse data regions overlap or are out of order (offset \(offset) after \(end))")
                }
            } else if offset != end {
                throw CoreError.malformed(context: context, message: "data is not contiguous (offset \(offset) after \(end))")
            }
            try body(offset, UnsafeRawBufferPointer(start: b, count: size))
            end = blockEnd
        }
        // At the end libarchive reports the logical size through `offset`.
        guard offset == logical, entry.isSparse || end == logical else {
            throw CoreError.malformed(context: context, message: "the header announces \(logical) bytes but \(entry.isSparse ? offset : end) are stored (a size field without the data, e.g. GNU realsize)")
        }
        try finalSize?(logical)
    }

    /// Skips the current entry's data.
    public func skipData() throws {
        guard pendingData else { return }
        pendingData = false
        let rc = archive_read_data_skip(archive)
        guard rc == ARCHIVE_OK || rc == ARCHIVE_WARN || rc == ARCHIVE_EOF else { throw error("skipping data of") }
    }

    /// The compression of the outer stream: gzip when this reader inflates
    /// it itself, else the filter libarchive detected.
    public var outerCompression: Compression {
        if input.inflater != nil { return .gzip }
        let count = archive_filter_count(archive)
        guard count > 0 else { return .none }
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

    static func message(_ a: OpaquePointer) -> String {
        if let s = archive_error_string(a) { return TarText.shownMessage(s) }
        let code = archive_errno(a)
        return code != 0 ? String(cString: strerror(code)) : noMessage
    }

    private static let noMessage = "unknown libarchive error"
}

/// State shared with the C read callback.
///
/// A gzip stream (the usual layer blob) is inflated here with ISA-L, about
/// three times zlib's speed, and libarchive reads the plain tar: its own
/// gzip filter is zlib's inflate. Skips then read through (no seeking in a
/// compressed stream). Other compressions are left to libarchive's filters.
private final class ReadBox {
    let fd: Int32
    let owns: Bool
    let progress: ByteProgress?
    let name: String
    let buffer: UnsafeMutableRawPointer
    let seekable: Bool
    /// The file's size when seekable: skips never go past it.
    let fileSize: Int64
    static let size = 1 << 20
    /// Set by the first read, when the stream starts with gzip's magic.
    var inflater: IsalGzipInflater?
    /// The inflater on its own thread (`inflateAhead`, a large file, more than one core).
    var ahead: InflateAhead?
    let inflateAhead: Bool
    var started = false
    /// Files below this inflate on the reading thread (a thread costs more than it saves).
    static let aheadMinimum: Int64 = 4 << 20

    /// Reads up to `count` bytes from the descriptor (EINTR retried).
    func readRaw(_ into: UnsafeMutableRawPointer, _ count: Int) throws -> Int {
        while true {
            let n = read(fd, into, count)
            if n >= 0 {
                if n > 0 { progress?.advance(by: Int64(n)) }
                return n
            }
            if errno != EINTR { throw CoreError.io(context: "read \(name)", errno: errno) }
        }
    }

    init(fd: Int32, owns: Bool, progress: ByteProgress?, name: String, inflateAhead: Bool) {
        self.fd = fd
        self.inflateAhead = inflateAhead
        self.owns = owns
        self.progress = progress
        self.name = name
        buffer = .allocate(byteCount: ReadBox.size, alignment: 64)
        var st = stat()
        let regular = fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
        fileSize = regular ? Int64(exactly: st.st_size) ?? 0 : 0
        seekable = regular
    }

    deinit {
        ahead?.stop()  // the worker reads the descriptor: it ends first
        buffer.deallocate()
        if owns { _ = close(fd) }
    }
}

private func readCallback(_ a: OpaquePointer?, _ ctx: UnsafeMutableRawPointer?, _ out: UnsafeMutablePointer<UnsafeRawPointer?>?) -> Int {
    guard let ctx else { return -1 }
    let box = Unmanaged<ReadBox>.fromOpaque(ctx).takeUnretainedValue()
    do {
        if !box.started {
            box.started = true
            let n = try box.readRaw(box.buffer, ReadBox.size)
            let b = box.buffer.assumingMemoryBound(to: UInt8.self)
            guard n >= 3, b[0] == 0x1f, b[1] == 0x8b, b[2] == 0x08 else {
                out?.pointee = UnsafeRawPointer(box.buffer)
                return n
            }
            let inflater = IsalGzipInflater(first: UnsafeRawBufferPointer(start: box.buffer, count: n), context: box.name) { [unowned box] buffer, count in
                try box.readRaw(buffer, count)
            }
            box.inflater = inflater
            if box.inflateAhead, box.fileSize >= ReadBox.aheadMinimum, WorkerPool.cores > 1 {
                box.ahead = InflateAhead(inflater)
            }
        }
        if let ahead = box.ahead {
            let (chunk, n) = try ahead.next()
            out?.pointee = chunk
            return n
        }
        guard let inflater = box.inflater else {
            let n = try box.readRaw(box.buffer, ReadBox.size)
            out?.pointee = UnsafeRawPointer(box.buffer)
            return n
        }
        let n = try inflater.read(into: box.buffer, capacity: ReadBox.size)
        out?.pointee = UnsafeRawPointer(box.buffer)
        return n
    } catch let CoreError.io(_, code) {
        ocitool_archive_set_errno(a, code)
        return -1
    } catch let CoreError.compression(_, message) {
        message.withCString { ocitool_archive_set_message(a, EIO, $0) }
        return -1
    } catch {
        "\(error)".withCString { ocitool_archive_set_message(a, EIO, $0) }
        return -1
    }
}

/// Skips up to `request` bytes by seeking (regular files only), never past
/// the end of the file (a header may announce more than there is: reading
/// then reports the truncation); they count as read.
private func skipCallback(_ a: OpaquePointer?, _ ctx: UnsafeMutableRawPointer?, _ request: la_int64_t) -> la_int64_t {
    guard let ctx, request > 0 else { return 0 }
    let box = Unmanaged<ReadBox>.fromOpaque(ctx).takeUnretainedValue()
    // Offsets in an inflated stream are not offsets in the file: libarchive reads through.
    guard box.inflater == nil else { return 0 }
    let position = Int64(lseek(box.fd, 0, SEEK_CUR))
    guard position >= 0, position < box.fileSize else { return 0 }
    let n = min(request, box.fileSize - position)
    guard lseek(box.fd, off_t(n), SEEK_CUR) >= 0 else { return 0 }
    box.progress?.advance(by: n)
    return n
}

private func closeCallback(_ a: OpaquePointer?, _ ctx: UnsafeMutableRawPointer?) -> Int32 {
    guard let ctx else { return ARCHIVE_OK }
    Unmanaged<ReadBox>.fromOpaque(ctx).release()
    return ARCHIVE_OK
}
