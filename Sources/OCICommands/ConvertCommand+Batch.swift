import ArgumentParser
import Foundation
import OCICore
import OCIArchive
import OCIImage
import OCITransport

/// `convert --output-dir DIR [--jobs N] IN...`: every input converted on
/// its own (a failure stops only that one, and leaves no output file), N at
/// a time, then a summary table on stdout and exit status 1 if any failed.
extension ConvertCommand {
    /// The outcome of one input.
    struct BatchResult {
        var input: String
        var output: String
        var summary: ImageCopy.Report?
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
        let cores = WorkerPool.cores
        let jobCount = min(jobs ?? cores, inputs.count)
        let perJobThreads = threads ?? max(1, cores / jobCount)
        let renderer = progressOptions.makeRenderer()
        renderer.multiJob = inputs.count > 1
        defer { renderer.close() }
        let pool = WorkerPool(threads: jobCount, name: "convert", stackSize: 4 << 20)
        let pending = inputs.indices.map { i in
            pool.submit { () -> BatchResult in
                let started = Date()
                let progress = renderer.scope(job: inputs[i])
                do {
                    let r = try convert(input: inputs[i], output: outputs[i], threads: perJobThreads, progress: progress)
                    return BatchResult(input: inputs[i], output: outputs[i], summary: r, error: nil, seconds: r.seconds)
                } catch {
                    let message = OCIToolMain.oneLine(error)
                    progress.error(message)
                    return BatchResult(input: inputs[i], output: outputs[i], summary: nil, error: message,
                                       seconds: Date().timeIntervalSince(started))
                }
            }
        }
        let results = pending.map { p in
            (try? p.wait()) ?? BatchResult(input: "", output: "", summary: nil, error: "cancelled", seconds: 0)
        }
        pool.close()
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
            return [r.input, s.map { "\($0.images.count)" } ?? "-", s.map { "\(Set($0.images.flatMap(\.layers)).count)" } ?? "-",
                    s.map { HumanUnits.size($0.bytesIn) } ?? "-", s.map { HumanUnits.size($0.bytesOut) } ?? "-",
                    ProgressRenderer.seconds(r.seconds), r.error.map { "failed: \($0)" } ?? "ok"]
        }
        return Console.table(["INPUT", "IMAGES", "LAYERS", "BYTES IN", "BYTES OUT", "TIME", "STATUS"], rows)
    }
}
