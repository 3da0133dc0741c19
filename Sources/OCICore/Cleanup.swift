import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The one place that knows which temporary files and directories this
/// process has made (staging files, spools, `-o` temp files), so that an
/// interrupt (SIGINT, SIGTERM, SIGHUP, or SIGPIPE when a reader of stdout
/// goes away) removes them before the process exits with 128 + the signal
/// number. Owners register a path when they create it and unregister it
/// when they rename it into place or remove it themselves.
package enum Cleanup {
    /// Identifies one registration.
    package struct Token: Hashable, Sendable {
        fileprivate let value: UInt64
    }

    private static let state = CleanupState()

    /// Remembers `path` for removal on an interrupt.
    package static func register(_ path: String) -> Token { state.add(path) }

    /// Forgets a registration (the owner renamed or removed the path).
    package static func unregister(_ token: Token) { state.remove(token) }

    /// Installs the signal handlers (idempotent). The command-line entry
    /// point calls this once; library users who want the same behaviour can too.
    package static func installSignalHandlers() { state.install() }

    /// The signal that interrupted the process, once one has: the handler
    /// is removing the registered paths and will exit with 128 + it.
    /// Errors other threads meet meanwhile (their files vanish) are
    /// consequences, not causes: an entry point that sees this set exits
    /// through `exitInterrupted` instead of reporting them.
    package static var interruptingSignal: Int32? { state.interrupting }

    /// Removes what is registered and exits with 128 + the signal (what the
    /// handler does; for an entry point that ends while it runs).
    package static func exitInterrupted(_ signal: Int32) -> Never { state.finish(signal) }

    /// Paths registered now (for tests).
    package static var registered: [String] { state.paths }
}

private final class CleanupState: @unchecked Sendable {
    private let lock = NSLock()
    private var next: UInt64 = 0
    private var entries: [UInt64: String] = [:]
    private var sources: [DispatchSourceSignal] = []
    private static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGPIPE]

    func add(_ path: String) -> Cleanup.Token {
        lock.withLock {
            next += 1
            entries[next] = path
            return Cleanup.Token(value: next)
        }
    }

    func remove(_ token: Cleanup.Token) {
        _ = lock.withLock { entries.removeValue(forKey: token.value) }
    }

    var paths: [String] { lock.withLock { entries.keys.sorted().compactMap { entries[$0] } } }

    private var signalled: Int32?
    var interrupting: Int32? { lock.withLock { signalled } }

    func finish(_ sig: Int32) -> Never {
        lock.withLock { if signalled == nil { signalled = sig } }
        // Newest first: files inside a spool before the spool. Other
        // threads keep running until _exit and may create a file in a
        // directory being removed (or make it again): remove, let them
        // settle, and remove until nothing is left.
        for attempt in 0..<10 {
            let left = paths
            for p in left.reversed() { FS.removeTree(p) }
            if attempt > 0 && left.allSatisfy({ !FS.exists($0) }) { break }
            usleep(20_000)
        }
        _exit(128 + sig)
    }

    func install() {
        lock.withLock {
            guard sources.isEmpty else { return }
            for sig in Self.signals {
                signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
                source.setEventHandler { [self] in finish(sig) }
                source.resume()
                sources.append(source)
            }
        }
    }
}
