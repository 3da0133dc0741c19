import ArgumentParser
import Foundation
import OCICore
import OCIModel
import OCIImage
import OCIStore
import OCIArchive
import OCITransport
import OCIRegistry

extension StoreOptions {
    /// The transport context of this command.
    func context(format: ArchiveWriter.Flavour = .docker, outer: Compression = .none, threads: Int = 0,
                 registry: RegistryFlags? = nil) throws -> TransportContext {
        TransportContext(store: store, archiveFormat: format, outerCompression: outer,
                         mtime: try ArchiveWriter.Options.sourceDateEpoch(), threads: threads,
                         registry: try registry?.options() ?? RegistryOptions())
    }
}

/// Checks on the standard streams every verb makes the same way.
enum Streams {
    /// Refuses to write an archive to a terminal.
    static func checkOutput(_ destination: TransportReference) throws {
        if destination.isStandardStream && Console.stdoutIsTerminal {
            throw UsageError("refusing to write an archive to a terminal; redirect stdout or use -o FILE")
        }
    }

    /// Refuses to read an archive from a terminal.
    static func checkInput(_ source: TransportReference) throws {
        if source.isStandardStream && Console.stdinIsTerminal {
            throw UsageError("reading an archive from stdin, but stdin is a terminal; give a file or pipe an archive in")
        }
    }
}

/// `--platform os/arch[/variant]`.
struct PlatformOption: ParsableArguments {
    @Option(help: "Platform of a multi-platform image, os/arch[/variant] (default: this machine's).")
    var platform: String?

    func parsed() throws -> Platform? {
        do { return try platform.map { try Platform(parsing: $0) } } catch { throw UsageError("\(error)") }
    }
}

/// `--platform os/arch[/variant]` for verbs that keep every platform unless
/// asked (load, save, pull, push, sync: docker's "only the given platform").
struct KeepPlatformOption: ParsableArguments {
    @Option(help: "Keep only this platform of a multi-platform image, os/arch[/variant] (default: every platform).")
    var platform: String?

    func parsed() throws -> Platform? { try PlatformOption(platform: platform).parsed() }
}

extension PlatformOption {
    init(platform: String?) {
        self.init()
        self.platform = platform
    }
}

/// Layer compression choices of `--compress`.
enum CompressChoice: String, ExpressibleByArgument, CaseIterable {
    case keep, gzip, zstd, none

    var target: LayerCompression? {
        switch self {
        case .keep: return nil
        case .gzip: return .gzip
        case .zstd: return .zstd
        case .none: return LayerCompression.none
        }
    }
}

extension ArchiveWriter.Flavour: ExpressibleByArgument {}

extension ImageCopy.Report {
    /// The `done` event of this copy.
    func done(destination: String) -> DoneReport {
        DoneReport(images: images, bytesIn: bytesIn, bytesOut: bytesOut, seconds: seconds, destination: destination)
    }
}
