import ArgumentParser
import Foundation
import OCICore
import OCIImage
#if canImport(Glibc)
import Glibc
#endif

/// `--progress auto|tty|plain|json`.
enum ProgressMode: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// Bars when stderr is a terminal; otherwise only warnings.
    case auto
    /// A bar per layer with bytes, rate and ETA, redrawn in place.
    case tty
    /// One line per step, for logs.
    case plain
    /// One JSON object per line (NDJSON), for programs.
    case json
}

/// The progress options every long-running verb shares. Adopting them:
///
/// ```swift
/// @OptionGroup var progressOptions: ProgressOptions
/// let progress = progressOptions.makeReporter(job: input)
/// try progressOptions.run(progress) { … pass progress to the library, or
///     progress.task(…).bytes into a ByteProgress parameter … }
/// ```
struct ProgressOptions: ParsableArguments {
    @Option(name: .long, help: "Progress on stderr: auto (bars on a terminal, else warnings only), tty, plain (lines, for logs) or json (NDJSON events).")
    var progress: ProgressMode = .auto

    @Flag(name: .shortAndLong, help: "Print no progress, warnings or summaries (errors still go to stderr).")
    var quiet = false

    /// The mode in effect (`auto` resolved; nil when quiet).
    ///
    /// `auto` draws bars only when stderr is a terminal that can move the
    /// cursor (`TERM` set and not `dumb`) and stdout is not a pipe: in
    /// `ocitool save app | ocitool load` on one terminal, the process
    /// writing into the pipe draws none and the reading one owns the bars,
    /// so the two never garble each other. `tty` on a terminal without
    /// cursor control prints plain lines instead.
    var effectiveMode: ProgressMode? {
        if quiet { return nil }
        switch progress {
        case .auto:
            guard Console.stderrIsTerminal, !Console.stdoutIsPipe else { return .auto }
            return Console.cursorControl ? .tty : .plain
        case .tty:
            return Console.cursorControl ? .tty : .plain
        default:
            return progress
        }
    }

    /// The renderer for these options, shared by every job of the command.
    func makeRenderer() -> ProgressRenderer {
        switch effectiveMode {
        case nil: return ProgressRenderer(style: .silent)
        case .auto?: return ProgressRenderer(style: .warningsOnly)
        case .tty?: return ProgressRenderer(style: .tty)
        case .plain?: return ProgressRenderer(style: .plain)
        case .json?: return ProgressRenderer(style: .json)
        }
    }

    /// A reporter for one job (events name `job`: an input, an image).
    func makeReporter(job: String) -> ProgressScope {
        makeRenderer().scope(job: job)
    }

    /// Runs `body`. On failure, in json mode, the error becomes an `error`
    /// event and the command exits with status 1 without any other output
    /// (stderr stays pure NDJSON); otherwise bars are cleared and the error
    /// is rethrown, to be printed once as usual.
    func run<T>(_ scope: ProgressScope, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            if effectiveMode == .json {
                scope.error(Self.message(error))
                throw error is UsageError || error is ValidationError ? ExitCode(OCIToolMain.Status.usage) : ExitCode.failure
            }
            (scope.reporter as? ProgressRenderer)?.close()
            throw error
        }
    }

    /// One line for an error (ValidationError included).
    static func message(_ error: Error) -> String {
        if let v = error as? ValidationError { return v.message }
        return OCIToolMain.oneLine(error)
    }
}

/// Draws progress events on stderr in one of the `--progress` styles.
/// Thread-safe; shared by the jobs of a command (a `convert` batch).
final class ProgressRenderer: ProgressReporter, @unchecked Sendable {
    enum Style { case silent, warningsOnly, tty, plain, json }

    let style: Style
    private let lock = NSLock()
    private let origin = Date()
    /// Prefix lines with the job name (set when several jobs run).
    var multiJob = false
    // tty state
    private var active: [String: TaskReport] = [:]
    private var activeOrder: [String] = []
    private var activeJob: [String: String] = [:]
    private var drawnLines = 0
    private var lastDraw = Date.distantPast
    // plain state
    private var lastPlain: [String: Date] = [:]
    private var plainTasks: [String: (job: String, task: TaskReport, since: Date)] = [:]
    private var heartbeat: Thread?
    private var closed = false

    /// Plain lines for a running task are at least this frequent, even
    /// while its bytes do not move (a stalled download).
    static let plainInterval: TimeInterval = 5

    init(style: Style) {
        self.style = style
        if style == .plain {
            let thread = Thread { [weak self] in
                while let renderer = self, renderer.beat() { Thread.sleep(forTimeInterval: 1) }
            }
            thread.name = "ocitool-progress"
            heartbeat = thread
            thread.start()
        }
    }

    /// Prints a line for every task silent for `plainInterval`; false once closed.
    private func beat() -> Bool {
        lock.withLock {
            guard !closed else { return false }
            let now = Date()
            for (key, entry) in plainTasks.sorted(by: { $0.key < $1.key })
            where now.timeIntervalSince(lastPlain[key] ?? entry.since) >= Self.plainInterval {
                lastPlain[key] = now
                let t = entry.task
                let elapsed = t.elapsed + now.timeIntervalSince(entry.since)
                emit("\(prefix(entry.job))\(t.phase) \(t.label): \(HumanUnits.size(t.done))" + (t.total.map { " of \(HumanUnits.size($0))" } ?? "")
                     + " (\(Self.seconds(elapsed)))")
            }
            return true
        }
    }

    func scope(job: String) -> ProgressScope { ProgressScope(reporter: self, job: job) }

    func report(_ event: ProgressEvent) {
        lock.withLock {
            switch style {
            case .silent: return
            case .warningsOnly: warningsOnly(event)
            case .tty: tty(event)
            case .plain: plain(event)
            case .json: emit(ProgressJSON.line(event, elapsed: Date().timeIntervalSince(origin)))
            }
        }
    }

    /// Removes the bars (call once the command is done).
    func close() {
        lock.withLock {
            closed = true
            plainTasks = [:]
            guard style == .tty else { return }
            clearRegion()
            active = [:]
            activeOrder = []
        }
    }

    private func prefix(_ job: String) -> String { multiJob ? "\(PathString(job).lastComponent): " : "" }

    // MARK: warnings only

    private func warningsOnly(_ e: ProgressEvent) {
        switch e.kind {
        case let .warning(m): emit("warning: \(prefix(e.job))\(m)")
        case let .error(m): emit("error: \(Self.withJob(m, e.job))")
        default: return
        }
    }

    // MARK: plain

    private func plain(_ e: ProgressEvent) {
        let p = prefix(e.job)
        switch e.kind {
        case let .start(operation, source, destination, total):
            emit("\(p)\(operation) \(source)" + (destination.map { " -> \($0)" } ?? "") + (total.map { " (\(HumanUnits.size($0)))" } ?? ""))
        case let .task(t):
            let key = e.job + "\u{0}" + t.id
            if t.finished {
                lastPlain[key] = nil
                plainTasks[key] = nil
                guard t.phase != "write" else { return }  // `blob` lines cover writes
                emit("\(p)\(t.phase) \(t.label): \(HumanUnits.size(t.done)) in \(Self.seconds(t.elapsed))\(Self.rate(t.done, t.elapsed))")
            } else if t.done > 0 {
                let now = Date()
                plainTasks[key] = (e.job, t, now)
                guard now.timeIntervalSince(lastPlain[key] ?? Date(timeIntervalSince1970: 0)) >= 5 else { return }
                lastPlain[key] = now
                emit("\(p)\(t.phase) \(t.label): \(HumanUnits.size(t.done))" + (t.total.map { " of \(HumanUnits.size($0))" } ?? ""))
            } else {
                lastPlain[key] = Date()
                plainTasks[key] = (e.job, t, Date())
            }
        case let .blob(digest, size, _):
            emit("\(p)wrote \(digest) (\(HumanUnits.size(size)))")
        case let .image(r):
            emit("\(p)image \(r.names.first ?? r.configDigest.shortID): manifest \(r.manifestDigest), config \(r.configDigest)"
                 + (r.platform.map { ", \($0)" } ?? ""))
        case let .warning(m): emit("\(p)warning: \(m)")
        case let .error(m): emit("error: \(Self.withJob(m, e.job))")
        case let .done(r): emit("\(p)done: \(Self.doneText(r))")
        }
    }

    /// An error message that names its job (most already start with the input's name).
    static func withJob(_ message: String, _ job: String) -> String {
        message.contains(job) || message.contains(PathString(job).lastComponent) ? message : "\(PathString(job).lastComponent): \(message)"
    }

    static func doneText(_ r: DoneReport) -> String {
        "\(r.images.count) image\(r.images.count == 1 ? "" : "s"), \(HumanUnits.size(r.bytesIn)) in, \(HumanUnits.size(r.bytesOut)) out, \(seconds(r.seconds))"
            + (r.destination.map { " -> \($0)" } ?? "")
    }

    // MARK: tty

    private func tty(_ e: ProgressEvent) {
        switch e.kind {
        case .start, .blob, .image:
            return
        case let .task(t):
            let key = e.job + "\u{0}" + t.id
            if t.finished {
                let wasActive = active.removeValue(forKey: key) != nil
                activeOrder.removeAll { $0 == key }
                activeJob[key] = nil
                // Keep a line for each sizeable blob; small JSON blobs just vanish.
                if wasActive && t.done >= 1 << 20 {
                    above("\(prefix(e.job))\(Self.padded(t.phase, 6)) \(Self.padded(Self.shortLabel(t.label), 12)) done  \(HumanUnits.size(t.done)) in \(Self.seconds(t.elapsed))\(Self.rate(t.done, t.elapsed))")
                } else {
                    redraw(force: true)
                }
            } else {
                let isNew = active[key] == nil
                active[key] = t
                activeJob[key] = e.job
                if isNew { activeOrder.append(key) }
                redraw(force: isNew)
            }
        case let .warning(m): above("warning: \(prefix(e.job))\(m)")
        case let .error(m): above("error: \(Self.withJob(m, e.job))")
        case let .done(r): above("\(prefix(e.job))\(Self.doneText(r))")
        }
    }

    /// Prints a permanent line above the bars.
    private func above(_ line: String) {
        clearRegion()
        emitRaw(line + "\n")
        redraw(force: true)
    }

    private func clearRegion() {
        if drawnLines > 0 { emitRaw("\u{1B}[\(drawnLines)A\r\u{1B}[J") }
        drawnLines = 0
    }

    private func redraw(force: Bool) {
        let now = Date()
        guard force || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        let width = Self.terminalWidth()
        var lines: [String] = []
        let shown = activeOrder.prefix(8)
        for key in shown {
            guard let t = active[key] else { continue }
            lines.append(barLine(t, job: activeJob[key] ?? "", width: width))
        }
        if activeOrder.count > shown.count { lines.append("… \(activeOrder.count - shown.count) more") }
        var text = drawnLines > 0 ? "\u{1B}[\(drawnLines)A\r\u{1B}[J" : ""
        for l in lines { text += String(l.prefix(width - 1)) + "\n" }
        emitRaw(text)
        drawnLines = lines.count
    }

    private func barLine(_ t: TaskReport, job: String, width: Int) -> String {
        let head = "\(prefix(job))\(Self.padded(t.phase, 6)) \(Self.padded(Self.shortLabel(t.label), 12)) "
        var tail = " \(HumanUnits.size(t.done))"
        if let total = t.total { tail += "/\(HumanUnits.size(total))" }
        tail += Self.rate(t.done, t.elapsed)
        if let total = t.total, t.done > 0, t.done < total, t.elapsed > 0.2 {
            let eta = Double(total - t.done) / (Double(t.done) / t.elapsed)
            tail += " ETA \(Self.seconds(eta))"
        }
        // A fixed bar width (room kept for the longest tail), so bars line up.
        let barWidth = max(10, min(30, width - head.count - 48))
        var bar = String(repeating: " ", count: barWidth)
        if let total = t.total, total > 0 {
            let filled = Int(Double(barWidth) * min(1, Double(t.done) / Double(total)))
            bar = String(repeating: "=", count: filled) + (filled < barWidth ? ">" + String(repeating: " ", count: barWidth - filled - 1) : "")
        }
        return head + "[" + bar + "]" + tail
    }

    // MARK: formatting

    /// `blobs/sha256/<hex>` → first 12 hex; `<hex>/layer.tar` → first 12 hex; else the last component.
    static func shortLabel(_ label: String) -> String {
        let parts = label.split(separator: "/").map(String.init)
        let isHex = { (s: String) in s.count >= 32 && s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) } }
        if let last = parts.last {
            let bare = last.hasSuffix(".tar") ? String(last.dropLast(4)) : last
            if isHex(bare) { return String(bare.prefix(12)) }
            if parts.count >= 2, isHex(parts[parts.count - 2]) { return String(parts[parts.count - 2].prefix(12)) }
            return last
        }
        return label
    }

    static func padded(_ s: String, _ n: Int) -> String {
        s.count >= n ? s : s + String(repeating: " ", count: n - s.count)
    }

    static func seconds(_ s: Double) -> String {
        s < 10 ? String(format: "%.1fs", s) : s < 120 ? "\(Int(s))s" : "\(Int(s) / 60)m\(Int(s) % 60)s"
    }

    static func rate(_ bytes: Int64, _ elapsed: Double) -> String {
        guard elapsed > 0.05, bytes > 0 else { return "" }
        return "  \(HumanUnits.size(Int64(Double(bytes) / elapsed)))/s"
    }

    static func terminalWidth() -> Int {
        var ws = winsize()
        if ioctl(2, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 20 { return Int(ws.ws_col) }
        return 80
    }

    private func emit(_ line: String) { emitRaw(line + "\n") }

    /// Writes to stderr in full (progress output is best effort: errors are ignored).
    private func emitRaw(_ text: String) {
        let bytes = Array(text.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return Glibc.write(2, base + off, raw.count - off)
            }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            off += n
        }
    }
}

/// NDJSON encoding of progress events: one object per line with `event`
/// (start, progress, blob, image, warning, error, done), `job` and `time`
/// (seconds since the command started), sorted keys.
enum ProgressJSON {
    static func line(_ e: ProgressEvent, elapsed: Double) -> String {
        var o: [String: Any] = ["job": e.job, "time": (elapsed * 1000).rounded() / 1000]
        switch e.kind {
        case let .start(operation, source, destination, total):
            o["event"] = "start"
            o["operation"] = operation
            o["source"] = source
            if let destination { o["destination"] = destination }
            if let total { o["total"] = total }
        case let .task(t):
            o["event"] = "progress"
            o["id"] = t.id
            o["label"] = t.label
            o["phase"] = t.phase
            o["done"] = t.done
            if let total = t.total { o["total"] = total }
            o["finished"] = t.finished
        case let .blob(digest, size, mediaType):
            o["event"] = "blob"
            o["digest"] = digest.description
            o["size"] = size
            if let mediaType { o["mediaType"] = mediaType }
        case let .image(r):
            o["event"] = "image"
            o.merge(image(r)) { _, new in new }
        case let .warning(m):
            o["event"] = "warning"
            o["message"] = m
        case let .error(m):
            o["event"] = "error"
            o["message"] = m
        case let .done(r):
            o["event"] = "done"
            o["images"] = r.images.map(image)
            o["bytesIn"] = r.bytesIn
            o["bytesOut"] = r.bytesOut
            o["seconds"] = (r.seconds * 1000).rounded() / 1000
            if let d = r.destination { o["destination"] = d }
        }
        return Console.jsonLine(o)
    }

    /// An image as `inspect` names its parts: `Id` (config digest), `digest`
    /// (manifest), `RepoTags`, `layers` (blob digests) and `diffIDs` (`RootFS.Layers`).
    static func image(_ r: ImageReport) -> [String: Any] {
        var o: [String: Any] = [
            "Id": r.configDigest.description,
            "digest": r.manifestDigest.description,
            "mediaType": r.mediaType,
            "RepoTags": r.names,
            "layers": r.layers.map(\.description),
            "diffIDs": r.diffIDs.map(\.description),
        ]
        if let p = r.platform { o["platform"] = p }
        return o
    }
}
