import OCICore
import OCITestSupport
import Testing

/// Inputs the fuzz harnesses (Fuzz/) found, each kept as a regression test.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    static func write(_ bytes: [UInt8], _ tmp: TempDir, _ name: String) throws -> String {
        let path = tmp.file(name)
        try FS.writeAtomically(path, bytes: bytes)
        return path
    }

    /// fuzz-tar, crash-b7df7701: 490 bytes starting `6c 00 00 02` were taken
    /// by libarchive's "all filters" for a raw LZMA stream that decodes to
    /// nothing, so a reader allowing empty input (a layer) saw an empty
    /// archive instead of garbage. The reader now enables only the filters
    /// ocitool reads (gzip, bzip2, xz, zstd).
    @Test func garbageTakenForRawLZMAIsNotAnEmptyLayer() throws {
        let tmp = try TempDir()
        var bytes = [UInt8](repeating: 0, count: 490)
        bytes[0] = 0x6c
        bytes[3] = 0x02
        let path = try Self.write(bytes, tmp, "lzma-looking.bin")
        for allowEmpty in [true, false] {
            #expect {
                let reader = try TarReader(path: path, allowEmpty: allowEmpty)
                _ = try reader.next()
            } throws: { "\($0)".contains("Unrecognized archive format") }
        }
    }

    /// The same "all filters" would hand lrzip, lzop and grzip magic to
    /// external programs: those inputs are refused before anything runs.
    @Test(arguments: [Array("LRZI".utf8) + [0, 6], [0x89, 0x4c, 0x5a, 0x4f, 0x00, 0x0d, 0x0a, 0x1a, 0x0a], Array("GRZipII".utf8) + [0, 2, 4]])
    func filtersThatRunProgramsAreNotEnabled(_ magic: [UInt8]) throws {
        let tmp = try TempDir()
        let path = try Self.write(magic + [UInt8](repeating: 0x41, count: 2048), tmp, "magic.bin")
        #expect {
            let reader = try TarReader(path: path, allowEmpty: true)
            _ = try reader.next()
        } throws: { "\($0)".contains("Unrecognized archive format") }
    }

    /// An empty input, and a gzip stream of nothing, are still empty layers.
    @Test func emptyAndEmptyGzipAreEmptyLayers() throws {
        let tmp = try TempDir()
        let empty = try Self.write([], tmp, "empty")
        #expect(try TarReader(path: empty, allowEmpty: true).next() == nil)
        let gz = try Shell.run(["gzip", "-c"], stdin: [])
        let path = try Self.write(gz.stdout, tmp, "empty.gz")
        #expect(try TarReader(path: path, allowEmpty: true).next() == nil)
    }
}
