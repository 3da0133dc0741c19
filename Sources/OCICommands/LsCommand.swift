import ArgumentParser
import Foundation
import OCICore
import OCIImage
import OCILayer
import OCITransport

struct LsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List a directory of an image's merged file system (the union of its layers), without unpacking it.",
        discussion: """
        IMAGE[:PATH] or IMAGE PATH; PATH defaults to /. With -l: mode, owner, size, time and the layer that wrote each path.

        Examples:
          ocitool ls app:1 /etc
          ocitool ls -l app.tar:/usr/bin
        """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var registryFlags: RegistryFlags
    @OptionGroup var union: UnionOptions
    @Flag(name: .short, help: "Long listing: mode, uid/gid, size, mtime, layer, name.") var long = false
    @Flag(name: [.customShort("R"), .long], help: "List every path below PATH.") var recursive = false
    @Argument(help: "Image (store reference, archive, layout directory, transport, -), optionally with :/PATH.") var image: String
    @Argument(help: "Path inside the image (default /).") var path: String?

    func run() throws {
        let (ref, inner) = Self.split(image, path)
        let reader = try ImageReader(ref, context: try storeOptions.context(registry: registryFlags))
        defer { reader.close() }
        let layers = try LayerSource.layers(of: reader.image(platform: try union.parsedPlatform()))
        for e in try UnionQuery.list(layers, path: inner, recursive: recursive, limits: union.limits) {
            Console.out(long ? Self.longLine(e) : e.path + (e.kind == .directory ? "/" : ""))
        }
    }

    /// `IMG:/path` → (`IMG`, `/path`) when the part after the last `:` is absolute.
    static func split(_ image: String, _ path: String?) -> (String, String) {
        if let path { return (image, path) }
        // `oci:/abs/dir` and `docker-archive:/abs/f.tar` are transports, not IMG:/PATH.
        if let colon = image.lastIndex(of: ":"), image[image.index(after: colon)...].hasPrefix("/"),
           !["oci", "oci-archive", "docker-archive", "store", "docker"].contains(String(image[..<colon])) {
            return (String(image[..<colon]), String(image[image.index(after: colon)...]))
        }
        return (image, "/")
    }

    static func longLine(_ e: UnionQuery.Entry) -> String {
        let date = Date(timeIntervalSince1970: TimeInterval(e.mtime))
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm"
        let name = e.path + (e.linkTarget.map { e.kind == .symlink ? " -> \($0)" : "" } ?? "")
        let layer = e.layer.map { "\($0 + 1)" } ?? "-"
        return "\(modeString(e.kind, e.mode)) \(e.uid)/\(e.gid) \(String(e.size).leftPad(10)) \(f.string(from: date)) L\(layer.leftPad(2)) \(name)"
    }

    /// `drwxr-xr-x`, as ls and tar print it.
    static func modeString(_ kind: TarEntry.Kind, _ mode: UInt32) -> String {
        let type: Character
        switch kind {
        case .directory: type = "d"
        case .symlink: type = "l"
        case .characterDevice: type = "c"
        case .blockDevice: type = "b"
        case .fifo: type = "p"
        case .socket: type = "s"
        default: type = "-"
        }
        var s = String(type)
        let bits: [(UInt32, Character)] = [(0o400, "r"), (0o200, "w"), (0o100, "x"), (0o040, "r"), (0o020, "w"), (0o010, "x"),
                                           (0o004, "r"), (0o002, "w"), (0o001, "x")]
        for (i, (bit, c)) in bits.enumerated() {
            var ch: Character = mode & bit != 0 ? c : "-"
            if i == 2 && mode & 0o4000 != 0 { ch = ch == "x" ? "s" : "S" }
            if i == 5 && mode & 0o2000 != 0 { ch = ch == "x" ? "s" : "S" }
            if i == 8 && mode & 0o1000 != 0 { ch = ch == "x" ? "t" : "T" }
            s.append(ch)
        }
        return s
    }
}

struct CatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cat",
        abstract: "Write a file of an image's merged file system to stdout, without unpacking the image.",
        discussion: """
        Symlinks are followed inside the image. IMAGE is any source: store reference, archive, layout directory, transport, or -.

        Examples:
          ocitool cat app:1 /etc/os-release
          ocitool cat app.tar /etc/passwd | grep root
        """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var registryFlags: RegistryFlags
    @OptionGroup var union: UnionOptions
    @Argument(help: "Image (store reference, archive, layout directory, transport, -).") var image: String
    @Argument(help: "Path of the file inside the image.") var path: String

    func run() throws {
        let reader = try ImageReader(image, context: try storeOptions.context(registry: registryFlags))
        defer { reader.close() }
        let layers = try LayerSource.layers(of: reader.image(platform: try union.parsedPlatform()))
        let out = AtomicOutput.standardOutput()
        let sink = BufferedSink(out.sink)
        try UnionQuery.cat(layers, path: path, into: sink, limits: union.limits)
        try sink.finish()  // flushes the buffer (finishing the output's sink does not close stdout)
        try out.commit()
    }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
