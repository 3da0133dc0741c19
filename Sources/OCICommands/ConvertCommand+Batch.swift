import ArgumentParser
import Foundation
import OCICore
import OCIArchive

/// `convert --output-dir DIR [--jobs N] IN...`: every input converted on
/// its own (a failure stops only that one, and leaves no output file), N at
/// a time, then a summary table on stdout and exit status 1 if any failed.
extension ConvertCommand {
    /// The outcome of one input.
    struct BatchResult {
        var input: String
        var output: String
        var summary: Converter.Summary?
        var error: String?
        var seconds: Double
    }

    func runBatch() throws {
        guard let dir = outputDirectory else { return }
        try FS.makeDirectories(dir)
        let outputs = try inputs.map { try Self.outputPath(for: $0, in: dir, compression: outputCompression) }
        var seen: [String: String] = [:]
        for (input, out) in zip(inputs, outputs) {
            if let other = seen[out] { throw ValidationError("\(other) and \(input) would both be written to \(out)") }
            if Self.samePath(input, out) { throw ValidationError("\(input) would be overwritten by its own conversion; choose another --output-dir") }
            seen[out] = input
        }
        let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let jobCount = min(jobs ?? cores, inputs.count)
        let perJobThreads = threads ?? max(1, cores / jobCount)
        let options = try converterOptions(threads: perJobThreads)
        let renderer = progressOptions.makeRenderer()
        renderer.multiJob = inputs.count > 1
        defer { renderer.close() }
        let cleanup = InterruptCleanup()
        defer { cleanup.disarm() }

        let queue = BatchQueue(count: inputs.count)
        let work = { @Sendable [inputs] (i: Int) -> BatchResult in
            let started = Date()
            let progress = renderer.scope(job: inputs[i])
            var o = options
            o.onSpoolDirectory = { cleanup.add($0) }
            do {
                let s = try Self.convert(input: inputs[i], toFile: outputs[i], options: o, progress: progress, cleanup: cleanup)
                progress.done(DoneReport(images: s.written, bytesIn: s.bytesIn, bytesOut: s.bytesOut, seconds: s.seconds, destination: outputs[i]))
                return BatchResult(input: inputs[i], output: outputs[i], summary: s, error: nil, seconds: s.seconds)
            } catch {
                let message = ProgressOptions.message(error)
                progress.error(message)
                return BatchResult(input: inputs[i], output: outputs[i], summary: nil, error: message,
                                   seconds: Date().timeIntervalSince(started))
            }
        }
        let threads = (0..<jobCount).map { _ in
            Thread {
                while let i = queue.take() { queue.put(i, work(i)) }
                queue.workerDone()
            }
        }
        threads.forEach {
            $0.stackSize = 4 << 20
            $0.start()
        }
        let results = queue.wait(workers: jobCount)
        renderer.close()

        let failed = results.filter { $0.error != nil }
        if progressOptions.quiet {
            for r in failed { Console.err("error: \(r.input): \(r.error ?? "")") }
        } else if progressOptions.effectiveMode != .json {
            Console.out(Self.table(results))
        }
        if !failed.isEmpty { throw ExitCode.failure }
    }

    /// `DIR/<input name without archive suffixes>.tar[.gz|.zst]`.
    static func outputPath(for input: String, in dir: String, compression: OutputCompression) throws -> String {
        var name = PathString(input).lastComponent
        let lower = name.lowercased()
        for suffix in [".tar.gz", ".tgz", ".tar.zst", ".tar.zstd", ".tar.xz", ".txz", ".tar.bz2", ".tbz2", ".tar"] where lower.hasSuffix(suffix) {
            name = String(name.dropLast(suffix.count))
            break
        }
        if name.isEmpty || name == "." || name == ".." || name == "/" { name = "image" }
        let ext = compression == .gzip ? ".tar.gz" : compression == .zstd ? ".tar.zst" : ".tar"
        return (dir.hasSuffix("/") ? dir : dir + "/") + name + ext
    }

    static func samePath(_ a: String, _ b: String) -> Bool {
        URL(fileURLWithPath: a).standardizedFileURL.resolvingSymlinksInPath().path
            == URL(fileURLWithPath: b).standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// INPUT IMAGES LAYERS IN OUT TIME STATUS, one row per input, in input order.
    static func table(_ results: [BatchResult]) -> String {
        let rows = results.map { r -> [String] in
            let s = r.summary
            return [r.input, s.map { "\($0.images)" } ?? "-", s.map { "\($0.layers)" } ?? "-",
                    s.map { HumanUnits.size($0.bytesIn) } ?? "-", s.map { HumanUnits.size($0.bytesOut) } ?? "-",
                    ProgressRenderer.seconds(r.seconds), r.error.map { "failed: \($0)" } ?? "ok"]
        }
        return Console.table(["INPUT", "IMAGES", "LAYERS", "BYTES IN", "BYTES OUT", "TIME", "STATUS"], rows)
    }
}

/// Hands out input indexes to the batch workers and collects their results.
private final class BatchQueue: @unchecked Sendable {
    private let cond = NSCondition()
    private var next = 0
    private let count: Int
    private var results: [Int: ConvertCommand.BatchResult] = [:]
    private var finishedWorkers = 0

    init(count: Int) { self.count = count }

    func take() -> Int? {
        cond.withLock {
            guard next < count else { return nil }
            defer { next += 1 }
            return next
        }
    }

    func put(_ i: Int, _ r: ConvertCommand.BatchResult) {
        cond.withLock { results[i] = r }
    }

    func workerDone() {
        cond.withLock {
            finishedWorkers += 1
            cond.broadcast()
        }
    }

    func wait(workers: Int) -> [ConvertCommand.BatchResult] {
        cond.withLock {
            while finishedWorkers < workers { cond.wait() }
            return (0..<count).compactMap { results[$0] }
        }
    }
}
