import OCICore
#if canImport(Glibc)
import Glibc
#endif

/// Unpacks a layer stack into a directory: the union view on disk.
///
/// ```swift
/// let report = try Unpacker.unpack(LayerSource.layers(of: record), into: "rootfs")
/// ```
public enum Unpacker {
    /// Applies `layers` bottom-up into `directory` (created when missing).
    ///
    /// - Parameters:
    ///   - warn: receives one line per skipped unsafe entry (with `skipUnsafe`).
    /// - Returns: what was done and what had to be left out (see `UnpackReport.summary`).
    /// - Throws: `LayerError` naming the layer and entry; the directory then
    ///   holds a partial result, and nothing outside it has been touched.
    @discardableResult
    public static func unpack(_ layers: [LayerSource], into directory: String, options: UnpackOptions = UnpackOptions(),
                              warn: @escaping (String) -> Void = { _ in }) throws -> UnpackReport {
        let empty = try prepare(directory, allowNonEmpty: options.allowNonEmpty)
        let root = try RootedDirectory(path: directory, limits: options.limits, empty: empty)
        let applier = LayerApplier(root: root, options: options, warn: warn)
        for layer in layers { try applier.apply(layer) }
        try applier.finish()
        var report = applier.report
        report.steps = root.steps
        return report
    }

    /// Makes `directory` if needed; refuses a file, or a non-empty directory
    /// unless allowed.
    /// - Returns: whether the directory is empty.
    @discardableResult
    static func prepare(_ directory: String, allowNonEmpty: Bool) throws -> Bool {
        var st = stat()
        if stat(directory, &st) != 0 {
            guard errno == ENOENT else { throw LayerError.destination(path: directory, reason: String(cString: strerror(errno))) }
            do { try FS.makeDirectories(directory) } catch {
                throw LayerError.destination(path: directory, reason: "cannot create: \(error)")
            }
            return true
        }
        guard Sys.isDir(st) else { throw LayerError.destination(path: directory, reason: "exists and is not a directory") }
        guard let names = try? FS.listDirectory(directory) else { return false }
        if !allowNonEmpty && !names.isEmpty {
            throw LayerError.destination(path: directory, reason: "is not empty (use --force to apply the layers over its content)")
        }
        return names.isEmpty
    }
}
