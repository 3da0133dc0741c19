import Foundation
import OCICore

/// A directory beside an unpack target that hostile input must leave alone,
/// and the names beside the target that a test made itself: a snapshot
/// taken before and after an operation shows whether anything outside the
/// target was changed or written.
public enum Canary {
    /// The canary's tree (times included) and the names beside the target
    /// that the test did not make.
    public struct Snapshot: Equatable, Sendable {
        public var canary: TreeListing
        public var strangers: Set<String>
    }

    /// Makes `canary/` (a subdirectory and a file) in `tmp`.
    public static func plant(in tmp: TempDir) throws {
        try FS.makeDirectories(tmp.file("canary/sub"))
        try FS.writeAtomically(tmp.file("canary/keep"), bytes: Array("canary\n".utf8))
    }

    /// The snapshot of `tmp`, where the test made `expected` (names in `tmp`).
    public static func snapshot(_ tmp: TempDir, expected: Set<String>) throws -> Snapshot {
        var o = TreeListing.Options()
        o.fileTimes = true
        o.directoryTimes = true
        let names = Set(try FS.listDirectory(tmp.path)).subtracting(expected)
        return Snapshot(canary: try TreeListing(directory: tmp.file("canary"), options: o), strangers: names)
    }
}
