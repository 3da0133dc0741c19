import Foundation
import OCICore
import OCIStore
import OCIArchive
import OCIImage
import OCILayer
import OCITestSupport

/// Small helpers shared by this target's tests.
enum LayerTests {
    /// Layer sources for tar files written by a test.
    static func sources(_ paths: [String]) -> [LayerSource] {
        paths.enumerated().map { LayerSource(path: $1, name: "layer \($0 + 1)") }
    }

    /// Writes `layers` (member lists) as tar files in `dir`.
    static func writeLayers(_ layers: [[TarFixtures.Member]], in dir: String) throws -> [String] {
        try layers.enumerated().map { i, members in
            let path = "\(dir)/l\(i + 1).tar"
            try TarFixtures.writeTar(members, to: path)
            return path
        }
    }

    /// Extracts a tar with GNU tar the way a faithful consumer would
    /// (owners, modes, xattrs, devices), into `dir`.
    static func gnuExtract(_ tar: String, into dir: String) throws {
        try FS.makeDirectories(dir)
        let r = try Shell.run(["tar", "--xattrs", "--xattrs-include=*", "--same-owner", "--same-permissions",
                               "--numeric-owner", "-xf", tar, "-C", dir])
        guard r.status == 0 else { throw UnionOracles.Failure(description: "tar -xf \(tar): \(r.stderr)") }
    }

    /// Names listed by GNU `tar -t`, normalised (no `./`, no trailing `/`).
    static func tarNames(_ tar: String) throws -> [String] {
        try PeerTools.listNames("tar", archive: tar).map { TarEntry.normalize($0) }.filter { $0 != "." }
    }

    /// Exports `layers` into a file.
    @discardableResult
    static func export(_ layers: [LayerSource], to path: String, limits: UnionLimits = .defaults,
                       skipUnsafe: Bool = false) throws -> UnionExporter.Report {
        let sink = try FileSink(creating: path)
        return try UnionExporter.export(layers, to: sink, name: path, limits: limits, skipUnsafe: skipUnsafe)
    }

    /// Everything unpack restores except directory times: what is compared
    /// with umoci, which leaves the time of the unpack on directories that a
    /// whiteout or an implicit parent touched.
    static var full: TreeListing.Options {
        var o = TreeListing.Options()
        o.fileTimes = true
        return o
    }

    /// Everything, directory times included: for our own views of one stack
    /// (unpack, export, squash) and podman's.
    static var exact: TreeListing.Options {
        var o = full
        o.directoryTimes = true
        return o
    }

    /// The umoci oracle for an image record: its blobs as an OCI layout,
    /// converted by skopeo to OCI media types and gzip layers, unpacked by
    /// umoci (as root, no --rootless).
    /// - Returns: umoci's root file system.
    static func umociRootfs(for record: Image, in tmp: TempDir) throws -> String {
        let raw = tmp.file("umoci-src"), converted = tmp.file("umoci-oci")
        try ImageLayoutBuilder.write(record: record, to: raw)
        try UnionOracles.skopeoToOCI("oci:\(raw):t", layout: converted)
        return try UnionOracles.umociUnpack(layout: converted, bundle: tmp.file("umoci-bundle"))
    }

    /// The umoci oracle for hand-made layers.
    static func umociRootfs(layers: [String], in tmp: TempDir) throws -> String {
        let layout = tmp.file("umoci-layout")
        try ImageLayoutBuilder.write(layers: layers.map { try FS.readFile($0) }, to: layout)
        return try UnionOracles.umociUnpack(layout: layout, bundle: tmp.file("umoci-bundle"))
    }
}
