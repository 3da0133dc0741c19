import OCICore
#if canImport(Glibc)
import Glibc
#endif

/// A sequence of archive members with streamed data: a tar stream
/// (`TarReader`) or a directory tree (`DirectoryMemberSource`).
public protocol MemberSource: AnyObject {
    /// Names the source in errors.
    var name: String { get }
    /// The next member, or nil at the end.
    func next() throws -> TarEntry?
    /// Streams the current member's data into `sink`.
    @discardableResult
    func readData(into sink: ByteSink) throws -> Int64
}

extension TarReader: MemberSource {}

/// Presents a directory tree (an OCI image layout, an unpacked docker save)
/// as archive members, in sorted order. Symlinks are reported as symlinks.
public final class DirectoryMemberSource: MemberSource {
    public let name: String
    private var pending: [String]
    private var current: FileSource?
    private var currentPath: String?

    public init(directory: String) throws {
        name = directory
        guard FS.isDirectory(directory) else {
            throw CoreError.io(context: "open \(directory)", errno: ENOTDIR)
        }
        var files: [String] = []
        func walk(_ rel: String) throws {
            let full = rel.isEmpty ? directory : directory + "/" + rel
            for n in try FS.listDirectory(full) {
                let r = rel.isEmpty ? n : rel + "/" + n
                var st = stat()
                guard lstat(directory + "/" + r, &st) == 0 else { continue }
                if (st.st_mode & S_IFMT) == S_IFDIR { try walk(r) } else { files.append(r) }
            }
        }
        try walk("")
        pending = files.sorted().reversed()
    }

    public func next() throws -> TarEntry? {
        current = nil
        currentPath = nil
        guard let rel = pending.popLast() else { return nil }
        let full = name + "/" + rel
        var st = stat()
        guard lstat(full, &st) == 0 else { throw CoreError.io(context: "stat \(full)", errno: errno) }
        switch st.st_mode & S_IFMT {
        case S_IFLNK:
            var buf = [CChar](repeating: 0, count: 4097)
            let n = readlink(full, &buf, 4096)
            guard n >= 0 else { throw CoreError.io(context: "readlink \(full)", errno: errno) }
            let target = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return TarEntry(path: rel, kind: .symlink, linkTarget: target)
        case S_IFREG:
            current = try FileSource(path: full)
            currentPath = full
            return TarEntry(path: rel, kind: .regular, mode: UInt32(st.st_mode & 0o7777), size: Int64(st.st_size))
        default:
            return TarEntry(path: rel, kind: .unknown)
        }
    }

    public func readData(into sink: ByteSink) throws -> Int64 {
        guard let c = current else { return 0 }
        current = nil
        return try c.copy(to: sink)
    }
}

extension DirectoryMemberSource: LocatableMemberSource {
    func location(size: Int64) -> MemberLocation? {
        currentPath.map { MemberLocation(path: $0, offset: 0, size: size) }
    }
}

/// Opens an archive's members for reading in order.
public enum ArchiveMembers {
    /// A directory (its files, sorted), a file (any compression), or `-`/nil for standard input.
    public static func open(_ path: String?, progress: ByteProgress? = nil, limits: TarReader.Limits = .defaults) throws -> MemberSource {
        guard let path, path != "-" else { return try TarReader(fd: 0, name: "stdin", progress: progress, limits: limits) }
        if FS.isDirectory(path) { return try DirectoryMemberSource(directory: path) }
        // libarchive calls an empty file an "Unrecognized archive format": say what it is.
        if FS.exists(path), (try? FS.size(path)) == 0 {
            throw CoreError.archive(context: path, message: "the file is empty (0 bytes), not an image archive")
        }
        return try TarReader(path: path, progress: progress, limits: limits)
    }
}

/// One member read from its place in a file (`ScannedArchive` stages the
/// largest layer of a tar file this way before scanning the rest).
final class LocatedMember: LocatableMemberSource {
    let name: String
    private let path: String
    private let location: MemberLocation

    init(name: String, path: String, location: MemberLocation) {
        self.name = name
        self.path = path
        self.location = location
    }

    func next() throws -> TarEntry? { nil }

    func location(size: Int64) -> MemberLocation? { location }

    func readData(into sink: ByteSink) throws -> Int64 {
        try location.copy(into: sink, context: "\(name): member \(path)")
        return location.size
    }
}
