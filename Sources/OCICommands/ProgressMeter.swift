import Foundation
import OCICore

/// A one-line byte counter on stderr, redrawn at most 10 times a second;
/// only used when stderr is a terminal.
final class ProgressMeter: @unchecked Sendable {
    let progress: ByteProgress
    private let lock = NSLock()
    private var lastDraw = Date.distantPast
    private let start = Date()

    static func forStderr(label: String, total: Int64?, quiet: Bool) -> ProgressMeter? {
        guard !quiet, Console.stderrIsTerminal else { return nil }
        return ProgressMeter(label: label, total: total)
    }

    init(label: String, total: Int64?) {
        let box = WeakMeter()
        progress = ByteProgress(label: label, total: total) { done, total in box.meter?.draw(done, total) }
        box.meter = self
    }

    private func draw(_ done: Int64, _ total: Int64?, force: Bool = false) {
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        guard force || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        let secs = max(now.timeIntervalSince(start), 0.001)
        let rate = HumanUnits.size(Int64(Double(done) / secs)) + "/s"
        var line = "\(progress.label): \(HumanUnits.size(done))"
        if let total, total > 0 {
            let pct = min(100, Int(Double(done) * 100 / Double(total)))
            line += " / \(HumanUnits.size(total)) (\(pct)%)"
            if done > 0 && done < total {
                let eta = Double(total - done) / (Double(done) / secs)
                line += " ETA \(Int(eta))s"
            }
        }
        line += "  \(rate)"
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
    }

    func done() {
        draw(progress.done, progress.total, force: true)
        FileHandle.standardError.write(Data("\n".utf8))
    }
}

private final class WeakMeter: @unchecked Sendable {
    weak var meter: ProgressMeter?
}
