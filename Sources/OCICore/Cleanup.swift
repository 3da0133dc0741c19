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

    func install() {
        lock.withLock {
            guard sources.isEmpty else { return }
            for sig in Self.signals {
                signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
                source.setEventHandler { [self] in
                    // Newest first: files inside a spool before the spool.
                    for p in paths.reversed() { FS.removeTree(p) }
                    _exit(128 + sig)
                }
                source.resume()
                sources.append(source)
            }
        }
    }
}
