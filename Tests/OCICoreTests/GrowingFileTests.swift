import Foundation
import Testing
import OCICore
import OCITestSupport

/// A file read on a worker while this thread writes it (`GrowingFile`):
/// the reader sees exactly the bytes written, and never waits past the end
/// or after the writer gives up.
@Suite struct GrowingFileTests {
    @Test func followerReadsWhatIsWrittenWhileItGrows() throws {
        let tmp = try TempDir()
        let path = tmp.file("blob")
        let data = IsalGzipTests.sample(3_000_000)
        let writer = try FileSink(creating: path)
        let growth = GrowingFile()
        let reader = Handed(file: try FileSource(path: path))
        let pool = WorkerPool(threads: 1, name: "follow")
        defer { pool.close() }
        let job = pool.submit { () -> [UInt8] in
            let reader = reader.file
            let mem = MemorySink(limit: 1 << 30, context: "t")
            let head = try reader.readGrowing(growth, atLeast: 6)
            try mem.write(contentsOf: head)
            try reader.copyFollowing(growth, to: mem, from: Int64(head.count), blockSize: 7_001)
            return mem.bytes
        }
        var written = 0
        var step = 1
        while written < data.count {
            let n = min(step, data.count - written)
            try data.withUnsafeBytes { try writer.write(UnsafeRawBufferPointer(rebasing: $0[written..<written + n])) }
            written += n
            growth.grew(to: Int64(written))
            step = step * 3 + 1
        }
        growth.complete()
        try writer.finish()
        #expect(try job.wait() == data)
    }

    @Test func followerStopsWhenTheWriterAbandons() throws {
        let tmp = try TempDir()
        let path = tmp.file("blob")
        let writer = try FileSink(creating: path)
        let growth = GrowingFile()
        let reader = Handed(file: try FileSource(path: path))
        let pool = WorkerPool(threads: 1, name: "follow")
        defer { pool.close() }
        let job = pool.submit { () -> Int64 in try reader.file.copyFollowing(growth, to: NullSink()) }
        try writer.write(contentsOf: [UInt8](repeating: 7, count: 1000))
        growth.grew(to: 1000)
        growth.abandon()
        try writer.finish()
        #expect(throws: CoreError.self) { _ = try job.wait() }
    }

    @Test func shortFinalFileEndsTheHeadRead() throws {
        let tmp = try TempDir()
        let path = tmp.file("blob")
        try FileSink(creating: path).write(contentsOf: [1, 2, 3])
        let growth = GrowingFile()
        growth.grew(to: 3)
        growth.complete()
        #expect(try FileSource(path: path).readGrowing(growth, atLeast: 6) == [1, 2, 3])
    }
}

/// A file handed to the one job that reads it.
private struct Handed: @unchecked Sendable {
    let file: FileSource
}
