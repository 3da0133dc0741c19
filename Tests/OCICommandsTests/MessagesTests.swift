import Foundation
import Testing
import OCICore
import OCITestSupport

/// Error messages name what is wrong and where, on one line.
@Suite("messages")
struct MessagesTests {
    /// An OCI layout whose index.json lists one manifest with these bytes.
    static func layout(manifest: [UInt8], in dir: TempDir) throws -> String {
        let root = dir.file("layout")
        try FS.makeDirectories(root + "/blobs/sha256")
        let digest = SHA256Hasher.digest(manifest)
        try FS.writeAtomically(root + "/blobs/sha256/" + digest.encoded, bytes: manifest)
        try FS.writeAtomically(root + "/oci-layout", bytes: Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
        let index = #"{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\#(digest)","size":\#(manifest.count)}]}"#
        try FS.writeAtomically(root + "/index.json", bytes: Array(index.utf8))
        return root
    }

    @Test func schema1InAnOCIIndexIsNamed() throws {
        let tmp = try TempDir(prefix: "ocitool-msg")
        let dir = try Self.layout(manifest: Array(#"{"schemaVersion":1,"name":"x","tag":"v","fsLayers":[],"history":[]}"#.utf8), in: tmp)
        for args in [["load", "--root", tmp.file("root"), dir], ["inspect", dir], ["history", dir]] {
            let r = try OCIToolBinary.run(args)
            #expect(r.status == 1, "\(args)")
            #expect(r.stderr.contains("Docker schema 1 manifests are not supported"), "\(args): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1)
        }
    }

    @Test func emptyFileSaysItIsEmpty() throws {
        let tmp = try TempDir(prefix: "ocitool-msg")
        try FS.writeAtomically(tmp.file("empty.tar"), bytes: [])
        for args in [["load", "--root", tmp.file("root"), tmp.file("empty.tar")], ["members", tmp.file("empty.tar")], ["inspect", tmp.file("empty.tar")]] {
            let r = try OCIToolBinary.run(args)
            #expect(r.status == 1, "\(args)")
            #expect(r.stderr.contains("empty.tar: the file is empty (0 bytes)"), "\(args): \(r.stderr)")
        }
    }

    @Test func jsonErrorsNameTheFieldAndPlace() throws {
        let tmp = try TempDir(prefix: "ocitool-msg")
        let dir = try Self.layout(manifest: Array(#"{"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:\#(String(repeating: "a", count: 64))","size":"big"},"layers":[]}"#.utf8), in: tmp)
        let wrongType = try OCIToolBinary.run(["inspect", dir])
        #expect(wrongType.stderr.contains("wrong type at config.size: expected a number"), "\(wrongType.stderr)")
        try FS.writeAtomically(dir + "/index.json", bytes: Array("{\"schemaVersion\":2,\n \"manifests\":[{\"digest\": \"sha256:1\"".utf8))
        let truncated = try OCIToolBinary.run(["inspect", dir])
        #expect(truncated.status == 1)
        #expect(truncated.stderr.contains("index.json") && truncated.stderr.contains("at line 2, column"), "\(truncated.stderr)")
        #expect(!truncated.stderr.contains("couldn't be read"))
    }

    @Test func loadPlatformNotPresentNamesWhatIs() throws {
        let tmp = try TempDir(prefix: "ocitool-msg")
        let r = try OCIToolBinary.run(["load", "--root", tmp.file("root"), "--platform", "linux/riscv64", Fixtures.testImagesDir + "/podman-docker.tar"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("linux/amd64") && r.stderr.contains("linux/riscv64"), "\(r.stderr)")
        #expect(!FS.exists(tmp.file("root") + "/index.json"))
    }
}
