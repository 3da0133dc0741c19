import Foundation
import OCICore
import OCIModel
import OCIImage
#if canImport(Glibc)
import Glibc
#endif

/// Re-encoding layer blobs while an archive is read (`convert --compress`):
/// a member that looks like a layer in another compression (a gzip or zstd
/// stream, or a plain tar) is decoded and encoded straight into the spool,
/// so only the re-encoded copy is ever written to disk. Its original digest
/// and size (what the manifest names) and its diff_id are computed on the
/// way; `ArchiveRecognizer` verifies them as for any blob, and the layer
/// recoder then uses the new blob (`SourceContents.recoded`).
///
/// Where the member's bytes can be read again (a plain tar file, a layout
/// directory), the re-encoding runs on a pool of workers (`RecodePlan.layersAtOnce`),
/// reading the member from the file while the scan goes on; from a stream
/// (stdin, a compressed archive) it runs inline as the member is read. Both
/// give the same bytes. A member not recognised as a layer here (JSON, an
/// empty tar without a ustar header) is spooled as it is.

/// Where a member's bytes lie in a regular file, to be read again.
struct MemberLocation: Sendable {
    let path: String
    let offset: Int64
    let size: Int64
}

extension MemberLocation {
    /// Streams `size` bytes from `offset` of its file.
    /// - Throws: `CoreError.malformed` (under `context`) when the file ends
    ///   first: it changed since its headers were read.
    func copy(into sink: ByteSink, context: String) throws {
        let file = try FileSource(path: path)
        guard lseek(file.fd, off_t(offset), SEEK_SET) == off_t(offset) else {
            throw CoreError.io(context: "seek \(path)", errno: errno)
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        var left = size
        while left > 0 {
            let want = Int(min(Int64(buffer.count), left))
            let n = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]))
            if n == 0 { break }
            try sink.write(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            left -= Int64(n)
        }
        guard left == 0 else {
            throw CoreError.malformed(context: context, message: "\(path) changed while being read (\(size - left) of \(size) bytes at offset \(offset))")
        }
    }
}

/// A member source whose members can be read again from a file.
protocol LocatableMemberSource: MemberSource {
    /// The current member's location (call between `next()` and reading its data).
    func location(size: Int64) -> MemberLocation?
}

extension TarReader: LocatableMemberSource {
    func location(size: Int64) -> MemberLocation? {
        guard let path = filePath, let offset = currentDataOffset else { return nil }
        return MemberLocation(path: path, offset: offset, size: size)
    }
}

extension ScannedArchive {
    /// Reads one member, re-encoding it if it is a layer in another
    /// compression: on the pool when it can be read again from a file
    /// (returns nil: the blob is registered by `collectRecodes()`), else inline.
    func ingestRecoding(_ source: MemberSource, path: String, size: Int64, plan: RecodePlan,
                        progress: ProgressScope?) throws -> Blob? {
        let context = "\(name): \(path)"
        if let pool = recodePool, let location = (source as? LocatableMemberSource)?.location(size: size),
           let from = plan.sourceCompression(head: try Self.head(of: location)) {
            pool.submit(RecodeJob(member: path, location: location, from: from, plan: plan, staging: staging,
                                  context: context, progress: progress))
            return nil
        }
        // Work on this thread from here on: let the pool use the other cores meanwhile.
        if size >= 1 << 20 { recodePool?.start() }
        let task = progress?.task(id: path, label: path, phase: "read", total: size)
        defer { task?.finish() }
        let sink = RecodingIngestSink(plan: plan, staging: staging, size: size, context: context, task: task)
        let outcome: RecodingIngestSink.Outcome
        do {
            let counted: ByteSink = task.map { CountingSink(forwardingTo: sink, progress: $0.bytes) } ?? sink
            try source.readData(into: counted)
            outcome = try sink.close()
        } catch {
            sink.abandon()
            throw error
        }
        switch outcome {
        case let .kept(staged, digester, parallel):
            let blob = Blob(digest: staged.digest, size: staged.size, compression: digester.compression ?? .none,
                            uncompressedDigest: digester.uncompressedDigest, decodeError: digester.decodeError,
                            staged: staged, member: path)
            let registered = register(blob, member: path)
            if registered.staged == staged, parallel, blob.compression == .gzip || blob.compression == .zstd {
                verifier.submit(blob.digest, path: staged.path, context: context)
            }
            return registered
        case let .recoded(result):
            return register(Self.blob(result, member: path), member: path)
        }
    }

    /// Records `blob` for `member`; a second copy of a known blob is discarded.
    private func register(_ blob: Blob, member: String) -> Blob {
        members[member] = blob.digest
        if let existing = blobs[blob.digest] {
            blob.staged?.discard()
            blob.recoded?.staged.discard()
            return existing
        }
        blobs[blob.digest] = blob
        return blob
    }

    /// Waits for the pool and records the blobs it re-encoded.
    /// - Throws: the first failure, in member order (after removing every staged result).
    func collectRecodes() throws {
        guard let pool = recodePool else { return }
        recodePool = nil
        let results = pool.wait()
        if let failure = results.sorted(by: { $0.key < $1.key }).lazy.compactMap({ r -> Error? in
            if case let .failure(e) = r.value { return e }
            return nil
        }).first {
            for case let .success(r) in results.values { r.staged.discard() }
            throw failure
        }
        for (member, result) in results.sorted(by: { $0.key < $1.key }) {
            guard case let .success(r) = result else { continue }
            _ = register(Self.blob(r, member: member), member: member)
        }
    }

    /// The blob a re-encoded member stands for (its original digest and size).
    static func blob(_ r: RecodedLayer, member: String) -> Blob {
        let compression = Compression(layer: r.from)
        return Blob(digest: r.original, size: r.originalSize, compression: compression,
                    uncompressedDigest: compression == .none ? nil : r.diffID, decodeError: nil,
                    staged: nil, member: member, recoded: r)
    }

    /// Up to 512 bytes from the start of a member, read from its file.
    static func head(of location: MemberLocation) throws -> [UInt8] {
        let file = try FileSource(path: location.path)
        guard lseek(file.fd, off_t(location.offset), SEEK_SET) == off_t(location.offset) else {
            throw CoreError.io(context: "seek \(location.path)", errno: errno)
        }
        return try file.readPrefix(Int(min(512, location.size)))
    }
}
